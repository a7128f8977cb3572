"""`copier update` of a generated project whose owner has edited it, from a
v1 to a v2 release of a throwaway git copy of this template: the owner's
edits survive, the template's changes arrive (a new file, changed files, a
renamed file carried by a migration, a new question answered by its
default), collisions are reported with copier's inline markers, and the
updated project still passes its own tests and `dvc repro`."""

import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import copier
import pytest
import yaml

from devtools.testing.projects import TEMPLATE_ROOT, in_project, project_answers, run, sync
from devtools.testing.template_repo import commit_all, git, release, snapshot
from devtools.testing.workflows import execute, read_run_steps, runner_env
from tests.render.test_cookiecutter import cookiecutter

COPIER = str(Path(sys.executable).with_name("copier"))
SYNC_WORKFLOW = ".github/workflows/template-sync.yml"
OLD_SCRIPT, NEW_SCRIPT = "deploy/scripts/fetch-prediction-logs.sh", "deploy/scripts/fetch-logs.sh"
DASHBOARD = "deploy/observability/grafana-dashboard.json"
OWNER_COPY_LINE = 'cp /mnt/logs/*.jsonl "$destination"'  # the owner's edit of OLD_SCRIPT
NOTHING_TO_MOVE = f"{NEW_SCRIPT}: already in this project's last commit; nothing to move."
CONFLICT_START, CONFLICT_END = "<<<<<<< before updating", ">>>>>>> after updating"

# The migration v2 ships for its rename, in the form docs/maintainers.md gives:
# no `version:`, so it runs on every update and looks for itself whether the
# move is due (tags, which `version:` is compared with, may not exist). It
# joins the template's own `_migrations`.
MIGRATION = f"""
  - command:
      - "{{{{ _copier_python }}}}"
      - "{{{{ _copier_conf.src_path }}}}/hooks/migrations.py"
      - moved
      - {OLD_SCRIPT}
      - {NEW_SCRIPT}
      - --template
      - "{{{{ _copier_conf.src_path }}}}"
      - --from-version
      - "{{{{ _version_from }}}}"
      - --answers-file
      - "{{{{ _copier_conf.answers_file }}}}"
"""
OWNER_MODULE_NAME = "owner_features"
OWNER_MODULE = '''"""Features the owner added."""


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator
'''
NEW_QUESTION = """
code_owners:
  type: str
  help: GitHub users or teams who review changes (CODEOWNERS)
  default: "@ml-team"
"""


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def make_release_2(repo: Path, tag: str | None = "v2.0.0") -> None:
    """Template changes of every kind an update has to carry, tagged `tag`."""
    template = repo / "template"
    config = (
        (repo / "copier.yml").read_text().replace("\n_migrations:", "\n_migrations:" + MIGRATION)
    )
    (repo / "copier.yml").write_text(config + NEW_QUESTION)
    (template / ".github" / "CODEOWNERS.jinja").write_text("* {{ code_owners }}\n")
    (template / "CONTRIBUTING.md").write_text("# Contributing\n\nOpen a pull request.\n")
    edit(template / "README.md.jinja", "Everything runs offline", "Everything runs on a laptop")
    edit(template / "params.yaml.jinja", "min_gain: 0.05", "min_gain: 0.04")
    edit(template / DASHBOARD, '"title": "', '"title": "v2 ')
    # The rename: the file moves and its references follow.
    git(repo, "mv", f"template/{OLD_SCRIPT}", f"template/{NEW_SCRIPT}")
    for path in template.rglob("*"):
        if path.is_file() and OLD_SCRIPT in path.read_text():
            path.write_text(path.read_text().replace(OLD_SCRIPT, NEW_SCRIPT))
    edit(template / NEW_SCRIPT, "# Copy the service's", "# Fetch logs: copy the service's")
    release(repo, tag)


def conflict_sides(text: str) -> list[str]:
    """The owner's and the template's side of the first conflict in `text`."""
    return text.split(CONFLICT_START)[1].split(CONFLICT_END)[0].split("=======")


