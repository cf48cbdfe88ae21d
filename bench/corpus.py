"""Synthetic past threads for ``bench/retrieval.py``: vectors shaped like sentence embeddings, mail-like texts.

Two generators. ``calibrated`` (the default) is fitted to the local model's vectors of the project's real
texts; ``calibration()`` (``python bench/retrieval.py --calibrate``) prints the evidence. ``isotropic`` is
the first generator, kept as a stress case far harder than real embeddings. ``tests/bench`` keeps both
deterministic and the calibrated one within reach of the real figures.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

import numpy as np

from agent.embeddings import DIMENSIONS

TOPICS = 1000
SUBSPACE = 48
VOCABULARY = 20_000
_COMMON_WORDS = (
    "the and to you for please our we is of on in it this order with can be your regards hi thanks are "
    "container delivery shipment when will status update have as at from us not eta date know let "
    "best kind hello dear could would need any there new today week still arrive arrival week monday "
    "friday information confirm send via tracking number goods port warehouse customer team"
)
COMMON = tuple(_COMMON_WORDS.split(" "))


class CorpusKind(StrEnum):
    CALIBRATED = "calibrated"
    ISOTROPIC = "isotropic"


# The calibrated generator's parameters, fitted (``--calibrate`` prints the comparison) so that 353 synthetic
# threads in 20 topics -- the density of the project's real texts: 20 situations of the retrieval eval, the
# demo inbox, the understanding eval -- show the same five statistics as the local model's vectors of those
# texts: mean cosine to the nearest and the 10th nearest neighbour, mean and spread of the cosine of any two
# texts, and the local intrinsic dimensionality (MLE, k = 10). A big mailbox then holds the same kind of topics,
# only far more threads per topic.
class Calibration(NamedTuple):
    mean: float = 0.6  # weight of the common direction
    groups: int = 4  # groups of topics
    group_weight: float = 1.2  # pull of a topic centre toward its group's
    subspace: int = 16  # dimensions of a topic's own noise
    spread: float = 0.8  # size of that noise
    noise: float = 0.6  # size of the isotropic noise


CALIBRATED = Calibration()


class Corpus:
    """Deterministic synthetic threads: clustered vectors and mail-like texts.

    ``calibrated`` (the default): a common direction (sentence embeddings are anisotropic: two unrelated
    texts still have a cosine of ~0.26) plus a topic centre (topics themselves in a few groups, as languages
    and intents group real mail) plus noise in the topic's own 16-d subspace plus isotropic noise.
    ``isotropic``: the earlier generator, kept as a stress case: every vector in one shared 48-d Gaussian
    cloud whose noise swamps the topic centres, so ~900k threads are near-equidistant; a local intrinsic
    dimension of ~25 against the real texts' ~12.5.
    """

    def __init__(self, *, seed: int = 11, kind: CorpusKind = CorpusKind.CALIBRATED, topics: int = TOPICS) -> None:
        self.rng = np.random.default_rng(seed)
        self.kind = kind
        self.topics = topics
        centres = self.rng.normal(size=(topics, DIMENSIONS)).astype(np.float32)
        self.centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)
        self.basis = self.rng.normal(size=(SUBSPACE, DIMENSIONS)).astype(np.float32) / np.sqrt(DIMENSIONS)
        if kind is CorpusKind.CALIBRATED:
            p = CALIBRATED
            mean = self.rng.normal(size=DIMENSIONS).astype(np.float32)
            self.mean = mean / np.linalg.norm(mean)
            groups = self.rng.normal(size=(p.groups, DIMENSIONS)).astype(np.float32)
            groups /= np.linalg.norm(groups, axis=1, keepdims=True)
            c = self.centres + p.group_weight * groups[self.rng.integers(0, len(groups), size=topics)]
            self.centres = c / np.linalg.norm(c, axis=1, keepdims=True)
            self.topic_basis = (self.rng.normal(size=(topics, p.subspace, DIMENSIONS)).astype(np.float32)
                                * (p.spread / np.sqrt(p.subspace * DIMENSIONS)))
        syllables = [a + b for a in "bdfgklmnprstv" for b in "aeiouy"]
        words = {"".join(self.rng.choice(syllables, size=int(self.rng.integers(2, 5)))) for _ in range(VOCABULARY * 2)}
        self.vocabulary = sorted(words)[:VOCABULARY]
        self.topic_words = self.rng.integers(0, len(self.vocabulary), size=(topics, 12))
        ranks = np.arange(1, len(COMMON) + 1)
        self.common_p = (1 / ranks) / (1 / ranks).sum()

    def vectors(self, topics: np.ndarray) -> np.ndarray:
        n = len(topics)
        if self.kind is CorpusKind.ISOTROPIC:
            low = self.rng.normal(size=(n, SUBSPACE)).astype(np.float32) @ self.basis * 4.0
            iso = self.rng.normal(size=(n, DIMENSIONS)).astype(np.float32) * (0.25 / np.sqrt(DIMENSIONS))
            v = self.centres[topics] + low + iso
            return v / np.linalg.norm(v, axis=1, keepdims=True)
        p = CALIBRATED
        z = self.rng.normal(size=(n, p.subspace)).astype(np.float32)
        low = np.empty((n, DIMENSIONS), dtype=np.float32)
        order = np.argsort(topics, kind="stable")
        bounds = np.searchsorted(topics[order], np.arange(self.topics + 1))
        for t in range(self.topics):  # one small matrix product per topic, not an (n, d, 384) gather
            rows = order[bounds[t]:bounds[t + 1]]
            if len(rows):
                low[rows] = z[rows] @ self.topic_basis[t]
        iso = self.rng.normal(size=(n, DIMENSIONS)).astype(np.float32) * (p.noise / np.sqrt(DIMENSIONS))
        v = p.mean * self.mean + self.centres[topics] + low + iso
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def texts(self, topics: np.ndarray) -> list[str]:
        n = len(topics)
        lengths = self.rng.integers(20, 60, size=n)
        common = self.rng.choice(len(COMMON), size=(n, 60), p=self.common_p)
        own = self.rng.integers(0, 12, size=(n, 8))
        out = []
        for i in range(n):
            words = [COMMON[j] for j in common[i, : lengths[i]]]
            k = max(2, lengths[i] // 8)
            words[: k] = [self.vocabulary[self.topic_words[topics[i], j]] for j in own[i, :k]]
            self.rng.shuffle(words)
            out.append(" ".join(words))
        return out


def neighbour_statistics(vectors: np.ndarray, *, k: int = 10) -> dict[str, float]:
    """The five statistics the calibrated corpus is fitted to (unit vectors, all pairs: keep n small)."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    nearest = -np.sort(-sims, axis=1)[:, :k]
    dist = np.sqrt(np.maximum(1e-12, 2 - 2 * nearest))
    lid = -1 / np.mean(np.log(dist[:, :-1] / dist[:, -1:]), axis=1)  # Levina-Bickel MLE
    pairs = sims[np.triu_indices(len(vectors), 1)]
    return {"cos_nn1": float(nearest[:, 0].mean()), f"cos_nn{k}": float(nearest[:, k - 1].mean()),
            "cos_any_mean": float(pairs.mean()), "cos_any_std": float(pairs.std()),
            "lid_median": float(np.median(lid))}


