"""Shadow mode: a second model (the challenger) scores every request off the
request path, and its predictions go to a log of their own beside the
champion's (`<log dir>/shadow/`, the same format), for `monitor` to compare.

A request only appends its rows to a bounded queue. A thread takes what has
queued, predicts it in one call and hands the results to the shadow's log.
When the shadow falls behind, requests beyond SERVE_SHADOW_QUEUE are not
shadowed (counted): the champion's answers never wait for the challenger.
"""

import collections
import logging
import threading
from collections.abc import Callable

from .prediction_log import WRITE_INTERVAL_SECONDS, PredictionLog
from .served_model import ServedModel

log = logging.getLogger("service")

# A request waiting for the shadow: its id and its validated rows.
QueuedRequest = tuple[str, list[dict]]


class Shadow:
    def __init__(
        self,
        model: ServedModel,
        prediction_log: PredictionLog,
        capacity: int,
        max_rows: int,
        count: Callable[[str, int], None],
    ):
        self.model, self.prediction_log = model, prediction_log
        self.capacity, self.max_rows = capacity, max_rows
        self.count = count  # (outcome, rows): predicted, dropped or failed
        # deque.append and popleft are atomic: no lock on the request path.
        self.pending: collections.deque = collections.deque()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._predict_forever, daemon=True)
        self.failing = False  # log a failure once, not at every batch

    def start(self) -> None:
        self.thread.start()

    def submit(self, request_id: str, rows: list[dict]) -> None:
        """Queue one request's rows for the challenger; never blocks."""
        if len(self.pending) >= self.capacity:
            self.count("dropped", len(rows))
            return
        self.pending.append((request_id, rows))

    def close(self, timeout: float = 30.0) -> None:
        """Predict what is still queued, then stop."""
        if self.thread.is_alive():
            self.stopping.set()
            self.thread.join(timeout)

    def _predict_forever(self) -> None:
        while True:
            stopping = self.stopping.wait(WRITE_INTERVAL_SECONDS)
            while self.pending:
                self._predict(self._take())
            if stopping:
                return

    def _take(self) -> list[QueuedRequest]:
        """Queued requests, oldest first, up to max_rows rows (at least one
        request): one model call for many requests."""
        taken: list[QueuedRequest] = []
        rows = 0
        while self.pending:
            waiting = len(self.pending[0][1])
            if taken and rows + waiting > self.max_rows:
                break
            taken.append(self.pending.popleft())
            rows += waiting
        return taken

    def _predict(self, requests: list[QueuedRequest]) -> None:
        rows = [row for _, request_rows in requests for row in request_rows]
        try:
            items = self.model.predictor.predict(rows).items()
        except Exception as error:  # the challenger must not stop the thread
            self.count("failed", len(rows))
            if not self.failing:
                log.error("shadow model failed: %s: %s", type(error).__name__, error)
            self.failing = True
            return
        if self.failing:
            log.info("shadow model predicts again")
        self.failing = False
        self.count("predicted", len(rows))
        start = 0
        for request_id, request_rows in requests:
            end = start + len(request_rows)
            self.prediction_log.submit(
                request_id, self.model.version, request_rows, items[start:end]
            )
            start = end
