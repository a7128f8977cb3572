"""The scale-out path for real: a generated project against its team stack
(compose.yaml) with nothing changed but configuration. PostgreSQL, an S3
server and the project's own MLflow server image requirements run as local
processes (devtools/testing/stack.py; there is no Docker engine here):

- `dvc repro` with MLFLOW_TRACKING_URI alone: runs and metrics in PostgreSQL,
  artifacts and models in S3, the champion alias in the server's registry;
- `dvc push` to an S3 remote added as the README says, and `dvc pull` in a
  fresh clone, to the same data hashes;
- the service, configured as compose configures it, serves that champion.
"""

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from devtools.testing.deep_project import first_commit
from devtools.testing.projects import (
    in_project,
    project_answers,
    render,
    run,
    start_ready_service,
    stop_service,
    sync,
)
from devtools.testing.stack import (
    S3_CREDENTIALS,
    Postgres,
    mlflow_server,
    mlflow_server_environment,
    postgres_server,
    s3_keys,
    s3_server,
)
from devtools.testing.template_repo import GIT_IDENTITY
from tests.deep.test_generated_project import (
    assert_same_predictions,
    in_process,
    sample_records,
)
from tests.deploy.test_compose import env_example

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("team-stack")]

BUCKETS = ["mlflow", "dvc"]  # what compose's create-buckets makes
# The stack opened to teammates, as the README says to in .env.
TEAM_SETTINGS = {
    "MLFLOW_ALLOWED_HOSTS": "stack-host:5000",
    "MLFLOW_ALLOWED_ORIGINS": "http://stack-host:5000",
}


@dataclass
class Team:
    project: Path
    slug: str
    compose: dict
    postgres: Postgres
    s3_url: str
    tracking_uri: str


def dotenv(project: Path) -> dict[str, str]:
    """The project's .env.example with the team's settings, as a .env."""
    return env_example(project) | TEAM_SETTINGS


