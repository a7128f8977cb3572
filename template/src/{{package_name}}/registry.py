"""Model registry: register each trained version, promote it through the gate,
roll back.

Aliases: "challenger" is the newest registered version; "champion" is the one
that serves. The gate (gate.py) compares both on the same holdout rows; its
decision goes to reports/registry.json and to the challenger's "gate.*"
version tags. The registered model's tag "champions" lists the champions in
order, the current one last: a promotion appends, a rollback takes the last
one off, so rollbacks in a row walk back one champion each, whatever was
promoted by hand in between. Every change of champion, the gate's or by
hand, is recorded with who, when and why (approvals.py); each version gets a
model card (model_card.py).
"""

import json
from dataclasses import asdict, dataclass

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from . import approvals, gate, metrics, model_card, tracking
from .errors import ProjectError
from .paths import REGISTRY_REPORT, RUN_FILE
from .schema import Schema
from .settings import Params
from .split import SPLIT_TAG

CHAMPION = "champion"
CHALLENGER = "challenger"
CHAMPIONS_TAG = "champions"  # on the registered model: "1,3,4", the current last
CHAMPIONS_KEPT = 200  # rollbacks further back than that go by `promote`
# The version a champion replaced, tagged on it until the "champions" tag
# existed: read once to start the list of a model registered before it.
PREVIOUS_CHAMPION_TAG = "previous_champion"
GATE_TAG_PREFIX = "gate."
# What MLflow answers when the model, the version or the alias does not exist
# (the SQLite store says an alias is an invalid parameter, a server that it
# does not exist); anything else is the registry failing, never "no champion".
NOT_FOUND = {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}


@dataclass
class Decision:
    model_name: str
    version: str
    champion_version: str  # the champion after this decision
    promoted: bool
    reason: str
    rule: str
    metric: str
    min_improvement: float
    value: float  # the challenger's metric on the holdout
    compared_with: str | None  # the champion it was scored against, if any
    champion_value: float | None  # that champion's metric on the same holdout
    holdout: gate.Holdout
    reference: gate.Reference | None  # params.yaml register.gate.reference

    def tags(self) -> dict[str, str]:
        """The decision as registry version tags (strings), for the challenger."""
        values = {
            "rule": self.rule,
            "promoted": str(self.promoted).lower(),
            "metric": self.metric,
            "min_improvement": str(self.min_improvement),
            "value": str(self.value),
            "compared_with": self.compared_with or "none",
            "champion_value": _text(self.champion_value),
            "holdout_sha256": self.holdout.sha256,
            "holdout_rows": str(self.holdout.rows),
            "reason": self.reason,
        }
        if self.reference is not None:
            values |= {
                "reference_path": self.reference.path,
                "reference_sha256": self.reference.sha256,
                "reference_rows": str(self.reference.rows),
                "reference_value": _text(self.reference.value),
                "reference_reason": self.reference.reason or "none",
                "reference_champion_reason": self.reference.champion_reason or "none",
                "reference_champion_value": _text(self.reference.champion_value),
            }
        return {GATE_TAG_PREFIX + key: value for key, value in values.items()}


def _text(value: float | None) -> str:
    return "none" if value is None else str(value)


def _client() -> MlflowClient:
    tracking.connect()
    return MlflowClient()


def _alias_version(client: MlflowClient, name: str, alias: str):
    """The version holding `alias`, or None when there is none yet."""
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException as error:
        if error.error_code in NOT_FOUND:
            return None
        raise _failed(error) from error


def _failed(error: MlflowException) -> ProjectError:
    """The registry did not answer as a registry does: say where and why,
    instead of taking it for a missing model."""
    message = " ".join(str(error).split())[:300]
    return ProjectError(
        f"the model registry at {mlflow.get_registry_uri()} failed: {message}"
    )


def _existing_version(client: MlflowClient, name: str, version: str) -> str:
    """`version` as the registry numbers it ("03" is "3"); an error if absent."""
    try:
        return str(client.get_model_version(name, version).version)
    except MlflowException as error:
        if error.error_code in NOT_FOUND:
            raise ProjectError(f"model {name!r} has no version {version}") from error
        raise _failed(error) from error


def _champions(client: MlflowClient, name: str, current) -> list[str]:
    """The champions in order, `current` (the version holding the alias) last.
    An alias moved outside this project (the MLflow UI) joins the list as the
    newest champion."""
    listed = client.get_registered_model(name).tags.get(CHAMPIONS_TAG)
    if listed:
        champions = listed.split(",")
    elif current is not None and current.tags.get(PREVIOUS_CHAMPION_TAG):
        champions = [current.tags[PREVIOUS_CHAMPION_TAG]]
    else:
        champions = []
    if current is not None and champions[-1:] != [str(current.version)]:
        champions.append(str(current.version))
    return champions


def _set_champion(
    client: MlflowClient, name: str, version: str, champions: list[str]
) -> None:
    client.set_registered_model_alias(name, CHAMPION, version)
    kept = ",".join(champions[-CHAMPIONS_KEPT:])
    client.set_registered_model_tag(name, CHAMPIONS_TAG, kept)


