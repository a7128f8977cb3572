"""Releases are defined by what lands on main: pyproject.toml's version with
its CHANGELOG.md section (devtools/maintainer/release.py). The release workflow's step
runs here on a throwaway repository, with a `gh` stand-in that tags as the
GitHub API would: a new version is tagged once, with its section as notes;
an unchanged one is not; a version without its section fails."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from devtools.maintainer import release
from devtools.testing.template_repo import GIT_IDENTITY

ROOT = Path(__file__).parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
# What the release step reads, as a commit of main holds it.
RELEASE_FILES = (
    "pyproject.toml",
    "CHANGELOG.md",
    "copier.yml",
    "devtools/__init__.py",
    "devtools/maintainer/__init__.py",
    "devtools/maintainer/release.py",
)
GH_STAND_IN = """#!/bin/sh
# gh release create TAG --target SHA ...: the tag, as GitHub would make it.
echo "$@" >> "$GH_LOG"
[ "$1 $2 $4" = "release create --target" ] || exit 2
git tag "$3" "$5"
"""


def test_the_version_has_its_changelog_section_and_migrations_no_version():
    assert release.check() == []


def test_a_migration_keyed_by_version_is_refused(tmp_path):
    for name in ("pyproject.toml", "CHANGELOG.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    config["_migrations"] = [{"version": "v9.9.9", "command": "true"}]
    (tmp_path / "copier.yml").write_text(yaml.safe_dump(config))
    [problem] = release.check(tmp_path)
    assert "_migrations[0] has a version" in problem


@pytest.fixture
def main_branch(tmp_path) -> Path:
    """A repository holding what the release step reads, and a `gh` stand-in."""
    repo = tmp_path / "repo"
    for name in RELEASE_FILES:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, repo / name)
    git(repo, "init", "--quiet")
    commit(repo, "What landed on main")
    stand_in = tmp_path / "bin" / "gh"
    stand_in.parent.mkdir()
    stand_in.write_text(GH_STAND_IN)
    stand_in.chmod(0o755)
    return repo


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, env=GIT_ENV
    )
    return result.stdout.strip()


GIT_ENV = {**os.environ, **GIT_IDENTITY}


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)


def release_step() -> str:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["release"]["steps"]
    [script] = [
        step["run"] for step in steps if "devtools.maintainer.release plan" in step.get("run", "")
    ]
    return script


def run_release_step(repo: Path) -> subprocess.CompletedProcess:
    """The step as GitHub runs it (bash -e), on the repository's HEAD."""
    scratch = repo.parent
    env = {
        **GIT_ENV,
        "PATH": f"{scratch / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "GH_LOG": str(scratch / "gh.log"),
        "GH_TOKEN": "stand-in",
        "GITHUB_SHA": git(repo, "rev-parse", "HEAD"),
        "GITHUB_STEP_SUMMARY": str(scratch / "summary.md"),
        "RUNNER_TEMP": str(scratch),
    }
    return subprocess.run(
        ["bash", "-e", "-c", release_step()], cwd=repo, env=env, capture_output=True, text=True
    )


def test_a_new_version_is_tagged_once_with_its_changelog_section(main_branch):
    version = release.version(main_branch)
    first = run_release_step(main_branch)
    assert first.returncode == 0, first.stdout + first.stderr
    head = git(main_branch, "rev-parse", "HEAD")
    assert git(main_branch, "rev-list", "-n", "1", f"v{version}") == head
    notes = (main_branch.parent / "release-notes.md").read_text()
    assert notes.strip() == release.changelog_section(version, main_branch)
    assert f"Released v{version}." in first.stdout

    # A later push that keeps the version releases nothing.
    (main_branch / "README.md").write_text("A fix that is not a release.\n")
    commit(main_branch, "A fix")
    second = run_release_step(main_branch)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "is released already" in second.stdout
    assert (main_branch.parent / "gh.log").read_text().count("release create") == 1


def test_a_version_without_its_changelog_section_fails_and_tags_nothing(main_branch):
    pyproject = main_branch / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            f'version = "{release.version(main_branch)}"', 'version = "99.0.0"'
        )
    )
    commit(main_branch, "Bump without a changelog")
    result = run_release_step(main_branch)
    assert result.returncode != 0
    assert "no section '## v99.0.0'" in result.stderr
    assert git(main_branch, "tag", "--list") == ""
