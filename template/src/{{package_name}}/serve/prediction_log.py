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

The directory is bounded too (`max_bytes`): the oldest hours' files are
deleted to make room, and when the current hour alone fills the budget,
records are dropped and counted. A pod's log volume never fills up (the
kubelet would evict the pod). A write that fails (a full disk) is cut
back to the last whole line, and only what was not written is counted.
"""

import collections
import logging
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from ..environment import PREDICTION_LOG_MAX_BYTES

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
        self,
        directory: Path,
        capacity: int,
        features: list[str],
        on_drop=None,
        max_bytes: int = PREDICTION_LOG_MAX_BYTES,
    ):
        self.directory, self.features, self.capacity = directory, features, capacity
        self.max_bytes = max_bytes
        self.used_bytes = 0  # by the log's files, kept up to date by the writer
        # deque.append and popleft are atomic: no lock on the request path.
        self.pending: collections.deque = collections.deque()
        self.on_drop = on_drop or (lambda count: None)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._write_forever, daemon=True)

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.used_bytes = sum(path.stat().st_size for path in self._files())
        self.thread.start()

    def _files(self) -> list[Path]:
        """The log's files, oldest first (their names sort by hour)."""
        return sorted(self.directory.glob("predictions-*.jsonl"))

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
            payload = b"\n".join(lines) + b"\n"
            if not self._make_room(len(payload), path):
                self.on_drop(rows)
                return stream
            # Unbuffered: a failed write is known here, and cut back below.
            stream = stream or path.open("ab", buffering=0)
            start = stream.seek(0, os.SEEK_END)
            try:
                _write_all(stream, payload)
            except OSError:
                stream.truncate(start)  # no half line for monitoring to trip on
                raise
            self.used_bytes += len(payload)
            return stream
        except Exception:  # the writer must outlive any one bad batch
            log.exception("cannot write %d prediction log records", rows)
            self.on_drop(rows)
            if stream:
                stream.close()
            return None

    def _make_room(self, needed: int, current: Path) -> bool:
        """Delete the oldest hours' files until `needed` bytes fit the budget;
        False when they cannot (the current hour's file alone is too big)."""
        for old in self._files():
            if self.used_bytes + needed <= self.max_bytes or old == current:
                break
            size = old.stat().st_size
            old.unlink()
            self.used_bytes -= size
            log.warning(
                "deleted %s: the prediction log keeps at most %d bytes "
                "(SERVE_PREDICTION_LOG_MAX_BYTES)",
                old.name,
                self.max_bytes,
            )
        return self.used_bytes + needed <= self.max_bytes


def _write_all(stream, payload: bytes) -> None:
    """An unbuffered write may take part of the payload; write the rest."""
    view = memoryview(payload)
    while view:
        view = view[stream.write(view) :]
