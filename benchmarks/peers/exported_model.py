"""The exported model as a peer server loads it, without the project's code:
the scikit-learn pipeline from model.skops, or model.onnx under ONNX Runtime
fed as the project feeds it (one float matrix of the numeric and boolean
features, one string matrix of the categorical ones). Both answer a list of
records with the most probable class and the class probabilities, or the
regression value, as the generated service does."""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

MISSING_CATEGORY = "missing"  # what the project sends for a missing category


class ExportedModel:
    def __init__(self, folder: Path, schema_file: Path, backend: str):
        schema = yaml.safe_load(schema_file.read_text())
        self.features = [feature["name"] for feature in schema["features"]]
        self.strings = [f["name"] for f in schema["features"] if f["type"] == "categorical"]
        self.numbers = [name for name in self.features if name not in self.strings]
        self.booleans = [f["name"] for f in schema["features"] if f["type"] == "boolean"]
        self.classifies = schema["task"] != "regression"
        self.classes = json.loads((folder / "serving.json").read_text()).get("class_names")
        self.backend = backend
        if backend == "onnx":
            self.session = _onnx_session(folder / "model.onnx")
        else:
            self.pipeline = _skops_pipeline(folder / "model.skops")

    def predict(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.backend == "onnx":
            labels, matrix = self._onnx(records)
        else:
            labels, matrix = self._sklearn(records)
        if matrix is None:
            return [{"prediction": float(value)} for value in labels]
        return [
            {"prediction": label, "probabilities": dict(zip(self.classes, row, strict=True))}
            for label, row in zip(labels.tolist(), matrix.tolist(), strict=True)
        ]

    def _sklearn(self, records):
        frame = pd.DataFrame.from_records(records, columns=self.features)
        # As the logged model's signature types them (MLflow converts too).
        frame[self.booleans] = frame[self.booleans].astype(float)
        if not self.classifies:
            return self.pipeline.predict(frame), None
        matrix = self.pipeline.predict_proba(frame)
        return self.pipeline.classes_[matrix.argmax(axis=1)], matrix

    def _onnx(self, records):
        numbers = [[record.get(name) for name in self.numbers] for record in records]
        strings = [[_category(record.get(name)) for name in self.strings] for record in records]
        feed = {"numbers": np.array(numbers, dtype=np.float32)}
        if self.strings:
            feed["strings"] = np.array(strings, dtype=object)
        results = self.session.run(None, feed)
        if not self.classifies:
            return results[0].ravel(), None
        return results[0].ravel(), results[1]


def _category(value) -> str:
    return value if isinstance(value, str) else MISSING_CATEGORY  # None or NaN


def _onnx_session(path: Path):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _skops_pipeline(path: Path):
    import skops.io

    pipeline = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
    if "model__n_jobs" in pipeline.get_params():
        pipeline.set_params(model__n_jobs=1)  # per-request thread pools cost more
    return pipeline
