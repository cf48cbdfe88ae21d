"""A sentence-transformers model (BERT + mean pooling + normalization) run with ONNX Runtime.

``LocalEmbedder`` uses this for its default runtime. The first process that
needs the model exports it from the local files (PyTorch + onnx, a few seconds)
into a cache directory, with the pooling and normalization inside the graph,
and optionally writes an int8 copy (dynamic quantization, per-channel weights);
every later process only loads the file. Files are written under a temporary
name and renamed, so two processes exporting at once both end with a whole file.

Tokenization is the model's own ``tokenizer.json`` through the ``tokenizers``
library; texts are sorted by length, grouped into forward passes of at most
``MAX_BATCH_TOKENS`` padded tokens, and padded per batch only to the longest
text of the batch (the shipped tokenizer pads everything to 128). The batches of
a big call (``PARALLEL_MIN_TEXTS``, a backfill) run in parallel, one single-threaded
ONNX Runtime call per CPU thread: on 2 cores that beat one session with two
intra-op threads (small matrices parallelize poorly), and ONNX Runtime releases
the GIL while it runs. Smaller calls stay on the calling thread.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from agent.errors import AgentError

log = logging.getLogger(__name__)
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Calls with fewer texts (retrieval queries, even coalesced) run their batches one after another on the calling
# thread: while the rest of the pipeline keeps the other core busy, two parallel ONNX runs cost more CPU per
# text (11.6 against 10.4 ms per email in bench/pipeline.py). A backfill's batches run in parallel.
PARALLEL_MIN_TEXTS = 64


# A forward pass holds at most this many (padded) tokens: on 2 cores, for all-MiniLM-L6 int8, 256-512 tokens per
# pass cost 35-45 % less CPU per text than batches of 16 or 32 texts (docs/benchmarks.md): the activations of a
# bigger batch no longer fit the CPU caches. A text longer than this runs alone.
MAX_BATCH_TOKENS = 384


def token_batches(*, lengths: Sequence[int], max_rows: int, max_tokens: int) -> list[list[int]]:
    """Consecutive positions of ``lengths`` (sorted ascending) grouped so rows x longest <= ``max_tokens``."""
    batches: list[list[int]] = []
    current: list[int] = []
    for position, length in enumerate(lengths):
        if current and (len(current) >= max_rows or (len(current) + 1) * length > max_tokens):
            batches.append(current)
            current = []
        current.append(position)
    if current:
        batches.append(current)
    return batches


class OnnxModelError(AgentError):
    """The ONNX model could not be exported or loaded."""


def model_fingerprint(model_path: Path) -> str:
    """Identifies the model files cheaply (config and tokenizer bytes, weight file sizes)."""
    digest = hashlib.sha256()
    for name in ("config.json", "tokenizer.json", "modules.json", "1_Pooling/config.json"):
        file = model_path / name
        if file.exists():
            digest.update(name.encode() + file.read_bytes())
    for weights in sorted(model_path.glob("*.safetensors")) + sorted(model_path.glob("*.bin")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return digest.hexdigest()[:12]


def _atomic_target(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    return Path(tmp)


def export_onnx(*, model_path: Path, target: Path) -> None:
    """Export the transformer with mean pooling and L2 normalization to ``target`` (fp32)."""
    try:
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise OnnxModelError("exporting the local model to ONNX needs torch and transformers installed") from exc
    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()

    class Pooled(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    example = torch.ones((2, 8), dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in _INPUTS}
    tmp = _atomic_target(target)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(Pooled(model), (example, example, torch.zeros_like(example)), str(tmp),
                              input_names=list(_INPUTS), output_names=["embedding"],
                              dynamic_axes={**axes, "embedding": {0: "batch"}}, opset_version=17, dynamo=False)
        os.replace(tmp, target)
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise OnnxModelError(f"cannot export the local model to ONNX: {type(exc).__name__}: {exc}") from exc


def quantize_onnx(*, source: Path, target: Path) -> None:
    """An int8 copy of ``source``: dynamic quantization, per-channel int8 weights."""
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise OnnxModelError("int8 quantization needs onnxruntime and onnx installed") from exc
    tmp = _atomic_target(target)
    try:
        previous = logging.root.manager.disable
        logging.disable(logging.WARNING)  # the quantizer warns on the root logger about optional pre-processing
        try:
            quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            logging.disable(previous)
        os.replace(tmp, target)
    except OnnxModelError:
        raise
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise OnnxModelError(f"cannot quantize the ONNX model: {type(exc).__name__}: {exc}") from exc


class OnnxSentenceModel:
    """``encode`` like sentence-transformers, on an ONNX Runtime session."""

    def __init__(self, *, session: Any, tokenizer: Any, dimensions: int, pad_id: int = 0, workers: int = 1) -> None:
        self._session = session
        self._tokenizer = tokenizer
        self._pad_id = pad_id
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="onnx") if workers > 1 else None
        self.dimensions = dimensions

    @classmethod
    def load(cls, *, model_path: Path, cache_dir: Path, quantize: bool, max_seq_length: int,
             threads: int | None, dimensions: int) -> OnnxSentenceModel:
        """Export (once) and open the model; raises ``OnnxModelError`` with the reason."""
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise OnnxModelError("the ONNX runtime of the local model needs onnxruntime and tokenizers") from exc
        base = cache_dir / f"minilm-{model_fingerprint(model_path)}"
        fp32 = base.with_suffix(".onnx")
        if not fp32.exists():
            log.info("exporting the local embedding model to ONNX", extra={"target": str(fp32)})
            export_onnx(model_path=model_path, target=fp32)
        file = fp32
        if quantize:
            file = base.with_name(base.name + "-qint8").with_suffix(".onnx")
            if not file.exists():
                quantize_onnx(source=fp32, target=file)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # parallel across batches instead (encode)
        options.inter_op_num_threads = 1
        try:
            session = onnxruntime.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # a truncated or foreign file: say so, the next export replaces it
            raise OnnxModelError(f"cannot load {file}: {exc}; delete it to export again") from exc
        tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        pad_id = int((tokenizer.padding or {}).get("pad_id", 0))
        tokenizer.no_padding()  # padded per batch in encode
        tokenizer.enable_truncation(max_length=max_seq_length)
        return cls(session=session, tokenizer=tokenizer, dimensions=dimensions, pad_id=pad_id,
                   workers=threads or os.cpu_count() or 1)

    def encode(self, texts: Sequence[str], *, batch_size: int = 16, max_batch_tokens: int = MAX_BATCH_TOKENS,
               **_: Any) -> Any:
        """Unit vectors (a numpy array, one row per text, in input order)."""
        import numpy as np

        encodings = self._tokenizer.encode_batch(list(texts))
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        batches = token_batches(lengths=[len(encodings[i].ids) for i in order], max_rows=batch_size,
                                max_tokens=max_batch_tokens)
        batches = [[order[k] for k in batch] for batch in batches]

        def run(rows: list[int]) -> None:
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            out[rows] = self._session.run(None, feed)[0]

        if self._pool is None or len(texts) < PARALLEL_MIN_TEXTS:
            for rows in batches:
                run(rows)
        else:
            list(self._pool.map(run, batches))
        return out
