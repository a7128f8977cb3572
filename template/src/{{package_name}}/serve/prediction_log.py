"""Log every served prediction off the request path, for the monitoring job.

Format (documented in the README): JSON Lines files under the log directory,
one file per UTC hour, `predictions-YYYYMMDD-HH.jsonl`; one line per predicted
row with `timestamp`, `request_id`, `model_version`, `inputs` (feature ->
value, null when missing), `prediction` and, for classifiers,
`probabilities` (class -> probability).

A bounded queue decouples requests from disk: a full queue drops the record
and counts it (metric `prediction_log_dropped_total`) instead of slowing
requests; shutdown drains the queue, so under normal load every served
prediction is written.
"""

import json
import logging
import queue
import threading
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)
_STOP = object()


def _lines(timestamp, request_id, model_version, rows, items):
    for inputs, item in zip(rows, items, strict=True):
        record = {
            "timestamp": timestamp,
            "request_id": request_id,
            "model_version": model_version,
            "inputs": inputs,
            **item,
        }
        yield json.dumps(record, default=str)


class PredictionLog:
    def __init__(self, directory: Path, capacity: int, on_drop=None):
        self.directory = directory
        self.queue: queue.Queue = queue.Queue(maxsize=capacity)
        self.on_drop = on_drop or (lambda count: None)
        self.thread = threading.Thread(target=self._write_forever, daemon=True)

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.thread.start()

    def submit(
        self, request_id: str, model_version: str, rows: list[dict], items: list[dict]
    ) -> None:
        """Queue one request's rows and predictions; never blocks the request."""
        entry = (datetime.now(UTC).isoformat(), request_id, model_version, rows, items)
        try:
            self.queue.put_nowait(entry)
        except queue.Full:
            self.on_drop(len(rows))

    def close(self, timeout: float = 30.0) -> None:
        """Write everything still queued, then stop the writer."""
        if self.thread.is_alive():
            self.queue.put(_STOP)
            self.thread.join(timeout)

    def _path(self, now: datetime) -> Path:
        return self.directory / f"predictions-{now:%Y%m%d-%H}.jsonl"

    def _write_forever(self) -> None:
        while True:
            batch = [self.queue.get()]
            while not self.queue.empty():  # write whatever else is waiting at once
                batch.append(self.queue.get_nowait())
            stop = any(item is _STOP for item in batch)
            lines = [
                line for item in batch if item is not _STOP for line in _lines(*item)
            ]
            if lines:
                try:
                    with self._path(datetime.now(UTC)).open("a") as stream:
                        stream.write("\n".join(lines) + "\n")
                except OSError as error:
                    log.error("cannot write prediction log: %s", error)
                    self.on_drop(len(lines))
            if stop:
                return
