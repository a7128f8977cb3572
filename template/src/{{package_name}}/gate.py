"""The promotion gate: the challenger and the champion scored on the same rows.

The metric stored on the champion's run was measured on the holdout of the data
it was trained on. When the data changes (exactly when CT retrains), comparing
with it compares different rows: a harder month blocks every better challenger,
an easier one promotes a worse. So the gate loads the champion from the
registry and scores it here, with the code the evaluate stage uses, on the
holdout split the train stage just wrote and evaluate scored the challenger
on. The challenger's metric comes from its run, where evaluate logged it with
the hash of that holdout, and is not computed twice.
"""

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .data import read_table
from .errors import ProjectError
from .evaluate import score
from .metrics import Metric, beats
from .paths import HOLDOUT_FILE
from .predict import load_model
from .schema import Schema
from .tracking import HOLDOUT_TAG, file_sha256
from .validation import validate_frame

RULE = "like-for-like"
MAX_ERROR_CHARS = 300


@dataclass
class Holdout:
    """Which rows both models were scored on."""

    path: str
    sha256: str
    rows: int


@dataclass
class Outcome:
    promoted: bool
    reason: str
    value: float  # the challenger's
    champion_value: float | None  # None: no champion, or it could not be scored


@dataclass
class Reference:
    """Both models on the pinned reference set (params.yaml
    register.gate.reference): the same rows every month, recorded beside the
    decision, which the holdout makes."""

    path: str
    sha256: str
    rows: int
    value: float
    champion_value: float | None  # None: no champion, or it could not be scored


def read_holdout() -> tuple[pd.DataFrame, Holdout]:
    if not HOLDOUT_FILE.is_file():
        raise ProjectError(f"{HOLDOUT_FILE} not found: run the train stage first")
    frame = read_table(HOLDOUT_FILE)
    return frame, Holdout(str(HOLDOUT_FILE), file_sha256(HOLDOUT_FILE), len(frame))


def version_uri(name: str, version: str) -> str:
    return f"models:/{name}/{version}"


def metric_of(
    model_uri: str, frame: pd.DataFrame, schema: Schema, metric: Metric
) -> float:
    """The gate metric of a model on a labelled frame."""
    return float(score(load_model(model_uri), frame, schema)[0][metric.name])


def champion_metric(
    name: str, champion: str, frame: pd.DataFrame, schema: Schema, metric: Metric
) -> tuple[float | None, str | None]:
    """Version `champion`'s metric on `frame`, or why it cannot be scored."""
    # Whatever stops the old model from scoring these rows (its artifacts are
    # gone, it expects columns the schema no longer has, today's libraries
    # cannot load it) is reported, not raised: the gate keeps the champion and
    # says why, and never promotes over a champion it could not compare with.
    try:
        return metric_of(version_uri(name, champion), frame, schema, metric), None
    except Exception as error:
        return None, _one_line(error)


def evaluated_metric(
    metrics: dict[str, float], tags: dict[str, str], holdout: Holdout, metric: Metric
) -> float:
    """The challenger's metric as evaluate logged it on its run (`metrics`,
    `tags`), provided it was measured on `holdout`."""
    if tags.get(HOLDOUT_TAG) != holdout.sha256 or metric.name not in metrics:
        raise ProjectError(
            f"the trained run has no {metric.name} measured on {holdout.path} "
            "as it is now: run the evaluate stage first (dvc repro)"
        )
    return metrics[metric.name]


def compare(
    value: float,
    name: str,
    champion: str | None,
    frame: pd.DataFrame,
    schema: Schema,
    metric: Metric,
    min_improvement: float,
) -> Outcome:
    """Score version `champion` of `name` on `frame`, the holdout on which the
    challenger scored `value`; promote on the margin rule of params.yaml
    register.gate."""
    if champion is None:
        return Outcome(True, "no champion yet", value, None)
    champion_value, error = champion_metric(name, champion, frame, schema, metric)
    if champion_value is None:
        reason = (
            f"champion v{champion} cannot be scored on the holdout ({error}); "
            "it stays champion until you `promote` another version by hand"
        )
        return Outcome(False, reason, value, None)
    promoted = beats(value, champion_value, metric, min_improvement)
    verb = "beats" if promoted else "does not beat"
    reason = (
        f"{metric.name} {value:.4f} {verb} champion v{champion} "
        f"({champion_value:.4f}) by the required {min_improvement}, "
        "both on the same holdout rows"
    )
    return Outcome(promoted, reason, value, champion_value)


def score_reference(
    path: str,
    challenger_uri: str,
    name: str,
    champion: str | None,
    schema: Schema,
    metric: Metric,
) -> Reference:
    """Both models on the reference set; a file that does not match the schema
    is an error naming its problems."""
    frame = read_table(Path(path))
    report = validate_frame(frame, schema)
    if not report.ok:
        raise ProjectError(report.to_text(f"register.gate.reference {path}"))
    value = metric_of(challenger_uri, frame, schema, metric)
    champion_value = None
    if champion is not None:
        champion_value = champion_metric(name, champion, frame, schema, metric)[0]
    return Reference(path, file_sha256(Path(path)), len(frame), value, champion_value)


def _one_line(error: Exception) -> str:
    message = f"{type(error).__name__}: {' '.join(str(error).split())}"
    if len(message) > MAX_ERROR_CHARS:
        return message[: MAX_ERROR_CHARS - 3] + "..."
    return message
