"""Which features the model relies on: permutation importance per feature.

Each feature's column of the holdout is shuffled and the whole pipeline scores
the rows again; how much the task's headline metric worsens is that feature's
importance. Shuffling the input columns, not the one-hot columns the pipeline
makes of them, gives one number per feature of schema.yaml, whatever the model
family. Near zero (or below): the model does not need the feature on these rows.
"""

import numpy as np
import pandas as pd

from . import metrics
from .features import model_input
from .schema import Schema

# The cost is rows x features x repeats predictions: bounded, so that a large
# holdout does not make the evaluate stage the slowest of the pipeline.
N_REPEATS = 5
MAX_ROWS = 2000
SEED = 0  # the same shuffles every run: the same model gives the same report


def permutation_importances(model, frame: pd.DataFrame, schema: Schema) -> dict:
    """The report of reports/importance.json, most important feature first."""
    metric = metrics.headline_metric(schema.task)
    rows = frame.sample(MAX_ROWS, random_state=SEED) if len(frame) > MAX_ROWS else frame
    features = model_input(rows, schema).reset_index(drop=True)
    target = rows[schema.target.name].to_numpy()
    predicted = metrics.headline_predictions(model, features, schema)
    baseline = metrics.headline_value(schema, target, predicted)
    # Positive importance: the metric is worse with the feature shuffled.
    worse = 1 if metric.greater_is_better else -1
    rng = np.random.default_rng(SEED)
    ranked = []
    for name in schema.feature_names:
        shuffled = _scores_with_shuffled(model, features, target, name, schema, rng)
        worsening = worse * (baseline - shuffled)
        ranked.append((name, worsening.mean(), worsening.std()))
    ranked.sort(key=lambda item: item[1], reverse=True)
    features_report = [
        {
            "feature": name,
            "importance_mean": round(float(mean), 6),
            "importance_std": round(float(std), 6),
        }
        for name, mean, std in ranked
    ]
    return {
        "method": "permutation",
        "metric": metric.name,
        "n_repeats": N_REPEATS,
        "rows": len(rows),
        "features": features_report,
    }


def _scores_with_shuffled(
    model,
    features: pd.DataFrame,
    target: np.ndarray,
    name: str,
    schema: Schema,
    rng: np.random.Generator,
) -> np.ndarray:
    """The headline metric with column `name` shuffled, once per repeat. The
    repeats are stacked and predicted in one call: on holdout-sized frames a
    pipeline's cost per call outweighs its cost per row."""
    values = features[name].to_numpy()
    stacked = pd.concat(
        [
            features.assign(**{name: values[rng.permutation(len(values))]})
            for _ in range(N_REPEATS)
        ],
        ignore_index=True,
    )
    predicted = metrics.headline_predictions(model, stacked, schema)
    return np.array(
        [
            metrics.headline_value(schema, target, repeat)
            for repeat in np.split(predicted, N_REPEATS)
        ]
    )


def importance_table(report: dict) -> pd.DataFrame:
    """reports/plots/importance.csv, the bar chart of `dvc plots show`."""
    return pd.DataFrame(
        report["features"], columns=["feature", "importance_mean", "importance_std"]
    )
