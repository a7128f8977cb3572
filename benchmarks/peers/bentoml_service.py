"""BentoML's best shot at the exported model: its adaptive batching gathers
concurrent requests into one model call. Configured by environment:
PEER_MODEL_DIR, PEER_SCHEMA, PEER_BACKEND (sklearn or onnx), PEER_WORKERS.

Run: bentoml serve bentoml_service:Model --port PORT (from this folder)."""

import os
from pathlib import Path
from typing import Any

import bentoml
from exported_model import ExportedModel


@bentoml.service(workers=int(os.environ.get("PEER_WORKERS", "1")))
class Model:
    def __init__(self) -> None:
        self.model = ExportedModel(
            Path(os.environ["PEER_MODEL_DIR"]),
            Path(os.environ["PEER_SCHEMA"]),
            os.environ.get("PEER_BACKEND", "sklearn"),
        )

    # A latency budget wide enough that the dispatcher batches rather than
    # sheds load ("process is overloaded", 503) at 16 connections.
    @bentoml.api(batchable=True, max_batch_size=1000, max_latency_ms=5000)
    def predict(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.model.predict(records)
