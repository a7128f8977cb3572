"""The model card of a registered version: what it is for, what it learned
from, how well it does and why it was (or was not) promoted.

The facts come from what the pipeline recorded (the MLflow run, the reports
of the evaluate stage, the gate's decision). They are kept twice: as JSON for
scripts and as Markdown for people; both are artifacts of the run, and the
Markdown is also the registry version's description and reports/model_card.md.
"""

import json
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from mlflow import MlflowClient
from mlflow.entities import Run

from .data import read_table
from .paths import (
    CALIBRATION_FILE,
    DATASET_FILE,
    IMPORTANCE_FILE,
    METRICS_FILE,
    MODEL_CARD_REPORT,
    PREPARE_REPORT,
    SLICES_FILE,
)
from .schema import Schema
from .settings import Params

NOT_RECORDED = "not recorded"
TOP_FEATURES = 10
WORST_SLICES = 5
# A version's description is a 5000-character column in MLflow's SQL stores.
MAX_DESCRIPTION_CHARS = 5000
PYPROJECT = Path("pyproject.toml")

Card = dict[str, Any]


def build(decision: dict, run: Run, params: Params, schema: Schema) -> Card:
    """The card's facts; `decision` is the gate's (registry.Decision as a dict)."""
    tags, logged = run.data.tags, run.data.params
    return {
        "model": {
            "name": decision["model_name"],
            "version": decision["version"],
            "task": schema.task,
            "family": logged.get("model_family", NOT_RECORDED),
        },
        "purpose": _purpose(),
        "training_data": {
            "source": params.data.source,
            "location": _location(params),
            "rows": {
                "prepared": _read(PREPARE_REPORT).get("rows_prepared", NOT_RECORDED),
                "train": int(logged.get("train_rows", 0)) or NOT_RECORDED,
                "holdout": decision["holdout"]["rows"],
            },
            "date_range": date_range(DATASET_FILE),
            "sha256": tags.get("data_sha256", NOT_RECORDED),
        },
        "schema": {
            "sha256": tags.get("schema_sha256", NOT_RECORDED),
            "target": schema.target.model_dump(exclude_defaults=True),
            "features": [
                {"name": f.name, "type": f.type, "nullable": f.nullable}
                for f in schema.features
            ],
        },
        "metrics": _metrics(),
        "top_features": _top_features(),
        "slices": _read(SLICES_FILE) or NOT_RECORDED,
        "calibration": _calibration(schema),
        "gate": {
            key: decision[key]
            for key in (
                "rule",
                "metric",
                "min_improvement",
                "value",
                "compared_with",
                "champion_value",
                "promoted",
                "reason",
                "holdout",
                "reference",
            )
        },
        "lineage": {
            "run_id": run.info.run_id,
            "git_commit": tags.get("git_commit", NOT_RECORDED),
            "git_dirty": tags.get("git_dirty", NOT_RECORDED),
            "template_version": tags.get("template_version", NOT_RECORDED),
        },
    }


def publish(
    client: MlflowClient, card: Card, name: str, version: str, run_id: str
) -> str:
    """Log the card to the run (under model_card/v<version>/), set it as the
    version's description and write reports/model_card.md; returns the
    Markdown."""
    markdown = to_markdown(card)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "model_card.md").write_text(markdown)
        (Path(folder) / "model_card.json").write_text(
            json.dumps(card, indent=2, default=str) + "\n"
        )
        # One folder per version: a run registered again (only the gate's
        # params changed) keeps the card of each version.
        client.log_artifacts(run_id, folder, artifact_path=card_folder(version))
    description = description_of(markdown, version)
    client.update_model_version(name, version, description=description)
    MODEL_CARD_REPORT.parent.mkdir(parents=True, exist_ok=True)
    MODEL_CARD_REPORT.write_text(markdown)
    return markdown


def card_folder(version: str) -> str:
    """Where a version's card is among its run's artifacts."""
    return f"model_card/v{version}"


