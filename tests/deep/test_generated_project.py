"""Deep checks: a generated project installs, runs every `run:` step of its
own ci.yml (lint, its own tests, data validation, `dvc repro`, quality gate),
tracks and registers for real (MLflow store, registry) and serves its champion
over HTTP, once per task. Tests of one task share one project (xdist group)."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from devtools.testing.deep_project import DEEP_CASES, Deep
from devtools.testing.image import uv_commands
from devtools.testing.projects import (
    Service,
    free_port,
    in_project,
    project_env,
    project_facts,
    run,
    start_ready_service,
    stop_service,
    wait_until_ready,
)

pytestmark = pytest.mark.slow

# Smaller than the defaults, so the retrain is quick.
CHANGED_HYPERPARAMETER = {
    "random_forest": {"n_estimators": 60},
    "gradient_boosting": {"max_iter": 60},
    "linear": {"alpha": 2.0},
    "lightgbm": {"n_estimators": 60},
    "xgboost": {"n_estimators": 60},
}
STAGES = ("prepare", "validate", "tune", "train", "evaluate", "register")
BROWSER_CHECK = Path(__file__).parents[2] / "devtools" / "node" / "browser" / "check_page.cjs"
TRAFFIC_ROWS = 1000  # simulated records per monitoring run


def repro(project: Path) -> str:
    return in_project(project, "dvc", "repro").stdout


def edit_params(project: Path, change) -> None:
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    change(params)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def test_every_ci_workflow_step_succeeds(deep):
    assert {name.split(":")[0] for name in deep.ci_output} == {"lint", "test", "pipeline"}
    lint = deep.ci_output["lint: ruff, mypy, YAML/TOML checks, hadolint, zizmor and the rest"]
    assert "mypy (types)" in lint and "zizmor" in lint and "Failed" not in lint
    tests = deep.ci_output["test: Run the tests"]
    assert " passed" in tests and "failed" not in tests
    gate = deep.ci_output["pipeline: Quality gate (params.yaml, section quality)"]
    assert "beats the trivial baseline" in gate


def test_pipeline_trains_tracks_and_registers(deep):
    pipeline_output = "".join(
        output for name, output in deep.ci_output.items() if name.startswith("pipeline:")
    )
    for stage in STAGES:
        assert f"Running stage '{stage}'" in pipeline_output
    facts = project_facts(deep.path)
    assert facts["aliases"]["champion"] == "1"
    run_facts = facts["runs"][0]
    assert run_facts["params"]["model_family"] == DEEP_CASES[deep.task]
    assert facts["metric"] in run_facts["metrics"]
    assert {"git_commit", "data_sha256", "template_version"} <= set(run_facts["tags"])

    # The champion beats a trivial baseline, both recomputed independently.
    champion, baseline = facts["champion_score"], facts["baseline_score"]
    if facts["metric"] == "rmse":
        assert champion < 0.9 * baseline
    else:
        assert champion > baseline + 0.05
    metrics = json.loads((deep.path / "reports/metrics.json").read_text())
    assert metrics[facts["metric"]] == pytest.approx(champion, rel=1e-6)


def test_dvc_plots_show_has_data_for_every_plot(deep):
    """Every plot of dvc.yaml has rows, importance, slices and (classifiers)
    the reliability curve included; the calibration numbers are metrics."""
    dvc_yaml = yaml.safe_load((deep.path / "dvc.yaml").read_text())
    defined = [name for plot in dvc_yaml["plots"] for name in plot]
    shown = json.loads(in_project(deep.path, "dvc", "plots", "show", "--json").stdout)
    for name in defined:
        assert shown["data"][name][0]["content"]["data"]["values"], name
    classifies = deep.task != "regression"
    assert "Permutation importance" in defined
    assert ("Reliability curve" in defined) == classifies
    metrics = in_project(deep.path, "dvc", "metrics", "show", "--json").stdout
    assert ("expected_calibration_error" in metrics) == classifies


# DVC's caching and the gate's stage are the same for every task: one
# project shows them. The gate's rules in both directions (for a regressor,
# lower is better) run in each task's tests/test_gate.py and
# tests/test_pipeline.py, which each deep build runs.
@pytest.mark.deep_tasks("binary_classification")
def test_repro_is_incremental_and_the_gate_decides(deep):
    second = repro(deep.path)
    assert "Running stage" not in second
    assert "Data and pipelines are up to date" in second

    family = DEEP_CASES[deep.task]
    versions = project_facts(deep.path)["versions"]

    def retrain_behind_an_unreachable_gate(params: dict) -> None:
        params["model"][family].update(CHANGED_HYPERPARAMETER[family])
        params["register"]["gate"]["min_improvement"] = 1e12

    edit_params(deep.path, retrain_behind_an_unreachable_gate)
    third = repro(deep.path)
    assert "Running stage 'train'" in third and "Running stage 'register'" in third
    assert "Running stage 'prepare'" not in third
    facts = project_facts(deep.path)
    champion = facts["aliases"]["champion"]
    assert facts["aliases"]["challenger"] == str(len(versions) + 1) != champion

    # A gate any model passes: only register re-runs, and promotes.
    edit_params(deep.path, lambda p: p["register"]["gate"].update(min_improvement=-1e12))
    fourth = repro(deep.path)
    assert "Running stage 'train'" not in fourth and "Running stage 'register'" in fourth
    facts = project_facts(deep.path)
    newest = str(len(versions) + 2)
    assert facts["aliases"] == {"champion": newest, "challenger": newest}

    # The newest version's card, from a Git checkout: the commit is named.
    card = (deep.path / "reports/model_card.md").read_text()
    assert f"v{newest}" in card and "Git commit: `" in card

    # Rollback from the CLI returns to the champion the newest one replaced.
    rolled = in_project(deep.path, deep.slug, "rollback", "--reason", "a test").stdout
    assert f"rolled back to v{champion}" in rolled
    assert project_facts(deep.path)["aliases"]["champion"] == champion


def with_sample_data(project: Path, statement: str) -> str:
    """Run `statement` in the project with its sample_data module as `m`
    and its target column's name as `t`; returns what it printed."""
    script = (
        "import importlib, json, yaml; "
        "a = yaml.safe_load(open('.copier-answers.yml')); "
        "t = yaml.safe_load(open('schema.yaml'))['target']['name']; "
        "m = importlib.import_module(a['package_name'] + '.sample_data'); " + statement
    )
    return in_project(project, "python", "-c", script).stdout


