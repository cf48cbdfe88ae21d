"""Past-thread index on real PostgreSQL + pgvector: partitions per mailbox, hybrid search, scoping, embeddings."""

from __future__ import annotations

import math
import random
from collections.abc import AsyncIterator, Sequence
from importlib.resources import files

import psycopg
import pytest
from psycopg import sql
from psycopg_pool import AsyncConnectionPool

from agent.embeddings import DeterministicEmbedder, EmbeddingUnavailableError
from agent.retrieval import RankedList, SearchMode, SearchSettings, fuse
from store.db import open_pool
from store.errors import StoreError
from store.mailboxes import MailboxRepository
from store.migrate import migrate
from store.threads import PastThreadRepository, TermStats, partition_name, pick_terms, vector_literal

pytestmark = pytest.mark.anyio


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[AsyncConnectionPool]:
    pool = await open_pool(url=database_url, max_size=4)
    boxes = MailboxRepository(pool=pool)
    for name in ("ops", "booking", "big", "small"):
        await boxes.upsert(name=name, address=f"{name}@example.test", provider="maildir", config={})
    yield pool
    await pool.close()


async def _ids(pool: AsyncConnectionPool) -> dict[str, int]:
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.execute("SELECT name, id FROM mailboxes")
        return {r["name"]: r["id"] for r in await cur.fetchall()}


async def _add(repo: PastThreadRepository, mailbox: str, key: str, subject: str, text: str,
               reply: str = "Thanks, we are on it.") -> bool:
    return await repo.add(mailbox=mailbox, thread_key=key, subject=subject, customer_text=text, reply_text=reply,
                          language="en", replied_at=None)


async def test_each_mailbox_gets_its_own_partition_with_both_indexes(pool: AsyncConnectionPool,
                                                                     database_url: str) -> None:
    ids = await _ids(pool)
    with psycopg.connect(database_url) as conn:
        parts = {r[0] for r in conn.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'past_threads'::regclass")}
        methods = {r[0] for r in conn.execute(
            "SELECT am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am am ON am.oid = c.relam WHERE i.indrelid = %s::regclass",
            (partition_name(ids["small"]),))}
    assert {partition_name(i) for i in ids.values()} <= parts
    assert {"hnsw", "gin"} <= methods


async def test_add_redacts_classifies_embeds_and_is_idempotent(pool: AsyncConnectionPool, database_url: str) -> None:
    repo = PastThreadRepository(pool=pool, embedder=DeterministicEmbedder())
    assert await _add(repo, "ops", "<a@x>", "Where is container MSKU4417209?",
                      "Hi, when does container MSKU4417209 arrive? Call me on +47 912 34 567 or kari@hansen.example",
                      reply="It arrives Friday. Tracking: https://track.example/MSKU4417209")
    assert not await _add(repo, "ops", "<a@x>", "again", "again")
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT subject, customer_text, reply_text, intents, embedding IS NOT NULL, "
                           "embedding_model FROM past_threads WHERE thread_key = '<a@x>'").fetchone()
    assert row is not None
    subject, text, reply, intents, embedded, model = row
    assert "MSKU4417209" not in subject + text + reply
    assert "[container_number]" in text and "[phone]" in text and "[email]" in text and "[link]" in reply
    assert "eta_request" in intents
    assert embedded and model == DeterministicEmbedder().name


async def test_hybrid_search_ranks_the_similar_thread_first_and_stays_in_its_mailbox(
        pool: AsyncConnectionPool) -> None:
    repo = PastThreadRepository(pool=pool, embedder=DeterministicEmbedder())
    await _add(repo, "ops", "ops-1", "Container delayed at customs", "Our container is held by customs in Oslo.")
    await _add(repo, "ops", "ops-2", "Invoice copy", "Please send a copy of the invoice for last month.")
    await _add(repo, "ops", "ops-3", "Change delivery address", "Please deliver to our new warehouse address.")
    await _add(repo, "booking", "bk-1", "Container held in customs", "Container held by customs in Oslo, help.")
    for mode in SearchMode:
        found = await repo.search(mailbox="ops", text="Is my container still held at customs?", limit=3, mode=mode)
        assert found and found[0].thread_id == "ops-1", mode
        assert {t.thread_id for t in found} <= {"ops-1", "ops-2", "ops-3"}
    assert await repo.similar(mailbox="nobody", text="container customs", limit=3) == []