def _read(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def _purpose() -> str:
    """The project's description (pyproject.toml), which says what it predicts."""
    if not PYPROJECT.is_file():
        return NOT_RECORDED
    project = tomllib.loads(PYPROJECT.read_text()).get("project", {})
    return project.get("description") or NOT_RECORDED


def _location(params: Params) -> str:
    data = params.data
    if data.source == "file":
        return str(data.path)
    if data.source == "sql":
        query = data.query_file or "the inline data.query"
        return f"{query} on the database in ${data.url_env}"
    return f"{data.n_rows} generated rows (seed {params.seed})"


def date_range(path: Path) -> dict | str:
    """First and last time of each date/time column of the prepared data
    (typed columns: Parquet and SQL sources keep them, CSV does not)."""
    if not path.is_file():
        return "none"
    dates = read_table(path).select_dtypes(include=["datetime", "datetimetz"])
    if dates.empty:
        return "none"
    return {
        column: {"first": str(dates[column].min()), "last": str(dates[column].max())}
        for column in dates.columns
    }


def _metrics() -> dict | str:
    report = _read(METRICS_FILE)
    if not report:
        return NOT_RECORDED
    baseline = report.get("baseline", {})
    values = {
        name: {"model": value, "baseline": baseline.get(name)}
        for name, value in report.items()
        if isinstance(value, float | int) and name != "holdout_rows"
    }
    return {"holdout_rows": report.get("holdout_rows"), "values": values}


def _top_features() -> dict | str:
    report = _read(IMPORTANCE_FILE)
    if not report:
        return NOT_RECORDED
    return report | {"features": report.get("features", [])[:TOP_FEATURES]}


def _calibration(schema: Schema) -> dict | str:
    if not schema.is_classification:
        return "not applicable (regression)"
    return _read(CALIBRATION_FILE) or NOT_RECORDED


def description_of(markdown: str, version: str) -> str:
    """The card as a version's description: whole, or cut to the column's size."""
    if len(markdown) <= MAX_DESCRIPTION_CHARS:
        return markdown
    whole = f"{card_folder(version)}/model_card.md"
    note = f"\n\n(Cut short: the whole card is the run's artifact {whole}.)\n"
    return markdown[: MAX_DESCRIPTION_CHARS - len(note)] + note


def to_markdown(card: Card) -> str:
    model = card["model"]
    kind = f"Task: {model['task']}; model family: {model['family']}."
    sections = [
        f"# Model card: {model['name']} v{model['version']}",
        f"{card['purpose']}\n\n{kind}",
        _data_section(card["training_data"]),
        _schema_section(card["schema"]),
        _metrics_section(card["metrics"]),
        _features_section(card["top_features"]),
        _slices_section(card["slices"]),
        _calibration_section(card["calibration"]),
        _gate_section(card["gate"]),
        _lineage_section(card["lineage"]),
    ]
    return "\n\n".join(sections) + "\n"


def _section(title: str, *blocks: str) -> str:
    """A "## title" heading and its blocks, a blank line between each."""
    return "\n\n".join([f"## {title}", *blocks])


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def _data_section(data: dict) -> str:
    rows = data["rows"]
    dates = data["date_range"]
    if isinstance(dates, dict):
        dates = "; ".join(f"{c} {d['first']} to {d['last']}" for c, d in dates.items())
    facts = [
        f"- Source: {data['source']}, {data['location']}",
        f"- Rows: {_cell(rows['prepared'])} prepared, {_cell(rows['train'])} "
        f"train, {_cell(rows['holdout'])} holdout",
        f"- Date range: {dates}",
        f"- Dataset sha256: `{data['sha256']}`",
    ]
    return _section("Training data", "\n".join(facts))


def _schema_section(schema: dict) -> str:
    target = dict(schema["target"])
    about = target.pop("description", "")
    name = target.pop("name")
    facts = ", ".join(f"{key.replace('_', ' ')} {v}" for key, v in target.items())
    features = [
        [f["name"], f["type"], "yes" if f["nullable"] else "no"]
        for f in schema["features"]
    ]
    return _section(
        "Schema",
        f"Target `{name}` ({facts or 'numeric'}){f': {about}' if about else ''}.\n"
        f"schema.yaml sha256 `{schema['sha256']}`.",
        _table(["Feature", "Type", "Nullable"], features),
    )


def _metrics_section(metrics: dict | str) -> str:
    if isinstance(metrics, str):
        return _section("Metrics", metrics)
    rows = [[name, v["model"], v["baseline"]] for name, v in metrics["values"].items()]
    return _section(
        "Metrics",
        f"On the holdout split ({metrics['holdout_rows']} rows); the baseline "
        "ignores the features.",
        _table(["Metric", "Model", "Baseline"], rows),
    )


def _features_section(importance: dict | str) -> str:
    if isinstance(importance, str):
        return _section("Top features", importance)
    rows = [
        [f["feature"], f["importance_mean"], f["importance_std"]]
        for f in importance["features"]
    ]
    return _section(
        "Top features",
        f"{importance.get('method', 'importance')} importance on "
        f"{importance.get('metric', 'the metric')}, highest first.",
        _table(["Feature", "Importance", "Std"], rows),
    )


def _slices_section(slices: dict | str) -> str:
    if isinstance(slices, str):
        return _section("Slices", slices)
    # Worst first; slices too small to score (value null) last.
    listed = slices.get("slices", [])
    scored = sorted(
        (s for s in listed if s["value"] is not None),
        key=lambda s: s["value"],
        reverse=not slices.get("higher_is_better", True),
    )
    order = scored + [s for s in listed if s["value"] is None]
    rows = [[s["feature"], s["category"], s["rows"], s["value"]] for s in order]
    return _section(
        "Slices",
        f"{slices.get('metric')} per category (at least "
        f"{slices.get('min_rows')} rows); the {WORST_SLICES} worst of "
        f"{len(rows)}:",
        _table(["Feature", "Category", "Rows", "Value"], rows[:WORST_SLICES]),
    )


def _calibration_section(calibration: dict | str) -> str:
    if isinstance(calibration, str):
        return _section("Calibration", calibration)
    return _section(
        "Calibration",
        f"Brier score {_cell(calibration.get('brier_score'))}; expected "
        f"calibration error {_cell(calibration.get('expected_calibration_error'))}.",
    )


def _gate_section(gate: dict) -> str:
    holdout = gate["holdout"]
    champion = (
        f"champion v{gate['compared_with']}: {_cell(gate['champion_value'])}"
        if gate["compared_with"]
        else "no champion to compare with"
    )
    lines = [
        f"- {'Promoted to champion' if gate['promoted'] else 'Not promoted'}: "
        f"{gate['reason']}",
        f"- {gate['metric']}: this version {_cell(gate['value'])}; {champion}",
        f"- Rule: {gate['rule']}, required improvement {gate['min_improvement']}, "
        f"on {holdout['path']} ({holdout['rows']} rows, sha256 "
        f"`{holdout['sha256']}`)",
    ]
    if reference := gate["reference"]:
        lines.append(_reference_line(reference))
    return _section("Gate decision", "\n".join(lines))


def _reference_line(reference: dict) -> str:
    """Both values on the reference set, and why either is missing."""
    line = (
        f"- Reference {reference['path']} ({reference['rows']} rows): this "
        f"version {_cell(reference['value'])}, champion "
        f"{_cell(reference['champion_value'])}"
    )
    # Undefined for both models, for one reason: said once.
    reasons = dict.fromkeys([reference["reason"], reference["champion_reason"]])
    said = "; ".join(reason for reason in reasons if reason)
    return f"{line} ({said})" if said else line


def _lineage_section(lineage: dict) -> str:
    commit = lineage["git_commit"]
    code = (
        "not a git repository"
        if commit == "none"
        else f"`{commit}` (uncommitted changes: {lineage['git_dirty']})"
    )
    facts = [
        f"- Git commit: {code}",
        f"- Template version: {lineage['template_version']}",
        f"- MLflow run: `{lineage['run_id']}`",
    ]
    return _section("Lineage", "\n".join(facts))
