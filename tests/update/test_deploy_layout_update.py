"""`copier update` of a project generated before the deployment files moved
under deploy/ (Kubernetes manifests, observability, the CD and monitoring
scripts; two Prometheus configs merged into one): the owner's edit of every
moved file arrives at its new path, the old paths are gone, nothing is left
to resolve, the workflows call the new paths, and the manifests and the
compose file still validate."""

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from devtools.testing.kustomize import build
from devtools.testing.projects import TEMPLATE_ROOT
from devtools.testing.template_repo import commit_all, git, release, working_tree_files
from tests.deploy.test_kubernetes import KINDS, KUBERNETES_VERSIONS
from tests.update.test_update import CONFLICT_START, copier_update, edit, generate

OLD_LAYOUT = "524930b"  # main before the move
# An owner's edit of each file the move touches, by its path before the move.
OWNER_EDITS = {
    "k8s/base/configmap.yaml": ('SERVE_MAX_BATCH_SIZE: "1000"', 'SERVE_MAX_BATCH_SIZE: "500"'),
    "k8s/base/deployment.yaml": ("revisionHistoryLimit: 5", "revisionHistoryLimit: 3"),
    "k8s/base/hpa.yaml": ("maxReplicas: 10", "maxReplicas: 6"),
    "k8s/base/kustomization.yaml": ("resources:\n", "resources:\n  # - secrets.yaml (ours)\n"),
    "k8s/base/pdb.yaml": ("minAvailable: 1", "minAvailable: 2"),
    "k8s/base/service.yaml": ("port: 80", "port: 8080"),
    "k8s/overlays/production/kustomization.yaml": ("namespace: production", "namespace: ml-prod"),
    "k8s/overlays/staging/kustomization.yaml": ("namespace: staging", "namespace: ml-staging"),
    "observability/grafana-dashboard.json": ('"title": "', '"title": "Churn '),
    "observability/grafana-provisioning.yml": ("- name: model", "- name: churn-model"),
    "deploy/compose/prometheus.yml": ("scrape_interval: 15s", "scrape_interval: 30s"),
    "observability/prometheus.yml": (
        "\nscrape_configs:",
        '\nrule_files: ["alerts.yml"]\n\nscrape_configs:',
    ),
    "scripts/deploy.sh": ("--timeout=10m", "--timeout=20m"),
    "scripts/fetch-prediction-logs.sh": ("# (your copy command here)", "aws s3 sync s3://logs/ ."),
}
NAMESPACES = {"staging": "ml-staging", "production": "ml-prod"}


def moves() -> list[tuple[str, str]]:
    """The (old, new) pairs copier.yml's `moved` migration carries."""
    migrations = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())["_migrations"]
    [command] = [m["command"] for m in migrations if "moved" in m["command"]]
    paths = command[command.index("moved") + 1 : command.index("--template")]
    return list(zip(paths[::2], paths[1::2], strict=True))


@dataclass
class Updated:
    project: Path
    output: str  # what `copier update` printed


def template_history(repo: Path) -> Path:
    """A throwaway template repository: main at OLD_LAYOUT, then this working tree."""
    repo.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(TEMPLATE_ROOT), "archive", OLD_LAYOUT], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(repo)], input=archive.stdout, check=True)
    git(repo, "init", "--quiet", "--initial-branch", "main")
    release(repo, None)
    for path in repo.iterdir():
        if path.name != ".git":
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    for name in working_tree_files():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TEMPLATE_ROOT / name, repo / name)
    release(repo, None)
    return repo


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_history(tmp_path_factory.mktemp("template") / "repo")


def generate_old_layout(template: Path, destination: Path) -> Path:
    return generate(template, destination, git(template, "rev-parse", "HEAD~1").strip())


@pytest.fixture(scope="module")
def updated(template, tmp_path_factory) -> Updated:
    project = generate_old_layout(template, tmp_path_factory.mktemp("project"))
    for old, (text, owners) in OWNER_EDITS.items():
        edit(project / old, text, owners)
    commit_all(project, "Owner edits the deployment files")
    result = copier_update(project, "--vcs-ref", "HEAD")
    return Updated(project, result.stdout + result.stderr)


