"""The two windows the monitor compares: the reference (the training split
the champion learnt from) and the current window (the service's prediction
logs over the last hours, the scores `score` wrote, or any file in the
schema's format)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.dataset as ds

from ..data import read_table
from ..errors import ProjectError
from ..paths import TRAIN_FILE
from ..schema import Schema
from ..settings import PREDICTION

SHOWN_BATCHES = 20  # an unknown batch id's error lists at most these
LOG_COLUMNS = ["prediction", "probabilities", "request_id", "row", "model_version"]


@dataclass
class Window:
    frame: pd.DataFrame  # one row per record: the features, plus LOG_COLUMNS for logs
    source: str  # what was read, for the report
    skipped_lines: int = 0  # unreadable log lines: a quality problem, not a crash
    predicted: bool = False  # holds the model's predictions: prediction drift


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
    return Window(frame, f"{directory} (last {hours:g} h)", skipped, predicted=True)


def probability_columns(schema: Schema) -> list[str]:
    """The class probabilities prediction drift tests, as `score` names them.
    Binary: one class's probability decides the other's; test one."""
    if not schema.is_classification:
        return []
    classes = schema.target.classes or []
    tested = [schema.positive_class] if len(classes) == 2 else classes
    return [f"probability_{label}" for label in tested]


def batch_window(
    path: Path, schema: Schema, batch_ids: list[str] | None = None
) -> Window:
    """The rows `score` wrote to a Parquet file, a folder of `batch_id=<id>`
    partitions or a CSV file; only the given batches when `batch_ids`."""
    scores = _scores_dataset(path, schema)
    needed = [*schema.feature_names, PREDICTION, *probability_columns(schema)]
    missing = [
        name for name in [*needed, "batch_id"] if name not in scores.schema.names
    ]
    if missing:
        raise ProjectError(
            f"{path} is not an output of score: missing column(s) {', '.join(missing)}"
        )
    rows = None
    if batch_ids:
        _check_batches(path, scores, batch_ids)
        rows = ds.field("batch_id").isin(batch_ids)
    try:
        table = scores.to_table(columns=needed, filter=rows)
    except (OSError, pa.ArrowException) as error:
        raise ProjectError(f"{path}: cannot be read: {_first_line(error)}") from None
    which = ""
    if batch_ids:
        which = f" (batch{'es' if len(batch_ids) > 1 else ''} {', '.join(batch_ids)})"
    if table.num_rows == 0:
        raise ProjectError(f"{path}{which}: no scored rows to monitor")
    return Window(table.to_pandas(), f"{path}{which}", predicted=True)


def _scores_dataset(path: Path, schema: Schema) -> ds.Dataset:
    """Batch ids as text, however they look; categories read from a CSV as
    text too, as the reference holds them."""
    as_text = {"batch_id": pa.string()}
    as_text.update({name: pa.string() for name in schema.names_of("categorical")})
    if path.is_dir():
        by_batch = ds.partitioning(
            pa.schema([("batch_id", pa.string())]), flavor="hive"
        )
        source = {"format": "parquet", "partitioning": by_batch}
    elif path.suffix.lower() == ".parquet":
        source = {"format": "parquet"}
    elif path.suffix.lower() == ".csv":
        # An empty field is a missing value, as score wrote it.
        convert = pa_csv.ConvertOptions(column_types=as_text, strings_can_be_null=True)
        source = {"format": ds.CsvFileFormat(convert_options=convert)}
    elif not path.exists():
        raise ProjectError(f"{path}: not found")
    else:
        raise ProjectError(
            f"{path}: not an output of score (a .parquet, .csv file or a folder)"
        )
    try:
        scores = ds.dataset(path, **source)
    except FileNotFoundError:
        raise ProjectError(f"{path}: not found") from None
    except (OSError, pa.ArrowException) as error:
        raise ProjectError(f"{path}: cannot be read: {_first_line(error)}") from None
    if not scores.files:
        raise ProjectError(f"{path}: no Parquet files: is it the folder score wrote?")
    return scores


def _check_batches(path: Path, scores: ds.Dataset, batch_ids: list[str]) -> None:
    known = pc.unique(scores.to_table(columns=["batch_id"])["batch_id"]).to_pylist()
    unknown = [batch for batch in batch_ids if batch not in known]
    if unknown:
        present = sorted(str(batch) for batch in known if batch is not None)
        shown = present[-SHOWN_BATCHES:]  # ids in time order: the latest
        more = f" and {len(present) - len(shown)} earlier" if shown != present else ""
        raise ProjectError(
            f"{path}: no batch {', '.join(unknown)}; its batches: "
            f"{', '.join(shown) or 'none'}{more}"
        )


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


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
