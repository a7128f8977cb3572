"""The quality gate CI applies after the pipeline: the model must beat a
trivial baseline (one that ignores the features) by the margin in params."""

import json
from dataclasses import dataclass

from . import metrics
from .errors import ProjectError
from .paths import METRICS_FILE
from .schema import Schema
from .settings import Params


@dataclass(frozen=True)
class QualityVerdict:
    passed: bool
    message: str


def check_quality(params: Params, schema: Schema) -> QualityVerdict:
    if not METRICS_FILE.is_file():
        raise ProjectError(f"{METRICS_FILE} not found: run the evaluate stage first")
    report = json.loads(METRICS_FILE.read_text())
    gate = params.quality
    metric = metrics.metric_for(schema.task, gate.metric)
    model = report.get(metric.name)
    baseline = report.get("baseline", {}).get(metric.name)
    if model is None or baseline is None:
        raise ProjectError(
            f"{METRICS_FILE} has no {metric.name} for the model and the baseline: "
            "run the evaluate stage again"
        )
    passed = metrics.beats(model, baseline, metric, gate.min_gain)
    verb = "beats" if passed else "does not beat"
    return QualityVerdict(
        passed,
        f"{metric.name} {model:.4f} {verb} the trivial baseline ({baseline:.4f}) "
        f"by the required {gate.min_gain}",
    )
