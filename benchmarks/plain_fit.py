"""The same fit as a generated project's pipeline, as one plain script.

Run with the generated project's interpreter from its root (it reads
params.yaml and schema.yaml, and uses the project's sample data generator so
both fit the same rows). No DVC, no MLflow, no validation: the floor.
"""

import importlib
import time
from pathlib import Path

started = time.perf_counter()

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

params = yaml.safe_load(Path("params.yaml").read_text())
schema = yaml.safe_load(Path("schema.yaml").read_text())
answers = yaml.safe_load(Path(".copier-answers.yml").read_text())
sample_data = importlib.import_module(f"{answers['package_name']}.sample_data")

frame = sample_data.generate(params["data"]["n_rows"], params["seed"])
target = schema["target"]["name"]
by_type = {
    kind: [f["name"] for f in schema["features"] if f["type"] == kind]
    for kind in ("numeric", "categorical", "boolean")
}
for name in by_type["categorical"]:
    frame[name] = frame[name].astype(object)
for name in by_type["numeric"] + by_type["boolean"]:
    frame[name] = frame[name].astype(float)
train, holdout = train_test_split(
    frame,
    test_size=params["data"]["test_size"],
    random_state=params["seed"],
    stratify=frame[target],
)

features = ColumnTransformer(
    [
        (
            "numeric",
            make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
            by_type["numeric"],
        ),
        (
            "categorical",
            make_pipeline(
                SimpleImputer(strategy="constant", fill_value="missing"),
                OneHotEncoder(handle_unknown="ignore"),
            ),
            by_type["categorical"],
        ),
        ("boolean", SimpleImputer(strategy="most_frequent"), by_type["boolean"]),
    ]
)
model = RandomForestClassifier(**params["model"]["random_forest"], random_state=params["seed"])
pipeline = Pipeline([("features", features), ("model", model)]).fit(
    train.drop(columns=[target]), train[target]
)
proba = pipeline.predict_proba(holdout.drop(columns=[target]))[:, 1]
print(
    f"roc_auc {roc_auc_score(holdout[target], proba):.4f} in {time.perf_counter() - started:.2f} s"
)
assert np.isfinite(proba).all()
