"""Write everything a monitoring run produces into one directory."""

import json
from dataclasses import dataclass
from pathlib import Path

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
    gateway: str | None  # the Pushgateway pushed to, if one is configured


def write_outputs(
    result: MonitorResult,
    schema: Schema,
    reference: Window,
    current: Window,
    directory: Path,
    project: str,
) -> Outputs:
    directory.mkdir(parents=True, exist_ok=True)
    summary = directory / "summary.json"
    summary.write_text(json.dumps(result.summary(), indent=2, default=str) + "\n")
    report = directory / "report.html"
    title = f"{project}: monitoring report"
    report.write_text(
        render_html(result, schema, reference.frame, current.frame, title)
    )
    textfile = directory / "monitor.prom"
    gateway = exporters.export_prometheus(result, textfile, job=f"{project}-monitor")
    exporters.github_outputs(result, report)
    return Outputs(summary, report, textfile, gateway)