def sample_records(project: Path, count: int) -> list[dict]:
    statement = f"print(m.generate({count}, seed=123).drop(columns=[t]).to_json(orient='records'))"
    return json.loads(with_sample_data(project, statement))


def in_process(project: Path, records: list[dict], env: dict | None = None) -> dict:
    """Predictions of the registry champion by the fitted pipeline itself."""
    path = project / "records.json"
    path.write_text(json.dumps(records))
    script = Path(__file__).parents[2] / "devtools" / "in_project" / "predict_in_process.py"
    return json.loads(in_project(project, "python", str(script), str(path), env=env).stdout)


def assert_same_predictions(served: list, expected: dict, classification: bool) -> None:
    labels = [item["prediction"] for item in served]
    if not classification:
        assert labels == pytest.approx(expected["labels"], rel=1e-4)
        return
    agree = sum(a == b for a, b in zip(labels, expected["labels"], strict=True))
    assert agree / len(labels) >= 0.98
    for item, row in zip(served, expected["probabilities"], strict=True):
        got = [item["probabilities"][name] for name in expected["classes"]]
        assert got == pytest.approx(row, abs=0.05)


def test_service_over_http(deep):
    records = sample_records(deep.path, 60)
    classification = deep.task != "regression"
    log_dir = deep.path / "logs" / "predictions-over-http"
    env = {"SERVE_PREDICTION_LOG_DIR": str(log_dir), "SERVE_MAX_BATCH_SIZE": "100"}
    service = start_ready_service(deep.path, deep.slug, env)
    try:
        base = f"http://127.0.0.1:{service.port}"
        client = httpx.Client(base_url=base, timeout=30)
        served = 0

        champion = project_facts(deep.path)["aliases"]["champion"]
        metadata = client.get("/metadata").json()
        assert metadata["version"] == champion and metadata["alias"] == "champion"
        assert metadata["backend"] == "onnx"  # every family converts
        assert "onnx_unavailable" not in metadata
        assert client.get("/health").json() == {"status": "ok"}

        expected = in_process(deep.path, records)
        singles = [client.post("/predict", json=r).json() for r in records[:10]]
        served += 10
        assert_same_predictions(singles, _slice(expected, 10), classification)
        batch = client.post("/predict/batch", json={"records": records})
        served += len(records)
        assert batch.status_code == 200, batch.text
        assert_same_predictions(batch.json()["predictions"], expected, classification)
        invocations = client.post("/invocations", json={"dataframe_records": records})
        served += len(records)
        assert invocations.json()["predictions"] == [
            p["prediction"] for p in batch.json()["predictions"]
        ]

        bad = {**records[0], "surprise": 1}
        assert client.post("/predict", json=bad).status_code == 422
        assert client.post("/predict", content=b"{", headers=_json).status_code == 422
        too_many = client.post("/predict/batch", json={"records": records * 2})
        assert too_many.status_code == 422
        assert client.get("/health").status_code == 200

        metrics = client.get("/metrics").text
        assert 'endpoint="/predict",method="POST",status="200"' in metrics
    finally:
        stop_service(service)
    logged = [line for path in log_dir.glob("*.jsonl") for line in path.read_text().splitlines()]
    assert len(logged) == served
    assert json.loads(logged[0])["model_version"] == champion


