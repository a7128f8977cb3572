"""Predict records with the registry champion inside a generated project.

Run with the project's interpreter from its root (MLFLOW_TRACKING_URI, when
set, names the registry; else the project's local store):
    python predict_in_process.py records.json
Prints one JSON line: labels, and class probabilities for classifiers (in
the model's class order, with the class names), computed by the fitted
scikit-learn pipeline itself, for comparison with what the service answers.
"""

import importlib
import json
import os
import sys
from pathlib import Path

import mlflow
import pandas as pd
import yaml


def main() -> None:
    records = json.loads(Path(sys.argv[1]).read_text())
    answers = yaml.safe_load(Path(".copier-answers.yml").read_text())
    name = yaml.safe_load(Path("params.yaml").read_text())["register"]["model_name"]
    package = answers["package_name"]
    features = importlib.import_module(f"{package}.features")
    schema = importlib.import_module(f"{package}.schema").load_schema()

    local_store = f"sqlite:///{Path('mlflow.db').resolve()}"
    mlflow.set_tracking_uri(os.environ.get("MLFLOW_TRACKING_URI") or local_store)
    model = mlflow.sklearn.load_model(f"models:/{name}@champion")
    frame = features.model_input(pd.DataFrame.from_records(records), schema)
    result = {"labels": model.predict(frame).tolist()}
    if hasattr(model, "predict_proba"):
        result["classes"] = [str(c) for c in model.classes_]
        result["probabilities"] = model.predict_proba(frame).tolist()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
