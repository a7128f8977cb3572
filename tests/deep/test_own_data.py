"""Own data, end to end: a fresh project goes from an owner's table (not the
sample generator's: other names and types, an ID, timestamps, constant and
free-text columns, gaps, rows without a target) to a served, monitored model
through the generated README's "Bring your own data" steps alone: no
hand-written schema line, no code edit. One project per task, on two data
sets (a 24-column table built here, the Palmer penguins that the
palmerpenguins package ships) and three sources: a CSV file under data/raw/,
a real PostgreSQL server and a SQLite database."""

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pandas as pd
import pytest
import yaml

from devtools.testing.deep_project import first_commit
from devtools.testing.own_data import machines, penguins
from devtools.testing.projects import (
    in_project,
    project_answers,
    render,
    run,
    start_ready_service,
    stop_service,
    sync,
)
from devtools.testing.stack import postgres_server

pytestmark = pytest.mark.slow

TRAFFIC_ROWS = 1000
TABLE = "observations"  # the owner's table in a database source
QUERY_FILE = "queries/training.sql"


@dataclass(frozen=True)
class OwnData:
    table: Callable[[str], pd.DataFrame]  # task -> the owner's table
    file_name: str
    target: str
    # params.yaml monitoring.simulate: features of the owner's table
    simulate: dict
    model_family: str
    source: str = "csv"  # csv | postgresql | sqlite
    # The project's tests use tests/sample/, whatever the owner's data, but
    # test_configuration.py, which checks the owner's schema and params: the
    # whole suite runs on one case (each task's runs in the deep tests).
    whole_test_suite: bool = False


CASES = {
    "binary_classification": OwnData(
        machines,
        "machines.csv",
        "failed",
        {"numeric_feature": "sensor_00", "categorical_feature": "site", "category": "north"},
        "random_forest",
        whole_test_suite=True,
    ),
    "multiclass_classification": OwnData(
        lambda task: penguins(),
        "penguins.csv",
        "Species",
        {"numeric_feature": "Body Mass (g)", "categorical_feature": "Island", "category": "Dream"},
        "gradient_boosting",
        source="postgresql",
    ),
    "regression": OwnData(
        lambda task: penguins(),
        "penguins.csv",
        "Body Mass (g)",
        {
            "numeric_feature": "Flipper Length (mm)",
            "categorical_feature": "Island",
            "category": "Torgersen",
        },
        "linear",
        source="sqlite",
    ),
}


@dataclass
class Project:
    path: Path
    slug: str
    case: OwnData
    table: pd.DataFrame
    outputs: dict[str, str]  # step -> what it printed
    env: dict[str, str] = field(default_factory=dict)  # DATABASE_URL, for SQL


@pytest.fixture(scope="module", params=list(CASES))
def own(request, tmp_path_factory) -> Iterator[Project]:
    """Render, then follow the README's steps with the owner's table."""
    task, case = request.param, CASES[request.param]
    scratch = tmp_path_factory.mktemp(f"own-{task}")
    path = render(scratch / "project", task=task, model_family=case.model_family)
    sync(path)
    table = case.table(task)
    with database(case.source, scratch) as url:
        env = {"DATABASE_URL": url} if url else {}
        project = Project(path, project_answers(path)["project_slug"], case, table, {}, env)
        follow_the_readme(project)
        yield project


@contextlib.contextmanager
def database(source: str, scratch: Path) -> Iterator[str | None]:
    """The SQLAlchemy URL of a database for a SQL source, None for a file."""
    if source == "postgresql":
        (scratch / "logs").mkdir()
        with postgres_server(scratch / "logs") as postgres:
            yield postgres.uri()
    elif source == "sqlite":
        yield f"sqlite:///{scratch / 'warehouse.db'}"
    else:
        yield None


def follow_the_readme(own: Project) -> None:
    """Infer the schema, point params.yaml at the data, check it, version
    it, make the first commit, run the pipeline."""

    def step(name: str, *command: str) -> None:
        result = in_project(own.path, *command, env=own.env)
        own.outputs[name] = result.stdout + result.stderr

    target, slug = own.case.target, own.slug
    if own.env:  # a database source: the table is in the database
        load_table(own)
        (own.path / QUERY_FILE).write_text(f"select * from {TABLE}\n")
        query = ["--query-file", QUERY_FILE]
        step("infer", slug, "infer-schema", *query, "--target", target, "--force")
        point_params_at(own.path, {"source": "sql", "query_file": QUERY_FILE}, own.case)
        step("validate", "dvc", "repro", "validate")
        first_commit(own.path)
    else:
        source = f"data/raw/{own.case.file_name}"
        own.table.to_csv(own.path / source, index=False)
        step("infer", slug, "infer-schema", source, "--target", target, "--force")
        point_params_at(own.path, {"source": "file", "path": source}, own.case)
        step("validate", slug, "validate", source)
        step("dvc add", "dvc", "add", source)
        first_commit(own.path)
    step("repro", "dvc", "repro")