async def test_fusion_in_sql_orders_exactly_as_the_reference_fuse(pool: AsyncConnectionPool) -> None:
    """The one-statement search gives the order ``agent.retrieval.fuse`` gives for the same two rankings."""
    repo = PastThreadRepository(pool=pool, embedder=DeterministicEmbedder())
    rng = random.Random(7)
    words = [
        "container", "customs", "delay", "invoice", "pallet", "damaged", "booking", "address",
        "eta", "vessel", "port", "truck", "warehouse", "claim", "copy", "arrival", "week", "order",
        "status", "release",
    ]
    for i in range(120):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(4, 12)))
        await _add(repo, "ops", f"t{i}", f"Subject {rng.choice(words)}", text)
    query = "customs delay container vessel arrival"
    for settings in (SearchSettings(candidates=25), SearchSettings(candidates=25, rrf_k=5, vector_weight=1,
                                                                    text_weight=3)):
        vector = await repo.search(mailbox="ops", text=query, limit=25, mode=SearchMode.VECTOR, settings=settings)
        text = await repo.search(mailbox="ops", text=query, limit=25, mode=SearchMode.TEXT, settings=settings)
        assert len(vector) == 25 and len(text) == 25
        ids = {t.thread_id: int(t.thread_id[1:]) for t in vector + text}  # ids grow with the key here
        expected = fuse(rankings=[RankedList(name="vector", ids=tuple(ids[t.thread_id] for t in vector)),
                                  RankedList(name="text", ids=tuple(ids[t.thread_id] for t in text))],
                        weights={"vector": settings.vector_weight, "text": settings.text_weight},
                        rrf_k=settings.rrf_k, limit=10)
        hybrid = await repo.search(mailbox="ops", text=query, limit=10, mode=SearchMode.HYBRID, settings=settings)
        assert [int(t.thread_id[1:]) for t in hybrid] == [i for i, _ in expected]
        assert [round(t.score, 9) for t in hybrid] == [round(score, 9) for _, score in expected]


async def test_without_embedder_search_is_full_text_only(pool: AsyncConnectionPool) -> None:
    repo = PastThreadRepository(pool=pool)
    await _add(repo, "ops", "ops-1", "Damaged pallet", "The pallet arrived damaged, we want to file a claim.")
    await _add(repo, "ops", "ops-2", "Invoice copy", "Please send a copy of the invoice.")
    found = await repo.similar(mailbox="ops", text="pallet damaged on arrival", limit=3)
    assert [t.thread_id for t in found] == ["ops-1"]
    assert found[0].score > 0


