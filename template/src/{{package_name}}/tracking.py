"""MLflow set-up: a local SQLite store by default, any server by environment.

Set MLFLOW_TRACKING_URI (and, for S3 artifacts, the standard AWS_* and
MLFLOW_S3_ENDPOINT_URL variables) to use a tracking server; no code changes.
"""

import hashlib
import subprocess
from pathlib import Path

import mlflow
import yaml

from .environment import TrackingSettings
from .paths import PIPELINE_OUTPUTS

LOCAL_STORE = Path("mlflow.db")
# The run tag of the holdout's hash on which evaluate measured the run's metrics.
HOLDOUT_TAG = "holdout_sha256"
LOCAL_ARTIFACTS = Path("mlartifacts")
ANSWERS_FILE = Path(".copier-answers.yml")


# Read at each call, not once: mlflow.set_tracking_uri() sets the variable
# itself, and tests point each project at a store of its own.
def uses_local_store() -> bool:
    return TrackingSettings.read().uri is None


def tracking_uri() -> str:
    return TrackingSettings.read().uri or f"sqlite:///{LOCAL_STORE.resolve()}"


def connect() -> None:
    """Point the MLflow client (tracking and registry) at the configured store."""
    mlflow.set_tracking_uri(tracking_uri())


def use_experiment(name: str) -> str:
    """Select the experiment, creating it (with local artifacts) when needed."""
    # Asked before connecting: mlflow.set_tracking_uri() sets
    # MLFLOW_TRACKING_URI, after which every store looks like a server.
    local = uses_local_store()
    connect()
    experiment = mlflow.get_experiment_by_name(name)
    if experiment is None and local:
        # Keep artifacts next to the SQLite store instead of the current directory.
        return mlflow.create_experiment(name, LOCAL_ARTIFACTS.resolve().as_uri())
    return mlflow.set_experiment(name).experiment_id


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return result.stdout.strip()


def _template_version() -> str:
    if not ANSWERS_FILE.is_file():
        return "unknown"
    answers = yaml.safe_load(ANSWERS_FILE.read_text()) or {}
    return str(answers.get("_commit", "unknown"))


def has_uncommitted_changes() -> bool:
    """Whether the git work tree differs from HEAD, apart from the pipeline's
    own outputs: `dvc repro` deletes a stage's outputs (models/run.json, a
    committed one) before running it and rewrites dvc.lock after each stage,
    which are not changes the owner made."""
    excluded = [f":(exclude){path.as_posix()}" for path in PIPELINE_OUTPUTS]
    # ":/" is the whole repository, as when the project is one of its folders.
    return bool(_git("status", "--porcelain", "--", ":/", *excluded))


def lineage_tags(data_file: Path, schema_file: Path) -> dict[str, str]:
    """Where a model came from: code, data, schema and template versions."""
    commit = _git("rev-parse", "HEAD")
    return {
        "git_commit": commit or "none",
        "git_dirty": str(has_uncommitted_changes()).lower() if commit else "n/a",
        "data_sha256": file_sha256(data_file),
        "schema_sha256": file_sha256(schema_file),
        "template_version": _template_version(),
    }
