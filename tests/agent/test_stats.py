"""Wilson score intervals and Newcombe's interval of a difference, against published values and SciPy."""

from __future__ import annotations

import pytest

from agent.stats import StatsError, Verdict, difference, proportion, wilson_interval


@pytest.mark.parametrize(("successes", "total", "low", "high"), [
    # Newcombe (1998), "Two-sided confidence intervals for the single proportion", table I, method 3 (score)
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_the_published_examples(successes: int, total: int, low: float, high: float) -> None:
    got = wilson_interval(successes=successes, total=total)
    assert got == pytest.approx((low, high), abs=5e-5)


def test_wilson_matches_scipy_over_a_grid() -> None:
    stats = pytest.importorskip("scipy.stats")
    for total in (1, 2, 3, 7, 20, 137, 1000):
        for successes in sorted({0, 1, total // 3, total // 2, total - 1, total}):
            if not 0 <= successes <= total:
                continue
            for confidence in (0.8, 0.95, 0.99):
                ci = stats.binomtest(successes, total).proportion_ci(confidence_level=confidence, method="wilson")
                assert wilson_interval(successes=successes, total=total, confidence=confidence) == pytest.approx(
                    (ci.low, ci.high), abs=1e-9), (successes, total, confidence)


def test_all_and_nothing_reach_the_bounds_exactly() -> None:
    assert wilson_interval(successes=0, total=5)[0] == 0.0
    assert wilson_interval(successes=5, total=5)[1] == 1.0
    low, high = wilson_interval(successes=5, total=5)
    assert 0.5 < low < high == 1.0  # five of five is not proof of 100 %


def test_an_empty_sample_has_no_rate_rather_than_zero() -> None:
    p = proportion(successes=0, total=0)
    assert (p.rate, p.low, p.high, p.total) == (None, None, None, 0)
    with pytest.raises(StatsError):
        wilson_interval(successes=0, total=0)


@pytest.mark.parametrize(("successes", "total"), [(-1, 3), (4, 3), (0, -1)])
def test_impossible_counts_are_refused(successes: int, total: int) -> None:
    with pytest.raises(StatsError):
        proportion(successes=successes, total=total)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5, -0.1])
def test_impossible_confidence_levels_are_refused(confidence: float) -> None:
    with pytest.raises(StatsError):
        proportion(successes=1, total=2, confidence=confidence)
    with pytest.raises(StatsError):
        proportion(successes=0, total=0, confidence=confidence)


def test_more_data_and_less_confidence_give_narrower_intervals() -> None:
    small, large = proportion(successes=6, total=10), proportion(successes=600, total=1000)
    assert small.rate == large.rate == 0.6
    assert (large.high - large.low) < (small.high - small.low) / 5  # type: ignore[operator]
    loose = proportion(successes=6, total=10, confidence=0.8)
    assert small.low < loose.low < loose.high < small.high  # type: ignore[operator]


@pytest.mark.parametrize(("a", "b", "low", "high"), [
    # Newcombe (1998), "Interval estimation for the difference between independent proportions", method 10
    ((56, 70), (48, 80), 0.0524, 0.3339),
    ((9, 10), (3, 10), 0.1705, 0.8090),
    ((5, 56), (0, 29), -0.0381, 0.1926),
])
def test_newcombe_difference_matches_the_published_examples(a: tuple[int, int], b: tuple[int, int], low: float,
                                                            high: float) -> None:
    d = difference(a=proportion(successes=a[0], total=a[1]), b=proportion(successes=b[0], total=b[1]))
    assert d is not None
    assert (d.low, d.high) == pytest.approx((low, high), abs=5e-5)
    assert d.estimate == pytest.approx(a[0] / a[1] - b[0] / b[1])


def test_a_small_sample_is_not_over_read() -> None:
    # 3 of 4 sent as is looks better than 60 of 100, but the data cannot tell them apart
    d = difference(a=proportion(successes=3, total=4), b=proportion(successes=60, total=100))
    assert d is not None and d.verdict == Verdict.INCONCLUSIVE and d.low < 0 < d.high
    # the same rates with enough drafts are told apart
    d = difference(a=proportion(successes=750, total=1000), b=proportion(successes=600, total=1000))
    assert d is not None and d.verdict == Verdict.HIGHER and d.low > 0
    d = difference(a=proportion(successes=600, total=1000), b=proportion(successes=750, total=1000))
    assert d is not None and d.verdict == Verdict.LOWER and d.high < 0


def test_difference_needs_two_samples_at_one_confidence_level() -> None:
    assert difference(a=proportion(successes=0, total=0), b=proportion(successes=1, total=2)) is None
    with pytest.raises(StatsError):
        difference(a=proportion(successes=1, total=2, confidence=0.9), b=proportion(successes=1, total=2))
