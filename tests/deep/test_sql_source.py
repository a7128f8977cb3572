"""The database source for real: a generated project whose params.yaml points
at a query file and whose DATABASE_URL points at a throwaway PostgreSQL
(devtools/testing/stack.py) prepares the table's rows through `dvc repro`; a changed
query re-runs prepare, new rows in the database do not until the README's
`dvc repro --force prepare`; the URL's password shows nowhere; the project's
own tests still run without the database."""

from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from devtools.testing.projects import in_project, render, sync
from devtools.testing.stack import DATABASE_USER, Postgres, postgres_server
from devtools.testing.workflows import Step, execute, read_run_steps, runner_env
from tests.deep.test_generated_project import edit_params, write_sample_file

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("sql-source")]

TABLE = "customers"
PASSWORD = "fake-db-s3cret"  # trust authentication: accepted, not checked
# How an owner's table would store the schema's feature types.
COLUMN_TYPES = {"numeric": "double precision", "categorical": "text", "boolean": "boolean"}
# A `%` must reach the database as written: the query has no parameters.
QUERY = f"select * from {TABLE} where contract like '%'\n"


def create_table(postgres: Postgres, project: Path) -> None:
    """The table of the project's sample data (binary task: integer target)."""
    schema = yaml.safe_load((project / "schema.yaml").read_text())
    columns = [f"{f['name']} {COLUMN_TYPES[f['type']]}" for f in schema["features"]]
    columns.append(f"{schema['target']['name']} integer not null")
    psql(postgres, f"create table {TABLE} ({', '.join(columns)})")


def load_rows(postgres: Postgres, project: Path, rows: int, seed: int) -> None:
    """Append `rows` rows of the project's sample data with psql's \\copy."""
    csv = project.parent / f"rows-{seed}.csv"
    write_sample_file(project, csv, rows=rows, seed=seed)
    psql(postgres, f"\\copy {TABLE} from '{csv}' with (format csv, header true)")


def psql(postgres: Postgres, sql: str) -> str:
    result = postgres.psql(sql)
    assert result.returncode == 0, f"psql failed on {sql!r}: {result.stderr}"
    return result.stdout


def table_rows(postgres: Postgres) -> int:
    return int(psql(postgres, f"select count(*) from {TABLE}").strip())


def prepared_rows(project: Path) -> int:
    """Rows of the snapshot DVC versions, read with the project's pandas."""
    script = "import pandas; print(len(pandas.read_parquet('data/prepared/dataset.parquet')))"
    return int(in_project(project, "python", "-c", script).stdout.strip())


def ct_snapshot_step(project: Path, url: str) -> Step:
    """CT's snapshot step, with the repository secret DATABASE_URL set."""
    (step,) = read_run_steps(project / ".github/workflows/ct.yml", only={"snapshot"})
    return replace(step, env={**step.env, "DATABASE_URL": url})


def test_prepare_snapshots_a_postgresql_query(tmp_path):
    project = render(tmp_path / "project", task="binary_classification", model_family="linear")
    sync(project)
    (project / "queries" / "training.sql").write_text(QUERY)
    edit_params(
        project, lambda p: p["data"].update(source="sql", query_file="queries/training.sql")
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    with postgres_server(logs) as postgres:
        url = postgres.uri().replace(f"//{DATABASE_USER}@", f"//{DATABASE_USER}:{PASSWORD}@")
        assert PASSWORD in url
        env = {"DATABASE_URL": url}
        create_table(postgres, project)
        load_rows(postgres, project, rows=400, seed=5)
        outputs = []

        def dvc(*args: str) -> str:
            result = in_project(project, "dvc", *args, env=env)
            outputs.append(result.stdout + result.stderr)
            return result.stdout

        assert "prepared 400 rows" in dvc("repro", "validate")
        assert prepared_rows(project) == table_rows(postgres) == 400
        assert "up to date" in dvc("status", "prepare")

        # New rows in the database: DVC cannot see them; CT's snapshot step
        # (the README's `dvc repro --force prepare`) can.
        load_rows(postgres, project, rows=100, seed=6)
        assert "up to date" in dvc("status", "prepare")
        snapshot = ct_snapshot_step(project, url)
        taken = execute(snapshot, project, runner_env())
        outputs.append(taken.stdout + taken.stderr)
        assert taken.returncode == 0 and "prepared 500 rows" in taken.stdout, outputs[-1]
        assert prepared_rows(project) == table_rows(postgres) == 500
        # ... after which `dvc repro` runs the stages downstream.
        assert "modified:" in dvc("status", "validate")

        # A changed query file re-runs prepare.
        (project / "queries" / "training.sql").write_text(QUERY.strip() + " limit 150\n")
        status = dvc("status", "prepare")
        assert "prepare" in status and "modified:" in status and "queries" in status, status
        assert "prepared 150 rows" in dvc("repro", "prepare")
        assert prepared_rows(project) == 150

    assert not [output for output in outputs if PASSWORD in output]
    assert PASSWORD not in (project / "dvc.lock").read_text()

    # The project's own tests run on sample data, with no database in reach.
    smoke = "tests/test_pipeline.py::test_smoke_run_registers_a_champion"
    in_project(project, "pytest", "-q", "-p", "no:cacheprovider", smoke, env={"DATABASE_URL": ""})
