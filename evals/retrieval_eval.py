"""Similar-thread retrieval eval: recall@5 of hybrid, vector-only and full-text-only search.

Dataset (``evals/similar_threads/``): ``threads.yaml`` holds 54 answered past
threads of one fictional forwarder's mailbox: 20 situations with two threads
each in English, Norwegian, German or Swedish, and for 14 of them a third
English thread worded unlike the queries; ``queries.yaml`` holds 30 new
customer emails, each labelled with the past threads of the same situation.
All of it was written for this project. recall@5 is also split by whether the
relevant thread is in the query's language (all-MiniLM-L6-v2 is an English
model; full-text search matches words, so neither crosses languages well).

The threads are indexed through the real path (``PastThreadRepository``:
redaction, intents, embeddings, the partitioned table); the same threads are
also indexed into a second mailbox under other keys, and the eval fails if a
search ever returns one of them. For every query, recall@5 = |relevant in the
top 5| / min(|relevant|, 5), averaged; MRR is the mean reciprocal rank of the
first relevant thread. A few fusion settings (weights, RRF k) are compared.

Run ``python evals/retrieval_eval.py`` (local model; ``--embedder deterministic``
for the hashing test double). It starts an embedded PostgreSQL in a temporary
directory unless ``--database-url`` names a server with pgvector.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import warnings
from pathlib import Path
from statistics import fmean
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from agent.embeddings import DeterministicEmbedder, Embedder, LocalEmbedder, LocalRuntime
from agent.language import detect_language
from agent.retrieval import SearchMode, SearchSettings, embedding_text
from store.db import open_pool
from store.mailboxes import MailboxRepository
from store.migrate import migrate
from store.threads import PastThreadRepository

DATASET = Path(__file__).parent / "similar_threads"
MAILBOX = "eval"
DECOY = "eval-other"


class EvalThread(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    language: str
    subject: str
    customer: str
    reply: str


class EvalQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    subject: str
    text: str
    relevant: tuple[str, ...]


class Scores(BaseModel):
    recall_at_5: float
    recall_same_language: float
    recall_other_language: float
    mrr: float
    queries: int


def load_dataset(*, folder: Path = DATASET) -> tuple[list[EvalThread], list[EvalQuery]]:
    """The labelled dataset; every label must name a thread."""
    threads = [EvalThread.model_validate(t) for t in yaml.safe_load((folder / "threads.yaml").read_text("utf-8"))]
    queries = [EvalQuery.model_validate(q) for q in yaml.safe_load((folder / "queries.yaml").read_text("utf-8"))]
    known = {t.id for t in threads}
    unknown = {r for q in queries for r in q.relevant} - known
    if unknown or len(known) != len(threads):
        raise ValueError(f"dataset labels name unknown or duplicate threads: {sorted(unknown)}")
    return threads, queries


async def index_dataset(*, repo: PastThreadRepository, threads: list[EvalThread]) -> None:
    """Index the threads into the eval mailbox, and again under other keys into a decoy mailbox."""
    for mailbox, prefix in ((MAILBOX, ""), (DECOY, "decoy-")):
        prepared = [repo.prepare(mailbox=mailbox, thread_key=prefix + t.id, subject=t.subject,
                                 customer_text=t.customer, reply_text=t.reply, language=t.language, replied_at=None)
                    for t in threads]
        await repo.add_many(mailbox=mailbox, threads=prepared)


def _recall(relevant: set[str], found: list[str], k: int) -> float | None:
    return len(relevant & set(found)) / min(len(relevant), k) if relevant else None


async def evaluate(*, repo: PastThreadRepository, queries: list[EvalQuery], mode: SearchMode,
                   languages: dict[str, str], settings: SearchSettings | None = None, k: int = 5) -> Scores:
    """recall@k overall, and split by whether a relevant thread is in the query's language."""
    recall: list[float] = []
    same: list[float] = []
    other: list[float] = []
    rr = 0.0
    for q in queries:
        found = [t.thread_id for t in await repo.search(mailbox=MAILBOX, text=embedding_text(
            subject=q.subject, customer_text=q.text), limit=k, mode=mode, settings=settings)]
        if any(f.startswith("decoy-") for f in found):
            raise AssertionError(f"query {q.id} crossed mailboxes: {found}")
        relevant = set(q.relevant)
        language = detect_language(text=f"{q.subject}\n{q.text}")
        recall.append(_recall(relevant, found, k) or 0.0)
        for bucket, part in ((same, {r for r in relevant if languages[r] == language}),
                             (other, {r for r in relevant if languages[r] != language})):
            value = _recall(part, found, k)
            if value is not None:
                bucket.append(value)
        rr += next((1 / (i + 1) for i, f in enumerate(found) if f in relevant), 0.0)
    return Scores(recall_at_5=fmean(recall), recall_same_language=fmean(same) if same else 0.0,
                  recall_other_language=fmean(other) if other else 0.0, mrr=rr / len(queries), queries=len(queries))


