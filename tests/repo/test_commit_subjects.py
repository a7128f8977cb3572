"""CI's commit subject check (devtools/maintainer/commit_subjects.py) on a
throwaway repository: a range with a subject over 72 characters fails and
names it; a new branch (all-zero base) checks its head commit alone."""

import os
import subprocess
import sys
from pathlib import Path

from devtools.testing.projects import TEMPLATE_ROOT
from devtools.testing.template_repo import GIT_IDENTITY

LONG = "Say in one subject line everything that this commit does, and why it does"


def commit(repo: Path, subject: str) -> str:
    subprocess.run(
        ["git", "commit", "--quiet", "--allow-empty", "-m", subject],
        cwd=repo,
        env=os.environ | GIT_IDENTITY,
        check=True,
    )
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()


def check(repo: Path, base: str, head: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devtools.maintainer.commit_subjects", base, head],
        cwd=repo,
        env=os.environ | {"PYTHONPATH": str(TEMPLATE_ROOT)},
        capture_output=True,
        text=True,
    )


def test_a_subject_over_72_characters_fails_the_range(tmp_path):
    assert len(LONG) == 73
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    first = commit(tmp_path, "Start")
    short = commit(tmp_path, "x" * 72)
    assert check(tmp_path, first, short).returncode == 0
    long = commit(tmp_path, LONG)
    result = check(tmp_path, first, long)
    assert result.returncode == 1
    assert result.stdout == f"commit subject over 72 characters (73): {LONG}\n"
    assert check(tmp_path, "0" * 40, short).returncode == 0  # a new branch: its head alone
    assert check(tmp_path, "0" * 40, long).returncode == 1
