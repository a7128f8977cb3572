"""Batch scoring for real on the shared deep projects: on every task, `score`
reads a multi-chunk file with bad rows, sets them aside with the reason,
scores the rest as the champion predicts in process and replaces a batch
scored again. What does not depend on the task runs on one project each: a
query read from and written to SQLite (a regressor) and PostgreSQL (a
classifier), bad input stopped with one line and nothing written, and
`monitor --batch-output` flagging a shifted batch as it flags traffic."""

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from devtools.testing.deep_project import Deep
from devtools.testing.projects import in_project
from devtools.testing.stack import Postgres, postgres_server
from tests.deep.test_generated_project import (
    assert_same_predictions,
    in_process,
    sample_records,
    with_sample_data,
)

pytestmark = pytest.mark.slow

ROWS = 3000  # sample rows of the first batch, read CHUNK_ROWS at a time
CHUNK_ROWS = 700
SHIFTED_ROWS = 1500
# How a table would store the schema's feature types (PostgreSQL).
COLUMN_TYPES = {"numeric": "double precision", "categorical": "text", "boolean": "boolean"}


def features_of(project: Path) -> list[dict]:
    return yaml.safe_load((project / "schema.yaml").read_text())["features"]


def with_bad_rows(project: Path, records: list[dict]) -> tuple[pd.DataFrame, dict[int, str]]:
    """The records with one bad value in each of three chunks: text in a
    number, an unlisted category, a required value missing; the column each
    bad row is blamed on."""
    features = features_of(project)
    frame = pd.DataFrame.from_records(records).astype(object)
    number = next(f["name"] for f in features if f["type"] == "numeric")
    category = next(f["name"] for f in features if f["type"] == "categorical")
    required = next(f["name"] for f in features if not f.get("nullable"))
    frame.loc[5, number] = "lots"
    frame.loc[CHUNK_ROWS + 3, category] = "no such category"
    frame.loc[3 * CHUNK_ROWS + 1, required] = None
    return frame, {5: number, CHUNK_ROWS + 3: category, 3 * CHUNK_ROWS + 1: required}


def score(deep: Deep, *arguments: str, env: dict | None = None, check: bool = True):
    return in_project(deep.path, deep.slug, "score", *arguments, env=env, check=check)


def read_parquet(deep: Deep, path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A Parquet file or folder, read by the project's pandas (the template's
    environment has no pyarrow)."""
    script = (
        "import pandas; "
        f"f = pandas.read_parquet({str(path)!r}, columns={columns!r}); "
        "print(f.to_json(orient='records', date_unit='us'))"
    )
    output = in_project(deep.path, "python", "-c", script).stdout
    return pd.DataFrame.from_records(json.loads(output))


def scored_as_served(frame: pd.DataFrame, expected: dict) -> list[dict]:
    """Scored rows in the shape the service answers, to compare with the
    champion's in-process predictions."""
    served = []
    for row in frame.to_dict(orient="records"):
        item = {"prediction": row["prediction"]}
        if "classes" in expected:
            item["probabilities"] = {c: row[f"probability_{c}"] for c in expected["classes"]}
        served.append(item)
    return served


@dataclass
class Batches:
    folder: Path  # a folder of batch partitions: day-1 and day-2
    bad: dict[int, str]  # day-1's bad rows -> the column blamed
    first: str  # what score printed for day-1
    expected: dict  # the champion's in-process predictions of day-1's good rows
    day_2_scored_at: list  # scored_at of day-2 before it was scored again


@pytest.fixture(scope="module")
def batches(deep, tmp_path_factory) -> Batches:
    """day-1: sample rows with bad ones, a CSV read in chunks; day-2: shifted
    as params.yaml monitoring.simulate says, a Parquet file, scored twice."""
    scratch = tmp_path_factory.mktemp(f"batches-{deep.task}")
    folder = scratch / "scores"
    records = sample_records(deep.path, ROWS)
    frame, bad = with_bad_rows(deep.path, records)
    frame.to_csv(scratch / "day-1.csv", index=False)
    good = [record for row, record in enumerate(records) if row not in bad]
    expected = in_process(deep.path, good)
    first = score(
        deep, "-i", str(scratch / "day-1.csv"), "-o", str(folder),
        "--batch-id", "day-1", "--chunk-rows", str(CHUNK_ROWS),
    ).stdout  # fmt: skip

    shifted = scratch / "day-2.parquet"
    with_sample_data(
        deep.path,
        "s = importlib.import_module(a['package_name'] + '.monitoring.simulate'); "
        "c = importlib.import_module(a['package_name'] + '.settings'); "
        "sc = importlib.import_module(a['package_name'] + '.schema').load_schema(); "
        f"f = m.generate({SHIFTED_ROWS}, seed=77).drop(columns=[t]); "
        "s.shifted(f, sc, c.load_params().monitoring.simulate, seed=7)"
        f".to_parquet({str(shifted)!r})",
    )
    score(deep, "-i", str(shifted), "-o", str(folder), "--batch-id", "day-2")
    before = read_parquet(deep, folder / "batch_id=day-2", ["scored_at"])
    score(deep, "-i", str(shifted), "-o", str(folder), "--batch-id", "day-2")
    return Batches(folder, bad, first, expected, before["scored_at"].tolist())