FUSION_VARIANTS: tuple[tuple[str, SearchSettings], ...] = (
    ("RRF k=60, vector 2 : text 1 (default)", SearchSettings(rrf_k=60.0, vector_weight=2.0, text_weight=1.0)),
    ("RRF k=60, vector 1 : text 1", SearchSettings(rrf_k=60.0, vector_weight=1.0, text_weight=1.0)),
    ("RRF k=60, vector 1 : text 2", SearchSettings(rrf_k=60.0, vector_weight=1.0, text_weight=2.0)),
    ("RRF k=10, vector 1 : text 1", SearchSettings(rrf_k=10.0, vector_weight=1.0, text_weight=1.0)),
    ("RRF k=10, vector 2 : text 1", SearchSettings(rrf_k=10.0, vector_weight=2.0, text_weight=1.0)),
)


async def run(*, url: str, embedder: Embedder) -> dict[str, Any]:
    threads, queries = load_dataset()
    pool = await open_pool(url=url, max_size=2)
    try:
        boxes = MailboxRepository(pool=pool)
        for name in (MAILBOX, DECOY):
            await boxes.upsert(name=name, address=f"{name}@example.test", provider="maildir", config={})
        repo = PastThreadRepository(pool=pool, embedder=embedder)
        await index_dataset(repo=repo, threads=threads)
        languages = {t.id: t.language for t in threads}
        modes = {mode.value: await evaluate(repo=repo, queries=queries, mode=mode, languages=languages)
                 for mode in SearchMode}
        fusion = {label: await evaluate(repo=repo, queries=queries, mode=SearchMode.HYBRID, settings=s,
                                        languages=languages)
                  for label, s in FUSION_VARIANTS}
    finally:
        await pool.close()
    return {"embedder": embedder.name, "threads": len(threads), "queries": len(queries), "modes": modes,
            "fusion": fusion}


def markdown(result: dict[str, Any]) -> str:
    head = "| recall@5 | same language | other language | MRR |"
    lines = [f"Embedder {result['embedder']}; {result['threads']} threads, {result['queries']} queries.", "",
             "| search " + head, "|---|---|---|---|---|"]
    lines += [f"| {m} | {s.recall_at_5:.3f} | {s.recall_same_language:.3f} | {s.recall_other_language:.3f} | "
              f"{s.mrr:.3f} |" for m, s in result["modes"].items()]
    lines += ["", "| hybrid fusion " + head, "|---|---|---|---|---|"]
    lines += [f"| {label} | {s.recall_at_5:.3f} | {s.recall_same_language:.3f} | {s.recall_other_language:.3f} | "
              f"{s.mrr:.3f} |" for label, s in result["fusion"].items()]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedder", default="local",
                        choices=["local", "local-qint8", "local-torch", "local-torch-qint8", "deterministic"],
                        help="local = ONNX Runtime fp32 (the default runtime); -torch = sentence-transformers")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    torch = LocalRuntime.TORCH
    embedder: Embedder = {"local": lambda: LocalEmbedder(), "local-qint8": lambda: LocalEmbedder(quantize=True),
                          "local-torch": lambda: LocalEmbedder(runtime=torch),
                          "local-torch-qint8": lambda: LocalEmbedder(runtime=torch, quantize=True),
                          "deterministic": lambda: DeterministicEmbedder()}[args.embedder]()
    server = None
    url = args.database_url
    if url is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver
        server = pgserver.get_server(Path(tempfile.mkdtemp(prefix="shipdraft-eval-")), cleanup_mode="delete")
        url = server.get_uri()
    try:
        migrate(url=url)
        result = asyncio.run(run(url=url, embedder=embedder))
    finally:
        if server is not None:
            server.cleanup()
    sys.stdout.write(markdown(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