def serve_simulated_traffic(deep: Deep, log_dir: Path, *flags: str) -> str:
    """Run the service, send it `simulate-drift` traffic, stop it (which
    flushes the prediction log into log_dir); returns its /metrics page."""
    env = {"SERVE_PREDICTION_LOG_DIR": str(log_dir)}
    service = start_ready_service(deep.path, deep.slug, env)
    try:
        url = f"http://127.0.0.1:{service.port}"
        sent = in_project(deep.path, deep.slug, "simulate-drift", "--url", url, *flags)
        assert f"{TRAFFIC_ROWS} " in sent.stdout
        return httpx.get(f"{url}/metrics").text
    finally:
        stop_service(service)


def monitor(deep: Deep, log_dir: Path, output: Path) -> tuple[int, dict]:
    command = ["monitor", "--log-dir", str(log_dir), "--output", str(output)]
    result = in_project(deep.path, deep.slug, *command, check=False)
    assert result.returncode in (0, 2), result.stdout + result.stderr
    return result.returncode, json.loads((output / "summary.json").read_text())


@dataclass
class DriftRun:
    calm: tuple[int, dict]  # monitor's exit status and summary, unshifted traffic
    shifted: tuple[int, dict]  # the same, shifted traffic
    report: Path  # the shifted run's output directory
    service_metrics: str  # the service's /metrics page after the shifted traffic


@pytest.fixture(scope="module")
def drift_run(deep, tmp_path_factory) -> DriftRun:
    """traffic -> prediction log -> monitor, on the real service, twice."""
    scratch = tmp_path_factory.mktemp(f"drift-{deep.task}")
    rows = str(TRAFFIC_ROWS)
    serve_simulated_traffic(deep, scratch / "calm", "--rows", rows, "--no-shift")
    calm = monitor(deep, scratch / "calm", scratch / "calm-report")
    service_metrics = serve_simulated_traffic(
        deep, scratch / "shifted", "--rows", rows, "--seed", "7"
    )
    shifted = monitor(deep, scratch / "shifted", scratch / "report")
    return DriftRun(calm, shifted, scratch / "report", service_metrics)


