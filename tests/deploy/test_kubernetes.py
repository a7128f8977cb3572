"""The generated Kubernetes manifests: each overlay builds into resources
that validate against Kubernetes' own schemas, the deployment runs the image
as the Dockerfile builds it (its user, its port, the service's health and
readiness endpoints, a read-only root with the log directory writable), the
batch scoring CronJob runs `score` from that image as hardened as the
deployment, the pods accept connections on the service's port only, and
deploy/scripts/deploy.sh applies the overlay with the image
CD built."""

import ast
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from devtools.testing.dockerfile import last_instruction
from devtools.testing.kustomize import build
from devtools.testing.projects import TEMPLATE_ROOT, project_answers, project_env
from tests.render.test_render import UNUSUAL

TARGETS = ["staging", "production"]
# The oldest Kubernetes minor still widely run, and the newest schemas we have.
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]
KINDS = [
    "ConfigMap",
    "CronJob",
    "Deployment",
    "HorizontalPodAutoscaler",
    "NetworkPolicy",
    "PersistentVolumeClaim",
    "PodDisruptionBudget",
    "Service",
]
IMAGE = "ghcr.io/owner/model@sha256:" + "a" * 64


@pytest.fixture(params=[{}, UNUSUAL], ids=["defaults", "unusual"])
def project(request, rendered) -> Path:
    return rendered(**request.param)


def by_kind(resources: Iterable[dict]) -> dict[str, dict]:
    resources = list(resources)
    kinds = {resource["kind"]: resource for resource in resources}
    assert len(kinds) == len(resources), "one resource per kind, or look them up by name"
    return kinds


@pytest.mark.parametrize("target", TARGETS)
def test_each_overlay_builds_into_valid_resources(project, target):
    resources = build(project / "deploy" / "k8s" / "overlays" / target)
    assert sorted(resource["kind"] for resource in resources) == KINDS
    for resource in resources:
        assert resource["metadata"]["namespace"] == target
        for version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(resource, version, strict=True)


def dockerfile_value(project: Path, instruction: str) -> str:
    return last_instruction(project / "Dockerfile", instruction)