async def test_embed_missing_fills_vectors_after_an_outage_and_after_a_model_change(
        pool: AsyncConnectionPool, database_url: str) -> None:
    class Down(DeterministicEmbedder):
        async def embed(self, *, texts: Sequence[str]) -> list[list[float]]:
            raise EmbeddingUnavailableError("service down")

    assert await _add(PastThreadRepository(pool=pool, embedder=Down()), "ops", "k1", "ETA?", "When is the ETA?")
    repo = PastThreadRepository(pool=pool, embedder=DeterministicEmbedder())
    assert await repo.count(mailbox="ops") == {"threads": 1, "embedded": 0}
    assert await repo.embed_missing(mailbox="ops", other_models=False) == 1  # the cheap per-pass catch-up
    assert await repo.count(mailbox="ops") == {"threads": 1, "embedded": 1}
    assert await repo.embed_missing(mailbox="ops") == 0

    class Other(DeterministicEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.name = "another-model"

    assert await PastThreadRepository(pool=pool, embedder=Other()).embed_missing(mailbox="ops",
                                                                                 other_models=False) == 0
    assert await PastThreadRepository(pool=pool, embedder=Other()).embed_missing(mailbox="ops") == 1
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT embedding_model FROM past_threads").fetchone() == ("another-model",)


async def test_embedder_with_wrong_dimensions_is_refused(pool: AsyncConnectionPool) -> None:
    with pytest.raises(StoreError):
        PastThreadRepository(pool=pool, embedder=DeterministicEmbedder(dimensions=768))


def _unit(v: list[float]) -> list[float]:
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def _cos(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


class _FixedEmbedder(DeterministicEmbedder):
    """Embeds every text as one fixed query vector."""

    def __init__(self, vector: list[float]) -> None:
        super().__init__()
        self._vector = vector

    async def embed(self, *, texts: Sequence[str]) -> list[list[float]]:
        return [self._vector for _ in texts]


async def test_a_mailbox_holding_one_percent_of_the_table_keeps_full_recall(
        pool: AsyncConnectionPool, database_url: str) -> None:
    """3,000 threads of another mailbox all lie closer to the query than any of the 30 threads searched.

    A filtered HNSW scan over one shared table (pgvector 0.6.2 has no iterative scans) sees only
    the other mailbox's rows within its ef_search breadth and returns too few rows; the partition
    per mailbox returns exactly the true nearest threads.
    """
    rng = random.Random(7)
    dims = 384
    query = _unit([1.0] + [0.0] * (dims - 1))
    big = [_unit([1.0] + [rng.gauss(0, 0.05) for _ in range(dims - 1)]) for _ in range(3000)]
    small = [_unit([rng.uniform(0.0, 0.6)] + [rng.gauss(0, 0.1) for _ in range(dims - 1)]) for _ in range(30)]
    ids = await _ids(pool)
    repo = PastThreadRepository(pool=pool, embedder=_FixedEmbedder(query))
    await repo.drop_vector_index(mailbox="big")  # a bulk import builds the index afterwards: much faster
    assert not await repo.has_vector_index(mailbox="big")
    with psycopg.connect(database_url) as conn:
        with conn.cursor().copy("COPY past_threads (mailbox_id, thread_key, customer_text, reply_text, embedding, "
                                "embedding_model) FROM STDIN") as copy:
            for name, vectors in (("big", big), ("small", small)):
                for i, v in enumerate(vectors):
                    copy.write_row((ids[name], f"{name}-{i}", "text", "reply", vector_literal(v), "fixed"))
        # the same rows in one unpartitioned table with one HNSW index: the design this migration avoids
        conn.execute("CREATE TABLE flat AS SELECT mailbox_id, thread_key, embedding FROM past_threads")
        conn.execute("CREATE INDEX ON flat USING hnsw (embedding vector_cosine_ops)")
        conn.execute("SET hnsw.ef_search = 100")
        conn.execute("SET enable_seqscan = off")
        flat = conn.execute("SELECT thread_key FROM flat WHERE mailbox_id = %s ORDER BY embedding <=> %s::vector "
                            "LIMIT 10", (ids["small"], vector_literal(query))).fetchall()
        conn.commit()
    assert len(flat) < 10  # the failure mode: a filtered approximate scan comes back short

    assert await repo.build_vector_index(mailbox="big")
    assert not await repo.build_vector_index(mailbox="big")  # present: nothing to do
    found = await repo.search(mailbox="small", text="anything", limit=10, mode=SearchMode.VECTOR,
                              settings=SearchSettings(candidates=10, ef_search=40))
    exact = sorted(range(len(small)), key=lambda i: -_cos(query, small[i]))[:10]
    assert [t.thread_id for t in found] == [f"small-{i}" for i in exact]  # recall@10 = 1.0, in exact order


async def test_search_reads_only_the_mailbox_partition(pool: AsyncConnectionPool, database_url: str) -> None:
    repo = PastThreadRepository(pool=pool, embedder=DeterministicEmbedder())
    await _add(repo, "ops", "ops-1", "Container delayed", "Container delayed at the port.")
    ids = await _ids(pool)
    with psycopg.connect(database_url) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            sql.SQL("EXPLAIN SELECT id FROM {} ORDER BY embedding <=> %s::vector LIMIT 5").format(
                sql.Identifier(partition_name(ids["ops"]))),
            (vector_literal((await DeterministicEmbedder().embed(texts=["container"]))[0]),)))
    assert f"Index Scan using {partition_name(ids['ops'])}_embedding" in plan
    assert all(partition_name(i) not in plan for n, i in ids.items() if n != "ops")


