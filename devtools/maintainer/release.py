"""Releases are defined by what lands on main: the version in pyproject.toml,
with its section in CHANGELOG.md (`## vX.Y.Z`). Tags made in a working copy
do not travel, so the release workflow (.github/workflows/release.yml) runs
`plan` on every push to main and creates the tag when it does not exist
yet; the template's tests run `check`.

    python3 -m devtools.maintainer.release plan --notes FILE   # prints the tag to create, if any
    python3 -m devtools.maintainer.release check               # the version and the changelog agree

`plan` uses the standard library only: the workflow runs it with the
runner's Python, before anything is installed.
"""

import argparse
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class ReleaseError(RuntimeError):
    pass


def version(root: Path = ROOT) -> str:
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]


def changelog_section(release: str, root: Path = ROOT) -> str:
    """The entries under `## v<release>` in CHANGELOG.md."""
    text = (root / "CHANGELOG.md").read_text()
    heading = re.search(rf"^## v{re.escape(release)}[ \t]*$", text, re.MULTILINE)
    if heading is None:
        raise ReleaseError(
            f"CHANGELOG.md has no section '## v{release}' for pyproject.toml's "
            "version: move the Unreleased entries under it"
        )
    body = text[heading.end() :]
    following = re.search(r"^## ", body, re.MULTILINE)
    section = body[: following.start() if following else None].strip()
    if not section:
        raise ReleaseError(f"CHANGELOG.md's section '## v{release}' is empty")
    return section


def tag_exists(tag: str, root: Path = ROOT) -> bool:
    result = subprocess.run(
        ["git", "tag", "--list", tag], cwd=root, capture_output=True, text=True, check=True
    )
    return bool(result.stdout.strip())


def plan(notes: Path, root: Path = ROOT) -> str | None:
    """The tag to create for this commit (its notes written to `notes`), or
    None when pyproject.toml's version is released already."""
    release = version(root)
    section = changelog_section(release, root)
    tag = f"v{release}"
    if tag_exists(tag, root):
        return None
    notes.write_text(section + "\n")
    return tag


def check(root: Path = ROOT) -> list[str]:
    """Problems that would stop or spoil a release: a version without its
    changelog section, and migrations keyed by version (they never run for
    an owner at an untagged commit: see docs/maintainers.md)."""
    import yaml  # not in plan(): the workflow's runner has no PyYAML

    problems = []
    try:
        changelog_section(version(root), root)
    except ReleaseError as error:
        problems.append(str(error))
    config = yaml.safe_load((root / "copier.yml").read_text())
    for index, migration in enumerate(config.get("_migrations") or []):
        if isinstance(migration, dict) and "version" in migration:
            problems.append(
                f"copier.yml _migrations[{index}] has a version: copier skips it for "
                "owners at untagged commits; make it state-based instead"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    planning = commands.add_parser("plan", help="print the tag to create, if any")
    planning.add_argument("--notes", type=Path, required=True, help="release notes to write")
    commands.add_parser("check", help="the version, the changelog and copier.yml agree")
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "plan":
            print(plan(arguments.notes) or "", end="")
            return 0
        problems = check()
    except ReleaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
