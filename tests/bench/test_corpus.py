"""bench/corpus.py, the retrieval benchmark's synthetic threads: deterministic; the calibrated ones look real.

The reference figures are ``python bench/retrieval.py --calibrate`` for the local model's vectors of the
project's 353 real texts (docs/benchmarks.md); the model itself is not loaded here.
"""

from __future__ import annotations

import numpy as np
import pytest

from bench.corpus import Corpus, CorpusKind, neighbour_statistics

REAL = {"cos_nn1": 0.727, "cos_nn10": 0.552, "cos_any_mean": 0.264, "cos_any_std": 0.159, "lid_median": 12.5}


def sample(kind: CorpusKind, *, seed: int) -> dict[str, float]:
    corpus = Corpus(kind=kind, topics=20, seed=seed)
    return neighbour_statistics(corpus.vectors(corpus.rng.integers(0, 20, size=353)))


def test_vectors_are_unit_length_and_reproducible() -> None:
    a, b = Corpus(topics=50, seed=3), Corpus(topics=50, seed=3)
    topics = np.array([0, 7, 7, 49, 3])
    va, vb = a.vectors(topics), b.vectors(topics)
    assert va.shape == (5, 384)
    np.testing.assert_allclose(np.linalg.norm(va, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(va, vb)
    assert a.texts(topics) == b.texts(topics)


@pytest.mark.parametrize("seed", [11, 12])
def test_calibrated_corpus_matches_the_real_texts_statistics(seed: int) -> None:
    got = sample(CorpusKind.CALIBRATED, seed=seed)
    for key in ("cos_nn1", "cos_nn10", "cos_any_mean", "cos_any_std"):
        assert got[key] == pytest.approx(REAL[key], abs=0.06), key
    assert got["lid_median"] == pytest.approx(REAL["lid_median"], abs=4)


def test_isotropic_stress_corpus_is_harder_than_real_embeddings() -> None:
    got = sample(CorpusKind.ISOTROPIC, seed=11)
    assert got["lid_median"] > 1.5 * REAL["lid_median"]
    assert got["cos_nn1"] < REAL["cos_nn1"] - 0.2


def test_same_topic_threads_are_nearer_than_other_topics() -> None:
    corpus = Corpus(topics=30, seed=5)
    topics = np.repeat(np.arange(30), 20)
    v = corpus.vectors(topics)
    sims = v @ v.T
    np.fill_diagonal(sims, -np.inf)
    nearest = np.argmax(sims, axis=1)
    assert np.mean(topics[nearest] == topics) > 0.95