def interpolate(value: str, settings: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}`."""

    def substitute(match: re.Match) -> str:
        name, operator, rest = match.groups()
        if settings.get(name):
            return settings[name]
        assert operator == ":-", f"compose would refuse to start: {name} unset"
        return rest

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", substitute, value)


def server_environment(
    compose: dict, settings: dict[str, str], postgres: Postgres, s3_url: str
) -> dict[str, str]:
    """The MLflow server's environment as compose.yaml sets it from .env,
    with this machine's addresses and credentials in place of the stack's."""
    declared = {
        k: interpolate(str(v), settings)
        for k, v in compose["services"]["mlflow"]["environment"].items()
    }
    local = {
        **S3_CREDENTIALS,
        "AWS_ENDPOINT_URL": s3_url,
        "MLFLOW_S3_ENDPOINT_URL": s3_url,
        "MLFLOW_BACKEND_STORE_URI": postgres.uri(),
    }
    assert set(local) <= set(declared)
    # The same database driver as compose's (and the server's requirements).
    scheme = declared["MLFLOW_BACKEND_STORE_URI"].split("://")[0]
    assert local["MLFLOW_BACKEND_STORE_URI"].startswith(f"{scheme}://")
    return declared | local


@pytest.fixture(scope="module")
def team(tmp_path_factory) -> Iterator[Team]:
    """A fresh project (quick linear model), committed, its pipeline run
    against the stack; the stack stays up for the module's tests."""
    work = tmp_path_factory.mktemp("team")
    logs = work / "logs"
    logs.mkdir()
    project = render(work / "project", model_family="linear")
    sync(project)
    first_commit(project)
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    server_dir = project / "deploy" / "mlflow-server"
    server_env = mlflow_server_environment(server_dir, work)
    with (
        postgres_server(logs) as postgres,
        s3_server(logs, BUCKETS) as s3_url,
        mlflow_server(
            server_env,
            server_dir,
            server_environment(compose, dotenv(project), postgres, s3_url),
            logs,
        ) as tracking_uri,
    ):
        # The client gets the tracking URI only: artifacts go through the
        # server, so it needs no S3 endpoint or credentials.
        in_project(project, "dvc", "repro", env={"MLFLOW_TRACKING_URI": tracking_uri})
        slug = project_answers(project)["project_slug"]
        yield Team(project, slug, compose, postgres, s3_url, tracking_uri)


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def test_runs_metrics_and_models_land_in_postgres_and_s3(team):
    run_id = read_json(team.project / "models" / "run.json")["run_id"]
    metrics = read_json(team.project / "reports" / "metrics.json")
    registry = read_json(team.project / "reports" / "registry.json")
    assert registry["promoted"] and registry["reason"] == "no champion yet"

    [[status, artifact_uri, experiment]] = team.postgres.query(
        f"select status, artifact_uri, experiment_id from runs where run_uuid = '{run_id}'"
    )
    assert status == "FINISHED"
    stored = dict(
        team.postgres.query(f"select key, value from metrics where run_uuid = '{run_id}'")
    )
    logged = {k: v for k, v in metrics.items() if k not in ("holdout_rows", "baseline")}
    logged |= {f"baseline_{k}": v for k, v in metrics["baseline"].items()}
    assert {name: float(stored[name]) for name in logged} == pytest.approx(logged)
    [[champion]] = team.postgres.query(
        "select version from registered_model_aliases "
        f"where name = '{registry['model_name']}' and alias = 'champion'"
    )
    assert champion == registry["version"]

    # Proxied artifacts: the run and the registered model's files in S3.
    keys = s3_keys(team.s3_url, "mlflow")
    assert artifact_uri == f"mlflow-artifacts:/{experiment}/{run_id}/artifacts"
    assert any(key.startswith(f"artifacts/{experiment}/{run_id}/artifacts/") for key in keys)
    [[location]] = team.postgres.query(
        "select storage_location from model_versions "
        f"where name = '{registry['model_name']}' and version = {champion}"
    )
    model_prefix = location.replace("mlflow-artifacts:/", "artifacts/", 1)
    model_files = {
        key.removeprefix(f"{model_prefix}/") for key in keys if key.startswith(model_prefix)
    }
    assert {"MLmodel", "input_example.json"} <= model_files
    # And nothing in the local default stores.
    assert not (team.project / "mlflow.db").exists()
    assert not (team.project / "mlartifacts").exists()


def test_the_server_answers_the_hosts_and_origins_compose_allows(team):
    search = f"{team.tracking_uri}/ajax-api/2.0/mlflow/runs/search"
    body = {"experiment_ids": ["0"], "max_results": 1}

    def status(host: str, origin: str | None = None) -> int:
        headers = {"Host": host} | ({"Origin": origin} if origin else {})
        return httpx.post(search, json=body, headers=headers).status_code

    assert status("mlflow:5000") == 200  # the service, in the stack's network
    assert status("stack-host:5000", "http://stack-host:5000") == 200  # the UI, from .env
    assert status("attacker.example:5000") == 403
    assert status("stack-host:5000", "http://attacker.example") == 403


def test_data_goes_through_an_s3_remote_to_a_fresh_clone(team, tmp_path):
    project, s3 = team.project, dict(S3_CREDENTIALS)
    # The commands the README gives for the team stack's bucket.
    in_project(project, "dvc", "remote", "add", "--default", "team", f"s3://dvc/{team.slug}")
    in_project(project, "dvc", "remote", "modify", "team", "endpointurl", team.s3_url)
    run(["git", "add", "--all"], project)
    run(
        ["git", "commit", "--quiet", "--message", "Pipeline run, S3 remote"],
        project,
        env=GIT_IDENTITY,
    )
    in_project(project, "dvc", "push", env=s3)
    pushed = s3_keys(team.s3_url, "dvc")
    assert pushed and all(key.startswith(f"{team.slug}/files/md5/") for key in pushed)

    clone = tmp_path / "clone"
    run(["git", "clone", "--quiet", str(project), str(clone)], tmp_path)
    assert not (clone / "data" / "prepared").exists()
    dvc = str(project / ".venv" / "bin" / "dvc")
    run([dvc, "pull"], clone, env=s3)

    lock = yaml.safe_load((clone / "dvc.lock").read_text())
    [dataset] = [
        out for out in lock["stages"]["prepare"]["outs"] if out["path"].endswith(".parquet")
    ]
    pulled = clone / dataset["path"]
    assert file_md5(pulled) == dataset["md5"] == file_md5(project / dataset["path"])
    status = run([dvc, "status"], clone, env=s3).stdout
    assert "Data and pipelines are up to date" in status, status


def file_md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_service_serves_the_champion_from_the_server_registry(team, tmp_path):
    declared = team.compose["services"]["service"]["environment"]
    assert declared["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    env = {k: str(v) for k, v in declared.items()} | {
        "MLFLOW_TRACKING_URI": team.tracking_uri,
        "SERVE_PREDICTION_LOG_DIR": str(tmp_path / "predictions"),
    }
    registry = read_json(team.project / "reports" / "registry.json")
    run_id = read_json(team.project / "models" / "run.json")["run_id"]
    records = sample_records(team.project, 40)
    expected = in_process(team.project, records, env={"MLFLOW_TRACKING_URI": team.tracking_uri})

    service = start_ready_service(team.project, team.slug, env)
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{service.port}", timeout=30)
        metadata = client.get("/metadata").json()
        assert metadata["name"] == registry["model_name"]
        assert metadata["alias"] == "champion"
        assert metadata["version"] == registry["champion_version"]
        assert metadata["run_id"] == run_id
        batch = client.post("/predict/batch", json={"records": records})
        assert batch.status_code == 200, batch.text
        assert_same_predictions(batch.json()["predictions"], expected, classification=True)
    finally:
        stop_service(service)
