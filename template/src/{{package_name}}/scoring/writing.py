"""Write scored rows and rejected rows under temporary names, renamed into
place only when the whole input is done: a failed run leaves no output that
looks complete.

A file output (.parquet or .csv) holds one run. A folder output is a Parquet
data set with one partition per batch, `batch_id=<id>/`; scoring a batch id
again replaces that partition, so re-running a batch never duplicates it.
"""

import os
import shutil
import uuid
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from ..errors import ProjectError

SUFFIXES = (".parquet", ".csv")


def is_dataset(path: Path) -> bool:
    """A folder (existing, or a path without a file suffix) is a data set."""
    return path.is_dir() or not path.suffix


def check_output(path: Path) -> None:
    """Fail now, before any scoring, when the output cannot be written."""
    if not is_dataset(path) and path.suffix.lower() not in SUFFIXES:
        raise ProjectError(
            f"{path}: unsupported output type (use .parquet, .csv or a folder)"
        )
    folder = path if is_dataset(path) else path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-check-{uuid.uuid4().hex}"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise ProjectError(
            f"{path}: output not writable: {error.strerror or error}"
        ) from None


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")


class ScoredWriter:
    """Scored rows to a Parquet file, a CSV file or a batch partition."""

    def __init__(self, path: Path, schema: pa.Schema, batch_id: str):
        self.final = path / f"batch_id={batch_id}" if is_dataset(path) else path
        self.temporary = _temporary(self.final)
        if is_dataset(path):
            self.temporary.mkdir(parents=True)
            target = self.temporary / "part-0.parquet"
            # The folder name holds the batch id, as readers of Hive-style
            # partitions (pandas, pyarrow, Spark, DuckDB) expect.
            schema = schema.remove(schema.get_field_index("batch_id"))
        else:
            target = self.temporary
        self.schema = schema
        self.writer: pq.ParquetWriter | pa_csv.CSVWriter
        # The final name says the format: the temporary one ends in .tmp-<id>.
        if self.final.suffix.lower() == ".csv":
            self.writer = pa_csv.CSVWriter(target, schema)
        else:
            self.writer = pq.ParquetWriter(target, schema)

    def write(self, frame: pd.DataFrame) -> None:
        try:
            table = pa.Table.from_pandas(
                frame, schema=self.schema, preserve_index=False
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError) as error:
            # A column other than the features whose type changes from chunk
            # to chunk, e.g. numbers after a first chunk of text.
            message = (str(error).splitlines() or ["wrong type"])[0]
            raise ProjectError(
                f"{self.final}: cannot write the scores: {message}"
            ) from None
        self.writer.write_table(table)

    def commit(self) -> None:
        self.writer.close()
        _replace(self.temporary, self.final)

    def discard(self) -> None:
        self.writer.close()
        _remove(self.temporary)


class RejectsWriter:
    """Rejected rows as CSV, as they were read, with the row number and reason.
    Written even when empty, so a re-run never leaves an earlier run's rejects."""

    def __init__(self, path: Path, columns: list[str]):
        self.final = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.temporary = _temporary(path)
        self.columns = columns
        self.rows = 0
        pd.DataFrame(columns=columns).to_csv(self.temporary, index=False)

    def write(self, frame: pd.DataFrame) -> None:
        frame[self.columns].to_csv(self.temporary, mode="a", header=False, index=False)
        self.rows += len(frame)

    def commit(self) -> None:
        _replace(self.temporary, self.final)

    def discard(self) -> None:
        _remove(self.temporary)


def _replace(temporary: Path, final: Path) -> None:
    """Rename into place; a folder already there is moved aside first, as
    rename cannot replace a folder that has files."""
    if final.is_dir():
        old = _temporary(final)
        final.rename(old)
        temporary.rename(final)
        shutil.rmtree(old)
    else:
        os.replace(temporary, final)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class TableWriter:
    """Scored rows to a table of the database in $url_env, in one transaction:
    the batch's earlier rows are deleted and the new ones inserted, and
    readers see either the old batch or the whole new one."""

    def __init__(self, table: str, url_env: str, batch_id: str):
        import sqlalchemy

        from .. import sql

        self.final = table
        self.engine = sql.database_engine(url_env)
        self.connection = sql.connect(self.engine, url_env)
        self.transaction = self.connection.begin()
        if sqlalchemy.inspect(self.connection).has_table(table):
            existing = sqlalchemy.Table(
                table, sqlalchemy.MetaData(), autoload_with=self.connection
            )
            if "batch_id" not in existing.c:
                self.discard()
                raise ProjectError(f"table {table} has no batch_id column")
            self.connection.execute(
                existing.delete().where(existing.c.batch_id == batch_id)
            )

    def write(self, frame: pd.DataFrame) -> None:
        frame.to_sql(self.final, self.connection, if_exists="append", index=False)

    def commit(self) -> None:
        self.transaction.commit()
        self.connection.close()
        self.engine.dispose()

    def discard(self) -> None:
        self.transaction.rollback()
        self.connection.close()
        self.engine.dispose()
