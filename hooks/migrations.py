"""Migrations that `copier update` runs in a generated project (`_migrations`
in copier.yml), from the project's root, with the interpreter running copier.

They are registered without `version:`, so copier runs them on every
update whatever the template's tags say, and each one acts only when the
project's state says it is due. Each one is safe to run twice: it looks at
the state it would produce before it changes anything, and says what it did
on standard output.

    python hooks/migrations.py moved OLD NEW [OLD NEW ...] --template SRC --from-version REF
    python hooks/migrations.py added NEW [NEW ...] --beside FILE
"""

import argparse
import atexit
import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

import copier
import yaml

# The labels copier itself writes around an inline conflict.
OWNER_LABEL, BASE_LABEL, TEMPLATE_LABEL = "before updating", "last update", "after updating"


def git(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], input=stdin, capture_output=True, check=False)


def committed(path: str) -> bytes | None:
    """The file as the last commit has it: the project before this update.
    (`./` keeps the path relative to the project, which may be a subdirectory.)"""
    result = git("show", f"HEAD:./{path}")
    return result.stdout if result.returncode == 0 else None


@functools.cache
def previous_render(template: str, version: str, answers_file: str) -> Path:
    """This project as template `version` rendered it for its answers, once
    for all the moves of one command (a render takes seconds)."""
    answers = yaml.safe_load(committed(answers_file) or b"{}") or {}
    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    scratch = tempfile.mkdtemp(prefix="copier-previous-")
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    copier.run_copy(template, scratch, data=data, vcs_ref=version, defaults=True, quiet=True)
    return Path(scratch)


def rendered(path: str, template: str, version: str, answers_file: str) -> bytes | None:
    """The file as template `version` rendered it for this project's answers."""
    file = previous_render(template, version, answers_file) / path
    return file.read_bytes() if file.is_file() else None


def three_way_merge(owner: bytes, base: bytes, template: bytes) -> tuple[bytes, bool]:
    """git merge-file of the owner's and the template's changes since `base`."""
    with tempfile.TemporaryDirectory() as scratch:
        files = []
        for name, content in (("owner", owner), ("base", base), ("template", template)):
            file = Path(scratch, name)
            file.write_bytes(content)
            files.append(str(file))
        labels = ["-L", OWNER_LABEL, "-L", BASE_LABEL, "-L", TEMPLATE_LABEL]
        result = git("merge-file", "-p", *labels, *files)
    if result.returncode < 0 or result.returncode > 127:
        raise SystemExit(f"git merge-file failed: {result.stderr.decode().strip()}")
    return result.stdout, result.returncode > 0


def mark_unmerged(path: str, owner: bytes, base: bytes, template: bytes) -> None:
    """Record the conflict in git's index as copier does for its own
    conflicts (stages 1 base, 2 ours, 3 theirs): `git status` says "both
    modified" and the file cannot be committed without `git add`."""
    mode = "100755" if Path(path).stat().st_mode & 0o111 else "100644"
    in_repository = git("rev-parse", "--show-prefix").stdout.decode().strip() + path
    entries = [f"0 {'0' * 40}\t{in_repository}"]
    for stage, content in ((1, base), (2, owner), (3, template)):
        blob = git("hash-object", "-w", "--stdin", stdin=content).stdout.decode().strip()
        entries.append(f"{mode} {blob} {stage}\t{in_repository}")
    git("update-index", "--index-info", stdin="\n".join(entries).encode())


def remove_empty_parents(path: Path) -> None:
    """Remove the directories copier made only for `path` (now empty), up to
    the project's root: a deleted k8s/ must not come back as an empty deploy/k8s/."""
    for parent in path.parents[:-1]:
        if any(parent.iterdir()):
            break
        parent.rmdir()


