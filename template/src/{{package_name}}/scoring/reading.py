"""Read the table to score in chunks, so memory stays flat however large it is."""

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from ..errors import ProjectError


@dataclass
class Chunk:
    # Indexed by the row's position in the input, counted from 0.
    frame: pd.DataFrame
    done: int  # progress so far, in the input's units


class ChunkedInput:
    """A CSV file or a Parquet file or folder, read `chunk_rows` rows at a time."""

    total: int  # bytes of a CSV (its rows are not known until the end), rows

    def __init__(self, path: Path, chunk_rows: int, features: list[str]):
        self.path, self.chunk_rows = path, chunk_rows
        try:
            if _is_csv(path):
                self.columns = list(pd.read_csv(path, nrows=0).columns)
                self.total = path.stat().st_size
                self.types = {c: pa.string() for c in self.columns}
            else:
                self.dataset = ds.dataset(path, format="parquet")
                self.columns = self.dataset.schema.names
                self.total = self.dataset.count_rows()
                self.types = dict(
                    zip(self.columns, self.dataset.schema.types, strict=True)
                )
        except (ValueError, OSError, pa.ArrowException) as error:
            raise ProjectError(
                f"{path}: cannot be read: {_first_line(error)}"
            ) from None
        # Columns other than the features pass through unchanged: read from a
        # CSV as text, so every chunk gives them the same type.
        self.passed_through = [c for c in self.columns if c not in features]

    def chunks(self) -> Iterator[Chunk]:
        try:
            if _is_csv(self.path):
                with self.path.open("rb") as handle:
                    yield from self._csv_chunks(handle)
            else:
                yield from self._parquet_chunks()
        except (ValueError, OSError, pa.ArrowException) as error:
            message = _first_line(error)
            raise ProjectError(f"{self.path}: cannot be read: {message}") from None

    def _csv_chunks(self, handle: IO[bytes]) -> Iterator[Chunk]:
        text = dict.fromkeys(self.passed_through, str)
        reader = pd.read_csv(handle, chunksize=self.chunk_rows, dtype=text)
        for frame in reader:  # the index runs on from chunk to chunk
            yield Chunk(frame, handle.tell())

    def _parquet_chunks(self) -> Iterator[Chunk]:
        start = 0
        # A file at a time, two batches ahead: the data set's own scanner
        # reads four files ahead, so memory grew with the number of files.
        for fragment in self.dataset.get_fragments():
            batches = fragment.to_batches(
                schema=self.dataset.schema,
                batch_size=self.chunk_rows,
                batch_readahead=2,
            )
            for batch in batches:
                if batch.num_rows == 0:
                    continue
                frame = batch.to_pandas()
                frame.index = pd.RangeIndex(start, start + len(frame))
                start += len(frame)
                yield Chunk(frame, start)


def _is_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv"


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0]


def open_input(path: Path, chunk_rows: int, features: list[str]) -> ChunkedInput:
    """The input, checked to exist and be a readable CSV or Parquet table."""
    if not path.exists():
        raise ProjectError(f"{path}: file not found")
    if path.is_file() and path.suffix.lower() not in (".csv", ".parquet"):
        raise ProjectError(f"{path}: unsupported file type (use .csv or .parquet)")
    return ChunkedInput(path, chunk_rows, features)


class QueryInput:
    """The rows of a SQL query on the database in $url_env, `chunk_rows` at a
    time (the number of rows is not known until the end)."""

    total = None

    def __init__(self, query: str, url_env: str, chunk_rows: int, features: list[str]):
        from .. import sql  # SQLAlchemy loads only for a query

        self.path = "the query"
        self._chunks = sql.query_chunks(query, url_env, chunk_rows)
        first = next(self._chunks, None)  # the columns and their types
        if first is None:
            raise ProjectError("the query returned no rows")
        self._first = first
        self.columns = [str(name) for name in first.columns]
        table = pa.Table.from_pandas(first, preserve_index=False)
        # A column that is all NULL in the first chunk: text, the widest guess.
        self.types = {
            field.name: pa.string() if pa.types.is_null(field.type) else field.type
            for field in table.schema
        }
        self.passed_through = [c for c in self.columns if c not in features]

    def chunks(self) -> Iterator[Chunk]:
        start = 0
        for frame in itertools.chain([self._first], self._chunks):
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            yield Chunk(frame, start)


Source = ChunkedInput | QueryInput