def promote(
    name: str,
    version: str,
    reason: str,
    *,
    by: str | None = None,
    client: MlflowClient | None = None,
) -> str:
    """Make `version` the champion, after the champions before it, recording
    who (default: the current user), when and why."""
    reason = approvals.require_reason(reason)
    client = client or _client()
    version = _existing_version(client, name, version)
    current = _alias_version(client, name, CHAMPION)
    champions = _champions(client, name, current)
    replaced = None if current is None else str(current.version)
    if replaced == version:
        replaced = None  # approving the champion again replaces nothing
    else:
        champions.append(version)
    _set_champion(client, name, version, champions)
    by = by or approvals.current_user()
    approvals.record(client, name, version, "promote", reason, by, replaced)
    return version


def rollback(name: str, reason: str, *, by: str | None = None) -> str:
    """Return the champion alias to the champion before the current one,
    recording who (default: the current user), when and why."""
    reason = approvals.require_reason(reason)
    client = _client()
    current = _alias_version(client, name, CHAMPION)
    if current is None:
        raise ProjectError(f"model {name!r} has no champion to roll back")
    champions = _champions(client, name, current)
    if len(champions) < 2:
        raise ProjectError(
            f"champion version {current.version} of {name!r} has no previous champion"
        )
    champions.pop()
    previous = champions[-1]
    _set_champion(client, name, previous, champions)
    by = by or approvals.current_user()
    approvals.record(
        client, name, previous, "rollback", reason, by, str(current.version)
    )
    return previous


def register(params: Params, schema: Schema) -> Decision:
    """Register the trained model as challenger; promote it if it beats the
    champion on the same holdout rows by the gate's margin."""
    gate_params = params.registry.gate
    metric = metrics.metric_for(schema.task, gate_params.metric)
    if not RUN_FILE.is_file():
        raise ProjectError(f"{RUN_FILE} not found: run the train stage first")
    run = json.loads(RUN_FILE.read_text())
    frame, holdout = gate.read_holdout()
    name = params.registry.model_name

    client = _client()
    recorded = client.get_run(run["run_id"])
    # Checked before registering: a challenger without a metric on this
    # holdout is an error, and leaves no version behind.
    challenger_value = gate.evaluated_metric(
        recorded.data.metrics, recorded.data.tags, holdout, metric
    )
    current = _alias_version(client, name, CHAMPION)
    champion = None if current is None else str(current.version)
    outcome = gate.compare(
        challenger_value,
        name,
        champion,
        frame,
        schema,
        metric,
        gate_params.min_improvement,
    )
    caution = gate.split_caution(
        champion,
        _run_tag(client, current, SPLIT_TAG),
        recorded.data.tags.get(SPLIT_TAG, ""),
    )
    reason = outcome.reason if caution is None else f"{outcome.reason}; {caution}"
    reference = None
    if gate_params.reference is not None:
        reference = gate.score_reference(
            gate_params.reference, run["model_uri"], name, champion, schema, metric
        )
    version = str(mlflow.register_model(run["model_uri"], name).version)
    client.set_registered_model_alias(name, CHALLENGER, version)
    if outcome.promoted:
        promote(name, version, reason, by=approvals.GATE, client=client)
    decision = Decision(
        model_name=name,
        version=version,
        champion_version=version if outcome.promoted else str(champion),
        promoted=outcome.promoted,
        reason=reason,
        rule=gate.RULE,
        metric=metric.name,
        min_improvement=gate_params.min_improvement,
        value=outcome.value,
        compared_with=champion,
        champion_value=outcome.champion_value,
        holdout=holdout,
        reference=reference,
    )
    for key, value in decision.tags().items():
        client.set_model_version_tag(name, version, key, value)
    REGISTRY_REPORT.parent.mkdir(parents=True, exist_ok=True)
    REGISTRY_REPORT.write_text(json.dumps(asdict(decision), indent=2) + "\n")
    card = model_card.build(asdict(decision), recorded, params, schema)
    model_card.publish(client, card, name, version, run["run_id"])
    return decision


def _run_tag(client: MlflowClient, version, tag: str) -> str | None:
    """A tag of the run `version` (a registry version) came from, or None
    when there is no version, run or tag (a run deleted since)."""
    if version is None or not version.run_id:
        return None
    try:
        return client.get_run(version.run_id).data.tags.get(tag)
    except MlflowException as error:
        if error.error_code in NOT_FOUND:
            return None
        raise _failed(error) from error


def list_versions(name: str) -> list[dict]:
    """Every registered version with its aliases, newest first."""
    client = _client()
    try:
        aliases = client.get_registered_model(name).aliases
    except MlflowException as error:
        if error.error_code in NOT_FOUND:
            raise ProjectError(f"no registered model named {name!r}") from error
        raise _failed(error) from error
    by_version: dict[str, list[str]] = {}
    for alias, version in aliases.items():
        by_version.setdefault(str(version), []).append(alias)
    versions = client.search_model_versions(f"name = '{name}'")
    return [
        {
            "version": str(v.version),
            "aliases": sorted(by_version.get(str(v.version), [])),
            "run_id": v.run_id,
            # What the gate decided when this version was registered.
            "gate": {
                key.removeprefix(GATE_TAG_PREFIX): value
                for key, value in sorted(v.tags.items())
                if key.startswith(GATE_TAG_PREFIX)
            },
            # Who made it champion (or returned to it), when and why.
            "approvals": approvals.history(v.tags),
        }
        for v in sorted(versions, key=lambda v: int(v.version), reverse=True)
    ]
