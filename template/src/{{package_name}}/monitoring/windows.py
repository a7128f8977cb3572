"""The two windows the monitor compares: the reference (the training split
the champion learnt from) and the current window (the service's prediction
logs over the last hours, or any file in the schema's format)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pandas as pd

from ..data import read_table
from ..errors import ProjectError
from ..paths import TRAIN_FILE
from ..schema import Schema

LOG_COLUMNS = ["prediction", "probabilities", "request_id", "row", "model_version"]


@dataclass
class Window:
    frame: pd.DataFrame  # one row per record: the features, plus LOG_COLUMNS for logs
    source: str  # what was read, for the report
    skipped_lines: int = 0  # unreadable log lines: a quality problem, not a crash


def reference_window(schema: Schema, path: Path = TRAIN_FILE) -> Window:
    """A split written by the pipeline (training split by default)."""
    if not path.is_file():
        raise ProjectError(f"{path} not found: run the pipeline (dvc repro) first")
    return Window(_with_features(read_table(path), schema, str(path)), str(path))


def file_window(path: Path, schema: Schema) -> Window:
    return Window(_with_features(read_table(path), schema, str(path)), str(path))


def log_window(
    directory: Path, schema: Schema, hours: float, now: datetime | None = None
) -> Window:
    """Logged predictions with a timestamp in the last `hours` before `now`."""
    files = sorted(directory.glob("predictions-*.jsonl"))
    if not files:
        raise ProjectError(f"no prediction logs (predictions-*.jsonl) in {directory}")
    end = now or datetime.now(UTC)
    start = end - timedelta(hours=hours)
    records, skipped = [], 0
    for path in files:
        if _hour_of(path) < start - timedelta(hours=1):
            continue  # the whole file is older than the window
        for line in path.read_bytes().splitlines():
            try:
                entry = orjson.loads(line)
                timestamp = datetime.fromisoformat(entry["timestamp"])
                if timestamp.tzinfo is None:
                    timestamp = timestamp.replace(tzinfo=UTC)  # the log writes UTC
                record = {**entry["inputs"], **{k: entry.get(k) for k in LOG_COLUMNS}}
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                skipped += 1
                continue
            if start <= timestamp <= end:
                records.append(record)
    frame = pd.DataFrame.from_records(
        records, columns=[*schema.feature_names, *LOG_COLUMNS]
    )
    return Window(frame, f"{directory} (last {hours:g} h)", skipped)


def _hour_of(path: Path) -> datetime:
    """The UTC hour in a log file's name; files named otherwise are read."""
    try:
        stamp = path.stem.removeprefix("predictions-")
        return datetime.strptime(stamp, "%Y%m%d-%H").replace(tzinfo=UTC)
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)


def _with_features(frame: pd.DataFrame, schema: Schema, source: str) -> pd.DataFrame:
    missing = [name for name in schema.feature_names if name not in frame.columns]
    if missing:
        raise ProjectError(
            f"{source} lacks the schema feature column(s): {', '.join(missing)}"
        )
    return frame