def load_table(own: Project) -> None:
    """The owner's table into the database, written by the project's own
    pandas and SQLAlchemy (column names with spaces and all)."""
    csv = own.path.parent / "table.csv"
    own.table.to_csv(csv, index=False)
    script = (
        "import os, pandas, sqlalchemy; "
        "engine = sqlalchemy.create_engine(os.environ['DATABASE_URL']); "
        f"pandas.read_csv({str(csv)!r}).to_sql({TABLE!r}, engine, index=False)"
    )
    in_project(own.path, "python", "-c", script, env=own.env)


def point_params_at(project: Path, data: dict, case: OwnData) -> None:
    """The README's params.yaml edits: the source, rows without a target
    dropped, the simulated shift on the owner's features."""
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params["data"].update(data, drop_missing_target=True)
    params["monitoring"]["simulate"].update(case.simulate)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def test_the_inferred_schema_validates_the_table_it_came_from(own):
    schema = yaml.safe_load((own.path / "schema.yaml").read_text())
    assert schema["target"]["name"] == own.case.target
    names = {feature["name"] for feature in schema["features"]}
    assert names and names < set(own.table.columns)
    validated = own.outputs["validate"]
    assert "match the schema" in validated or "Running stage 'validate'" in validated
    if own.case.file_name == "machines.csv":  # IDs, timestamps and text left out
        assert not names & {"machine_id", "installed_on", "reading_at", "operator_note"}
        assert len(own.table.columns) >= 20


def test_source_data_is_versioned_by_dvc_never_by_git(own):
    committed = run(["git", "ls-files"], own.path).stdout.split()
    assert not [name for name in committed if name.startswith("data/prepared/")]
    if own.env:  # the query is code, in Git; its result is DVC's snapshot
        assert QUERY_FILE in committed
    else:
        assert f"data/raw/{own.case.file_name}.dvc" in committed
        assert f"data/raw/{own.case.file_name}" not in committed

    # After `git init` too: a file added with DVC's Git integration on.
    own.table.head(50).to_csv(own.path / "data/raw/more.csv", index=False)
    in_project(own.path, "dvc", "add", "data/raw/more.csv")
    run(["git", "add", "--all"], own.path)
    staged = run(["git", "diff", "--cached", "--name-only"], own.path).stdout.split()
    assert "data/raw/more.csv.dvc" in staged and "data/raw/more.csv" not in staged
    run(["git", "reset", "--quiet"], own.path)


def test_the_pipeline_trains_and_registers_on_the_owner_data(own):
    repro = own.outputs["repro"]
    prepared = own.outputs["validate"] + repro  # a SQL source prepares in validate
    missing = int(own.table[own.case.target].isna().sum())
    if missing:
        assert f"dropped {missing} of {len(own.table)} rows" in prepared
    assert "promoted to champion" in repro
    report = json.loads((own.path / "reports/prepare.json").read_text())
    assert report["rows_prepared"] == len(own.table) - missing


def test_the_project_tests_pass_on_the_owner_data(own):
    command = ["pytest", "-q", "-p", "no:cacheprovider"]
    if not own.case.whole_test_suite:
        command.append("tests/test_configuration.py")
    result = in_project(own.path, *command, check=False, env=own.env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert " passed" in output and " failed" not in output


def feature_records(own: Project, rows: int) -> list[dict]:
    schema = yaml.safe_load((own.path / "schema.yaml").read_text())
    names = [feature["name"] for feature in schema["features"]]
    frame = own.table.dropna(subset=[own.case.target]).head(rows)[names]
    # Plain values, not to_json's (it rounds floats to 10 decimals).
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def test_batch_prediction_of_an_owner_file(own, tmp_path):
    source = tmp_path / "to-score.csv"
    own.table.drop(columns=[own.case.target]).head(40).to_csv(source, index=False)
    output = tmp_path / "scored.csv"
    command = [own.slug, "predict", "--input", str(source), "--output", str(output)]
    in_project(own.path, *command)
    assert len(pd.read_csv(output)) == 40


# The penguins table is served by the regression project too: its column
# names (spaces, parentheses) reach the service and the monitor there.
@pytest.mark.deep_tasks("binary_classification", "regression")
def test_served_then_simulated_drift_is_flagged_by_the_monitor(own, tmp_path):
    log_dir = tmp_path / "predictions"
    service = start_ready_service(own.path, own.slug, {"SERVE_PREDICTION_LOG_DIR": str(log_dir)})
    try:
        url = f"http://127.0.0.1:{service.port}"
        records = feature_records(own, 30)
        answer = httpx.post(f"{url}/predict/batch", json={"records": records}, timeout=30)
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["predictions"]) == len(records)
        command = ["simulate-drift", "--url", url, "--rows", str(TRAFFIC_ROWS)]
        sent = in_project(own.path, own.slug, *command).stdout
        assert f"{TRAFFIC_ROWS} shifted records" in sent
    finally:
        stop_service(service)

    report = tmp_path / "report"
    command = [own.slug, "monitor", "--log-dir", str(log_dir), "--output", str(report)]
    result = in_project(own.path, *command, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    summary = json.loads((report / "summary.json").read_text())
    shifted = {own.case.simulate["numeric_feature"], own.case.simulate["categorical_feature"]}
    assert shifted <= set(summary["drifted_features"])
