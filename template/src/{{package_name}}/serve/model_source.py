"""Find, download and describe the model the service runs.

A model comes from a registry URI (`models:/<name>@champion`), any other
MLflow model URI, or a local model directory such as the one `export-model`
writes for the Docker image (with a metadata.json describing it).
"""

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.models import Model

from .. import tracking
from ..errors import ProjectError
from ..prediction_buckets import buckets_from_metadata

METADATA_FILE = "metadata.json"


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
    """A local copy of the model and its metadata."""
    tracking.connect()
    if Path(model_uri).is_dir():
        local = Path(model_uri)
        metadata_file = local / METADATA_FILE
        if metadata_file.is_file():
            return local, _read_metadata(metadata_file)
        return local, {"uri": str(local)}
    try:
        metadata = _registry_metadata(model_uri)
        path = mlflow.artifacts.download_artifacts(
            artifact_uri=model_uri, dst_path=str(destination) if destination else None
        )
    except mlflow.exceptions.MlflowException as error:
        raise ProjectError(f"cannot find model {model_uri}: {error.message}") from error
    return Path(path), metadata


def _read_metadata(path: Path) -> dict[str, Any]:
    """export's metadata.json: a JSON object, or a ProjectError saying what it is."""
    try:
        metadata = json.loads(path.read_text())
    except ValueError as error:
        raise ProjectError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(metadata, dict):
        kind = type(metadata).__name__
        raise ProjectError(f"{path} must hold a JSON object, not a {kind}")
    return metadata


def export(model_uri: str, destination: Path) -> dict:
    """Copy a model into `destination` with a metadata.json, for the Docker image."""
    destination.mkdir(parents=True, exist_ok=True)
    local, metadata = download(model_uri, destination)
    (local / METADATA_FILE).write_text(
        json.dumps(metadata, indent=2, default=str) + "\n"
    )
    return metadata


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
