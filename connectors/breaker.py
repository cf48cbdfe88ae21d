"""A circuit breaker per configured system.

After ``failure_threshold`` consecutive failed calls the circuit opens: calls
fail at once with ``CircuitOpenError`` (the note says the system is
unavailable) instead of waiting for a timeout on every email. After
``reset_timeout`` seconds one trial call is let through (half-open): success
closes the circuit, failure opens it again. "Not found" and configuration
errors say nothing about the system's health and do not count.

No library is used on purpose: the maintained async breakers are either
decorator-bound (one state per decorated function, not per configured system)
or unmaintained, and the state machine is thirty lines.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import StrEnum

from connectors.base import CircuitOpenError, ConfigurationError, ConnectorError, NotFoundError

log = logging.getLogger(__name__)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Consecutive-failure breaker with one trial call after ``reset_timeout`` seconds."""

    def __init__(self, *, system: str, failure_threshold: int = 5, reset_timeout: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.system = system
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_running = False
        self._last_error = ""

    @property
    def state(self) -> BreakerState:
        return self._state

    def before_call(self) -> None:
        """Raise ``CircuitOpenError`` unless a call may go to the system now."""
        if self.failure_threshold <= 0 or self._state == BreakerState.CLOSED:
            return
        remaining = self._opened_at + self.reset_timeout - self._clock()
        if self._state == BreakerState.OPEN and remaining <= 0:
            self._state = BreakerState.HALF_OPEN
            self._trial_running = False
        if self._state == BreakerState.HALF_OPEN and not self._trial_running:
            self._trial_running = True
            return
        raise CircuitOpenError(
            f"{self.system} unavailable: {self._failures} failed calls in a row, not called for "
            f"{max(remaining, 0):.0f} s (last error: {self._last_error})",
            system=self.system, retry_after=max(remaining, 0.0))

    def record_success(self) -> None:
        if self._state != BreakerState.CLOSED:
            log.info("circuit closed", extra={"system": self.system})
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._trial_running = False

    def record_abandoned(self) -> None:
        """The call ended without an answer (cancelled by the caller): let the next trial through."""
        if self._state == BreakerState.HALF_OPEN:
            self._trial_running = False

    def record_failure(self, error: BaseException) -> None:
        if not counts_as_failure(error):
            if self._state == BreakerState.HALF_OPEN:  # the system answered: healthy enough
                self.record_success()
            return
        self._failures += 1
        self._last_error = str(error)[:160]
        if self._state == BreakerState.HALF_OPEN or (
                self.failure_threshold > 0 and self._failures >= self.failure_threshold):
            if self._state != BreakerState.OPEN:
                log.warning("circuit opened", extra={"system": self.system, "failures": self._failures})
            self._state = BreakerState.OPEN
            self._opened_at = self._clock()
            self._trial_running = False


def counts_as_failure(error: BaseException) -> bool:
    """Whether an error says the system is unhealthy (not: no such record, or our own setup)."""
    if isinstance(error, NotFoundError | ConfigurationError | CircuitOpenError):
        return False
    return isinstance(error, ConnectorError)
