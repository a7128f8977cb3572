"""The scoring job on Apache Spark (`score --engine spark`): the same checks,
predictor and output as the local engine, spread over Spark's executors.

The driver resolves the model as the local engine does and broadcasts the
predictor (the compiled ONNX model, or the scikit-learn pipeline): each
executor receives it once and each Python worker keeps it for every
partition it scores (`mapInPandas`); the rows are checked and scored with
the local engine's own functions. Spark writes the batch partition with dynamic
partition overwrite, so scoring a batch id again replaces only that batch.
"""

import json
import os
import re
import shutil
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from ..errors import ProjectError
from ..predict import plain_records
from ..schema import Schema
from ..serve.predictors import Predictor
from ..validation import check_rows
from .job import (
    REJECT_COLUMNS,
    ScoringJob,
    Summary,
    check_batch_id,
    output_schema,
    scored_rows,
)
from .writing import RejectsWriter, check_output, is_dataset

if TYPE_CHECKING:
    from pyspark import Broadcast
    from pyspark.sql import DataFrame, SparkSession

# Columns the engine adds while it works; never written.
FILE, ROW_IN_FILE = "__input_file", "__input_row_in_file"
INPUT_ROW, REASON, REJECTED = "__input_row", "__reject_reason", "__rejected_row"
# The last line of a Python traceback: "TypeError: ...", "pkg.SomeError: ...".
PYTHON_ERROR = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception): ")
PANDAS_WARNING = "PySpark does not yet fully support"
IGNORE_PANDAS_WARNING = f"ignore:{PANDAS_WARNING}:FutureWarning"


@dataclass
class SparkInput:
    """The input as Spark reads it, described as the local engine's sources."""

    path: str
    columns: list[str]
    types: dict[str, pa.DataType]


def require_pyspark() -> None:
    # pyspark warns on import about pandas releases newer than it was tested
    # with (the project's tests show scoring works on them): not here, nor
    # in the Python workers (spark.executorEnv below).
    warnings.filterwarnings("ignore", PANDAS_WARNING, FutureWarning)
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise ProjectError(
            "--engine spark needs pyspark, which this project does not install: "
            "`uv add --optional spark 'pyspark>=4.0'`, then `uv sync --extra spark`"
        ) from None


