"""The serving benchmark's peers: BentoML and MLServer, each in its own
environment (made here with uv), each serving the exported model twice: the
scikit-learn pipeline as exported (model.skops) and the same model.onnx the
generated service runs. Each gets its best shot: its adaptive batching,
labels from the one probability pass, one ONNX Runtime thread per worker.
The code they run is in peers/."""

import json
from pathlib import Path

from devtools.testing.projects import free_port, in_project, python_option, run, uv

PEERS_DIR = Path(__file__).resolve().parent / "peers"
SERVERS = {"bentoml": ["bentoml"], "mlserver": ["mlserver"]}
# What both need to load the model; scikit-learn at the project's version.
MODEL_LIBRARIES = ["skops", "onnxruntime", "pandas", "pyyaml"]
BACKENDS = ("sklearn", "onnx")


def peer_environments(project: Path, scratch: Path) -> dict[str, Path]:
    """A virtual environment per peer server; their interpreters' folders."""
    version = in_project(project, "python", "-c", "import sklearn; print(sklearn.__version__)")
    libraries = [f"scikit-learn=={version.stdout.strip()}", *MODEL_LIBRARIES]
    environments = {}
    for name, packages in SERVERS.items():
        venv = scratch / f"peer-{name}"
        run([uv(), "venv", "--quiet", str(venv), *python_option()], scratch)
        install = [uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python")]
        run([*install, *packages, *libraries], scratch)
        environments[name] = venv / "bin"
    return environments


def peer_bodies(records: list[dict], scratch: Path) -> dict[str, dict]:
    """Single-record and 1000-row bodies in each peer's request format."""
    bodies = {
        "bentoml": {"single": {"records": records[:1]}, "batch": {"records": records}},
        "mlserver": {"single": _v2_request(records[:1]), "batch": _v2_request(records)},
    }
    plans: dict[str, dict] = {}
    for peer, kinds in bodies.items():
        plans[peer] = {"url_floor": None}
        for kind, body in kinds.items():
            path = scratch / f"{peer}_{kind}.json"
            path.write_text(json.dumps(body))
            plans[peer][kind] = path
    plans["bentoml"] |= {"url_single": "/predict", "url_batch": "/predict"}
    infer = "/v2/models/model/infer"
    plans["mlserver"] |= {"url_single": infer, "url_batch": infer}
    return plans


def _v2_request(records: list[dict]) -> dict:
    """Open Inference Protocol, one input per column (MLServer's pandas codec)."""

    def datatype(values: list) -> str:
        if any(isinstance(value, str) for value in values):
            return "BYTES"
        if all(isinstance(value, bool) for value in values if value is not None):
            return "BOOL"
        return "FP64"

    columns = {name: [record.get(name) for record in records] for name in records[0]}
    inputs = [
        {"name": name, "shape": [len(values)], "datatype": datatype(values), "data": values}
        for name, values in columns.items()
    ]
    return {"parameters": {"content_type": "pd"}, "inputs": inputs}


def peer_command(peer, bin_dir, model, schema, backend, workers, scratch):
    """(command, port, environment, readiness path) to start a peer."""
    port = free_port()
    if peer == "bentoml":
        command = [str(bin_dir / "bentoml"), "serve", "bentoml_service:Model"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--working-dir", str(PEERS_DIR)]
        env = {
            "PEER_MODEL_DIR": str(model),
            "PEER_SCHEMA": str(schema),
            "PEER_BACKEND": backend,
            "PEER_WORKERS": str(workers),
            "BENTOML_DO_NOT_TRACK": "true",
        }
        return command, port, env, "/readyz"
    folder = scratch / f"mlserver-{backend}-w{workers}"
    (folder / "model").mkdir(parents=True, exist_ok=True)
    settings = {
        "host": "127.0.0.1",
        "http_port": port,
        "grpc_port": free_port(),
        "metrics_port": free_port(),
        # 0: inference in the server process; more: a pool of that many.
        "parallel_workers": 0 if workers == 1 else workers,
    }
    (folder / "settings.json").write_text(json.dumps(settings))
    model_settings = {
        "name": "model",
        "implementation": "mlserver_runtime.ExportedModelRuntime",
        "max_batch_size": 1000,
        "max_batch_time": 0.01,
        "parameters": {
            "extra": {"model_dir": str(model), "schema": str(schema), "backend": backend}
        },
    }
    (folder / "model" / "model-settings.json").write_text(json.dumps(model_settings))
    command = [str(bin_dir / "mlserver"), "start", str(folder)]
    return command, port, {"PYTHONPATH": str(PEERS_DIR)}, "/v2/health/ready"
