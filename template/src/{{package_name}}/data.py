"""Load the configured data source and read or write pipeline tables."""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import sample_data
from .errors import ProjectError
from .paths import DATASET_FILE, QUERIES_DIR, RAW_DATA_DIR
from .schema import Schema
from .settings import Params

READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    ".csv": pd.read_csv,
    ".parquet": pd.read_parquet,
}


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet file, with a clear error for anything else."""
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise ProjectError(f"{path}: unsupported file type (use .csv or .parquet)")
    if not path.is_file():
        raise ProjectError(f"{path}: file not found")
    try:
        return reader(path)
    except (ValueError, OSError) as error:
        raise ProjectError(f"{path}: cannot be read: {error}") from error


def write_table(frame: pd.DataFrame, path: Path) -> None:
    path = Path(path)
    if path.suffix.lower() not in READERS:
        raise ProjectError(f"{path}: unsupported file type (use .csv or .parquet)")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


def load_source(params: Params) -> pd.DataFrame:
    """The raw training table from the source selected in params.yaml."""
    if params.data.source == "synthetic":
        return sample_data.generate(params.data.n_rows, params.seed)
    if params.data.source == "sql":
        from . import sql  # SQLAlchemy loads only for this source

        return sql.read_query(source_query(params), params.data.url_env)
    path = params.data.path
    assert path is not None  # DataParams requires it for the file source
    return read_table(Path(path))


def source_query(params: Params) -> str:
    """The SQL of a sql source: data.query, or the text of data.query_file."""
    from .sql import query_text

    return query_text(params.data.query, params.data.query_file)


def watched_folder(params: Params) -> Path | None:
    """The folder whose files the prepare stage depends on, for this source."""
    return {"file": RAW_DATA_DIR, "sql": QUERIES_DIR}.get(params.data.source)


def untracked_source(params: Params) -> Path | None:
    """The source file (data or query file) when it lies outside its watched
    folder, where the pipeline would not see it change; None otherwise."""
    path = params.data.path if params.data.source == "file" else params.data.query_file
    folder = watched_folder(params)
    if folder is None or path is None:
        return None
    inside = Path(path).resolve().is_relative_to(folder.resolve())
    return None if inside else Path(path)


@dataclass(frozen=True)
class Prepared:
    frame: pd.DataFrame
    rows_read: int

    @property
    def rows_dropped(self) -> int:
        return self.rows_read - len(self.frame)


def prepare(params: Params, schema: Schema) -> Prepared:
    """Snapshot the source into the prepared data set, without the rows that
    have no target when params.yaml says to drop them."""
    frame = load_source(params)
    rows_read = len(frame)
    if params.data.drop_missing_target:
        frame = without_missing_target(frame, schema)
    frame = with_integer_classes(frame, schema)
    write_table(frame, DATASET_FILE)
    return Prepared(frame, rows_read)


def with_integer_classes(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Integer classes read back as integers: a CSV column of 0/1 with gaps is
    read as floats (and True/False as booleans), and a model trained on
    0.0/1.0 would answer "1.0"."""
    target = schema.target
    classes = target.classes or []
    integer_classes = bool(classes) and all(isinstance(c, int) for c in classes)
    column = frame.get(target.name)
    if column is None or not integer_classes or column.dtype.kind not in "fb":
        return frame
    if column.dtype.kind == "f" and not (column.dropna() % 1 == 0).all():
        return frame  # validation names the values that are not classes
    integers = column.astype("int64" if column.notna().all() else "Int64")
    return frame.assign(**{target.name: integers})


def without_missing_target(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The rows that have a target (a table without the column is left to
    validation, which names it as missing)."""
    if schema.target.name not in frame.columns:
        return frame
    return frame[frame[schema.target.name].notna()].reset_index(drop=True)
