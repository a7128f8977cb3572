"""Which features the model relies on: permutation importance per feature.

Each feature's column of the holdout is shuffled and the whole pipeline scores
the rows again; how much the task's headline metric worsens is that feature's
importance. Shuffling the input columns, not the one-hot columns the pipeline
makes of them, gives one number per feature of schema.yaml, whatever the model
family. Near zero (or below): the model does not need the feature on these rows.
"""

import pandas as pd
from sklearn.inspection import permutation_importance

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
    result = permutation_importance(
        model,
        model_input(rows, schema),
        rows[schema.target.name],
        scoring=metrics.SCORERS[metric.name],
        n_repeats=N_REPEATS,
        random_state=SEED,
        n_jobs=1,  # the model's own threads, if any: no second pool of processes
    )
    ranked = sorted(
        zip(
            schema.feature_names,
            result.importances_mean,
            result.importances_std,
            strict=True,
        ),
        key=lambda item: item[1],
        reverse=True,
    )
    features = [
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
        "features": features,
    }


def importance_table(report: dict) -> pd.DataFrame:
    """reports/plots/importance.csv, the bar chart of `dvc plots show`."""
    return pd.DataFrame(
        report["features"], columns=["feature", "importance_mean", "importance_std"]
    )
