"""Proportions with honest uncertainty: Wilson score intervals and Newcombe's interval for a difference.

An acceptance rate from 12 drafts is not the same number as one from 1,200.
``proportion`` gives the rate with its Wilson score interval (good coverage
at small samples and at rates near 0 or 1, unlike the textbook Wald
interval), and ``difference`` compares two rates with Newcombe's hybrid
score interval (method 10 of Newcombe 1998, built from the two Wilson
intervals). A comparison is only called ``higher`` or ``lower`` when the
whole interval of the difference lies on one side of zero.

Both are closed-form: a dozen lines on top of ``statistics.NormalDist``
instead of a dependency on SciPy or statsmodels (the tests check the
Wilson interval against SciPy where it is installed, and both against the
published examples).
"""

from __future__ import annotations

import math
from enum import StrEnum
from statistics import NormalDist

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_CONFIDENCE = 0.95


class StatsError(ValueError):
    """Counts or a confidence level that make no sense (negative, successes above the total, ...)."""


class Proportion(BaseModel):
    """``successes`` of ``total`` with a confidence interval; rate and bounds are None when total is 0."""

    model_config = ConfigDict(frozen=True)

    successes: int
    total: int
    rate: float | None
    low: float | None
    high: float | None
    confidence: float = DEFAULT_CONFIDENCE


class Verdict(StrEnum):
    HIGHER = "higher"  # the whole interval of (a - b) is above zero
    LOWER = "lower"  # the whole interval is below zero
    INCONCLUSIVE = "inconclusive"  # the interval contains zero: the data cannot tell them apart


class Difference(BaseModel):
    """The difference ``a - b`` of two rates with Newcombe's hybrid score interval."""

    model_config = ConfigDict(frozen=True)

    estimate: float
    low: float
    high: float
    confidence: float = DEFAULT_CONFIDENCE
    verdict: Verdict = Field(description="higher / lower only when the interval excludes zero")


def _z(confidence: float) -> float:
    if not 0 < confidence < 1:
        raise StatsError(f"confidence must be between 0 and 1, not {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _check(successes: int, total: int) -> None:
    if total < 0 or successes < 0 or successes > total:
        raise StatsError(f"need 0 <= successes <= total, got {successes} of {total}")


def wilson_interval(*, successes: int, total: int, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float]:
    """The Wilson score interval of ``successes / total`` (total must be at least 1)."""
    _check(successes, total)
    if total == 0:
        raise StatsError("a proportion of nothing has no interval (total is 0)")
    z = _z(confidence)
    p = successes / total
    z2n = z * z / total
    centre = (p + z2n / 2) / (1 + z2n)
    half = z * math.sqrt(p * (1 - p) / total + z2n / (4 * total)) / (1 + z2n)
    # the exact ends at 0 and 1 instead of a rounding error's worth inside or outside
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == total else min(1.0, centre + half)
    return low, high


def proportion(*, successes: int, total: int, confidence: float = DEFAULT_CONFIDENCE) -> Proportion:
    """The rate with its Wilson interval; an empty sample gives None, never a made-up 0 %."""
    _check(successes, total)
    if total == 0:
        _z(confidence)
        return Proportion(successes=0, total=0, rate=None, low=None, high=None, confidence=confidence)
    low, high = wilson_interval(successes=successes, total=total, confidence=confidence)
    return Proportion(successes=successes, total=total, rate=successes / total, low=low, high=high,
                      confidence=confidence)


def difference(*, a: Proportion, b: Proportion) -> Difference | None:
    """``a - b`` with Newcombe's hybrid score interval; None when either sample is empty.

    Both proportions must have been computed at the same confidence level.
    """
    if a.total == 0 or b.total == 0:
        return None
    if not math.isclose(a.confidence, b.confidence):
        raise StatsError(f"cannot compare a {a.confidence} interval with a {b.confidence} one")
    assert a.rate is not None and a.low is not None and a.high is not None
    assert b.rate is not None and b.low is not None and b.high is not None
    d = a.rate - b.rate
    low = d - math.sqrt((a.rate - a.low) ** 2 + (b.high - b.rate) ** 2)
    high = d + math.sqrt((a.high - a.rate) ** 2 + (b.rate - b.low) ** 2)
    verdict = Verdict.HIGHER if low > 0 else Verdict.LOWER if high < 0 else Verdict.INCONCLUSIVE
    return Difference(estimate=d, low=max(-1.0, low), high=min(1.0, high), confidence=a.confidence,
                      verdict=verdict)
