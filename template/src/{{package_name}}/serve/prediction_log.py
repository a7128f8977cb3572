"""Log every served prediction off the request path, for the monitoring job.

Format (documented in the README): JSON Lines files under the log directory,
one file per UTC hour, `predictions-YYYYMMDD-HH.jsonl`; one line per predicted
row with `timestamp`, `request_id`, `row` (the row's position in its
request), `model_version`, `inputs` (feature -> value, null when missing),
`prediction` and, for classifiers, `probabilities` (class -> probability).

A bounded in-memory buffer decouples requests from disk: a full buffer
drops the record and counts it (metric `prediction_log_dropped_total`)
instead of slowing requests; shutdown drains the buffer, so under normal
load every served prediction is written.
"""

import collections
import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

log = logging.getLogger(__name__)
WRITE_INTERVAL_SECONDS = 0.05


def _lines(features, created, request_id, model_version, rows, items):
    timestamp = datetime.fromtimestamp(created, UTC).isoformat()
    for index, (row, item) in enumerate(zip(rows, items, strict=True)):
        # Every feature, null when the request left it out. Validated rows
        # have no other keys, so a row with as many keys is complete as is.
        if len(row) != len(features):
            row = {name: row.get(name) for name in features}
        record = {
            "timestamp": timestamp,
            "request_id": request_id,
            "row": index,  # position in the request: labels join on (request_id, row)
            "model_version": model_version,
            "inputs": row,
            **item,
        }
        yield orjson.dumps(record, default=str)


class PredictionLog:
    def __init__(
        self, directory: Path, capacity: int, features: list[str], on_drop=None
    ):
        self.directory, self.features, self.capacity = directory, features, capacity
        # deque.append and popleft are atomic: no lock on the request path.
        self.pending: collections.deque = collections.deque()
        self.on_drop = on_drop or (lambda count: None)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._write_forever, daemon=True)

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.thread.start()

    def submit(
        self, request_id: str, model_version: str, rows: list[dict], items: list[dict]
    ) -> None:
        """Buffer one request's rows and predictions; never blocks the request."""
        if len(self.pending) >= self.capacity:
            self.on_drop(len(rows))
            return
        self.pending.append((time.time(), request_id, model_version, rows, items))

    def close(self, timeout: float = 30.0) -> None:
        """Write everything still buffered, then stop the writer."""
        if self.thread.is_alive():
            self.stopping.set()
            self.thread.join(timeout)

    def _write_forever(self) -> None:
        stream, path = None, None
        while True:
            # One write per interval, not a thread wake-up per request.
            stopping = self.stopping.wait(WRITE_INTERVAL_SECONDS)
            entries = [self.pending.popleft() for _ in range(len(self.pending))]
            if entries:
                current = (
                    self.directory / f"predictions-{datetime.now(UTC):%Y%m%d-%H}.jsonl"
                )
                if current != path:  # a new file every UTC hour
                    if stream:
                        stream.close()
                    stream, path = None, current
                stream = self._write(stream, path, entries)
            if stopping:
                if stream:
                    stream.close()
                return

    def _write(self, stream, path: Path, entries: list[tuple]):
        """Append the entries; returns the open stream (None after a failure)."""
        rows = sum(len(entry[3]) for entry in entries)
        try:
            lines = [
                line for entry in entries for line in _lines(self.features, *entry)
            ]
            stream = stream or path.open("ab")
            stream.write(b"\n".join(lines) + b"\n")
            stream.flush()
            return stream
        except Exception:  # the writer must outlive any one bad batch
            log.exception("cannot write %d prediction log records", rows)
            self.on_drop(rows)
            return None