# A classifier's prediction drift (probabilities) and a regressor's (values);
# every task's monitoring runs in its project's tests/test_monitoring.py.
@pytest.mark.deep_tasks("binary_classification", "regression")
def test_monitor_sees_simulated_drift_and_only_that(deep, drift_run):
    shift = yaml.safe_load((deep.path / "params.yaml").read_text())["monitoring"]["simulate"]
    features = yaml.safe_load((deep.path / "schema.yaml").read_text())["features"]

    status, summary = drift_run.calm
    assert status == 0 and summary["verdict"]["drift_detected"] is False
    assert summary["drifted_features"] == []

    status, summary = drift_run.shifted
    assert status == 2 and summary["verdict"]["drift_detected"] is True
    assert set(summary["drifted_features"]) == {
        shift["numeric_feature"],
        shift["categorical_feature"],
    }
    assert summary["rows"]["current"] == TRAFFIC_ROWS
    assert summary["predictions"], "prediction drift was not computed"

    report = (drift_run.report / "report.html").read_text()
    assert report.count("data:image/png;base64,") == len(features) + 1  # + PSI chart
    textfile = (drift_run.report / "monitor.prom").read_text()
    assert "monitor_drift_detected 1.0" in textfile

    # The Grafana dashboard asks only for metrics the service or the monitor exports.
    exported = drift_run.service_metrics + textfile
    for name in dashboard_metric_names(deep.path / "deploy/observability/grafana-dashboard.json"):
        base = re.sub(r"_(total|bucket)$", "", name)
        assert re.search(rf"^(# TYPE )?({name}|{base})\b", exported, re.M), name


# One report generator for every task.
@pytest.mark.deep_tasks("binary_classification")
def test_drift_report_renders_in_chromium(deep, drift_run):
    """Headless Chromium opens the report without errors and every chart decodes.
    .ci/run makes sure a Chromium is there and sets REQUIRE_CHROMIUM: there a
    missing browser fails; elsewhere it skips."""
    chromium = os.environ.get("CHROMIUM") or next(
        filter(None, map(shutil.which, ("chromium", "google-chrome"))), None
    )
    if not chromium:
        if os.environ.get("REQUIRE_CHROMIUM"):
            pytest.fail("REQUIRE_CHROMIUM is set but no chromium was found")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    features = yaml.safe_load((deep.path / "schema.yaml").read_text())["features"]
    screenshot = drift_run.report / "report.png"
    node = Path(sys.executable).parent / "node"
    page = drift_run.report / "report.html"
    result = subprocess.run(
        [str(node), str(BROWSER_CHECK), str(page), str(screenshot)],
        env={**os.environ, "CHROMIUM": chromium},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    checked = json.loads(result.stdout.strip().splitlines()[-1])
    assert checked == {"images": len(features) + 1, "problems": []}
    assert screenshot.stat().st_size > 50_000  # a page of charts, not a blank one


# uvicorn's worker processes are the same for every task.
@pytest.mark.deep_tasks("regression")
def test_every_worker_process_writes_json_logs(deep):
    """With --workers 2, each worker loads the model and logs its requests
    as JSON lines (logging set up in the parent alone reached no worker)."""
    env = {"SERVE_PREDICTION_LOG_DIR": ""}
    service = start_ready_service(deep.path, deep.slug, env, options=("--workers", "2"))
    try:
        log_path = Path(service.log_file.name)
        deadline = time.monotonic() + 120
        while log_path.read_text().count('"model ready"') < 2:
            assert service.process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.3)
        for _ in range(10):
            httpx.get(f"http://127.0.0.1:{service.port}/health", timeout=30)
    finally:
        log = stop_service(service)
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    ready = [entry for entry in entries if entry["message"] == "model ready"]
    assert len({entry["process"] for entry in ready}) == 2
    requests = [entry for entry in entries if entry["message"] == "request"]
    assert len(requests) >= 10 and {entry["status"] for entry in requests} == {200}


def dashboard_metric_names(dashboard: Path) -> set[str]:
    names = set()
    for panel in json.loads(dashboard.read_text())["panels"]:
        for target in panel["targets"]:
            expr = re.sub(r"by \([^)]*\)|\[[^\]]*\]", "", target["expr"])
            names |= set(re.findall(r"\b([a-z_][a-z0-9_]*)\b(?!\s*\()", expr))
    assert names, "no metric names found"
    return names


