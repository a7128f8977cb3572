"""Commit subjects of a pushed or proposed range are at most 72 characters
(git's one-line logs and GitHub's lists cut longer ones). CI runs it:

    python3 -m devtools.maintainer.commit_subjects BASE HEAD

BASE may be all zeros (a new branch) or missing after a force push: then
HEAD's own commit alone is checked.
"""

import subprocess
import sys

LIMIT = 72


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], capture_output=True, text=True)


def subjects(base: str, head: str) -> list[str]:
    """The subjects of the commits in base..head (of head alone without a base)."""
    known = base.strip("0") and git("cat-file", "-e", f"{base}^{{commit}}").returncode == 0
    revisions = [f"{base}..{head}"] if known else ["-1", head]
    log = git("log", "--format=%s", *revisions)
    if log.returncode != 0:
        raise SystemExit(f"error: git log {' '.join(revisions)}: {log.stderr.strip()}")
    return log.stdout.splitlines()


def main(argv: list[str]) -> int:
    base, head = argv
    too_long = [subject for subject in subjects(base, head) if len(subject) > LIMIT]
    for subject in too_long:
        print(f"commit subject over {LIMIT} characters ({len(subject)}): {subject}")
    return 1 if too_long else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