def calibration() -> list[str]:
    """The real texts' vectors (local model) against both generators at the real texts' density."""
    import yaml

    from agent.embeddings import LocalEmbedder

    root = Path(__file__).resolve().parent.parent
    threads = yaml.safe_load((root / "evals" / "similar_threads" / "threads.yaml").read_text(encoding="utf-8"))
    texts = real_texts() + [f"{t['subject']}\n{t['customer']}" for t in threads] + [t["reply"] for t in threads]
    texts = list(dict.fromkeys(texts))
    real = np.asarray(LocalEmbedder().encode(texts), dtype=np.float32)
    rows = [("real texts, all-MiniLM-L6-v2", neighbour_statistics(real))]
    for kind in CorpusKind:
        corpus = Corpus(kind=kind, topics=20)
        rows.append((f"synthetic {kind.value}, 20 topics",
                     neighbour_statistics(corpus.vectors(corpus.rng.integers(0, 20, size=len(real))))))
    out = [f"{len(real)} vectors each", "",
           "| vectors | cos to nearest | cos to 10th nearest | cos of any two (mean / sd) | local intrinsic dim. |",
           "|---|---|---|---|---|"]
    out += [f"| {label} | {st['cos_nn1']:.3f} | {st['cos_nn10']:.3f} | {st['cos_any_mean']:.3f} / "
            f"{st['cos_any_std']:.3f} | {st['lid_median']:.1f} |" for label, st in rows]
    # How the nearest neighbour closes in as density grows: a generator whose neighbours close in faster than
    # the real ones would be easier than real mail at a million threads.
    pick = np.random.default_rng(5).permutation(len(real))
    sizes = [len(real) // 4, len(real) // 2, len(real)]
    calibrated = Corpus(topics=20)
    synthetic = calibrated.vectors(calibrated.rng.integers(0, 20, size=len(real)))
    out += ["", "cos to nearest at " + " / ".join(map(str, sizes)) + " vectors: real "
            + " -> ".join(f"{neighbour_statistics(real[pick[:n]])['cos_nn1']:.3f}" for n in sizes)
            + ", calibrated " + " -> ".join(f"{neighbour_statistics(synthetic[:n])['cos_nn1']:.3f}" for n in sizes)]
    return out


def real_texts() -> list[str]:
    """Subject + new text of the demo inbox and the understanding eval emails, as the index embeds them."""
    from agent.parsing import parse_email
    from agent.retrieval import query_text

    root = Path(__file__).resolve().parent.parent
    files = sorted((root / "shipdraft" / "demo" / "inbox").glob("*.eml"))
    files += sorted((root / "evals" / "understanding" / "emails").glob("*.eml"))
    return [query_text(email=parse_email(raw=f.read_bytes())) for f in files]
