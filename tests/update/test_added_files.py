"""`copier update` to the release that added the batch scoring CronJob
(deploy/k8s/base/cronjob.yaml and batch-data.yaml) and the ingress
policy (networkpolicy.yaml): a project whose owner
deleted deploy/k8s/ does not get that folder back (hooks/migrations.py
`added`), so deploy.sh still deploys nothing there. That a project on
Kubernetes gets both, merged into its kustomization, is shown by
test_deploy_layout_update.py's validation of the updated manifests."""

import shutil
from pathlib import Path

import pytest

from devtools.testing.template_repo import commit_all, git, release, snapshot
from tests.update.test_update import copier_update, edit, generate

ADDED = (
    "deploy/k8s/base/cronjob.yaml",
    "deploy/k8s/base/batch-data.yaml",
    "deploy/k8s/base/networkpolicy.yaml",
)
KUSTOMIZATION = "template/deploy/k8s/base/kustomization.yaml"
LISTED = "  - cronjob.yaml  # batch scoring\n  - batch-data.yaml\n"
POLICY = "  - networkpolicy.yaml  # ingress on the service's port only\n"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """v1.0.0: this working tree without the two files; v2.0.0: with them."""
    repo = snapshot(tmp_path_factory.mktemp("template"), None)
    for name in ADDED:
        git(repo, "rm", "--quiet", f"template/{name}.jinja")
    edit(repo / KUSTOMIZATION, LISTED, "")
    edit(repo / KUSTOMIZATION, POLICY, "")
    release(repo, "v1.0.0")
    git(repo, "checkout", "HEAD~1", "--", "template")
    release(repo, "v2.0.0")
    return repo


def test_a_project_without_kubernetes_does_not_get_it_back(template, tmp_path):
    project = generate(template, tmp_path / "project", "v1.0.0")
    shutil.rmtree(project / "deploy" / "k8s")
    commit_all(project, "Not on Kubernetes")
    output = copier_update(project, "--vcs-ref", "v2.0.0").stdout
    assert not (project / "deploy" / "k8s").exists()
    missing = "deploy/k8s/base/deployment.yaml is not in this project"
    for name in ADDED:
        assert f"{missing}: {name} is not added." in output
    assert git(project, "status", "--porcelain", "deploy") == ""
    # Later updates leave it so.
    commit_all(project, "Update to v2.0.0")
    assert "not added by this update" in copier_update(project, "--vcs-ref", "v2.0.0").stdout
