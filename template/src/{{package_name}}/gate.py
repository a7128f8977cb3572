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

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sklearn.exceptions import UndefinedMetricWarning

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
    value: float | None  # None: the metric is undefined on these rows (reason)
    champion_value: float | None  # None: no champion, or see champion_reason
    reason: str | None = None  # why value is None
    champion_reason: str | None = None  # why a champion's value is None


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


def split_caution(
    champion: str | None, champion_split: str | None, split: str
) -> str | None:
    """Why the comparison may flatter the champion, if it may: it was split
    otherwise (another seed, data.test_size, schema columns or rule), so
    some holdout rows may be rows it learnt."""
    if champion is None or champion_split == split:
        return None
    how = champion_split or "before the split was recorded"
    return (
        f"caution: champion v{champion} was split otherwise ({how}), so some "
        "holdout rows may be rows it learnt, which flatters it"
    )


def score_reference(
    path: str,
    challenger_uri: str,
    name: str,
    champion: str | None,
    schema: Schema,
    metric: Metric,
) -> Reference:
    """Both models on the reference set. A file that is missing or does not
    match the schema is an error naming the setting and its problems; a
    metric undefined on its rows (roc_auc on one class) is recorded as None
    with the reason, never as NaN, which is not JSON."""
    frame = read_reference(path, schema)
    undefined = f"{metric.name} is undefined on {path}: {why_undefined(frame, schema)}"
    with warnings.catch_warnings():
        # Recorded below with the reason: scikit-learn's warning would only
        # repeat it on the console.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        scored = metric_of(challenger_uri, frame, schema, metric)
        champion_scored, error = None, None
        if champion is not None:
            champion_scored, error = champion_metric(
                name, champion, frame, schema, metric
            )
    value, reason = defined(scored, undefined)
    champion_value, champion_reason = defined(champion_scored, undefined)
    if error is not None:
        champion_reason = f"champion v{champion} cannot be scored on {path} ({error})"
    return Reference(
        path,
        file_sha256(Path(path)),
        len(frame),
        value,
        champion_value,
        reason,
        champion_reason,
    )


def read_reference(path: str, schema: Schema) -> pd.DataFrame:
    """The reference file's rows; any problem with it is an error that names
    the setting, as the owner wrote it in params.yaml."""
    setting = "register.gate.reference"
    try:
        frame = read_table(Path(path))
    except ProjectError as error:
        raise ProjectError(f"{setting} {error}") from error
    report = validate_frame(frame, schema)
    if not report.ok:
        raise ProjectError(report.to_text(f"{setting} {path}"))
    return frame


def defined(value: float | None, undefined: str) -> tuple[float | None, str | None]:
    """A metric's value and why it is None: NaN or infinity (a metric
    undefined on the rows) becomes None and the reason `undefined`."""
    if value is not None and not math.isfinite(value):
        return None, undefined
    return value, None


def why_undefined(frame: pd.DataFrame, schema: Schema) -> str:
    """Why a metric can be undefined on labelled rows that match the schema."""
    if schema.is_classification:
        present = {str(label) for label in frame[schema.target.name].unique()}
        if len(present) < 2:
            return "one class only"
        missing = [c for c in schema.target.classes or [] if str(c) not in present]
        if missing:
            return f"no rows of class {', '.join(map(str, missing))}"
    if len(frame) < 2:
        return "one row only"
    return "the metric is not a number on these rows"


def _one_line(error: Exception) -> str:
    message = f"{type(error).__name__}: {' '.join(str(error).split())}"
    if len(message) > MAX_ERROR_CHARS:
        return message[: MAX_ERROR_CHARS - 3] + "..."
    return message
