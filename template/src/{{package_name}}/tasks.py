"""The tasks schema.yaml can name, and what each one means to the code.

Every difference between tasks at run time reads this table (the estimators,
the schema's rules for classes, the metrics); no other module compares task
names.
"""

from dataclasses import dataclass
from typing import Literal

Task = Literal["binary_classification", "multiclass_classification", "regression"]


@dataclass(frozen=True)
class TaskSpec:
    classifies: bool  # predicts one of target.classes, else a number
    binary: bool  # exactly two classes; the metrics score the positive one
    metrics: tuple[str, ...]  # what evaluate reports and the gate may compare


TASKS: dict[str, TaskSpec] = {
    "binary_classification": TaskSpec(
        classifies=True,
        binary=True,
        metrics=("roc_auc", "f1", "accuracy", "precision", "recall", "log_loss"),
    ),
    "multiclass_classification": TaskSpec(
        classifies=True,
        binary=False,
        metrics=("f1_macro", "accuracy", "roc_auc_ovr", "log_loss"),
    ),
    "regression": TaskSpec(
        classifies=False,
        binary=False,
        metrics=("rmse", "mae", "r2"),
    ),
}
