"""The generated compose.yaml (the team stack): valid against the Compose
specification, every image pinned, every file it mounts or builds present,
its settings documented in .env.example, and its services wired to each
other by the names and ports they listen on. There is no Docker engine or
compose plugin here, so this reads the YAML; tests/deep/test_team_stack.py runs
the same components as local processes."""

import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from devtools.testing.dockerfile import dockerfile_instructions
from tests.render.test_render import UNUSUAL

SERVICES = {
    "postgres",
    "s3",
    "create-buckets",
    "mlflow",
    "service",
    "pushgateway",
    "prometheus",
    "grafana",
}


@pytest.fixture(params=[{}, UNUSUAL], ids=["defaults", "unusual"])
def project(request, rendered) -> Path:
    return rendered(**request.param)


def services(project: Path) -> dict[str, dict]:
    return yaml.safe_load((project / "compose.yaml").read_text())["services"]


def exposed_port(dockerfile: Path) -> str:
    [port] = [args for name, args in dockerfile_instructions(dockerfile) if name == "EXPOSE"]
    return port


def env_example(project: Path) -> dict[str, str]:
    """The settings .env.example documents, with their example values."""
    lines = (project / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def container_ports(service: dict) -> set[str]:
    return {mapping.rsplit(":", 1)[1] for mapping in service.get("ports", [])}


def test_the_compose_file_follows_the_specification(project):
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(project / "compose.yaml")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(services(project)) == SERVICES


def test_images_are_pinned_and_built_images_have_their_dockerfile(project):
    for name, service in services(project).items():
        if "build" in service:
            assert (project / service["build"] / "Dockerfile").is_file(), name
            continue
        tag = service["image"].partition(":")[2]
        assert re.fullmatch(r"v?\d+(\.\d+)+", tag), f"{name}: {service['image']} is not pinned"


def test_mounted_files_configs_and_volumes_exist(project):
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    used_volumes = set()
    for name, service in compose["services"].items():
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("./"):
                assert (project / source).is_file(), f"{name} mounts missing {source}"
            else:
                used_volumes.add(source)
        for config in service.get("configs", []):
            assert config["source"] in compose["configs"]
        for dependency in service.get("depends_on", []):
            assert dependency in compose["services"], f"{name} depends on {dependency}"
    assert used_volumes == set(compose["volumes"])


def test_services_reach_each_other_where_they_listen(project):
    stack = services(project)
    service_port = exposed_port(project / "Dockerfile")
    mlflow_port = exposed_port(project / "deploy" / "mlflow-server" / "Dockerfile")
    assert container_ports(stack["service"]) == {service_port}
    assert container_ports(stack["mlflow"]) == {mlflow_port}
    tracking = urlsplit(stack["service"]["environment"]["MLFLOW_TRACKING_URI"])
    assert (tracking.hostname, str(tracking.port)) == ("mlflow", mlflow_port)

    mlflow = stack["mlflow"]["environment"]
    database = urlsplit(mlflow["MLFLOW_BACKEND_STORE_URI"])
    assert database.hostname == "postgres" and database.port == 5432
    assert database.path == "/" + stack["postgres"]["environment"]["POSTGRES_DB"]
    s3_port = next(a.split("=")[1] for a in stack["s3"]["command"] if a.startswith("-s3.port="))
    for endpoint in (mlflow["MLFLOW_S3_ENDPOINT_URL"], mlflow["AWS_ENDPOINT_URL"]):
        assert urlsplit(endpoint).netloc == f"s3:{s3_port}"
    bucket = urlsplit(mlflow["MLFLOW_ARTIFACTS_DESTINATION"]).hostname
    assert f"for bucket in {bucket} " in stack["create-buckets"]["command"][0]
    assert container_ports(stack["s3"]) == {s3_port}

    observability = project / "deploy" / "observability"
    prometheus = yaml.safe_load((observability / "prometheus.yml").read_text())
    targets = [t for job in prometheus["scrape_configs"] for c in job["static_configs"]
               for t in c["targets"]]  # fmt: skip
    assert targets == [f"service:{service_port}", "pushgateway:9091"]
    assert container_ports(stack["pushgateway"]) == {"9091"}
    datasources = project / "deploy" / "compose" / "grafana-datasources.yml"
    [source] = yaml.safe_load(datasources.read_text())["datasources"]
    assert source["url"] == f"http://prometheus:{container_ports(stack['prometheus']).pop()}"


def test_grafana_provisions_the_dashboard_where_it_is_mounted(project):
    provisioning = project / "deploy" / "observability" / "grafana-provisioning.yml"
    provider = yaml.safe_load(provisioning.read_text())
    [dashboards] = provider["providers"]
    mounts = dict(m.split(":")[:2] for m in services(project)["grafana"]["volumes"])
    dashboard_target = mounts["./deploy/observability/grafana-dashboard.json"]
    assert Path(dashboard_target).parent == Path(dashboards["options"]["path"])


def test_settings_are_documented_and_kept_out_of_git(project):
    text = (project / "compose.yaml").read_text()
    variables = set(re.findall(r"(?<!\$)\$\{(\w+)", text))
    assert {"POSTGRES_PASSWORD", "S3_ACCESS_KEY_ID", "GRAFANA_ADMIN_PASSWORD"} <= variables
    assert set(env_example(project)) == variables
    assert ".env" in (project / ".gitignore").read_text().splitlines()


def test_the_mlflow_server_requirements_are_pinned(project):
    lines = (project / "deploy" / "mlflow-server" / "requirements.txt").read_text().splitlines()
    pins = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    assert set(pins) == {"boto3", "mlflow", "psycopg[binary]"}
    store = services(project)["mlflow"]["environment"]["MLFLOW_BACKEND_STORE_URI"]
    assert store.startswith("postgresql+psycopg://")
