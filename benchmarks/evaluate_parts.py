"""What each part of a generated project's evaluate stage costs, in process.

Run with the project's interpreter from its root after `dvc repro`. Prints
one JSON line: median seconds of the metrics (score and baseline, as before
the insight reports) and of importance, slices and calibration; and of the
alternative to our importance, scikit-learn's permutation_importance (one
pipeline call per feature and repeat, where ours stacks the repeats).
"""

import importlib
import json
import statistics
import time
from pathlib import Path

import yaml

SKLEARN_SCORERS = {
    "roc_auc": "roc_auc",
    "f1_macro": "f1_macro",
    "rmse": "neg_root_mean_squared_error",
}


def median_seconds(function, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    package = yaml.safe_load(Path(".copier-answers.yml").read_text())["package_name"]

    def module(name: str):
        return importlib.import_module(f"{package}.{name}")

    evaluate, paths = module("evaluate"), module("paths")
    schema = module("schema").load_schema()
    read_table = module("data").read_table
    model = module("predict").load_model(str(paths.MODEL_DIR))
    holdout, train = read_table(paths.HOLDOUT_FILE), read_table(paths.TRAIN_FILE)

    def metrics() -> None:
        evaluate.score(model, holdout, schema)
        evaluate.baseline_metrics(schema, train, holdout)

    def sklearn_importance() -> None:
        from sklearn.inspection import permutation_importance

        metric = module("metrics").headline_metric(schema.task).name
        permutation_importance(
            model,
            holdout[schema.feature_names],
            holdout[schema.target.name],
            scoring=SKLEARN_SCORERS[metric],
            n_repeats=module("importance").N_REPEATS,
            random_state=0,
        )

    parts = {
        "metrics": metrics,
        "importance_sklearn": sklearn_importance,
        "importance": lambda: module("importance").permutation_importances(model, holdout, schema),
        "slices": lambda: module("slices").slice_metrics(model, holdout, schema),
    }
    if schema.is_classification:
        parts["calibration"] = lambda: module("calibration").model_calibration(
            model, holdout, schema
        )
    results = {name: median_seconds(part, 3) for name, part in parts.items()}
    print(json.dumps({"holdout_rows": len(holdout), **results}))


if __name__ == "__main__":
    main()