def test_pick_terms_keeps_rare_words_within_the_row_budget() -> None:
    stats = TermStats(rows=1_000_000, freqs={"container": 0.4, "regards": 0.9, "oslo": 0.002}, floor=0.0005)
    words = ["container", "regards", "oslo", "demurrage", "reefer"]
    assert pick_terms(words=words, stats=stats, budget=2000, max_terms=16) == ["demurrage", "reefer"]
    assert pick_terms(words=words, stats=stats, budget=5000, max_terms=16) == ["demurrage", "reefer", "oslo"]
    assert pick_terms(words=words, stats=stats, budget=5000, max_terms=1) == ["demurrage"]
    assert pick_terms(words=words, stats=None, budget=10, max_terms=16) == words  # no statistics yet
    small = TermStats(rows=500, freqs={"container": 0.9}, floor=0.01)
    assert pick_terms(words=words, stats=small, budget=2000, max_terms=16) == words  # small mailbox: everything


async def test_common_words_are_dropped_once_the_partition_is_analyzed(pool: AsyncConnectionPool) -> None:
    repo = PastThreadRepository(pool=pool, search=SearchSettings(text_row_budget=10))
    async with pool.connection() as conn, conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO past_threads (mailbox_id, thread_key, customer_text, reply_text) "
            "SELECT id, %s, %s, 'ok' FROM mailboxes WHERE name = 'ops'",
            [(f"k{i}", f"hello container update {'fjord' if i == 7 else 'week' + str(i % 3)}") for i in range(300)])
    await repo.analyze(mailbox="ops")
    found = await repo.search(mailbox="ops", text="hello container fjord", limit=5, mode=SearchMode.TEXT)
    assert [t.thread_id for t in found] == ["k7"]  # 'hello' and 'container' are in every row: not searched


async def test_migration_moves_existing_threads_into_partitions(pg_server_url: str) -> None:
    name = "t_threads_migration"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = psycopg.conninfo.make_conninfo(pg_server_url, dbname=name)
    try:
        first = files("store").joinpath("migrations", "0001_init.sql").read_text(encoding="utf-8")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE schema_migrations (version text PRIMARY KEY, "
                         "applied_at timestamptz NOT NULL DEFAULT now())")
            conn.execute(first)  # type: ignore[arg-type]
            conn.execute("INSERT INTO schema_migrations (version) VALUES ('0001_init')")
            conn.execute("INSERT INTO mailboxes (name, address, provider, config) "
                         "VALUES ('ops', 'o@x', 'maildir', '{}')")
            conn.execute("INSERT INTO past_threads (mailbox_id, thread_key, customer_text, reply_text) "
                         "SELECT id, 'old', 'container delayed', 'sorry' FROM mailboxes")
        assert "0002_retrieval" in migrate(url=url)
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT tableoid::regclass::text, thread_key, tsv @@ 'delayed'::tsquery "
                                "FROM past_threads").fetchall()
        assert rows == [("past_threads_m1", "old", True)]
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