def test_a_file_is_scored_in_chunks_as_the_champion_predicts(deep, batches):
    good = ROWS - len(batches.bad)
    assert f"{ROWS} rows in, {good} scored, {len(batches.bad)} rejected" in batches.first

    rejects = pd.read_csv(batches.folder / "_rejects" / "batch_id=day-1.csv")
    assert rejects["input_row"].tolist() == sorted(batches.bad)
    for row, reason in zip(rejects["input_row"], rejects["reject_reason"], strict=True):
        assert reason.startswith(f"{batches.bad[row]}: "), reason

    scored = read_parquet(deep, batches.folder / "batch_id=day-1")
    assert len(scored) == good
    served = scored_as_served(scored, batches.expected)
    assert_same_predictions(served, batches.expected, deep.task != "regression")
    lineage = scored[["model_name", "model_version", "model_run_id"]].drop_duplicates()
    assert len(lineage) == 1 and lineage.notna().all(axis=None)


def test_scoring_a_batch_again_replaces_it(deep, batches):
    counts = read_parquet(deep, batches.folder, ["batch_id"])["batch_id"]
    assert counts.astype(str).value_counts().to_dict() == {
        "day-1": ROWS - len(batches.bad),
        "day-2": SHIFTED_ROWS,
    }
    assert sorted(p.name for p in batches.folder.iterdir()) == [
        "_rejects",
        "batch_id=day-1",
        "batch_id=day-2",
    ]
    again = read_parquet(deep, batches.folder / "batch_id=day-2", ["scored_at"])
    assert again["scored_at"].tolist() != batches.day_2_scored_at


def monitor(deep: Deep, folder: Path, batch: str, output: Path):
    command = ["monitor", "--batch-output", str(folder), "--batch-id", batch]
    return in_project(deep.path, deep.slug, *command, "--output", str(output), check=False)


# Batch output is read the same way whatever the task; the monitor's
# per-task prediction drift is checked on traffic in test_generated_project.py
# and in each project's tests/test_monitoring_batch.py.
@pytest.mark.deep_tasks("multiclass_classification")
def test_monitor_flags_the_shifted_batch_only(deep, batches, tmp_path):
    shift = yaml.safe_load((deep.path / "params.yaml").read_text())["monitoring"]["simulate"]

    calm = monitor(deep, batches.folder, "day-1", tmp_path / "calm")
    assert calm.returncode == 0, calm.stdout + calm.stderr
    summary = json.loads((tmp_path / "calm" / "summary.json").read_text())
    assert summary["drifted_features"] == [] and not summary["verdict"]["drift_detected"]

    shifted = monitor(deep, batches.folder, "day-2", tmp_path / "shifted")
    assert shifted.returncode == 2, shifted.stdout + shifted.stderr
    summary = json.loads((tmp_path / "shifted" / "summary.json").read_text())
    assert set(summary["drifted_features"]) == {
        shift["numeric_feature"],
        shift["categorical_feature"],
    }
    assert summary["rows"]["current"] == SHIFTED_ROWS
    assert summary["predictions"], "prediction drift was not computed"
    assert "monitor_drift_detected 1.0" in (tmp_path / "shifted" / "monitor.prom").read_text()

    unknown = monitor(deep, batches.folder, "day-9", tmp_path / "unknown")
    assert unknown.returncode == 1
    assert "no batch day-9; its batches: day-1, day-2" in unknown.stderr
    assert "Traceback" not in unknown.stderr and not (tmp_path / "unknown").exists()


def numbered_records(deep: Deep, rows: int) -> tuple[list[dict], pd.DataFrame]:
    """Sample records, and them as a table with a row_id to order by."""
    records = sample_records(deep.path, rows)
    table = pd.DataFrame.from_records(records)
    table.insert(0, "row_id", range(rows))
    return records, table


