"""Write everything a monitoring run produces into one directory."""

import json
import math
from dataclasses import dataclass
from pathlib import Path

from ..errors import ProjectError
from ..schema import Schema
from . import exporters
from .job import MonitorResult
from .report import render_html
from .windows import Window


@dataclass(frozen=True)
class Outputs:
    summary: Path  # summary.json: every figure and the verdicts
    report: Path  # report.html: self-contained, opens offline
    textfile: Path  # monitor.prom: for node-exporter's textfile collector


def write_outputs(
    result: MonitorResult,
    schema: Schema,
    reference: Window,
    current: Window,
    directory: Path,
    project: str,
    pushgateway_url: str | None = None,
) -> Outputs:
    if directory.exists() and not directory.is_dir():
        raise ProjectError(f"--output {directory} is a file, not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    summary = directory / "summary.json"
    # NaN (e.g. ROC AUC on one class) is not JSON: written as null.
    summary.write_text(
        json.dumps(_finite(result.summary()), indent=2, default=str) + "\n"
    )
    report = directory / "report.html"
    title = f"{project}: monitoring report"
    report.write_text(
        render_html(result, schema, reference.frame, current.frame, title)
    )
    exporters.github_outputs(result, report)  # first: a failed push must not hide it
    textfile = directory / "monitor.prom"
    job = f"{project}-monitor"
    exporters.export_prometheus(result, textfile, job, pushgateway_url)
    return Outputs(summary, report, textfile)


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
