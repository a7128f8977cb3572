"""Batch prediction as one plain script: the floor for the CLI's `predict`.

Run with the generated project's interpreter from its root, after `dvc repro`:
loads models/model (the pipeline's skops file, with the trusted types MLflow
recorded) and writes the predictions of a CSV. No registry, no validation: the
same type conversions as the pipeline's features, as plain_fit.py does.
Usage: python plain_predict.py INPUT.csv OUTPUT.csv
"""

import sys
from pathlib import Path

import pandas as pd
import skops.io
import yaml

model_dir = Path("models/model")
flavor = yaml.safe_load((model_dir / "MLmodel").read_text())["flavors"]["sklearn"]
model = skops.io.load(model_dir / flavor["pickled_model"], trusted=flavor["skops_trusted_types"])
schema = yaml.safe_load(Path("schema.yaml").read_text())
frame = pd.read_csv(sys.argv[1])
features = frame[[f["name"] for f in schema["features"]]].copy()
for feature in schema["features"]:  # the types the pipeline was fitted on
    kind = object if feature["type"] == "categorical" else float
    features[feature["name"]] = features[feature["name"]].astype(kind)
frame["prediction"] = model.predict(features)
frame.to_csv(sys.argv[2], index=False)
