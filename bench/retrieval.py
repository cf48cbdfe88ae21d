"""Retrieval benchmark: similar-thread search at 100k and 1M past threads, scoped per mailbox.

What it measures, on one embedded PostgreSQL 16 + pgvector 0.6.2 (pgserver) with
the project's migrations:

1. bulk load: COPY (binary) of synthetic threads with precomputed vectors into the
   partitioned ``past_threads`` (HNSW indexes dropped first, as the backfill does
   for a large import), rows/s;
2. HNSW build time per mailbox partition (the big one is reported), and the sizes
   of table, HNSW and GIN indexes;
3. incremental insert throughput with the HNSW index in place, through the
   repository's ``add_many`` with precomputed vectors;
4. query latency p50/p95/p99 through ``PastThreadRepository.search`` (one round
   trip, fusion in SQL) for hybrid, vector-only and full-text-only, in the big
   mailbox (90% of the table) and in a 1% mailbox; query vectors are precomputed so
   the figures are the index's, not the model's;
5. recall@10 of the HNSW search against exact search (numpy, same mailbox) for
   several ``ef_search`` values;
6. optionally (``--flat``), the design the partitions avoid: the same rows in one
   table with one HNSW index, queried with a mailbox filter: how many of 10 rows
   come back for the 1% mailbox;
7. local-embedding throughput (all-MiniLM-L6-v2 on the CPU, 2 threads) on
   email-length texts.

Synthetic corpus: 1,000 topics. ``--corpus calibrated`` (the default): a thread's vector
is a common direction plus its topic centre (topics in a few groups) plus noise in the
topic's own 16-dimensional subspace plus isotropic noise, normalized, with parameters
fitted so that, at the density of the project's 353 real texts, the vectors show the
same neighbour cosines, pair-cosine spread and local intrinsic dimension as the local
model's vectors of those texts (``--calibrate`` prints the comparison).
``--corpus isotropic``: the earlier generator, a stress case far harder than real
embeddings (one shared 48-d Gaussian cloud whose noise swamps the topic centres).
A thread's text mixes Zipf-distributed common words with words of its topic drawn
from a 20,000-word synthetic vocabulary, so full-text selectivity looks like mail: a
few very common words, many rare ones.

Run ``python bench/retrieval.py --threads 100000`` (or 1000000; ``--quick`` for a
smoke run). It starts its own embedded PostgreSQL in a temporary directory, with
shared_buffers and maintenance_work_mem sized for the corpus, and prints a Markdown
report (``--json FILE`` also writes the figures). Targets: p95 <= 10 ms at 1M,
recall@10 >= 0.95, local embedding >= 200 threads/s; missed targets print FAIL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.corpus (python bench/retrieval.py)

from agent.embeddings import DeterministicEmbedder
from agent.retrieval import PastThread, SearchMode, SearchSettings
from bench.corpus import Corpus, CorpusKind, calibration, real_texts
from store.db import open_pool
from store.migrate import migrate
from store.threads import PastThreadRepository, partition_name

TARGET_P95_MS = 10.0
TARGET_RECALL = 0.95
TARGET_EMBED_RATE = 200.0


# ---------------------------------------------------------------------------------------------- database


def start_server(*, pgdata: Path, shared_buffers: str, maintenance_work_mem: str) -> tuple[Any, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        for key, value in (("shared_buffers", shared_buffers), ("maintenance_work_mem", maintenance_work_mem),
                           ("max_parallel_maintenance_workers", "1"), ("max_wal_size", "16GB"),
                           ("checkpoint_timeout", "30min"), ("jit", "off"), ("synchronous_commit", "off")):
            conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(key), sql.Literal(value)))
    server.cleanup()  # stop; the next get_server starts it with the new settings
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    return server, server.get_uri()


def bulk_load(*, url: str, mailbox_id: int, start: int, keys_prefix: str, vectors: np.ndarray,
              texts: Sequence[str]) -> None:
    with psycopg.connect(url) as conn:
        register_vector(conn)
        with conn.cursor() as cur, cur.copy(
                "COPY past_threads (mailbox_id, thread_key, subject, customer_text, reply_text, intents, embedding, "
                "embedding_model) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "text", "text", "text", "text", "text[]", "vector", "text"])
            for i, (v, t) in enumerate(zip(vectors, texts, strict=True)):
                copy.write_row((mailbox_id, f"{keys_prefix}-{start + i}", "", t, "Thanks, we are on it.",
                                ["eta_request"], v, "synthetic"))
        conn.commit()


def sizes(*, url: str, mailbox_id: int) -> dict[str, int]:
    part = partition_name(mailbox_id)
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT pg_table_size(%s::regclass) AS heap, pg_relation_size(%s::regclass) AS hnsw, "
            "coalesce((SELECT sum(pg_relation_size(i.indexrelid)) FROM pg_index i JOIN pg_class c "
            "ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
            "WHERE i.indrelid = %s::regclass AND a.amname = 'gin'), 0) AS gin",
            (part, f"{part}_embedding", part)).fetchone()
        total = conn.execute("SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits "
                             "WHERE inhparent = 'past_threads'::regclass").fetchone()
    assert row is not None and total is not None
    return {"heap": int(row[0]), "hnsw": int(row[1]), "gin": int(row[2]), "all_partitions": int(total[0])}


class Precomputed(DeterministicEmbedder):
    """Hands out vectors computed beforehand, keyed by text; so latency is the index's, not a model's."""

    def __init__(self, table: dict[str, np.ndarray]) -> None:
        super().__init__()
        self.name = "synthetic"
        self._table = table

    async def embed(self, *, texts: Sequence[str]) -> list[list[float]]:
        return [self._table[t.strip()].tolist() for t in texts]


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# ---------------------------------------------------------------------------------------------- phases


async def measure_queries(*, url: str, mailbox: str, queries: list[str], table: dict[str, np.ndarray],
                          ef_search: int) -> dict[str, dict[str, float]]:
    pool = await open_pool(url=url, max_size=2)
    out: dict[str, dict[str, float]] = {}
    try:
        repo = PastThreadRepository(pool=pool, embedder=Precomputed(table),
                                    search=SearchSettings(ef_search=ef_search))
        for mode in (SearchMode.HYBRID, SearchMode.VECTOR, SearchMode.TEXT):
            for q in queries[:20]:  # warm up: caches, prepared plans, term statistics
                await repo.search(mailbox=mailbox, text=q, limit=5, mode=mode)
            times = []
            for q in queries:
                t = time.perf_counter()
                await repo.search(mailbox=mailbox, text=q, limit=5, mode=mode)
                times.append((time.perf_counter() - t) * 1000)
            out[mode.value] = {"p50": pct(times, 0.5), "p95": pct(times, 0.95), "p99": pct(times, 0.99),
                               "mean": statistics.fmean(times)}
    finally:
        await pool.close()
    return out


def measure_server_side(*, url: str, mailbox_id: int, queries: list[str], table: dict[str, np.ndarray],
                        ef_search: int) -> dict[str, float]:
    """Execution time PostgreSQL reports for the HNSW candidate query alone (no client, no round trips)."""
    times = []
    with psycopg.connect(url) as conn:
        register_vector(conn)
        conn.execute(sql.SQL("SET hnsw.ef_search = {}").format(sql.Literal(ef_search)))
        query = sql.SQL("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) SELECT id FROM {} WHERE embedding IS NOT NULL "
                        "ORDER BY embedding <=> %s LIMIT 40").format(sql.Identifier(partition_name(mailbox_id)))
        for i, q in enumerate(queries):
            row = conn.execute(query, (table[q],)).fetchone()
            assert row is not None
            if i >= 20:  # after a warm-up
                times.append(float(row[0][0]["Execution Time"]))
    return {"p50": pct(times, 0.5), "p95": pct(times, 0.95)}


async def measure_recall(*, url: str, mailbox: str, queries: list[str], table: dict[str, np.ndarray],
                         keys: list[str], vectors: np.ndarray, ef_values: Sequence[int]) -> dict[int, float]:
    qmat = np.stack([table[q] for q in queries])
    exact_idx = np.argsort(-(qmat @ vectors.T), axis=1)[:, :10]
    exact = [{keys[j] for j in row} for row in exact_idx]
    pool = await open_pool(url=url, max_size=2)
    out = {}
    try:
        repo = PastThreadRepository(pool=pool, embedder=Precomputed(table))
        for ef in ef_values:
            s = SearchSettings(ef_search=ef, candidates=10)
            hits = 0
            for q, truth in zip(queries, exact, strict=True):
                found = await repo.search(mailbox=mailbox, text=q, limit=10, mode=SearchMode.VECTOR, settings=s)
                hits += len({t.thread_id for t in found} & truth)
            out[ef] = hits / (10 * len(queries))
    finally:
        await pool.close()
    return out


async def measure_incremental(*, url: str, mailbox: str, corpus: Corpus, n: int) -> float:
    topics = corpus.rng.integers(0, corpus.topics, size=n)
    texts = [f"incremental {i} {t}" for i, t in enumerate(corpus.texts(topics))]
    table = dict(zip(texts, corpus.vectors(topics), strict=True))
    pool = await open_pool(url=url, max_size=2)
    try:
        repo = PastThreadRepository(pool=pool, embedder=Precomputed(table))
        threads = [PastThread(mailbox=mailbox, thread_key=f"inc-{i}", subject="", customer_text=t,
                              reply_text="ok", intents=("other",)) for i, t in enumerate(texts)]
        t0 = time.perf_counter()
        for start in range(0, n, 50):
            await repo.add_many(mailbox=mailbox, threads=threads[start:start + 50])
        return n / (time.perf_counter() - t0)
    finally:
        await pool.close()


def measure_flat(*, url: str, small_id: int, queries: list[str], table: dict[str, np.ndarray]) -> dict[str, float]:
    with psycopg.connect(url) as conn:
        register_vector(conn)
        conn.execute("SET maintenance_work_mem = '2GB'")
        t = time.perf_counter()
        conn.execute("CREATE TABLE flat AS SELECT mailbox_id, thread_key, embedding FROM past_threads")
        conn.execute("CREATE INDEX flat_hnsw ON flat USING hnsw (embedding vector_cosine_ops)")
        conn.execute("ANALYZE flat")
        build = time.perf_counter() - t
        conn.execute("SET enable_seqscan = off")  # the approximate plan; an exact plan reads the whole table
        counts = []
        for ef in (40, 100, 400):
            conn.execute(sql.SQL("SET hnsw.ef_search = {}").format(sql.Literal(ef)))
            rows = [len(conn.execute("SELECT thread_key FROM flat WHERE mailbox_id = %s "
                                     "ORDER BY embedding <=> %s LIMIT 10", (small_id, table[q])).fetchall())
                    for q in queries[:100]]
            counts.append(statistics.fmean(rows))
        conn.execute("DROP TABLE flat")
        conn.commit()
    return {"build_s": build, "rows_ef40": counts[0], "rows_ef100": counts[1], "rows_ef400": counts[2]}


LOCAL_VARIANTS = (("onnx int8 (the default)", "onnx", True), ("onnx fp32", "onnx", False),
                  ("sentence-transformers fp32", "torch", False))


def measure_local_embedding(*, corpus: Corpus, n: int, texts: list[str] | None = None) -> dict[str, Any] | None:
    """Threads/s of the local model on 2 cores per runtime; CPU-bound rate = n / (process CPU seconds / 2).

    ``texts`` defaults to synthetic email-shaped texts; ``--embed-real`` passes the customer texts of the
    demo inbox and the understanding eval (subject + new text, as indexed).
    """
    if n <= 0:
        return None
    if texts is None:
        topics = corpus.rng.integers(0, corpus.topics, size=n)
        intro = "Hi team, could you please tell me when our shipment will arrive? "
        texts = [f"Re: order status\n{intro}{t}. Best regards, Kari" for t in corpus.texts(topics)]
    texts = (texts * (n // max(len(texts), 1) + 1))[:n]
    out: dict[str, Any] = {"texts": n, "mean_chars": statistics.fmean(len(x) for x in texts), "variants": {}}
    cache = Path(tempfile.mkdtemp(prefix="shipdraft-bench-models-"))
    try:
        for label, runtime, quantize in LOCAL_VARIANTS:
            try:
                from agent.embeddings import LocalEmbedder, LocalRuntime
                embedder = LocalEmbedder(threads=2, quantize=quantize, runtime=LocalRuntime(runtime), cache_dir=cache)
                embedder.load()
            except Exception as exc:
                print(f"local embedding {label} skipped: {exc}", file=sys.stderr)
                continue
            embedder.encode(texts[:64])
            t, c = time.perf_counter(), time.process_time()
            embedder.encode(texts)
            out["variants"][label] = {"wall_per_s": n / (time.perf_counter() - t),
                                      "cpu_per_s": n / ((time.process_time() - c) / 2)}
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return out if out["variants"] else None


# ---------------------------------------------------------------------------------------------- main


def run(args: argparse.Namespace) -> dict[str, Any]:
    total = args.threads
    small_share = 0.01
    smalls = 10
    big_n = total - int(total * small_share) * smalls
    small_n = int(total * small_share)
    corpus = Corpus(kind=args.corpus)
    report: dict[str, Any] = {"corpus": args.corpus.value, "threads": total, "big_mailbox": big_n,
                              "small_mailbox": small_n,
                              "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                              "load_before": os.getloadavg()[0]}
    workdir = Path(tempfile.mkdtemp(prefix="shipdraft-bench-retrieval-"))
    shared = args.shared_buffers or ("4GB" if total >= 500_000 else "1GB")
    server, url = start_server(pgdata=workdir / "pgdata", shared_buffers=shared,
                               maintenance_work_mem=args.maintenance_work_mem)
    try:
        migrate(url=url)
        names = ["big"] + [f"small{i}" for i in range(smalls)]
        with psycopg.connect(url, autocommit=True) as conn:
            ids = {}
            for name in names:
                row = conn.execute("INSERT INTO mailboxes (name, address, provider, config) "
                                   "VALUES (%s, %s, 'maildir', '{}') RETURNING id", (name, f"{name}@x")).fetchone()
                assert row is not None
                ids[name] = int(row[0])
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(f"{partition_name(ids[name])}_embedding")))
        # ---- bulk load
        kept: dict[str, tuple[list[str], np.ndarray]] = {}
        load_s = 0.0
        gen_s = 0.0
        for name, n in [("big", big_n)] + [(f"small{i}", small_n) for i in range(smalls)]:
            keep_vectors = [] if name in ("big", "small0") else None
            for start in range(0, n, 100_000):
                m = min(100_000, n - start)
                t = time.perf_counter()
                topics = corpus.rng.integers(0, corpus.topics, size=m)
                vectors = corpus.vectors(topics)
                texts = corpus.texts(topics)
                gen_s += time.perf_counter() - t
                t = time.perf_counter()
                bulk_load(url=url, mailbox_id=ids[name], start=start, keys_prefix=name, vectors=vectors, texts=texts)
                load_s += time.perf_counter() - t
                if keep_vectors is not None:
                    keep_vectors.append(vectors)
                print(f"loaded {name} {start + m}/{n}", file=sys.stderr, flush=True)
            if keep_vectors is not None:
                kept[name] = ([f"{name}-{i}" for i in range(n)], np.concatenate(keep_vectors))
        report["copy_rows_per_s"] = total / load_s
        report["generate_s"] = gen_s
        # ---- HNSW build
        builds = {}
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("SET maintenance_work_mem = {}").format(sql.Literal(args.maintenance_work_mem)))
            for name in names:
                t = time.perf_counter()
                conn.execute("SELECT past_threads_create_partition(%s)", (ids[name],))
                builds[name] = time.perf_counter() - t
                print(f"built HNSW for {name} in {builds[name]:.1f} s", file=sys.stderr, flush=True)
            t = time.perf_counter()
            conn.execute("VACUUM (ANALYZE) past_threads")  # as the backfill ends (PastThreadRepository.analyze)
            report["analyze_s"] = time.perf_counter() - t
        report["hnsw_build_s_big"] = builds["big"]
        report["hnsw_build_s_small"] = statistics.fmean(builds[n] for n in names[1:])
        report["hnsw_build_s_all"] = sum(builds.values())
        report["sizes_big"] = sizes(url=url, mailbox_id=ids["big"])
        report["sizes_small"] = sizes(url=url, mailbox_id=ids["small0"])
        # ---- queries
        qn = args.queries
        qtopics = corpus.rng.integers(0, corpus.topics, size=qn)
        qtexts = [f"q{i} {t}" for i, t in enumerate(corpus.texts(qtopics))]
        table = dict(zip(qtexts, corpus.vectors(qtopics), strict=True))
        report["latency"] = {}
        report["recall_at_10"] = {}
        for name in ("big", "small0"):
            report["latency"][name] = asyncio.run(measure_queries(url=url, mailbox=name, queries=qtexts, table=table,
                                                                  ef_search=args.ef_search))
            keys, vectors = kept[name]
            report["recall_at_10"][name] = asyncio.run(measure_recall(
                url=url, mailbox=name, queries=qtexts[: args.recall_queries], table=table, keys=keys,
                vectors=vectors, ef_values=(40, 100, 200)))
            report.setdefault("server_side_vector_ms", {})[name] = measure_server_side(
                url=url, mailbox_id=ids[name], queries=qtexts, table=table, ef_search=args.ef_search)
            print(f"queried {name}", file=sys.stderr, flush=True)
        # ---- incremental inserts with the index in place
        report["incremental_rows_per_s"] = asyncio.run(measure_incremental(url=url, mailbox="big", corpus=corpus,
                                                                           n=args.incremental))
        if args.flat:
            report["flat"] = measure_flat(url=url, small_id=ids["small0"], queries=qtexts, table=table)
        report["local_embedding"] = measure_local_embedding(corpus=corpus, n=args.embed_texts,
                                                            texts=real_texts() if args.embed_real else None)
        report["load_after"] = os.getloadavg()[0]
    finally:
        server.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    return report


def markdown(report: dict[str, Any], *, ef_search: int) -> str:
    def mib(b: int) -> str:
        return f"{b / 2**20:,.0f} MiB"

    def mark(ok: bool) -> str:
        return "ok" if ok else "FAIL"

    lines = [f"### {report['threads']:,} threads ({report['big_mailbox']:,} in the big mailbox, "
             f"10 mailboxes of {report['small_mailbox']:,} = 1%), {report['corpus']} corpus", ""]
    lines += [f"| query (limit 5, ef_search {ef_search}) | mailbox | p50 ms | p95 ms | p99 ms | target p95 <= 10 ms |",
              "|---|---|---|---|---|---|"]
    for name, label in (("big", "big (90%)"), ("small0", "small (1%)")):
        for mode, fig in report["latency"][name].items():
            lines.append(f"| {mode} | {label} | {fig['p50']:.2f} | {fig['p95']:.2f} | {fig['p99']:.2f} | "
                         f"{mark(fig['p95'] <= TARGET_P95_MS)} |")
    server = report.get("server_side_vector_ms", {})
    for name, label in (("big", "big (90%)"), ("small0", "small (1%)")):
        if name in server:
            lines.append(f"| HNSW scan alone, server-side execution time | {label} | {server[name]['p50']:.2f} | "
                         f"{server[name]['p95']:.2f} | | |")
    lines += ["", "| recall@10 vs exact (vector) | ef_search 40 | ef_search 100 | ef_search 200 |", "|---|---|---|---|"]
    for name, label in (("big", "big (90%)"), ("small0", "small (1%)")):
        r = report["recall_at_10"][name]
        lines.append(f"| {label} | " + " | ".join(f"{r[ef]:.3f}" for ef in (40, 100, 200)) + " |")
    sb, ss = report["sizes_big"], report["sizes_small"]
    lines += ["", "| build and size | figure |", "|---|---|",
              f"| bulk COPY with precomputed vectors | {report['copy_rows_per_s']:,.0f} rows/s |",
              f"| HNSW build, big partition ({report['big_mailbox']:,} rows, 2 cores) | "
              f"{report['hnsw_build_s_big']:.0f} s |",
              f"| HNSW build, 1% partition ({report['small_mailbox']:,} rows) | {report['hnsw_build_s_small']:.1f} s |",
              f"| ANALYZE | {report['analyze_s']:.1f} s |",
              f"| incremental insert, HNSW in place (add_many, batches of 50) | "
              f"{report['incremental_rows_per_s']:,.0f} rows/s |",
              f"| big partition: table / HNSW / GIN | {mib(sb['heap'])} / {mib(sb['hnsw'])} / {mib(sb['gin'])} |",
              f"| 1% partition: table / HNSW / GIN | {mib(ss['heap'])} / {mib(ss['hnsw'])} / {mib(ss['gin'])} |",
              f"| all partitions with indexes | {mib(sb['all_partitions'])} |"]
    if report.get("flat"):
        f = report["flat"]
        lines.append(f"| one unpartitioned table, filtered HNSW, 1% mailbox: rows of 10 returned "
                     f"(ef_search 40 / 100 / 400) | {f['rows_ef40']:.1f} / {f['rows_ef100']:.1f} / "
                     f"{f['rows_ef400']:.1f} |")
    emb = report.get("local_embedding")
    if emb:
        for label, fig in emb["variants"].items():
            wall, cpu = fig["wall_per_s"], fig["cpu_per_s"]
            lines.append(f"| local embedding, all-MiniLM-L6-v2 {label}, 2 cores, {emb['mean_chars']:.0f}-char "
                         f"texts: wall clock / CPU-bound (2 cores to itself) | {wall:.0f} / {cpu:.0f} threads/s "
                         f"({mark(cpu >= TARGET_EMBED_RATE)}) |")
    lines.append(f"| load average before / after (other work on the machine) | {report['load_before']:.1f} / "
                 f"{report['load_after']:.1f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--recall-queries", type=int, default=200)
    parser.add_argument("--incremental", type=int, default=1000)
    parser.add_argument("--embed-texts", type=int, default=1000)
    parser.add_argument("--embed-real", action="store_true",
                        help="embed the project's real customer emails instead of synthetic texts")
    parser.add_argument("--embed-only", action="store_true", help="only the local-embedding figures")
    parser.add_argument("--ef-search", type=int, default=SearchSettings().ef_search)
    parser.add_argument("--shared-buffers", default=None)
    parser.add_argument("--maintenance-work-mem", default="4GB")
    parser.add_argument("--flat", action="store_true", help="also measure one unpartitioned table with a filter")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20k threads, few queries")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--corpus", type=CorpusKind, choices=list(CorpusKind), default=CorpusKind.CALIBRATED,
                        help="synthetic vectors fitted to real embeddings (default) or the isotropic stress case")
    parser.add_argument("--calibrate", action="store_true",
                        help="only compare the real texts' vectors with both generators' (the fit's evidence)")
    args = parser.parse_args()
    if args.calibrate:
        print("\n".join(calibration()))
        return 0
    if args.quick:
        args.threads, args.queries, args.recall_queries, args.incremental, args.embed_texts = 20_000, 60, 40, 100, 128
    if args.embed_only:
        emb = measure_local_embedding(corpus=Corpus(), n=args.embed_texts,
                                      texts=real_texts() if args.embed_real else None)
        print(f"load average {os.getloadavg()[0]:.1f}; {emb['texts'] if emb else 0} texts, "
              f"{emb['mean_chars'] if emb else 0:.0f} chars on average")
        for label, fig in (emb or {"variants": {}})["variants"].items():
            verdict = "PASS" if fig["cpu_per_s"] >= TARGET_EMBED_RATE else "FAIL"
            print(f"{label}: {fig['wall_per_s']:.0f} threads/s wall clock, {fig['cpu_per_s']:.0f} CPU-bound "
                  f"(target {TARGET_EMBED_RATE}: {verdict})")
        return 0
    report = run(args)
    print(markdown(report, ef_search=args.ef_search))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
