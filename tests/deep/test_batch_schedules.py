"""Scheduled batch scoring, for real on the deep project: batch.yml's `run:`
steps score the holdout split as a scheduled run would on the day the
project is generated, and the Kubernetes CronJob's command scores a batch in
an environment built like the serving image, with the model baked into it.
One task each: the scoring itself is tested per task elsewhere. The CronJob
runs on the task whose image test_generated_project.py builds, in that image."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from devtools.testing.kustomize import build
from devtools.testing.projects import in_project, project_env
from devtools.testing.workflows import execute, read_run_steps, runner_env, should_run

pytestmark = pytest.mark.slow
WORKFLOW = ".github/workflows/batch.yml"
# Steps that only GitHub can run; every other step must have an id to be run here.
GITHUB_ONLY = ("actions/checkout@", "astral-sh/setup-uv@", "actions/upload-artifact@")


def batch_steps(project: Path):
    (job,) = yaml.safe_load((project / WORKFLOW).read_text())["jobs"].values()
    ids = {step.get("id") for step in job["steps"] if "run" in step}
    assert None not in ids, "give every run: step of batch.yml an id, so it is run here"
    assert all(step["uses"].startswith(GITHUB_ONLY) for step in job["steps"] if "uses" in step)
    return read_run_steps(project / WORKFLOW, ids)


# Run with the project's pandas: the template's environment has no pyarrow.
PARQUET_FACTS = """
import json, sys
import pandas as pd
frame = pd.read_parquet(sys.argv[1])
lineage = {c: sorted(set(frame[c])) for c in ("model_name", "model_version") if c in frame}
print(json.dumps({"rows": len(frame), **lineage}))
"""


def parquet_facts(project: Path, path: Path) -> dict:
    """Rows, and model names and versions if scored, of a Parquet file or folder."""
    output = in_project(project, "python", "-c", PARQUET_FACTS, str(path)).stdout
    return json.loads(output.strip().splitlines()[-1])


@pytest.mark.deep_tasks("binary_classification")
def test_the_batch_workflow_scores_the_holdout_with_the_pipelines_model(deep):
    """No variables or secrets, as on the day the project is generated: the
    pipeline's model scores the holdout split into scores/batch_id=<id>/."""
    made = [deep.path / "scores", deep.path / "batch"]
    env, results = runner_env(), {}
    try:
        for step in batch_steps(deep.path):
            if should_run(step):
                if step.name.startswith("Score"):
                    step.env["BATCH_ID"] = "nightly-1"  # as workflow_dispatch's input
                result = execute(step, deep.path, env)
                output = result.stdout + result.stderr
                assert result.returncode == 0, f"{step.name} failed:\n{output[-6000:]}"
                results[step.name] = result
        (score,) = [result for name, result in results.items() if name.startswith("Score")]
        assert score.outputs == {"batch_id": "nightly-1", "output": "scores"}
        assert score.summary.startswith("### Batch scoring: nightly-1\n")
        line = score.summary.splitlines()[-1]
        holdout = parquet_facts(deep.path, deep.path / "data/split/holdout.parquet")
        counts = re.search(rf"{holdout['rows']} rows in, (\d+) scored", line)
        assert counts, line
        scores = parquet_facts(deep.path, deep.path / "scores" / "batch_id=nightly-1")
        assert scores["model_name"] == ["models/model"]
        assert scores["rows"] == int(counts[1]) > 0
        assert (deep.path / "batch" / "rejects-nightly-1.csv").exists()
        assert (deep.path / "batch" / "summary-nightly-1.txt").read_text().strip() == line
    finally:
        for path in made:
            shutil.rmtree(path, ignore_errors=True)


def expand(value: str, env: dict[str, str]) -> str:
    """Kubernetes' $(NAME) in command and args; an undefined name stays as is."""
    return re.sub(r"\$\((\w+)\)", lambda match: env.get(match[1], match[0]), value)


@pytest.mark.deep_tasks("multiclass_classification")
def test_the_cronjob_scores_a_batch_in_an_environment_built_like_the_image(deep, image, tmp_path):
    """The CronJob's command and environment, with /app and /data moved to
    folders here: the serving image can score with the model baked into it."""
    data = tmp_path / "data"
    resources = build(deep.path / "deploy" / "k8s" / "base")
    (cronjob,) = [r for r in resources if r["kind"] == "CronJob"]
    (configmap,) = [r for r in resources if r["kind"] == "ConfigMap"]
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]

    def here(value: str) -> str:
        return value.replace("/app", str(image.app)).replace("/data", str(data))

    env = {**configmap["data"], **{v["name"]: v["value"] for v in container["env"]}}
    env = {name: here(value) for name, value in env.items()}
    incoming = Path(env["BATCH_INPUT"])
    incoming.mkdir(parents=True)
    shutil.copy(deep.path / "data" / "split" / "holdout.parquet", incoming / "part-0.parquet")
    command = [expand(part, env) for part in container["command"] + container["args"]]
    result = subprocess.run(
        command,
        cwd=image.app,  # the image's WORKDIR
        env={**project_env(), **image.env, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = parquet_facts(deep.path, incoming)["rows"]
    assert f"{rows} rows in" in result.stdout
    output = Path(env["BATCH_OUTPUT"])
    (partition,) = output.glob("batch_id=*")
    scores = parquet_facts(deep.path, partition)
    assert 0 < scores["rows"] <= rows
    baked = json.loads((image.app / "model" / "metadata.json").read_text())
    assert baked["alias"] == "champion" and scores["model_version"] == [baked["version"]]
    assert list(output.glob("_rejects/batch_id=*.csv"))
