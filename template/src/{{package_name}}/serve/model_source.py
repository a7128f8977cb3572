"""Find, download and describe the model the service runs.

A model comes from a registry URI (`models:/<name>@champion`), any other
MLflow model URI, or a local model directory such as the one `export-model`
writes for the Docker image. That one holds the MLflow model, metadata.json
describing it and serving.json, the result of converting it to ONNX at export
(model.onnx, when the pipeline converts and agrees with scikit-learn). Such a
folder is served without importing MLflow or scikit-learn: they are imported
here only when a model must be downloaded or loaded as scikit-learn.
"""

import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ProjectError
from ..prediction_buckets import buckets_from_metadata
from ..schema import Schema

METADATA_FILE = "metadata.json"
SERVING_FILE = "serving.json"
ONNX_FILE = "model.onnx"


@dataclass
class LoadedModel:
    model: Any
    example: list[dict[str, Any]]
    metadata: dict[str, Any] = field(default_factory=dict)
    # Regression: edges for the prediction histogram, when saved with the model.
    prediction_buckets: list[float] | None = None


def _registry_metadata(model_uri: str) -> dict[str, Any]:
    """Name, version, alias, metrics and commit of a `models:/name@alias` or
    `models:/name/version` URI; just the URI for anything else."""
    metadata: dict[str, Any] = {"uri": model_uri}
    if not model_uri.startswith("models:/"):
        return metadata
    from mlflow import MlflowClient

    reference = model_uri.removeprefix("models:/")
    client = MlflowClient()
    if "@" in reference:
        name, alias = reference.split("@", 1)
        version = client.get_model_version_by_alias(name, alias)
        metadata["alias"] = alias
    elif "/" in reference:
        name, number = reference.split("/", 1)
        version = client.get_model_version(name, number)
    else:
        return metadata
    run = client.get_run(version.run_id) if version.run_id else None
    metadata |= {
        "name": name,
        "version": str(version.version),
        "run_id": version.run_id,
        "metrics": run.data.metrics if run else {},
        "git_commit": run.data.tags.get("git_commit") if run else None,
    }
    return metadata


def download(model_uri: str, destination: Path | None = None) -> tuple[Path, dict]:
    """A local copy of the model (in `destination`, if given) and its metadata."""
    if Path(model_uri).is_dir():
        local = Path(model_uri)
        if destination is not None and destination.resolve() != local.resolve():
            local = Path(shutil.copytree(local, destination, dirs_exist_ok=True))
        metadata_file = local / METADATA_FILE
        if metadata_file.is_file():
            return local, _read_object(metadata_file)
        return local, {"uri": model_uri}
    import mlflow

    from .. import tracking

    tracking.connect()
    try:
        metadata = _registry_metadata(model_uri)
        path = mlflow.artifacts.download_artifacts(
            artifact_uri=model_uri, dst_path=str(destination) if destination else None
        )
    except mlflow.exceptions.MlflowException as error:
        raise ProjectError(f"cannot find model {model_uri}: {error.message}") from error
    return Path(path), metadata


def _read_object(path: Path) -> dict[str, Any]:
    """A JSON object export wrote, or a ProjectError saying what it is instead."""
    try:
        metadata = json.loads(path.read_text())
    except ValueError as error:
        raise ProjectError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(metadata, dict):
        kind = type(metadata).__name__
        raise ProjectError(f"{path} must hold a JSON object, not a {kind}")
    return metadata


def export(model_uri: str, destination: Path, schema: Schema) -> dict:
    """Copy a model into `destination` for the Docker image, with its
    metadata.json and, converted once here rather than at every start, its
    ONNX model and serving.json."""
    destination.mkdir(parents=True, exist_ok=True)
    local, metadata = download(model_uri, destination)
    if not local.is_dir():  # a URI of one file, e.g. runs:/<id>/model/MLmodel
        raise ProjectError(f"model {model_uri} is a file, not a model folder")
    (local / METADATA_FILE).write_text(
        json.dumps(metadata, indent=2, default=str) + "\n"
    )
    _write_serving_files(local, schema)
    return metadata


def _write_serving_files(folder: Path, schema: Schema) -> None:
    from .conversion import SklearnPredictor, build_predictor, parity_gap

    loaded = load(str(folder))
    predictor = build_predictor(loaded.model, schema, "auto", loaded.example)
    record: dict[str, Any] = {
        "example": loaded.example,
        "prediction_buckets": loaded.prediction_buckets,
    }
    (folder / ONNX_FILE).unlink(missing_ok=True)
    if isinstance(predictor, SklearnPredictor):
        record["onnx_unavailable"] = predictor.onnx_unavailable
    else:
        record["class_names"] = predictor.class_names
        reference = SklearnPredictor(loaded.model, schema)
        record["parity_gap"] = parity_gap(predictor, reference, loaded.example)
        (folder / ONNX_FILE).write_bytes(predictor.serialized)
    (folder / SERVING_FILE).write_text(json.dumps(record, indent=2, default=str) + "\n")


@dataclass(frozen=True)
class ExportedModel:
    """What export-model wrote: the ONNX model (None when the pipeline does
    not convert, with the reason) and what serving it needs besides."""

    metadata: dict[str, Any]
    onnx: bytes | None
    onnx_unavailable: str | None
    parity_gap: float | None
    class_names: list[str]
    example: list[dict[str, Any]]
    prediction_buckets: list[float] | None


def read_export(model_uri: str) -> ExportedModel | None:
    """The folder export-model wrote, or None for any other model (a
    registry URI, or a folder exported before export wrote serving.json)."""
    folder = Path(model_uri)
    if not (folder / SERVING_FILE).is_file():
        return None
    record = _read_object(folder / SERVING_FILE)
    onnx_file = folder / ONNX_FILE
    metadata_file = folder / METADATA_FILE
    return ExportedModel(
        metadata=_read_object(metadata_file) if metadata_file.is_file() else {},
        onnx=onnx_file.read_bytes() if onnx_file.is_file() else None,
        onnx_unavailable=record.get("onnx_unavailable"),
        parity_gap=record.get("parity_gap"),
        class_names=record.get("class_names") or [],
        example=record.get("example") or [],
        prediction_buckets=record.get("prediction_buckets"),
    )


def _records(frame) -> list[dict[str, Any]]:
    rows = frame.to_dict(orient="records")
    return [
        {
            k: None if isinstance(v, float) and math.isnan(v) else v
            for k, v in row.items()
        }
        for row in rows
    ]


def load(model_uri: str) -> LoadedModel:
    """Load the scikit-learn pipeline, its input example and its metadata."""
    import mlflow
    from mlflow.models import Model

    local, metadata = download(model_uri)
    try:
        model = mlflow.sklearn.load_model(str(local))
        description = Model.load(str(local))  # the MLmodel file
        example = description.load_input_example(str(local))
    except ImportError as error:  # a family's library, an optional dependency
        raise ProjectError(
            f"cannot load the model in {local}: it needs {error.name!r}, which is "
            f"not installed (`uv sync --extra {error.name}`, README Model families)"
        ) from error
    except Exception as error:  # a corrupt model fails in many ways; say which file
        raise ProjectError(f"cannot load the model in {local}: {error}") from error
    return LoadedModel(
        model,
        _records(example) if example is not None else [],
        metadata,
        buckets_from_metadata(description.metadata),
    )
