"""Model registry: register each trained version, promote through the gate, roll back.

Aliases: "challenger" is the newest registered version; "champion" is the one
that serves. Each promotion tags the new champion with the version it
replaced, so a rollback can always return to the previous champion.
"""

import json
from dataclasses import asdict, dataclass

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from . import metrics, tracking
from .errors import ProjectError
from .paths import REGISTRY_REPORT, RUN_FILE
from .schema import Schema
from .settings import Params

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_CHAMPION_TAG = "previous_champion"


@dataclass
class Decision:
    model_name: str
    version: str
    champion_version: str
    promoted: bool
    reason: str
    metric: str
    value: float | None
    champion_value: float | None


def _client() -> MlflowClient:
    tracking.connect()
    return MlflowClient()


def _alias_version(client: MlflowClient, name: str, alias: str):
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def _run_metric(client: MlflowClient, run_id: str, metric: str) -> float | None:
    return client.get_run(run_id).data.metrics.get(metric)


def promote(name: str, version: str, client: MlflowClient | None = None) -> str:
    """Make `version` the champion, remembering the champion it replaces."""
    client = client or _client()
    try:
        client.get_model_version(name, version)
    except MlflowException as error:
        raise ProjectError(f"model {name!r} has no version {version}") from error
    current = _alias_version(client, name, CHAMPION)
    if current is not None and str(current.version) != str(version):
        client.set_model_version_tag(
            name, version, PREVIOUS_CHAMPION_TAG, str(current.version)
        )
    client.set_registered_model_alias(name, CHAMPION, version)
    return str(version)


def rollback(name: str) -> str:
    """Return the champion alias to the version it replaced."""
    client = _client()
    current = _alias_version(client, name, CHAMPION)
    if current is None:
        raise ProjectError(f"model {name!r} has no champion to roll back")
    previous = current.tags.get(PREVIOUS_CHAMPION_TAG)
    if not previous:
        raise ProjectError(
            f"champion version {current.version} of {name!r} has no previous champion"
        )
    client.set_registered_model_alias(name, CHAMPION, previous)
    return previous


def register(params: Params, schema: Schema) -> Decision:
    """Register the trained model as challenger; promote it if it passes the gate."""
    gate = params.registry.gate
    metric = metrics.metric_for(schema.task, gate.metric)
    if not RUN_FILE.is_file():
        raise ProjectError(f"{RUN_FILE} not found: run the train stage first")
    run = json.loads(RUN_FILE.read_text())
    name = params.registry.model_name

    client = _client()
    value = _run_metric(client, run["run_id"], metric.name)
    if value is None:
        raise ProjectError(
            f"run {run['run_id']} has no metric {metric.name!r}: run evaluate first"
        )
    version = str(mlflow.register_model(run["model_uri"], name).version)
    client.set_registered_model_alias(name, CHALLENGER, version)

    champion = _alias_version(client, name, CHAMPION)
    champion_value = None
    if champion is None:
        promoted, reason = True, "no champion yet"
    else:
        champion_value = _run_metric(client, champion.run_id, metric.name)
        if champion_value is None:
            promoted = False
            reason = (
                f"champion v{champion.version} has no {metric.name}; promote by hand"
            )
        else:
            promoted = metrics.beats(
                value, champion_value, metric, gate.min_improvement
            )
            verb = "beats" if promoted else "does not beat"
            reason = (
                f"{metric.name} {value:.4f} {verb} champion v{champion.version} "
                f"({champion_value:.4f}) by the required {gate.min_improvement}"
            )
    if promoted:
        promote(name, version, client)
    decision = Decision(
        model_name=name,
        version=str(version),
        champion_version=version if promoted else str(champion.version),
        promoted=promoted,
        reason=reason,
        metric=metric.name,
        value=value,
        champion_value=champion_value,
    )
    REGISTRY_REPORT.parent.mkdir(parents=True, exist_ok=True)
    REGISTRY_REPORT.write_text(json.dumps(asdict(decision), indent=2) + "\n")
    return decision


def list_versions(name: str) -> list[dict]:
    """Every registered version with its aliases, newest first."""
    client = _client()
    try:
        aliases = client.get_registered_model(name).aliases
    except MlflowException as error:
        raise ProjectError(f"no registered model named {name!r}") from error
    by_version: dict[str, list[str]] = {}
    for alias, version in aliases.items():
        by_version.setdefault(str(version), []).append(alias)
    versions = client.search_model_versions(f"name = '{name}'")
    return [
        {
            "version": str(v.version),
            "aliases": sorted(by_version.get(str(v.version), [])),
            "run_id": v.run_id,
        }
        for v in sorted(versions, key=lambda v: int(v.version), reverse=True)
    ]