# Reading a query and writing a table do not depend on the task: a
# regressor's column goes to SQLite here, a classifier's probability
# columns to PostgreSQL below.
@pytest.mark.deep_tasks("regression")
def test_a_query_on_sqlite_is_scored_into_a_table(deep, tmp_path):
    records, table = numbered_records(deep, 400)
    database = tmp_path / "batch.db"
    with sqlite3.connect(database) as connection:
        table.to_sql("customers", connection, index=False)
    env = {"DATABASE_URL": f"sqlite:///{database}"}
    query = "select * from customers"

    for _ in range(2):  # the second run replaces the batch
        score(deep, "--query", query, "--output-table", "scores", "--batch-id", "q1", env=env)

    with sqlite3.connect(database) as connection:
        scored = pd.read_sql("select * from scores order by row_id", connection)
    assert scored["row_id"].tolist() == list(range(400))
    assert set(scored["batch_id"]) == {"q1"}
    expected = in_process(deep.path, records)
    served = scored_as_served(scored, expected)
    assert_same_predictions(served, expected, deep.task != "regression")


@pytest.mark.deep_tasks("binary_classification")
def test_a_query_on_postgresql_is_scored_into_a_table(deep, tmp_path):
    records, table = numbered_records(deep, 400)
    csv = tmp_path / "customers.csv"
    table.to_csv(csv, index=False)
    columns = [f"{f['name']} {COLUMN_TYPES[f['type']]}" for f in features_of(deep.path)]
    logs = tmp_path / "logs"
    logs.mkdir()
    with postgres_server(logs) as postgres:
        psql(postgres, f"create table customers (row_id integer, {', '.join(columns)})")
        psql(postgres, f"\\copy customers from '{csv}' with (format csv, header true)")
        env = {"DATABASE_URL": postgres.uri()}
        query = "select * from customers"
        for _ in range(2):  # the second run replaces the batch
            score(deep, "--query", query, "--output-table", "scores", "--batch-id", "q1", env=env)
        scored = read_query(deep, "select * from scores order by row_id", env)
    assert scored["row_id"].tolist() == list(range(400))
    assert set(scored["batch_id"]) == {"q1"}
    expected = in_process(deep.path, records)
    served = scored_as_served(scored, expected)
    assert_same_predictions(served, expected, classification=True)


def psql(postgres: Postgres, sql: str) -> str:
    result = postgres.psql(sql)
    assert result.returncode == 0, f"psql failed on {sql!r}: {result.stderr}"
    return result.stdout


def read_query(deep: Deep, sql: str, env: dict) -> pd.DataFrame:
    """A query's rows, read by the project's pandas and SQLAlchemy."""
    script = (
        "import os, pandas, sqlalchemy; "
        "engine = sqlalchemy.create_engine(os.environ['DATABASE_URL']); "
        f"print(pandas.read_sql({sql!r}, engine).to_json(orient='records'))"
    )
    output = in_project(deep.path, "python", "-c", script, env=env).stdout
    return pd.DataFrame.from_records(json.loads(output))


# Reading and writing fail the same way whatever the task.
@pytest.mark.deep_tasks("regression")
def test_bad_input_is_one_clear_line_and_nothing_written(deep, tmp_path):
    features = features_of(deep.path)
    records = sample_records(deep.path, 50)
    good = pd.DataFrame.from_records(records)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    good.drop(columns=[features[0]["name"]]).to_csv(inputs / "missing.csv", index=False)
    good.head(0).to_csv(inputs / "empty.csv", index=False)
    (inputs / "broken.parquet").write_bytes(b"PAR1 not really parquet")
    number = next(f["name"] for f in features if f["type"] == "numeric")
    wrong = good.astype({number: object})
    wrong.loc[20, number] = "twelve"
    wrong.to_csv(inputs / "wrong.csv", index=False)
    good.to_csv(inputs / "good.csv", index=False)
    (tmp_path / "a-file").write_text("")
    output = tmp_path / "out" / "scored.parquet"

    cases = {
        "missing.csv": f"missing column(s): {features[0]['name']}",
        "empty.csv": "no rows to score",
        "broken.parquet": "cannot be read",
        "wrong.csv": f"row 20: {number}: ",
        "good.csv": "output not writable",
    }
    for name, message in cases.items():
        target = tmp_path / "a-file" / "scored.parquet" if name == "good.csv" else output
        result = score(
            deep, "-i", str(inputs / name), "-o", str(target), "--fail-on-reject", check=False
        )
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1, (name, result.stdout, result.stderr)
        assert lines[-1].startswith("error: ") and message in lines[-1], (name, lines)
        assert "Traceback" not in result.stderr, name
        written = sorted(p.name for p in output.parent.iterdir()) if output.parent.exists() else []
        assert written == [], (name, written)
