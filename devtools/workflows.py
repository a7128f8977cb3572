"""Run a generated workflow's `run:` steps locally, as GitHub would run them.

`uses:` steps are skipped: what they install (uv, Python) is already here.
Expressions are refused except the few this module can evaluate without
GitHub (repository variables and secrets are unset here), so a step that
depends on anything else fails the test that runs it instead of being
silently misread.
"""

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
UNSET_CONTEXTS = ("vars.", "secrets.")  # unset outside GitHub
# `if:` conditions this module understands: a repository variable is set.
VARIABLE_IS_SET = re.compile(r"^vars\.\w+ != ''$")


@dataclass
class Step:
    job: str
    name: str
    script: str
    env: dict[str, str]
    condition: str | None


def _resolve(value: str, where: str) -> str:
    def replace(match: re.Match) -> str:
        expression = match.group(1)
        if expression.startswith(UNSET_CONTEXTS):
            return ""
        raise ValueError(f"{where}: cannot evaluate ${{{{ {expression} }}}} locally")

    return EXPRESSION.sub(replace, str(value))


def _env(mapping: dict | None, where: str) -> dict[str, str]:
    return {key: _resolve(value, where) for key, value in (mapping or {}).items()}


def run_steps(workflow: Path) -> list[Step]:
    """Every `run:` step of every job, in file order, with its environment."""
    document = yaml.safe_load(workflow.read_text())
    workflow_env = _env(document.get("env"), workflow.name)
    steps = []
    for job_id, job in document["jobs"].items():
        job_env = {**workflow_env, **_env(job.get("env"), job_id)}
        for index, step in enumerate(job["steps"]):
            if "run" not in step:
                continue
            name = step.get("name", f"step {index + 1}")
            where = f"{workflow.name} {job_id}: {name}"
            if EXPRESSION.search(step["run"]):
                raise ValueError(f"{where}: expressions in run: (use env: instead)")
            env = {**job_env, **_env(step.get("env"), where)}
            steps.append(Step(job_id, name, step["run"], env, step.get("if")))
    return steps


def should_run(step: Step) -> bool:
    if step.condition is None:
        return True
    if VARIABLE_IS_SET.match(step.condition):
        return False  # no repository variables here
    raise ValueError(f"{step.job}: {step.name}: cannot evaluate if: {step.condition}")


def execute(step: Step, cwd: Path, env: dict[str, str], timeout: int = 1200):
    """Run one step with GitHub's default shell; returns the completed process."""
    with tempfile.TemporaryDirectory() as scratch:
        github = {
            "CI": "true",
            "GITHUB_OUTPUT": f"{scratch}/output",
            "GITHUB_STEP_SUMMARY": f"{scratch}/summary",
            "GITHUB_ENV": f"{scratch}/env",
            "RUNNER_TEMP": scratch,
        }
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step.script],
            cwd=cwd,
            env={**env, **github, **step.env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
