"""Migrations that `copier update` runs in a generated project (`_migrations`
in copier.yml), from the project's root, with the interpreter running copier.

Each one is safe to run twice: it looks at the state it would produce
before it changes anything, and says what it did on standard output.

    python hooks/migrations.py moved OLD NEW --template SRC --from-version REF
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import copier
import yaml

# The labels copier itself writes around an inline conflict.
OWNER_LABEL, BASE_LABEL, TEMPLATE_LABEL = "before updating", "last update", "after updating"


def committed_text(path: str) -> str | None:
    """The file as the last commit has it: the project before this update."""
    result = subprocess.run(
        ["git", "show", f"HEAD:{path}"], capture_output=True, text=True, check=False
    )
    return result.stdout if result.returncode == 0 else None


def rendered_text(path: str, template: str, version: str, answers_file: str) -> str | None:
    """The file as template `version` rendered it for this project's answers."""
    answers = yaml.safe_load(committed_text(answers_file) or "{}") or {}
    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    with tempfile.TemporaryDirectory() as scratch:
        copier.run_copy(template, scratch, data=data, vcs_ref=version, defaults=True, quiet=True)
        rendered = Path(scratch, path)
        return rendered.read_text() if rendered.is_file() else None


def three_way_merge(owner: str, base: str, template: str) -> tuple[str, bool]:
    """git merge-file of the owner's and the template's changes since `base`."""
    with tempfile.TemporaryDirectory() as scratch:
        files = []
        for name, text in (("owner", owner), ("base", base), ("template", template)):
            file = Path(scratch, name)
            file.write_text(text)
            files.append(str(file))
        labels = ["-L", OWNER_LABEL, "-L", BASE_LABEL, "-L", TEMPLATE_LABEL]
        result = subprocess.run(
            ["git", "merge-file", "-p", *labels, *files], capture_output=True, text=True
        )
    if result.returncode < 0 or result.returncode > 127:
        raise SystemExit(f"git merge-file failed: {result.stderr.strip()}")
    return result.stdout, result.returncode > 0


def moved(old: str, new: str, template: str, from_version: str, answers_file: str) -> None:
    """The template moved `old` to `new`: bring the owner's edits of `old` along.

    copier has already written `new` from the new version and removed `old`
    (it keeps no file the new version lacks), so the owner's edits are only
    in the last commit. They are merged into `new` against `old` as the
    previous version rendered it: a clean merge where only one side changed
    a line, conflict markers where both did.
    """
    target = Path(new)
    owner = committed_text(old)
    base = rendered_text(old, template, from_version, answers_file)
    if base is None:
        print(f"{old}: not part of this project in {from_version}; nothing to move.")
    elif owner is None:
        # Deleted by the owner: copier would bring it back under its new name.
        target.unlink(missing_ok=True)
        print(f"{old} was deleted in this project: {new} is not added.")
    elif not target.is_file():
        print(f"{new}: not in the new template version for this project; {old} is gone.")
    elif any(line == f"<<<<<<< {OWNER_LABEL}" for line in target.read_text().splitlines()):
        print(f"{new}: already merged (it has conflict markers to resolve).")
    else:
        merged, conflicted = three_way_merge(owner, base, target.read_text())
        target.write_text(merged)
        state = "CONFLICT: resolve the markers in it" if conflicted else "merged cleanly"
        print(f"{old} -> {new}: your edits carried over, {state}.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    move = commands.add_parser("moved", help=moved.__doc__.splitlines()[0])
    move.add_argument("old")
    move.add_argument("new")
    move.add_argument("--template", required=True, help="the template (copier's src_path)")
    move.add_argument("--from-version", required=True, help="the version updated from")
    move.add_argument("--answers-file", default=".copier-answers.yml")
    arguments = parser.parse_args(argv)
    moved(
        arguments.old,
        arguments.new,
        arguments.template,
        arguments.from_version,
        arguments.answers_file,
    )


if __name__ == "__main__":
    sys.exit(main())