def moved(
    old: str,
    new: str,
    template: str,
    from_version: str,
    answers_file: str,
    merged_with: tuple[str, ...] = (),
) -> None:
    """The template moved `old` to `new`: bring the owner's edits of `old` along.

    copier has already written `new` from the new version and removed `old`
    (it keeps no file the new version lacks), so the owner's edits are only
    in the last commit. They are merged into `new` against `old` as the
    previous version rendered it: a clean merge where only one side changed
    a line, conflict markers where both did.

    It runs on every update (copier.yml registers it without `version:`), so
    it first checks that the move is due: `new` was written by this update,
    not committed before it. Later updates find `new` committed and stop there.

    `merged_with` are the other old files the template merged into `new`:
    each one's edits are merged in turn, and `new` is left out only when the
    owner had deleted all of them.
    """
    target = Path(new)
    owner = committed(old)
    if committed(new) is not None:
        print(f"{new}: already in this project's last commit; nothing to move.")
    elif not target.is_file():
        if owner is not None and not Path(old).exists():
            print(f"{new}: not in the new template version for this project; {old} is gone.")
        else:
            print(f"{new}: not written by this update; nothing to move.")
    elif (base := rendered(old, template, from_version, answers_file)) is None:
        print(f"{old}: not part of this project in {from_version}; nothing to move.")
    elif owner is None and (kept := [path for path in merged_with if committed(path)]):
        print(f"{old} was deleted in this project: {new} is kept for {', '.join(kept)}.")
    elif owner is None:
        # Deleted by the owner: copier would bring it back under its new name.
        target.unlink()
        remove_empty_parents(target)
        print(f"{old} was deleted in this project: {new} is not added.")
    elif f"\n<<<<<<< {OWNER_LABEL}\n".encode() in b"\n" + target.read_bytes():
        print(f"{new}: already merged (it has conflict markers to resolve).")
    else:
        theirs = target.read_bytes()
        merged, conflicted = three_way_merge(owner, base, theirs)
        target.write_bytes(merged)
        if conflicted:
            mark_unmerged(new, owner, base, theirs)
            print(f"{old} -> {new}: your edits carried over. CONFLICT: resolve the markers.")
        else:
            print(f"{old} -> {new}: your edits carried over, merged cleanly.")


def added(new: str, beside: str) -> None:
    """The template added `new` beside `beside`: keep it only where `beside` is.

    copier writes every file a new version adds, even into a folder the
    owner deleted (a project not on Kubernetes would get deploy/k8s/ back,
    half of it). So a `new` this update wrote is removed again when the
    project, updated, has no `beside`. It runs after `moved`, on every
    update: a `new` already committed is left alone.
    """
    target = Path(new)
    if committed(new) is not None or not target.is_file():
        print(f"{new}: not added by this update; nothing to do.")
    elif Path(beside).is_file():
        print(f"{new}: added beside {beside}.")
    else:
        target.unlink()
        remove_empty_parents(target)
        print(f"{beside} is not in this project: {new} is not added.")


def summary(docstring: str | None) -> str:
    """A docstring's first line, as argparse's help."""
    return (docstring or "").partition("\n")[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=summary(__doc__))
    commands = parser.add_subparsers(dest="command", required=True)
    move = commands.add_parser("moved", help=summary(moved.__doc__))
    move.add_argument("paths", nargs="+", metavar="OLD NEW", help="pairs of old and new path")
    move.add_argument("--template", required=True, help="the template (copier's src_path)")
    move.add_argument(
        "--from-version", required=True, help="the template commit updated from (_version_from)"
    )
    move.add_argument("--answers-file", default=".copier-answers.yml")
    add = commands.add_parser("added", help=summary(added.__doc__))
    add.add_argument("paths", nargs="+", metavar="NEW", help="files the template added")
    add.add_argument("--beside", required=True, help="the file the project must have for them")
    arguments = parser.parse_args(argv)
    if arguments.command == "added":
        for new in arguments.paths:
            added(new, arguments.beside)
        return
    if len(arguments.paths) % 2:
        parser.error(f"moved takes pairs of OLD NEW paths; {arguments.paths[-1]} has no pair")
    pairs = list(zip(arguments.paths[::2], arguments.paths[1::2], strict=True))
    for old, new in pairs:
        others = tuple(other for other, into in pairs if into == new and other != old)
        moved(
            old,
            new,
            arguments.template,
            arguments.from_version,
            arguments.answers_file,
            merged_with=others,
        )


if __name__ == "__main__":
    main()