def make_owner_edits(project: Path, package: str) -> None:
    module = project / "src" / package / f"{OWNER_MODULE_NAME}.py"
    module.write_text(OWNER_MODULE)
    edit(project / "params.yaml", "n_estimators: 200", "n_estimators: 120")
    edit(project / "README.md", "Everything runs offline", "OWNER: everything runs offline")
    with (project / "README.md").open("a") as readme:
        readme.write("\n## Owner notes\n\nOur runbook lives in the wiki.\n")
    edit(project / OLD_SCRIPT, "# (your copy command here)", OWNER_COPY_LINE)
    (project / DASHBOARD).unlink()
    commit_all(project, "Owner edits")


@dataclass
class Updated:
    template: Path
    project: Path
    package: str
    output: str  # what `copier update` printed


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> Path:
    repo = snapshot(tmp_path_factory.mktemp("template"), "v1.0.0")
    make_release_2(repo)
    return repo


def generate(template: Path, destination: Path, version: str) -> Path:
    """A project from `version` of the template, committed as its first commit."""
    copier.run_copy(str(template), destination, defaults=True, quiet=True, vcs_ref=version)
    git(destination, "init", "--quiet", "--initial-branch", "main")
    commit_all(destination, "Generated")
    return destination


def copier_update(project: Path, *flags: str) -> subprocess.CompletedProcess:
    """`copier update` as an owner (or CI) runs it, non-interactively."""
    return run([COPIER, "update", "--defaults", "--trust", *flags], project)


@pytest.fixture(scope="module")
def updated(releases, tmp_path_factory) -> Updated:
    project = generate(releases, tmp_path_factory.mktemp("project"), "v1.0.0")
    package = project_answers(project)["package_name"]
    make_owner_edits(project, package)
    result = copier_update(project, "--conflict", "inline")
    return Updated(releases, project, package, result.stdout + result.stderr)


def test_the_update_records_the_new_version_and_answers_the_new_question(updated):
    answers = project_answers(updated.project)
    assert answers["_commit"] == "v2.0.0"
    assert answers["code_owners"] == "@ml-team"
    assert answers["project_slug"] == "customer-churn"  # earlier answers kept
    assert (updated.project / ".github" / "CODEOWNERS").read_text() == "* @ml-team\n"


def test_owner_edits_survive(updated):
    project = updated.project
    assert (project / "src" / updated.package / f"{OWNER_MODULE_NAME}.py").is_file()
    params = (project / "params.yaml").read_text()
    assert "n_estimators: 120" in params
    assert "Our runbook lives in the wiki." in (project / "README.md").read_text()
    assert not (project / DASHBOARD).exists(), "a file the owner deleted came back"


def test_template_changes_arrive(updated):
    project = updated.project
    assert (project / "CONTRIBUTING.md").read_text().startswith("# Contributing")
    assert "min_gain: 0.04" in (project / "params.yaml").read_text()  # merged with the owner's
    monitor = (project / ".github" / "workflows" / "monitor.yml").read_text()
    assert NEW_SCRIPT in monitor and OLD_SCRIPT not in monitor


def test_the_migration_carries_the_owners_edits_to_the_renamed_file(updated):
    project = updated.project
    assert "moved" in updated.output and "merged cleanly" in updated.output
    assert not (project / OLD_SCRIPT).exists()
    script = project / NEW_SCRIPT
    text = script.read_text()
    assert OWNER_COPY_LINE in text  # the owner's line
    assert "# Fetch logs: copy the service's" in text  # the template's line
    assert CONFLICT_START not in text
    assert script.stat().st_mode & 0o111, "the script lost its executable bit"


def test_the_migration_is_safe_to_run_twice(updated):
    script = updated.project / NEW_SCRIPT
    before = script.read_text()
    command = [
        sys.executable,
        str(updated.template / "hooks" / "migrations.py"),
        "moved",
        OLD_SCRIPT,
        NEW_SCRIPT,
        "--template",
        str(updated.template),
        "--from-version",
        "v1.0.0",
    ]
    result = run(command, updated.project)
    assert "merged cleanly" in result.stdout
    assert script.read_text() == before


def test_a_line_both_sides_changed_is_a_conflict_with_both_versions(updated):
    project = updated.project
    readme = (project / "README.md").read_text()
    assert CONFLICT_START in readme and CONFLICT_END in readme
    ours, theirs = conflict_sides(readme)
    assert "OWNER: everything runs offline" in ours
    assert "Everything runs on a laptop" in theirs
    unmerged = git(project, "diff", "--name-only", "--diff-filter=U").split()
    assert unmerged == ["README.md"]  # git marks it, so it cannot be committed unseen
    with_markers = [
        str(path.relative_to(project))
        for path in project.rglob("*")
        if ".git" not in path.parts
        and path.is_file()
        and any(line.startswith(CONFLICT_START.encode()) for line in path.read_bytes().split(b"\n"))
    ]
    assert with_markers == ["README.md"]
    assert not list(project.rglob("*.rej"))


