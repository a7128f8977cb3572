"""Read what a generated project's pipeline left behind, independently of its code.

Run with the generated project's interpreter, from its root. Prints one JSON
line: the MLflow runs, the registry's versions and aliases, the champion's
metric recomputed from the holdout split, and a trivial baseline's.
"""

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import yaml
from mlflow import MlflowClient
from sklearn import metrics
from sklearn.dummy import DummyClassifier, DummyRegressor


def gate_score(metric, y_true, model, features, classes, positive):
    if metric == "rmse":
        return float(np.sqrt(metrics.mean_squared_error(y_true, model.predict(features))))
    if metric == "roc_auc":
        proba = model.predict_proba(features)[:, list(classes).index(positive)]
        return float(metrics.roc_auc_score(np.asarray(y_true) == positive, proba))
    if metric == "f1_macro":
        return float(metrics.f1_score(y_true, model.predict(features), average="macro"))
    raise SystemExit(f"project_facts.py does not know metric {metric}")


def model_features(frame, schema):
    """The feature columns typed as the project's model expects them."""
    columns = {}
    for feature in schema["features"]:
        values = frame[feature["name"]]
        if feature["type"] == "categorical":
            columns[feature["name"]] = values.astype(object).where(values.notna(), "missing")
        else:
            columns[feature["name"]] = values.astype(float)
    return pd.DataFrame(columns)


def main():
    params = yaml.safe_load(Path("params.yaml").read_text())
    schema = yaml.safe_load(Path("schema.yaml").read_text())
    name, metric = params["register"]["model_name"], params["register"]["gate"]["metric"]
    mlflow.set_tracking_uri("sqlite:///mlflow.db")
    client = MlflowClient()

    target = schema["target"]["name"]
    train = pd.read_parquet("data/split/train.parquet")
    holdout = pd.read_parquet("data/split/holdout.parquet")
    features = model_features(holdout, schema)
    classes = schema["target"].get("classes")
    positive = schema["target"].get("positive_class", classes[-1] if classes else None)

    champion = mlflow.sklearn.load_model(f"models:/{name}@champion")
    dummy = DummyClassifier(strategy="prior") if classes else DummyRegressor()
    dummy.fit(model_features(train, schema), train[target])

    def score(model):
        model_classes = getattr(model, "classes_", None)
        return gate_score(metric, holdout[target], model, features, model_classes, positive)

    runs = mlflow.search_runs(search_all_experiments=True, output_format="list")
    versions = client.search_model_versions(f"name = '{name}'")
    facts = {
        "runs": [
            {"params": r.data.params, "metrics": r.data.metrics, "tags": r.data.tags} for r in runs
        ],
        "aliases": {
            alias: str(v) for alias, v in client.get_registered_model(name).aliases.items()
        },
        "versions": sorted(int(v.version) for v in versions),
        "metric": metric,
        "champion_score": score(champion),
        "baseline_score": score(dummy),
    }
    print(json.dumps(facts))


if __name__ == "__main__":
    main()