def require_java() -> None:
    """Spark runs on a JVM: say so now rather than with a gateway traceback."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return
    if shutil.which("java") is None:
        raise ProjectError(
            "--engine spark needs Java 17 or later: no `java` on PATH and no "
            "JAVA_HOME (e.g. `apt-get install openjdk-17-jre-headless`)"
        )


def spark_session(master: str | None, chunk_rows: int) -> "SparkSession":
    """The session of spark-submit when there is one, else local mode."""
    require_pyspark()
    require_java()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("score")
    if master is None and not _on_a_cluster():
        master = "local[*]"
    if master is not None:
        builder = builder.master(master)
    if master and master.startswith("local"):
        # Workers run this interpreter, with the project and its libraries,
        # not whichever python3 comes first on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (
        builder.config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(chunk_rows))
        .config("spark.executorEnv.PYTHONWARNINGS", IGNORE_PANDAS_WARNING)
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _on_a_cluster() -> bool:
    """Started by spark-submit (its JVM is waiting), on Databricks, or in a
    process that already has a session: their master applies."""
    from pyspark.sql import SparkSession

    started = ("PYSPARK_GATEWAY_PORT", "DATABRICKS_RUNTIME_VERSION")
    return any(os.environ.get(name) for name in started) or bool(
        SparkSession.getActiveSession()
    )


def _first_line(error: Exception) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return (lines or [type(error).__name__])[0][:300]


def _check_paths(job: ScoringJob) -> tuple[Path, Path]:
    if job.query is not None or job.output_table is not None or not job.input_path:
        raise ProjectError(
            "--engine spark reads and writes Parquet: give --input and --output "
            "(--query and --output-table need --engine local)"
        )
    if job.output_path is None or not is_dataset(job.output_path):
        raise ProjectError(
            f"{job.output_path}: --engine spark writes a folder of batch "
            "partitions: give a folder, e.g. --output scores/"
        )
    if job.input_path.suffix.lower() == ".csv":
        raise ProjectError(
            f"{job.input_path}: --engine spark reads Parquet (a file or a folder)"
        )
    if not job.input_path.exists():
        raise ProjectError(f"{job.input_path}: file not found")
    return job.input_path, job.output_path


def read_input(spark: "SparkSession", path: Path) -> tuple["DataFrame", SparkInput]:
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException
    from pyspark.sql.pandas.types import to_arrow_schema

    try:
        frame = spark.read.parquet(str(path.resolve()))
        arrow = to_arrow_schema(frame.schema)
    except (PySparkException, Py4JJavaError) as error:
        raise ProjectError(f"{path}: cannot be read: {_first_line(error)}") from None
    columns = list(frame.columns)
    types = dict(zip(columns, arrow.types, strict=True))
    return frame, SparkInput(str(path), columns, types)


def file_offsets(frame: "DataFrame") -> dict[str, int]:
    """The input row number of each file's first row: files in path order,
    as the local engine reads a folder, so both number rows alike."""
    from pyspark.sql import functions as F

    counts = (
        frame.select(F.col("_metadata.file_path").alias(FILE))
        .groupBy(FILE)
        .count()
        .collect()
    )
    offsets, start = {}, 0
    for row in sorted(counts, key=lambda row: row[FILE]):
        offsets[row[FILE]] = start
        start += row["count"]
    return offsets


@dataclass
class PartitionScorer:
    """What each executor needs to score a partition; pickled to them."""

    schema: Schema
    predictor: "Broadcast[Predictor]"  # loaded once per Python worker
    offsets: dict[str, int]
    columns: list[str]  # the input's, in order
    output: list[str]  # the scored rows' columns, in order
    lineage: dict[str, Any]

    def __call__(self, frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        predictor = self.predictor.value
        for frame in frames:
            yield from self.score(frame, predictor)

    def score(self, frame: pd.DataFrame, predictor: Predictor) -> list[pd.DataFrame]:
        """The scored rows and the rejected ones, apart: together, a column
        of whole numbers would become floats where the rejects have none."""
        frame.index = pd.Index(frame[FILE].map(self.offsets) + frame[ROW_IN_FILE])
        frame = frame[self.columns]
        checked = check_rows(frame, self.schema)
        parts = []
        if not checked.valid.empty:
            rows = scored_rows(checked.valid, self.schema, predictor)
            parts.append(rows.assign(**self.lineage)[self.output])
        if checked.reasons:
            bad = frame.loc[sorted(checked.reasons)]
            reasons = [checked.reasons[row] for row in bad.index]
            rejected = [json.dumps(row, default=str) for row in plain_records(bad)]
            parts.append(
                pd.DataFrame({REASON: reasons, REJECTED: rejected}, index=bad.index)
            )
        return [self._columns(part) for part in parts]

    def _columns(self, part: pd.DataFrame) -> pd.DataFrame:
        """Every column of the result; those the part lacks empty (None)."""
        columns = [*self.output, INPUT_ROW, REASON, REJECTED]
        empty = pd.Series(None, index=part.index, dtype=object)
        part = part.assign(**{INPUT_ROW: part.index})
        part = part.assign(**{c: empty for c in columns if c not in part.columns})
        return _arrow_ready(part[columns])


def _arrow_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """pandas' extension columns (pandas 3's text, nullable booleans) as
    Python objects: pyspark converts those with a mask, which Arrow refuses
    for them. Time zones it handles itself."""
    extension = [
        name
        for name, dtype in frame.dtypes.items()
        if pd.api.types.is_extension_array_dtype(dtype)
        and not isinstance(dtype, pd.DatetimeTZDtype)
    ]
    return frame.astype(dict.fromkeys(extension, object)) if extension else frame


def score_on_spark(
    job: ScoringJob, schema: Schema, master: str | None = None
) -> Summary:
    """Score a Parquet file or folder into a folder of batch partitions."""
    started = time.perf_counter()
    check_batch_id(job.batch_id)
    input_path, output_path = _check_paths(job)
    spark = spark_session(master, job.chunk_rows)
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    frame, source = read_input(spark, input_path)
    if missing := [c for c in schema.feature_names if c not in source.columns]:
        raise ProjectError(f"{input_path}: missing column(s): {', '.join(missing)}")
    check_output(output_path)
    rejects_path = job.rejects_file()
    if rejects_path.suffix.lower() != ".csv":
        raise ProjectError(f"{rejects_path}: the rejects file must be a .csv")
    check_output(rejects_path)
    predictor = spark.sparkContext.broadcast(job.model.predictor)
    scored = score_frame(frame, source, job, schema, predictor)
    try:
        summary = _summarise(scored, input_path)
        rejects = RejectsWriter(
            rejects_path, [REJECT_COLUMNS[0], *source.columns, REJECT_COLUMNS[1]]
        )
        try:
            _write_rejects(scored, job, rejects, input_path)
            _write_scores(scored, output_path)
        except BaseException:
            rejects.discard()
            raise
        rejects.commit()
    except (PySparkException, Py4JJavaError) as error:
        raise ProjectError(f"{input_path}: {_spark_error(error)}") from None
    finally:
        scored.unpersist()
        predictor.unpersist()
    summary.seconds = time.perf_counter() - started
    return summary


def _spark_error(error: Exception) -> str:
    """One line for a failed Spark job: an executor's ProjectError as it was
    raised, else the last error of a Python worker's traceback, else the
    first line of Spark's message."""
    lines = [line.strip() for line in str(error).splitlines()]
    marker = f"{ProjectError.__name__}: "
    if found := [line.split(marker, 1)[1] for line in lines if marker in line]:
        return found[-1]
    if raised := [line for line in lines if PYTHON_ERROR.match(line)]:
        return raised[-1][:300]
    return _first_line(error)