# A classifier's answers and a regressor's: their response models differ.
@pytest.mark.deep_tasks("binary_classification", "regression")
def test_service_openapi_fuzzing(deep):
    """schemathesis against the live OpenAPI document: no 5xx, documented
    status codes, responses that match the schema."""
    service = start_ready_service(deep.path, deep.slug, {"SERVE_PREDICTION_LOG_DIR": ""})
    try:
        fuzz(f"http://127.0.0.1:{service.port}/openapi.json")
    finally:
        stop_service(service)


_json = {"content-type": "application/json"}


def _slice(expected: dict, count: int) -> dict:
    return {
        k: v[:count] if isinstance(v, list) and k != "classes" else v for k, v in expected.items()
    }


def fuzz(schema: str) -> None:
    # /invocations accepts column-oriented formats whose row lengths JSON
    # Schema cannot express: there, positive-data acceptance is not checked.
    command = [str(Path(sys.executable).with_name("schemathesis")), "run", schema]
    options = ["--checks", "all", "--max-examples", "15", "--workers", "1", "--seed", "1"]
    run([*command, *options, "--exclude-path", "/invocations"], Path.cwd())
    invocations = ["--include-path", "/invocations"]
    run(
        [*command, *options, *invocations, "--exclude-checks", "positive_data_acceptance"],
        Path.cwd(),
    )


# The same image for every task; this one's champion is xgboost's.
@pytest.mark.deep_tasks("multiclass_classification")
def test_image_entry_command_runs_in_an_environment_built_like_the_image(deep, image, tmp_path):
    """No Docker engine here: build the environment with the Dockerfile's own uv
    commands and files, then run its CMD and HEALTHCHECK against the exported model."""
    # The serving and batch groups, then the project alone: no training stack.
    assert uv_commands(deep.path / "Dockerfile") == [
        ["sync", "--only-group", "serving", "--only-group", "batch"],
        ["pip", "install", "--python", "/app/.venv", "--no-deps", "."],
    ]
    app, env, final_stage = image.app, image.env, image.final_stage
    venv = app / ".venv"
    assert not (venv / "bin" / "dvc").exists(), "dev dependencies leaked into the image"
    for left_out in ("psycopg", "mlflow", "sklearn", "xgboost", "skl2onnx"):
        assert not list(venv.glob(f"lib/*/site-packages/{left_out}")), left_out

    port = free_port()
    command = json.loads(next(args for k, args in final_stage if k == "CMD"))
    command = [c.replace("0.0.0.0", "127.0.0.1").replace("8000", str(port)) for c in command]
    # Its output in a file, for wait_until_ready's message if it exits early.
    log = (tmp_path / "image-service.log").open("w")
    process = subprocess.Popen(
        command, cwd=app, env={**project_env(), **env}, stdout=log, stderr=subprocess.STDOUT
    )
    service = Service(process, log)
    try:
        wait_until_ready(service, port)
        healthcheck = next(args for k, args in final_stage if k == "HEALTHCHECK")
        probe = json.loads(healthcheck.split(" CMD ", 1)[1].replace("8000", str(port)))
        assert subprocess.run(probe, cwd=app, env={**project_env(), **env}).returncode == 0
        record = sample_records(deep.path, 1)[0]
        answer = httpx.post(f"http://127.0.0.1:{port}/predict", json=record, timeout=30)
        assert answer.status_code == 200, answer.text
        metadata = httpx.get(f"http://127.0.0.1:{port}/metadata").json()
        assert metadata["alias"] == "champion"
        assert metadata["backend"] == "onnx", metadata.get("onnx_unavailable")
    finally:
        process.terminate()
        assert process.wait(60) in (0, -signal.SIGTERM)
        log.close()