def resolve_readme(project: Path, side: int) -> None:
    """Keep one side of each conflict (0: the owner's, 1: the template's)."""
    lines: list[str] = []
    kept: list[str] = []
    section: int | None = None
    for line in (project / "README.md").read_text().splitlines(keepends=True):
        if line.startswith(CONFLICT_START):
            section, kept = 0, []
        elif line.startswith("=======") and section is not None:
            section = 1
        elif line.startswith(CONFLICT_END):
            lines += kept
            section = None
        elif section is None:
            lines.append(line)
        elif section == side:
            kept.append(line)
    (project / "README.md").write_text("".join(lines))


def resolved_copy(updated: Updated, destination: Path) -> Path:
    """A copy of the updated project with the README conflict resolved (the
    owner's side) and committed, leaving the shared fixture as it is."""
    project = Path(shutil.copytree(updated.project, destination, symlinks=True))
    resolve_readme(project, side=0)
    commit_all(project, "Update to template v2.0.0")
    return project


@pytest.mark.slow
def test_the_updated_project_passes_its_own_tests_and_pipeline(updated, tmp_path):
    """The update merges configuration, docs and scripts with the owner's
    edits (params.yaml, README, a new module, a moved script): the tests that
    read the merged configuration, the owner's module and the pipeline are
    what it can break. Each task's whole suite runs in tests/deep."""
    project = resolved_copy(updated, tmp_path / "project")
    sync(project)
    package = project_answers(project)["package_name"]
    in_project(project, "python", "-c", f"import {package}.{OWNER_MODULE_NAME}")
    tests = in_project(
        project, "pytest", "-q", "-p", "no:cacheprovider", "tests/test_configuration.py"
    )
    assert " passed" in tests.stdout and "failed" not in tests.stdout
    in_project(project, "dvc", "repro", timeout=900)
    assert (project / "reports" / "metrics.json").is_file()


def test_updating_again_changes_nothing(updated, tmp_path):
    project = resolved_copy(updated, tmp_path / "project")
    result = copier_update(project)
    assert git(project, "status", "--porcelain") == "", result.stdout + result.stderr
    assert NOTHING_TO_MOVE in result.stdout  # the migration ran, and saw the move done


@dataclass
class History:
    """A template repository, the commit an owner generated a project from,
    and the flags of the `copier update` that brings the release moving
    OLD_SCRIPT (the newest commit)."""

    template: Path
    generated_from: str
    recorded_as: str  # the pattern of the `_commit` copier records for it
    update_flags: tuple[str, ...] = ()


def history(kind: str, releases: Path, tmp_path: Path) -> History:
    if kind == "tag":
        return History(releases, "v1.0.0", r"v1\.0\.0")
    if kind == "untagged":  # no tag at all: what lands on main when tags stay in a clone
        repo = snapshot(tmp_path / "template", None)
        start = git(repo, "rev-parse", "HEAD").strip()
        make_release_2(repo, tag=None)
        return History(repo, start, r"[0-9a-f]{7,}")
    # A commit after the newest tag. The default update target is that tag,
    # which copier refuses as a downgrade, so the owner names the commit.
    repo = snapshot(tmp_path / "template", "v1.0.0")
    git(repo, "commit", "--quiet", "--allow-empty", "--message", "After v1.0.0")
    start = git(repo, "rev-parse", "HEAD").strip()
    make_release_2(repo, tag=None)
    return History(repo, start, r"v1\.0\.0-1-g[0-9a-f]{7,}", ("--vcs-ref", "HEAD"))


