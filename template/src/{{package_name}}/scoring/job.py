"""The scoring job: resolve the model once, then read, check, predict and
write the input chunk by chunk."""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import pandas as pd
import pyarrow as pa

from ..errors import ProjectError
from ..predict import check_added_columns, plain_records, prediction_columns
from ..schema import Schema
from ..serve.predictors import Predictor
from ..serve.served_model import load_served_model
from ..validation import check_rows
from .reading import QueryInput, Source, open_input
from .writing import (
    RejectsWriter,
    ScoredWriter,
    TableWriter,
    check_output,
    is_dataset,
)

LINEAGE = ["model_name", "model_version", "model_run_id", "batch_id", "scored_at"]
REJECT_COLUMNS = ("input_row", "reject_reason")
# A batch id names a folder (batch_id=<id>): letters, digits, . _ - only.
BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class ScoringModel:
    predictor: Predictor
    name: str
    version: str
    run_id: str


@dataclass
class Summary:
    rows_in: int = 0
    scored: int = 0
    rejected: int = 0
    seconds: float = 0.0


def default_batch_id(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ")


def default_rejects(output: Path, batch_id: str) -> Path:
    """Beside a file output; inside a data set, in a folder its readers skip."""
    if is_dataset(output):
        return output / "_rejects" / f"batch_id={batch_id}.csv"
    return output.with_name(f"{output.stem}.rejects.csv")


def resolve_model(model_uri: str, schema: Schema, backend: str) -> ScoringModel:
    """Load the model once, as the service does: ONNX when it converts and
    agrees with scikit-learn, scikit-learn otherwise."""
    try:
        served = load_served_model(model_uri, schema, backend)
    except ValueError as error:  # backend "onnx" and the model does not convert
        raise ProjectError(f"model {model_uri}: {error}") from None
    metadata = served.metadata
    run_id = metadata.get("run_id")
    if not run_id and Path(model_uri).is_dir():  # a model folder, as train saves it
        from mlflow.models import Model

        run_id = Model.load(model_uri).run_id
    return ScoringModel(
        served.predictor,
        name=str(metadata.get("name") or model_uri),
        version=str(metadata.get("version") or ""),
        run_id=str(run_id or ""),
    )


def _feature_type(kind: str) -> pa.DataType:
    return {"numeric": pa.float64(), "boolean": pa.bool_()}.get(kind, pa.string())


class Columns(Protocol):
    """An input's columns and their types, from whichever engine reads it."""

    @property
    def path(self) -> object: ...
    @property
    def columns(self) -> list[str]: ...
    @property
    def types(self) -> dict[str, pa.DataType]: ...


def output_schema(source: Columns, schema: Schema, model: ScoringModel):
    """Fixed before the first chunk, so every chunk is written alike: the
    features as schema.yaml types them, other columns as read, then the
    prediction, class probabilities and lineage."""
    kinds = {feature.name: feature.type for feature in schema.features}
    fields = [
        (name, _feature_type(kinds[name]) if name in kinds else source.types[name])
        for name in source.columns
    ]
    classes = schema.target.classes or []
    if not schema.is_classification:
        label: pa.DataType = pa.float64()
    elif all(isinstance(c, int) for c in classes):
        label = pa.int64()
    else:
        label = pa.string()
    fields.append(("prediction", label))
    probabilities = getattr(model.predictor, "class_names", [])
    if schema.is_classification:
        fields += [(f"probability_{name}", pa.float64()) for name in probabilities]
    fields += [(name, pa.string()) for name in LINEAGE[:-1]]
    fields.append(("scored_at", pa.timestamp("us", tz="UTC")))
    added = [name for name, _ in fields[len(source.columns) :]]
    check_added_columns(source.path, source.columns, added)
    return pa.schema(fields)


def scored_rows(
    valid: pd.DataFrame, schema: Schema, predictor: Predictor
) -> pd.DataFrame:
    """The valid rows with their prediction and, for classifiers, a
    probability_<class> column per class."""
    predictions = predictor.predict(plain_records(valid[schema.feature_names]))
    scored = valid.copy()
    for feature in schema.features:
        if feature.type == "boolean":  # 1/0 in a CSV, True/False in Parquet
            scored[feature.name] = scored[feature.name].astype("boolean")
    return pd.concat([scored, prediction_columns(predictions, valid.index)], axis=1)


@dataclass
class ScoringJob:
    input_path: Path | None  # None: the rows of `query`
    output_path: Path | None  # None: `output_table`
    model: ScoringModel
    batch_id: str
    rejects_path: Path | None = None
    fail_on_reject: bool = False
    chunk_rows: int = 50_000
    query: str | None = None  # SQL run on the database in $url_env
    output_table: str | None = None  # a table of the database in $url_env
    url_env: str = "DATABASE_URL"

    def rejects_file(self) -> Path:
        if self.rejects_path is not None:
            return self.rejects_path
        if self.output_path is not None:
            return default_rejects(self.output_path, self.batch_id)
        return (
            Path("rejects") / str(self.output_table) / f"batch_id={self.batch_id}.csv"
        )

    def open_output(self, schema: pa.Schema) -> ScoredWriter | TableWriter:
        if self.output_path is not None:
            return ScoredWriter(self.output_path, schema, self.batch_id)
        if self.output_table is None or not TABLE_NAME.fullmatch(self.output_table):
            raise ProjectError(
                f"output table {self.output_table!r}: give a table name of "
                "letters, digits and '_'"
            )
        return TableWriter(self.output_table, self.url_env, self.batch_id)

    def open_source(self, features: list[str]) -> Source:
        if self.input_path is not None:
            return open_input(self.input_path, self.chunk_rows, features)
        if self.query is None:
            raise ProjectError("give an input file or a query")
        return QueryInput(self.query, self.url_env, self.chunk_rows, features)


def check_batch_id(batch_id: str) -> str:
    if not BATCH_ID.fullmatch(batch_id):
        raise ProjectError(
            f"batch id {batch_id!r}: use letters, digits, '.', '_' and '-' only"
        )
    return batch_id


def score(
    job: ScoringJob,
    schema: Schema,
    on_progress: Callable[[Source, int, Summary], None] | None = None,
) -> Summary:
    """Score the input; the outputs appear, complete, only at the end."""
    started = time.perf_counter()
    check_batch_id(job.batch_id)
    source = job.open_source(schema.feature_names)
    if missing := [c for c in schema.feature_names if c not in source.columns]:
        raise ProjectError(f"{source.path}: missing column(s): {', '.join(missing)}")
    if job.output_path is not None:
        check_output(job.output_path)
    rejects_path = job.rejects_file()
    if rejects_path.suffix.lower() != ".csv":
        raise ProjectError(f"{rejects_path}: the rejects file must be a .csv")
    check_output(rejects_path)
    lineage: dict[str, str | pd.Timestamp] = {
        "model_name": job.model.name,
        "model_version": job.model.version,
        "model_run_id": job.model.run_id,
        "batch_id": job.batch_id,
        "scored_at": pd.Timestamp.now(tz="UTC"),
    }
    columns = output_schema(source, schema, job.model)
    rejects = RejectsWriter(
        rejects_path, [REJECT_COLUMNS[0], *source.columns, REJECT_COLUMNS[1]]
    )
    try:
        scored = job.open_output(columns)
    except BaseException:
        rejects.discard()
        raise
    summary = Summary()
    try:
        for chunk in source.chunks():
            summary.rows_in += len(chunk.frame)
            checked = check_rows(chunk.frame, schema)
            if checked.reasons:
                _reject(job, source, chunk.frame, checked.reasons, rejects)
                summary.rejected += len(checked.reasons)
            if not checked.valid.empty:
                rows = scored_rows(checked.valid, schema, job.model.predictor)
                scored.write(rows.assign(**lineage))
                summary.scored += len(rows)
            if on_progress:
                on_progress(source, chunk.done, summary)
        if summary.rows_in == 0:
            raise ProjectError(f"{source.path}: no rows to score")
    except BaseException:
        scored.discard()
        rejects.discard()
        raise
    scored.commit()
    rejects.commit()
    summary.seconds = time.perf_counter() - started
    return summary


def _reject(
    job: ScoringJob,
    source: Source,
    frame: pd.DataFrame,
    reasons: dict,
    rejects: RejectsWriter,
) -> None:
    if job.fail_on_reject:
        row = min(reasons)
        reason = reasons[row]
        raise ProjectError(
            f"{source.path}: row {row}: {reason} "
            f"(--fail-on-reject; {len(reasons)} bad row(s) in rows "
            f"{frame.index[0]}-{frame.index[-1]})"
        )
    bad = frame.loc[sorted(reasons)]  # in input order
    rejects.write(
        bad.assign(input_row=bad.index, reject_reason=[reasons[r] for r in bad.index])
    )
