"""The canary overlay (Argo Rollouts): it builds into the production
resources plus a Rollout of the Deployment's pods and the analysis that
aborts it, valid against Kubernetes' schemas and the Argo Rollouts CRDs
(vendored, devtools/testing/crds/); its queries read metrics the service
exports; deploy/scripts/canary.sh start, promote and abort drive it."""

import copy
import re

import jsonschema
import kubernetes_validate
import pytest
import yaml

from devtools.testing import crds
from devtools.testing.kustomize import build
from tests.deploy.test_kubernetes import IMAGE, KUBERNETES_VERSIONS, by_kind, deploy

CANARY_KINDS = [
    "AnalysisTemplate",
    "ConfigMap",
    "Deployment",
    "HorizontalPodAutoscaler",
    "NetworkPolicy",
    "PersistentVolumeClaim",
    "PodDisruptionBudget",
    "Rollout",
    "Service",
]


@pytest.fixture(scope="module")
def canary(rendered) -> dict[str, dict]:
    resources = build(rendered() / "deploy" / "k8s" / "overlays" / "canary")
    return by_kind(resources)


def test_the_canary_overlay_builds_into_valid_resources(canary):
    assert sorted(canary) == CANARY_KINDS  # batch scoring is left as it is
    for resource in canary.values():
        assert resource["metadata"]["namespace"] == "production"
        if resource["apiVersion"].startswith("argoproj.io/"):
            crds.validate(resource)
        else:
            for version in KUBERNETES_VERSIONS:
                kubernetes_validate.validate(resource, version, strict=True)


def test_the_crd_check_refuses_a_misspelt_field(canary):
    rollout = copy.deepcopy(canary["Rollout"])
    rollout["spec"]["workloadRefs"] = rollout["spec"].pop("workloadRef")
    with pytest.raises(jsonschema.ValidationError, match="'workloadRefs' was unexpected"):
        crds.validate(rollout)


def test_the_rollout_runs_the_deployments_pods_and_is_autoscaled(canary):
    rollout, deployment = canary["Rollout"], canary["Deployment"]
    reference = rollout["spec"]["workloadRef"]
    assert (reference["kind"], reference["name"]) == ("Deployment", "model-service")
    assert rollout["spec"]["selector"] == deployment["spec"]["selector"]
    target = canary["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Rollout", "model-service")
    assert "replicas" not in rollout["spec"]  # the autoscaler's to set


def test_the_analysis_reads_what_the_service_exports(canary, rendered):
    """Each query's metrics and labels exist in the service's /metrics, and
    each argument it uses is declared and given by the Rollout."""
    template = canary["AnalysisTemplate"]["spec"]
    declared = {arg["name"] for arg in template["args"]}
    analysis = canary["Rollout"]["spec"]["strategy"]["canary"]["analysis"]
    assert analysis["templates"] == [{"templateName": "model-service-health"}]
    given = {arg["name"] for arg in analysis["args"]}
    assert given == {"canary-hash"} and given <= declared
    project = rendered()
    package = yaml.safe_load((project / ".copier-answers.yml").read_text())["package_name"]
    exported = (project / "src" / package / "serve" / "observability.py").read_text()
    for metric in template["metrics"]:
        query = metric["provider"]["prometheus"]["query"]
        assert set(re.findall(r"\{\{args\.([\w-]+)\}\}", query)) <= declared
        for name in re.findall(r"\b(http_[a-z_]+?)(?:_bucket)?\{", query):
            assert f'"{name}"' in exported, f"{metric['name']}: no metric {name}"
        assert "rollouts_pod_template_hash" in query  # the canary's pods only


def test_deploy_canary_applies_the_overlay_and_promotes_batch_scoring(rendered, tmp_path):
    result = deploy(rendered(), tmp_path, "start", "canary.sh")
    assert result.returncode == 0, result.stdout + result.stderr
    applied = by_kind(yaml.safe_load_all((tmp_path / "applied.yaml").read_text()))
    (container,) = applied["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == IMAGE and "Rollout" in applied
    calls = (tmp_path / "kubectl.log").read_text().splitlines()
    assert calls[-1] == f"-n production set image cronjob/batch-scoring batch-scoring={IMAGE}"
    assert "scores the batches" in result.stdout


def test_an_aborted_canary_fails_the_deploy_with_the_reason(rendered, tmp_path):
    result = deploy(rendered(), tmp_path, "start", "canary.sh", ROLLOUT_PHASE="Degraded")
    assert result.returncode == 1
    assert "::error::The canary was aborted: RolloutAborted: metric error-rate" in result.stdout
    assert "set image" not in (tmp_path / "kubectl.log").read_text()


@pytest.mark.parametrize(
    ("target", "patch"),
    [("promote", '{"status":{"promoteFull":true}}'), ("abort", '{"status":{"abort":true}}')],
)
def test_promote_and_abort_patch_the_rollouts_status(rendered, tmp_path, target, patch):
    result = deploy(rendered(), tmp_path, target, "canary.sh")
    assert result.returncode == 0, result.stdout + result.stderr
    calls = (tmp_path / "kubectl.log").read_text().splitlines()
    expected = "-n production patch rollout model-service --subresource=status --type=merge"
    assert f"{expected} -p {patch}" in calls
    assert not (tmp_path / "applied.yaml").exists()