@pytest.mark.parametrize(
    "kind", [pytest.param("tag", marks=pytest.mark.slow), "untagged", "after a tag"]
)
def test_a_moved_file_keeps_the_owners_edit_whatever_the_template_was_tagged(
    kind, releases, tmp_path
):
    """The migration must run whether the `_commit` updated from is a tag, a
    bare commit or `git describe` output: keyed by `version:` it ran only
    between tags, and the owner's edit was silently lost."""
    template = history(kind, releases, tmp_path)
    project = generate(template.template, tmp_path / "project", template.generated_from)
    assert re.fullmatch(template.recorded_as, project_answers(project)["_commit"])
    edit(project / OLD_SCRIPT, "# (your copy command here)", OWNER_COPY_LINE)
    commit_all(project, "Owner edits the logs script")

    first = copier_update(project, *template.update_flags)
    text = (project / NEW_SCRIPT).read_text()
    assert OWNER_COPY_LINE in text, first.stdout + first.stderr
    assert "# Fetch logs: copy the service's" in text and CONFLICT_START not in text
    assert not (project / OLD_SCRIPT).exists()
    commit_all(project, "Update from the template")

    again = copier_update(project, *template.update_flags)
    assert NOTHING_TO_MOVE in again.stdout
    assert git(project, "status", "--porcelain") == "", again.stdout + again.stderr


def test_a_moved_file_both_sides_changed_is_a_conflict_git_knows(releases, tmp_path):
    project = generate(releases, tmp_path / "project", "v1.0.0")
    edit(project / OLD_SCRIPT, "# Copy the service's", "# OWNER: copy the service's")
    commit_all(project, "Owner edits the line v2 changes")
    output = copier_update(project).stdout
    assert "CONFLICT" in output
    text = (project / NEW_SCRIPT).read_text()
    ours, theirs = conflict_sides(text)
    assert "# OWNER: copy the service's" in ours
    assert "# Fetch logs: copy the service's" in theirs
    assert git(project, "diff", "--name-only", "--diff-filter=U").split() == [NEW_SCRIPT]


def test_a_file_the_owner_deleted_is_not_brought_back_under_its_new_name(releases, tmp_path):
    project = generate(releases, tmp_path / "project", "v1.0.0")
    (project / OLD_SCRIPT).unlink()
    commit_all(project, "Owner deletes the logs script")
    output = copier_update(project).stdout
    assert f"{OLD_SCRIPT} was deleted in this project: {NEW_SCRIPT} is not added." in output
    assert not (project / OLD_SCRIPT).exists() and not (project / NEW_SCRIPT).exists()


def test_recopy_renders_the_newest_release_with_the_recorded_answers(releases, tmp_path):
    project = generate(releases, tmp_path / "project", "v1.0.0")
    edit(project / "README.md", "Everything runs offline", "OWNER: everything runs offline")
    (project / "NOTES.md").write_text("owner file\n")
    commit_all(project, "Owner edits")
    run([COPIER, "recopy", "--defaults", "--overwrite", "--trust"], project)
    fresh = tmp_path / "fresh"
    copier.run_copy(str(releases), fresh, defaults=True, quiet=True, vcs_ref="v2.0.0")
    # Recopy discards edits to the template's files (that is what it is for)
    # and keeps files the template does not have.
    assert (project / "README.md").read_text() == (fresh / "README.md").read_text()
    assert (project / "NOTES.md").is_file()
    assert project_answers(project)["_commit"] == "v2.0.0"


def sync_update_step(project: Path):
    """The step that runs `copier update`. The rest needs GitHub: the upload
    of its result, and the job that pushes it and opens the pull request,
    which run only when the step proposes a branch."""
    jobs = yaml.safe_load((project / SYNC_WORKFLOW).read_text())["jobs"]
    assert [step.get("id") for step in jobs["update"]["steps"]][-2:] == ["update", None]
    assert jobs["update"]["steps"][-1]["if"] == "steps.update.outputs.branch != ''"
    assert jobs["update"]["permissions"] == {"contents": "read"}
    assert jobs["propose"]["if"] == "needs.update.outputs.branch != ''"
    (update,) = read_run_steps(project / SYNC_WORKFLOW, only={"update"})
    return update