def test_the_migration_covers_every_file_the_move_took_away(updated):
    olds = {old for old, _ in moves()}
    assert olds == set(OWNER_EDITS)
    for old, new in moves():
        assert not (updated.project / old).exists(), old
        assert (updated.project / new).is_file(), new


@pytest.mark.parametrize("old", sorted(OWNER_EDITS))
def test_the_owners_edit_arrives_at_the_new_path(updated, old):
    [new] = {into for moved, into in moves() if moved == old}
    assert OWNER_EDITS[old][1] in (updated.project / new).read_text(), updated.output


def test_nothing_is_left_to_resolve(updated):
    project = updated.project
    assert "CONFLICT" not in updated.output
    assert git(project, "diff", "--name-only", "--diff-filter=U") == ""
    for path in project.rglob("*"):
        if ".git" not in path.parts and path.is_file():
            lines = path.read_bytes().split(b"\n")
            assert not any(line.startswith(CONFLICT_START.encode()) for line in lines), path
    assert not list(project.rglob("*.rej"))


def test_the_scripts_stay_executable_where_they_were(updated):
    for script in ("deploy/scripts/deploy.sh", "deploy/scripts/fetch-prediction-logs.sh"):
        assert (updated.project / script).stat().st_mode & 0o111, script


def test_the_workflows_call_the_new_paths_only(updated):
    workflows = updated.project / ".github" / "workflows"
    text = {path.name: path.read_text() for path in workflows.glob("*.yml")}
    for old, _ in moves():
        stale = re.compile(rf"(?<![\w/]){re.escape(old)}")
        assert not [name for name, body in text.items() if stale.search(body)], old
    assert "bash deploy/scripts/deploy.sh staging" in text["cd.yml"]
    assert "bash deploy/scripts/fetch-prediction-logs.sh" in text["monitor.yml"]


@pytest.mark.parametrize("target", sorted(NAMESPACES))
def test_the_manifests_still_validate(updated, target):
    resources = build(updated.project / "deploy" / "k8s" / "overlays" / target)
    assert sorted(resource["kind"] for resource in resources) == KINDS
    for resource in resources:
        assert resource["metadata"]["namespace"] == NAMESPACES[target]  # the owner's
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(resource, version, strict=True)


def test_the_compose_file_still_validates_and_mounts_what_is_there(updated):
    compose = updated.project / "compose.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(compose)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    for service in yaml.safe_load(compose.read_text())["services"].values():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("./"):
                assert (updated.project / source).is_file(), source
    prometheus = yaml.safe_load(
        (updated.project / "deploy/observability/prometheus.yml").read_text()
    )
    assert prometheus["global"]["scrape_interval"] == "30s"  # the compose config's edit
    assert prometheus["rule_files"] == ["alerts.yml"]  # the standalone config's edit


def test_updating_again_changes_nothing(updated, tmp_path):
    project = Path(shutil.copytree(updated.project, tmp_path / "project", symlinks=True))
    commit_all(project, "Update to the deploy/ layout")
    result = copier_update(project, "--vcs-ref", "HEAD")
    assert git(project, "status", "--porcelain") == "", result.stdout + result.stderr
    for _, new in moves():
        assert f"{new}: already in this project's last commit; nothing to move." in result.stdout


def test_deleted_files_stay_deleted_and_a_file_moved_by_hand_is_left_alone(template, tmp_path):
    project = generate_old_layout(template, tmp_path / "project")
    shutil.rmtree(project / "k8s")  # not on Kubernetes
    (project / "observability" / "prometheus.yml").unlink()  # only the team stack's is used
    (project / "deploy" / "scripts").mkdir()
    git(project, "mv", "scripts/deploy.sh", "deploy/scripts/deploy.sh")
    commit_all(project, "Owner deletes and moves deployment files")
    output = copier_update(project, "--vcs-ref", "HEAD").stdout
    assert not (project / "deploy" / "k8s").exists()
    assert "k8s/base/deployment.yaml was deleted in this project" in output
    # Merged from two files: it stays while the owner has one of them.
    assert "scrape_interval" in (project / "deploy/observability/prometheus.yml").read_text()
    assert "deploy/scripts/deploy.sh: already in this project's last commit" in output
