"""The deep tests' project: one per task, rendered, synced, committed as the
README says, and put through every `run:` step of its own ci.yml."""

from dataclasses import dataclass
from pathlib import Path

from devtools.testing.projects import project_answers, render, run, sync
from devtools.testing.template_repo import GIT_IDENTITY
from devtools.testing.workflows import execute, read_run_steps, runner_env, should_run

# gradient_boosting and linear run whole pipelines in test_own_data.py and
# test_team_stack.py; every family's ONNX parity is in each project's pytest.
DEEP_CASES = {
    "binary_classification": "random_forest",
    "multiclass_classification": "xgboost",
    "regression": "lightgbm",
}


@dataclass
class Deep:
    path: Path
    task: str
    slug: str
    ci_output: dict[str, str]  # "job: step name" -> what the step printed


def build_deep_project(parent: Path, task: str) -> Deep:
    """Render, `uv sync` (which writes uv.lock), make the first commit, then
    run ci.yml's `run:` steps as GitHub would on a checkout of that commit."""
    path = render(parent, task=task, model_family=DEEP_CASES[task])
    sync(path)
    first_commit(path)
    slug = project_answers(path)["project_slug"]
    return Deep(path, task, slug, run_ci_steps(path))


def first_commit(project: Path) -> None:
    """The README's first commit: DVC's Git integration on, everything committed."""
    (project / ".dvc" / "config.local").unlink()
    run(["git", "init", "--quiet"], project)
    run(["git", "add", "--all"], project)
    run(["git", "commit", "--quiet", "--message", "First commit"], project, env=GIT_IDENTITY)


def run_ci_steps(project: Path) -> dict[str, str]:
    """Every `run:` step of the generated ci.yml, in order; fails on the first
    step that fails, naming it."""
    env = runner_env()
    outputs = {}
    for step in read_run_steps(project / ".github/workflows/ci.yml"):
        if not should_run(step):
            continue
        result = execute(step, project, env)
        output = result.stdout + result.stderr
        where = f"ci.yml job {step.job!r}, step {step.name!r}"
        assert result.returncode == 0, f"{where} failed:\n{step.script}\n{output[-6000:]}"
        outputs[f"{step.job}: {step.name}"] = output
    return outputs
