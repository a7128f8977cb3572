"""Throwaway git copies of this template, tagged like releases, for the tests
of `copier update`, the template-sync workflow and the cookiecutter entry."""

import os
import shutil
import subprocess
from pathlib import Path

from devtools.testing.projects import TEMPLATE_ROOT

GIT_IDENTITY = {
    key: value
    for who in ("AUTHOR", "COMMITTER")
    for key, value in ((f"GIT_{who}_NAME", "Test"), (f"GIT_{who}_EMAIL", "test@example.com"))
}


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a fixed identity; fail with its output."""
    result = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **GIT_IDENTITY},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {repo}:\n{result.stderr}")
    return result.stdout


def working_tree_files() -> list[str]:
    """This template's files as a commit of the working tree would hold them:
    tracked and new files, without what .gitignore leaves out."""
    listing = git(TEMPLATE_ROOT, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return [name for name in listing.split("\0") if name and (TEMPLATE_ROOT / name).is_file()]


def snapshot(destination: Path, tag: str | None) -> Path:
    """A new git repository holding this template's working tree, tagged `tag`
    (None: not tagged, as on a branch whose tags stayed in someone's clone)."""
    for name in working_tree_files():
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TEMPLATE_ROOT / name, target)
    git(destination, "init", "--quiet", "--initial-branch", "main")
    release(destination, tag)
    return destination


def release(repo: Path, tag: str | None) -> None:
    """Commit everything in `repo` and tag it (unless `tag` is None), as a
    template release."""
    commit_all(repo, f"Release {tag or '(untagged)'}")
    if tag:
        git(repo, "tag", tag)


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "--message", message)
