"""A circuit breaker around the model. After SERVE_BREAKER_FAILURES failed or
timed-out predictions in a row, the service stops calling the model for
SERVE_BREAKER_COOLDOWN_SECONDS and answers 503 with Retry-After at once,
instead of piling requests onto a model that does not answer. Then one trial
prediction goes through: its success closes the circuit, its failure opens
it for another cool-down.

Written here rather than taken from a library: the ones on PyPI count
exceptions only, and this one also counts predictions that time out, tells
how long until the next trial (Retry-After) and ignores the late answers
of calls admitted before the circuit opened. Its state changes on the
event loop only, so it needs no lock."""

import math
import time
from collections.abc import Callable
from enum import IntEnum


class BreakerState(IntEnum):
    """The states, valued as the circuit_breaker_state gauge shows them."""

    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


class CircuitOpen(Exception):
    """Raised instead of calling the model while the circuit is open."""

    def __init__(self, reason: str, retry_after: int):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after  # whole seconds, as Retry-After takes


class PredictionTimeout(Exception):
    """A prediction not done within SERVE_PREDICTION_TIMEOUT_SECONDS."""


class CircuitBreaker:
    def __init__(
        self,
        failures_to_open: int,
        cooldown: float,
        on_change: Callable[[BreakerState], None] = lambda state: None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.failures_to_open = failures_to_open  # 0: the circuit never opens
        self.cooldown = cooldown
        self.state = BreakerState.CLOSED
        self.failures = 0  # in a row
        self.last_failure = ""
        self._on_change = on_change
        self._clock = clock
        self._opened_at = 0.0
        self._trial_running = False

    def admit(self) -> BreakerState:
        """Let a call through, returning the state it goes in under (to give
        to `record`), or raise CircuitOpen."""
        if self.state is BreakerState.OPEN and self._seconds_left() <= 0:
            self._set(BreakerState.HALF_OPEN)
        if self.state is BreakerState.CLOSED:
            return self.state
        if self.state is BreakerState.HALF_OPEN and not self._trial_running:
            self._trial_running = True
            return self.state
        reason = self.open_reason() or "model circuit half open: a trial is running"
        raise CircuitOpen(reason, retry_after=max(1, math.ceil(self._seconds_left())))

    def record(self, admitted: BreakerState, failure: str | None) -> None:
        """The outcome of a call `admit` let through: None, or why it failed."""
        if admitted is BreakerState.HALF_OPEN:
            self._trial_running = False
        elif self.state is not BreakerState.CLOSED:
            return  # admitted before the circuit opened: old news
        if failure is None:
            self.failures = 0
            if self.state is not BreakerState.CLOSED:
                self._set(BreakerState.CLOSED)
            return
        self.failures += 1
        self.last_failure = failure
        trial_failed = admitted is BreakerState.HALF_OPEN
        if trial_failed or 0 < self.failures_to_open <= self.failures:
            self._opened_at = self._clock()
            self._set(BreakerState.OPEN)

    def abandon(self, admitted: BreakerState) -> None:
        """A call that ended with no outcome (cancelled): a trial's turn
        goes to the next call."""
        if admitted is BreakerState.HALF_OPEN:
            self._trial_running = False

    def reset(self) -> None:
        """Closed, with no failures: for a new model."""
        self.failures, self._trial_running = 0, False
        if self.state is not BreakerState.CLOSED:
            self._set(BreakerState.CLOSED)

    def open_reason(self) -> str | None:
        """Why the model is not being called, for /ready; None when it is."""
        if self.state is BreakerState.CLOSED:
            return None
        if self.state is BreakerState.HALF_OPEN or self._seconds_left() <= 0:
            return None  # the next prediction is the trial
        return (
            f"model circuit open after {self.failures} failed predictions in a "
            f"row (last: {self.last_failure}); next trial in "
            f"{math.ceil(self._seconds_left())} s"
        )

    def _seconds_left(self) -> float:
        return self._opened_at + self.cooldown - self._clock()

    def _set(self, state: BreakerState) -> None:
        self.state = state
        self._on_change(state)