def records_with_nulls(project: Path) -> list[dict]:
    """Sample records: each feature missing in turn, then every nullable one at once."""
    features = yaml.safe_load((project / "schema.yaml").read_text())["features"]
    records = sample_records(project, len(features) + 2)
    for row, feature in zip(records, features, strict=False):
        row[feature["name"]] = None
    for feature in features:
        if feature.get("nullable"):
            records[-1][feature["name"]] = None
    return records


def start_mlflow_serve(project: Path, model_uri: str, port: int) -> Service:
    """`mlflow models serve` in the project's environment: MLflow alone, no
    project code between the request and the model."""
    venv = project / ".venv" / "bin"
    env = {
        # mlflow starts `uvicorn` by name: the project's venv must be on PATH.
        "PATH": f"{venv}{os.pathsep}{os.environ['PATH']}",
        "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
    }
    options = ["-h", "127.0.0.1", "-p", str(port), "-w", "1", "--env-manager", "local"]
    log = (project / f"mlflow-serve-{port}.log").open("w")
    process = subprocess.Popen(
        [str(venv / "mlflow"), "models", "serve", "-m", model_uri, *options],
        cwd=project,
        env={**project_env(), **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    service = Service(process, log, port)
    try:
        wait_until_ready(service, port, path="/health")
    except AssertionError:
        process.kill()
        log.close()
        raise
    return service


# The server's handling of nulls and types is the same for every task (each
# project's tests/test_logged_model.py checks its pyfunc model).
@pytest.mark.deep_tasks("binary_classification", "regression")
def test_mlflow_models_serve_answers_like_the_project(deep):
    """The registry's champion served by `mlflow models serve` predicts what
    the project's own code predicts, on records with missing values."""
    records = records_with_nulls(deep.path)
    name = yaml.safe_load((deep.path / "params.yaml").read_text())["register"]["model_name"]
    port = free_port()
    service = start_mlflow_serve(deep.path, f"models:/{name}@champion", port)
    url = f"http://127.0.0.1:{port}/invocations"
    try:
        # One request for all, one for the last alone: a column of nulls
        # only reaches the model as None, not NaN.
        answers = [
            httpx.post(url, json={"dataframe_records": batch}, timeout=60)
            for batch in (records, records[-1:])
        ]
    finally:
        service.process.terminate()
        service.process.wait(60)
        service.log_file.close()
    for answer in answers:
        assert answer.status_code == 200, answer.text
    served = [p for answer in answers for p in answer.json()["predictions"]]
    expected = in_process(deep.path, records)["labels"]
    expected += expected[-1:]
    if deep.task == "regression":
        assert served == pytest.approx(expected, rel=1e-9)
    else:
        assert served == expected


def write_sample_file(project: Path, path: Path, rows: int, seed: int) -> None:
    """A CSV of the project's own sample data, as an owner's data file."""
    with_sample_data(project, f"m.generate({rows}, seed={seed}).to_csv({str(path)!r}, index=False)")


def test_own_data_under_data_raw_is_prepared_and_its_changes_retrain(deep):
    """README "Bring your own data": a file under data/raw/, tracked with
    `dvc add`, replaces the sample; a changed file re-runs the pipeline even
    when params.yaml stays the same. Last in the module: it leaves the data
    source switched (params.yaml is restored)."""
    params_file = deep.path / "params.yaml"
    original = params_file.read_text()
    own = deep.path / "data" / "raw" / "own.csv"
    try:
        write_sample_file(deep.path, own, rows=300, seed=5)
        in_project(deep.path, "dvc", "add", "data/raw/own.csv")
        edit_params(deep.path, lambda p: p["data"].update(source="file", path="data/raw/own.csv"))
        prepared = in_project(deep.path, "dvc", "repro", "prepare")
        assert "prepared 300 rows" in prepared.stdout
        assert "warning" not in prepared.stderr

        write_sample_file(deep.path, own, rows=400, seed=6)
        status = in_project(deep.path, "dvc", "status", "prepare").stdout
        assert "modified:" in status and "data/raw" in status, status
        assert "prepared 400 rows" in in_project(deep.path, "dvc", "repro", "prepare").stdout
    finally:
        params_file.write_text(original)