def score_frame(
    frame: "DataFrame",
    source: SparkInput,
    job: ScoringJob,
    schema: Schema,
    predictor: "Broadcast[Predictor]",
) -> "DataFrame":
    """Every row, scored or with the reason it was rejected, cached: the
    counts, the rejects and the output all read it, and the model runs once."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    from pyspark.sql.pandas.types import from_arrow_schema

    columns = output_schema(source, schema, job.model)
    scorer = PartitionScorer(
        schema,
        predictor,
        offsets=file_offsets(frame),
        columns=source.columns,
        output=columns.names,
        lineage={
            "model_name": job.model.name,
            "model_version": job.model.version,
            "model_run_id": job.model.run_id,
            "batch_id": job.batch_id,
            "scored_at": pd.Timestamp.now(tz="UTC"),
        },
    )
    result_type = (
        from_arrow_schema(columns)
        .add(INPUT_ROW, T.LongType())
        .add(REASON, T.StringType())
        .add(REJECTED, T.StringType())
    )
    with_rows = frame.select(
        "*",
        F.col("_metadata.file_path").alias(FILE),
        F.col("_metadata.row_index").alias(ROW_IN_FILE),
    )
    return with_rows.mapInPandas(scorer, result_type).cache()


def _summarise(scored: "DataFrame", input_path: Path) -> Summary:
    from pyspark.sql import functions as F

    counts = scored.agg(F.count("*").alias("rows"), F.count(REASON).alias("bad"))
    rows, bad = counts.first() or (0, 0)
    if rows == 0:
        raise ProjectError(f"{input_path}: no rows to score")
    return Summary(rows_in=rows, scored=rows - bad, rejected=bad)


def _write_rejects(
    scored: "DataFrame",
    job: ScoringJob,
    rejects: RejectsWriter,
    input_path: Path,
) -> None:
    """The rejected rows, in input order, as the local engine writes them."""
    from pyspark.sql import functions as F

    bad = scored.where(F.col(REASON).isNotNull()).orderBy(INPUT_ROW)
    batch: list[dict[str, Any]] = []
    for row in bad.select(INPUT_ROW, REASON, REJECTED).toLocalIterator():
        if job.fail_on_reject:
            raise ProjectError(
                f"{input_path}: row {row[INPUT_ROW]}: {row[REASON]} (--fail-on-reject)"
            )
        batch.append(
            {
                REJECT_COLUMNS[0]: row[INPUT_ROW],
                **json.loads(row[REJECTED]),
                REJECT_COLUMNS[1]: row[REASON],
            }
        )
        if len(batch) >= job.chunk_rows:
            rejects.write(pd.DataFrame(batch, columns=rejects.columns))
            batch = []
    if batch:
        rejects.write(pd.DataFrame(batch, columns=rejects.columns))


def _write_scores(scored: "DataFrame", output_path: Path) -> None:
    """The batch's partition, replaced whole when Spark's job commits."""
    from pyspark.sql import functions as F

    valid = scored.where(F.col(REASON).isNull()).drop(INPUT_ROW, REASON, REJECTED)
    (
        valid.write.mode("overwrite")
        .partitionBy("batch_id")
        .parquet(str(output_path.resolve()))
    )
