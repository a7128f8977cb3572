"""Where every stage reads and writes, relative to the project root."""

from pathlib import Path

PARAMS_FILE = Path("params.yaml")
SCHEMA_FILE = Path("schema.yaml")
# DVC's record of each stage's inputs and outputs, rewritten by `dvc repro`.
DVC_LOCK = Path("dvc.lock")

# Source files (params.yaml data.path): the prepare stage depends on the whole
# folder, so `dvc repro` notices new or changed data.
RAW_DATA_DIR = Path("data/raw")
# SQL files (params.yaml data.query_file), a dependency of the prepare stage too.
QUERIES_DIR = Path("queries")
DATASET_FILE = Path("data/prepared/dataset.parquet")
SPLIT_DIR = Path("data/split")
TRAIN_FILE = SPLIT_DIR / "train.parquet"
HOLDOUT_FILE = SPLIT_DIR / "holdout.parquet"

# The tune stage's best hyperparameters, which the train stage reads.
TUNED_PARAMS_FILE = Path("models/tuned_params.json")
MODEL_DIR = Path("models/model")
RUN_FILE = Path("models/run.json")

PREPARE_REPORT = Path("reports/prepare.json")  # rows read, dropped, kept
VALIDATION_REPORT = Path("reports/validation.json")
METRICS_FILE = Path("reports/metrics.json")
PLOTS_DIR = Path("reports/plots")
IMPORTANCE_FILE = Path("reports/importance.json")  # permutation importance
SLICES_FILE = Path("reports/slices.json")  # the metric per category
CALIBRATION_FILE = Path("reports/calibration.json")  # classifiers only
REGISTRY_REPORT = Path("reports/registry.json")
MODEL_CARD_REPORT = Path("reports/model_card.md")  # the newest version's card

PREDICTION_LOG_DIR = Path("logs/predictions")  # written by the service
# In the prediction log directory: the shadow model's log (service, monitor).
SHADOW_LOG_FOLDER = "shadow"
MONITORING_DIR = Path("reports/monitoring")  # report.html, summary.json, monitor.prom

# What the stages of dvc.yaml write (their outs, metrics and plots), and
# dvc.lock: `dvc repro` deletes or rewrites them while it runs, so they are
# not the owner's uncommitted changes (tracking.lineage_tags).
# tests/test_lineage.py checks that this covers dvc.yaml.
PIPELINE_OUTPUTS = (
    DVC_LOCK,
    DATASET_FILE,
    PREPARE_REPORT,
    VALIDATION_REPORT,
    TUNED_PARAMS_FILE,
    SPLIT_DIR,
    MODEL_DIR,
    RUN_FILE,
    METRICS_FILE,
    CALIBRATION_FILE,
    PLOTS_DIR,
    IMPORTANCE_FILE,
    SLICES_FILE,
    REGISTRY_REPORT,
    MODEL_CARD_REPORT,
)