def test_template_sync_workflow_proposes_the_newest_release(releases, tmp_path):
    origin = generate(releases, tmp_path / "origin", "v1.0.0")
    edit(origin / "README.md", "Everything runs offline", "OWNER: everything runs offline")
    commit_all(origin, "Owner edits")
    # Checkouts like actions/checkout's: one commit deep.
    checkout, pushing = tmp_path / "checkout", tmp_path / "pushing"
    for clone in (checkout, pushing):
        git(tmp_path, "clone", "--quiet", "--depth", "1", origin.as_uri(), str(clone))
    update = sync_update_step(checkout)
    runner_temp = tmp_path / "runner-temp"

    first = execute(update, checkout, runner_env(), runner_temp=runner_temp)
    assert first.returncode == 0, first.stdout + first.stderr
    branch = "template-sync/v2.0.0"
    title = "Update from the template: v1.0.0 -> v2.0.0"
    assert first.outputs == {"branch": branch, "title": title}
    assert "- README.md" in first.summary  # the conflict, named for the reviewer
    assert git(checkout, "branch", "--show-current").strip() == branch
    assert git(checkout, "status", "--porcelain") == ""  # all of it committed
    assert project_answers(checkout)["_commit"] == "v2.0.0"
    assert (checkout / NEW_SCRIPT).is_file()
    # The hand-off: the pushing job's fresh checkout gets the branch from the bundle.
    handoff = runner_temp / "template-sync"
    assert (handoff / "body.md").read_text() in first.summary
    git(pushing, "fetch", "--quiet", str(handoff / "update.bundle"), f"{branch}:{branch}")
    assert git(pushing, "rev-parse", branch) == git(checkout, "rev-parse", "HEAD")

    again = execute(update, checkout, runner_env())
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.outputs == {}
    assert "Up to date with the template (v2.0.0)." in again.summary


def sync_run(template: Path, generated_from: str, tmp_path: Path):
    """template-sync's update step in a project generated from `generated_from`."""
    project = generate(template, tmp_path / "project", generated_from)
    return execute(sync_update_step(project), project, runner_env())


def test_template_sync_waits_when_the_project_is_newer_than_the_newest_release(tmp_path):
    """Generated from main after the newest tag: copier would refuse the
    release as a downgrade; the run says why and proposes nothing."""
    template = snapshot(tmp_path / "template", "v1.0.0")
    git(template, "commit", "--quiet", "--allow-empty", "--message", "After v1.0.0")
    unreleased = git(template, "rev-parse", "HEAD").strip()
    result = sync_run(template, unreleased, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs == {}
    assert "newer than the newest release (v1.0.0)" in result.summary


def test_template_sync_proposes_nothing_from_a_template_without_releases(tmp_path):
    template = snapshot(tmp_path / "template", None)
    generated_from = git(template, "rev-parse", "HEAD").strip()
    make_release_2(template, tag=None)  # work in progress, not a release
    result = sync_run(template, generated_from, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.outputs == {}
    assert "The template has no release yet" in result.summary


def test_template_sync_refuses_a_template_source_it_cannot_read(releases, tmp_path):
    project = generate(releases, tmp_path / "project", "v1.0.0")
    edit(project / ".copier-answers.yml", f"_src_path: {releases}", "_src_path: ../not-a-repo")
    commit_all(project, "Answers moved")
    update = sync_update_step(project)
    result = execute(update, project, runner_env())
    assert result.returncode == 1
    assert "::error file=.copier-answers.yml::_src_path is '../not-a-repo'" in result.stdout


def test_template_sync_uses_the_copier_version_the_template_is_tested_with(rendered):
    workflow = yaml.safe_load((rendered() / SYNC_WORKFLOW).read_text())
    pinned = workflow["jobs"]["update"]["env"]["COPIER_VERSION"]
    lock = tomllib.loads((TEMPLATE_ROOT / "uv.lock").read_text())
    locked = next(package["version"] for package in lock["package"] if package["name"] == "copier")
    assert pinned == locked, "bump COPIER_VERSION in template-sync.yml with uv.lock"


def test_a_project_made_by_cookiecutter_updates_with_copier(releases, tmp_path):
    template = tmp_path / "template"
    git(tmp_path, "clone", "--quiet", str(releases), str(template))
    git(template, "checkout", "--quiet", "v1.0.0")
    result = cookiecutter(tmp_path, {}, template)
    assert result.returncode == 0, result.stderr
    project = tmp_path / "customer-churn"
    assert project_answers(project)["_commit"] == "v1.0.0"
    git(project, "init", "--quiet", "--initial-branch", "main")
    commit_all(project, "Generated by cookiecutter")

    copier_update(project)
    assert project_answers(project)["_commit"] == "v2.0.0"
    assert (project / NEW_SCRIPT).is_file() and (project / "CONTRIBUTING.md").is_file()
    assert git(project, "diff", "--name-only", "--diff-filter=U") == ""  # nothing to resolve