def test_the_deployment_runs_the_image_as_it_is_built(project):
    resources = by_kind(build(project / "deploy" / "k8s" / "base"))
    deployment = resources["Deployment"]
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert container["name"] == "model-service"  # what deploy/scripts/deploy.sh names
    assert container["image"] == "model-service-image"  # what it replaces
    port = container["ports"][0]
    assert port == {"name": "http", "containerPort": int(dockerfile_value(project, "EXPOSE"))}
    probes = {name: container[name]["httpGet"] for name in ("startupProbe", "readinessProbe")}
    assert all(probe == {"path": "/ready", "port": "http"} for probe in probes.values())
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}

    user, group = dockerfile_value(project, "USER").split(":")
    security = pod["spec"]["securityContext"]
    assert security["runAsNonRoot"] is True
    assert (security["runAsUser"], security["runAsGroup"]) == (int(user), int(group))
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    writable = [mount["mountPath"] for mount in container["volumeMounts"]]
    log_dir = resources["ConfigMap"]["data"]["SERVE_PREDICTION_LOG_DIR"]
    assert any(log_dir.startswith(path + "/") for path in writable)
    assert "/tmp" in writable
    assert set(container["resources"]) == {"requests", "limits"}

    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert resources["Service"]["spec"]["selector"].items() <= labels.items()
    assert resources["Service"]["spec"]["ports"][0]["targetPort"] == port["name"]
    pdb_selector = resources["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"]
    assert pdb_selector.items() <= labels.items()
    target = resources["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "model-service")
    assert labels["app.kubernetes.io/part-of"] == project_answers(project)["project_slug"]


def test_the_configmap_sets_settings_the_service_reads(project):
    config = by_kind(build(project / "deploy" / "k8s" / "base"))["ConfigMap"]["data"]
    package = project_answers(project)["package_name"]
    module = ast.parse((project / "src" / package / "environment.py").read_text())
    (serve,) = [n for n in module.body if isinstance(n, ast.ClassDef) and n.name == "ServeSettings"]
    fields = {
        statement.target.id
        for statement in serve.body
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
    }
    # ServeSettings reads SERVE_<FIELD> (env_prefix "SERVE_").
    assert config and {name.removeprefix("SERVE_").lower() for name in config} <= fields
    assert all(name.startswith("SERVE_") for name in config)


def test_the_pods_accept_connections_on_the_service_port_only(project):
    resources = by_kind(build(project / "deploy" / "k8s" / "base"))
    policy = resources["NetworkPolicy"]["spec"]
    selected = policy["podSelector"]["matchLabels"]
    service_pod = resources["Deployment"]["spec"]["template"]
    batch_pod = resources["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]
    for pod in (service_pod, batch_pod):
        assert selected.items() <= pod["metadata"]["labels"].items()
    assert policy["policyTypes"] == ["Ingress"]
    (rule,) = policy["ingress"]
    assert "from" not in rule  # the Service, probes and Prometheus, from anywhere
    assert rule["ports"] == [{"protocol": "TCP", "port": "http"}]
    (container,) = service_pod["spec"]["containers"]
    assert [port["name"] for port in container["ports"]] == ["http"]
    assert "ports" not in batch_pod["spec"]["containers"][0]


def test_the_cronjob_runs_score_from_the_image_as_hardened_as_the_deployment(project):
    resources = by_kind(build(project / "deploy" / "k8s" / "base"))
    service_pod = resources["Deployment"]["spec"]["template"]["spec"]
    cronjob = resources["CronJob"]["spec"]
    assert cronjob["concurrencyPolicy"] == "Forbid"
    assert cronjob["suspend"] is True  # until the owner has put input in place
    assert cronjob["successfulJobsHistoryLimit"] >= 1
    assert cronjob["failedJobsHistoryLimit"] >= 1
    job = cronjob["jobTemplate"]["spec"]
    assert job["backoffLimit"] >= 0 and job["activeDeadlineSeconds"] > 0
    pod = job["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"] == service_pod["securityContext"]
    (service,) = service_pod["containers"]
    (container,) = pod["containers"]
    assert container["image"] == service["image"] == "model-service-image"
    assert container["securityContext"] == service["securityContext"]
    assert set(container["resources"]) == {"requests", "limits"}
    assert container["envFrom"][0] == {"configMapRef": {"name": "model-service-config"}}

    # The image's own command line, told to score.
    slug = project_answers(project)["project_slug"]
    assert json.loads(dockerfile_value(project, "CMD"))[0] == slug
    assert container["command"] == [slug, "score"]
    env = {variable["name"]: variable["value"] for variable in container["env"]}
    referenced = {name for arg in container["args"] for name in re.findall(r"\$\((\w+)\)", arg)}
    assert referenced and referenced <= set(env)  # undefined, $(NAME) stays as it is
    options = dict(arg.split("=", 1) for arg in container["args"])
    assert options["--model-uri"] == "$(BATCH_MODEL_URI)"
    image_env = dict(pair.split("=", 1) for pair in dockerfile_value(project, "ENV").split())
    assert env["BATCH_MODEL_URI"] == image_env["SERVE_MODEL_URI"]  # the baked model
    mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
    assert "/tmp" in mounts and env["HOME"] == "/tmp"
    for path in (env["BATCH_INPUT"], env["BATCH_OUTPUT"]):
        (mount,) = [name for root, name in mounts.items() if path.startswith(root + "/")]
        (volume,) = [v for v in pod["volumes"] if v["name"] == mount]
        claim = volume["persistentVolumeClaim"]["claimName"]
        assert resources["PersistentVolumeClaim"]["metadata"]["name"] == claim


def fake_kubectl(directory: Path) -> Path:
    """kubectl for a machine without a cluster: `kustomize` builds the overlay
    offline, `apply -f FILE` keeps a copy of FILE, anything else is logged."""
    directory.mkdir()
    kubectl = directory / "kubectl"
    kustomize = TEMPLATE_ROOT / "devtools" / "testing" / "kustomize.py"
    kubectl.write_text(
        "#!/usr/bin/env bash\n"
        'echo "$*" >> "$KUBECTL_LOG"\n'
        'case "$1" in\n'
        f'  kustomize) exec "{sys.executable}" "{kustomize}" "$2" ;;\n'
        '  apply) cp "$3" "$KUBECTL_APPLIED" ;;\n'
        "esac\n"
        # What Argo Rollouts would say of the rollout, and the Deployment's image.
        'case "$*" in\n'
        '  *status.phase*) echo "${ROLLOUT_PHASE:-Healthy}" ;;\n'
        '  *status.message*) echo "RolloutAborted: metric error-rate assessed Failed" ;;\n'
        '  *containers*) echo "$IMAGE" ;;\n'
        "esac\n"
    )
    kubectl.chmod(0o755)
    return directory


def deploy(
    project: Path, tmp_path: Path, target: str, script: str = "deploy.sh", **env_changes: str
) -> subprocess.CompletedProcess:
    env = project_env() | env_changes
    env |= {
        "PATH": f"{fake_kubectl(tmp_path / 'bin')}:{env['PATH']}",
        "IMAGE": IMAGE,
        "KUBECONFIG_DATA": "apiVersion: v1\nkind: Config\n",
        "KUBECTL_LOG": str(tmp_path / "kubectl.log"),
        "KUBECTL_APPLIED": str(tmp_path / "applied.yaml"),
    }
    command = ["bash", f"deploy/scripts/{script}", target]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)


@pytest.mark.parametrize("target", TARGETS)
def test_the_deploy_script_applies_the_overlay_with_the_built_image(rendered, tmp_path, target):
    result = deploy(rendered(), tmp_path, target)
    assert result.returncode == 0, result.stdout + result.stderr
    applied = by_kind(yaml.safe_load_all((tmp_path / "applied.yaml").read_text()))
    (container,) = applied["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == IMAGE
    job = applied["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert job["containers"][0]["image"] == IMAGE
    assert {resource["metadata"]["namespace"] for resource in applied.values()} == {target}
    calls = (tmp_path / "kubectl.log").read_text().splitlines()
    assert calls[-1] == f"-n {target} rollout status deployment/model-service --timeout=10m"


def test_the_deploy_script_refuses_manifests_without_the_image_placeholder(rendered, tmp_path):
    project = Path(shutil.copytree(rendered(), tmp_path / "project"))
    for manifest in (project / "deploy" / "k8s" / "base").glob("*.yaml"):
        text = manifest.read_text()
        manifest.write_text(text.replace("image: model-service-image", "image: nginx:1.27"))
    result = deploy(project, tmp_path, "staging")
    assert result.returncode == 1
    assert "has no 'image: model-service-image' to replace" in result.stdout
    assert not (tmp_path / "applied.yaml").exists()


def test_the_deploy_script_without_manifests_says_nothing_was_deployed(rendered, tmp_path):
    project = Path(shutil.copytree(rendered(), tmp_path / "project"))
    shutil.rmtree(project / "deploy" / "k8s")
    result = deploy(project, tmp_path, "staging")
    assert result.returncode == 0, result.stderr
    assert "::warning::No deploy/k8s/ manifests" in result.stdout and IMAGE in result.stdout
    assert not (tmp_path / "kubectl.log").exists()
