"""Fit the model on the training split and record the run in MLflow."""

import hashlib
import json
import shutil

import mlflow
import pandas as pd
import skops.io
from mlflow.models import ModelSignature, infer_signature
from mlflow.types import ColSpec
from mlflow.types import Schema as ColumnTypes
from sklearn.pipeline import Pipeline

from . import tracking
from .data import read_table, source_query, write_table
from .errors import ProjectError
from .estimators import (
    SCALED_FAMILIES,
    build_estimator,
    family_requirements,
    fitting_errors,
    fitting_problem,
    prepare_for_serving,
)
from .features import build_preprocessor, model_input
from .paths import (
    DATASET_FILE,
    HOLDOUT_FILE,
    MODEL_DIR,
    RUN_FILE,
    SCHEMA_FILE,
    TRAIN_FILE,
)
from .prediction_buckets import METADATA_KEY, prediction_buckets
from .schema import Schema
from .settings import Params
from .split import SPLIT_TAG, split, split_signature
from .tuned import TuningResult, tuning_for_training, with_tuned

INPUT_EXAMPLE_ROWS = 5
# The signature's type of each kind of feature, as model_input makes them.
# Booleans are doubles: `mlflow models serve` casts a "boolean" column with
# numpy, which turns a JSON null into False; a double takes true/false/null
# as 1/0/NaN, and the pipeline imputes NaN as in training.
SIGNATURE_TYPES = {"numeric": "double", "categorical": "string", "boolean": "double"}


def build_pipeline(schema: Schema, params: Params) -> Pipeline:
    estimator = build_estimator(
        schema.task, params.model.family, params.model.hyperparameters(), params.seed
    )
    scale = params.model.family in SCALED_FAMILIES
    features = build_preprocessor(schema, scale=scale)
    return Pipeline([("features", features), ("model", estimator)])


def fitted_pipeline(frame, schema: Schema, params: Params) -> Pipeline:
    """params' pipeline fitted on `frame`; a value the estimator refuses
    raises one of estimators.fitting_errors (tune's cross-validation too)."""
    pipeline = build_pipeline(schema, params)
    pipeline.fit(model_input(frame, schema), frame[schema.target.name])
    return pipeline


def fit(frame, schema: Schema, params: Params) -> Pipeline:
    family = params.model.family
    try:
        pipeline = fitted_pipeline(frame, schema, params)
    except fitting_errors(family) as error:  # a value the estimator refuses
        raise ProjectError(
            f"training failed with params.yaml model.{family}: {fitting_problem(error)}"
        ) from error
    # Trained with params.yaml's threads, logged with a server's.
    prepare_for_serving(pipeline.named_steps["model"], family)
    return pipeline


def signature(
    schema: Schema, example: pd.DataFrame, pipeline: Pipeline
) -> ModelSignature:
    """The inputs from schema.yaml, not inferred from a few rows: every feature
    with its type, nullable ones optional (MLflow's word for "may be null")."""
    inferred = infer_signature(example, pipeline.predict(example))
    inputs = ColumnTypes(
        [
            ColSpec(SIGNATURE_TYPES[f.type], f.name, required=not f.nullable)
            for f in schema.features
        ]
    )
    return ModelSignature(inputs, inferred.outputs)


def model_options(
    pipeline: Pipeline,
    schema: Schema,
    frame: pd.DataFrame,
    extra_requirements: list[str] | None = None,
) -> dict:
    """How MLflow saves the pipeline fitted on `frame` (rows with the target):
    its signature, an input example, the types skops may load and the
    requirements (scikit-learn's, skops and `extra_requirements`), plus, for
    a regressor, the prediction histogram's buckets."""
    example = model_input(frame.head(INPUT_EXAMPLE_ROWS), schema)
    options = {
        "signature": signature(schema, example, pipeline),
        "input_example": example,
        # skops refuses to load types it does not know unless they are listed.
        "skops_trusted_types": skops.io.get_untrusted_types(
            data=skops.io.dumps(pipeline)
        ),
        # Declared, not inferred: inference re-imports the model in a
        # subprocess, which takes longer than all the rest of the saving.
        "pip_requirements": [
            *mlflow.sklearn.get_default_pip_requirements(include_skops=True),
            *(extra_requirements or []),
        ],
    }
    if not schema.is_classification:
        # The service's prediction histogram takes its buckets from here.
        target = frame[schema.target.name]
        options["metadata"] = {METADATA_KEY: prediction_buckets(target)}
    return options


def _logged_params(params: Params, train_rows: int) -> dict:
    return {
        "model_family": params.model.family,
        **{
            f"model.{key}": value
            for key, value in params.model.hyperparameters().items()
        },
        "seed": params.seed,
        "data.source": params.data.source,
        **_sql_source(params),
        "data.test_size": params.data.test_size,
        "train_rows": train_rows,
    }


def _sql_source(params: Params) -> dict:
    """What identifies a database source without its URL, a secret: the
    variable's name, the query file and a hash of the query text."""
    if params.data.source != "sql":
        return {}
    query = source_query(params).encode()
    return {
        "data.url_env": params.data.url_env,
        "data.query_file": params.data.query_file or "(inline data.query)",
        "data.query_sha256": hashlib.sha256(query).hexdigest(),
    }


def _hyperparameter_source(tuning: TuningResult | None) -> dict[str, str]:
    """Where model.<family>'s values came from, for the run's reader."""
    if tuning is None:
        return {"hyperparameters_source": "params.yaml"}
    return {"hyperparameters_source": "tune", "tune_run_id": tuning.run_id or ""}


def split_dataset(schema: Schema, params: Params):
    """(train, holdout) of the prepared data set: the same rows every time
    for the same seed and data.test_size (tune relies on it), and each row
    on the same side as long as its values are the same (split.py)."""
    dataset = read_table(DATASET_FILE)
    try:
        return split(dataset, schema, params)
    except ValueError as error:
        raise ProjectError(
            f"cannot split {DATASET_FILE} into train and holdout: {error}"
        ) from error


def _split_dataset(schema: Schema, params: Params):
    train_frame, holdout_frame = split_dataset(schema, params)
    write_table(train_frame, TRAIN_FILE)
    write_table(holdout_frame, HOLDOUT_FILE)
    return train_frame


def train(params: Params, schema: Schema) -> dict:
    """Fit, log params/tags/model to MLflow, copy the model locally for DVC."""
    tuning = tuning_for_training(params)
    if tuning is not None:
        params = with_tuned(params, tuning.hyperparameters)
    train_frame = _split_dataset(schema, params)
    pipeline = fit(train_frame, schema, params)
    requirements = family_requirements(params.model.family)
    options = model_options(pipeline, schema, train_frame, requirements)
    experiment_id = tracking.use_experiment(params.mlflow.experiment)
    with mlflow.start_run(experiment_id=experiment_id) as run:
        mlflow.log_params(_logged_params(params, len(train_frame)))
        mlflow.set_tags(tracking.lineage_tags(DATASET_FILE, SCHEMA_FILE))
        mlflow.set_tags(_hyperparameter_source(tuning))
        mlflow.set_tag(SPLIT_TAG, split_signature(schema, params))
        logged = mlflow.sklearn.log_model(pipeline, name="model", **options)

    # DVC's copy is the logged model itself: saving it again would serialise
    # the forest twice more (MLflow writes it with skops, then reads it back).
    shutil.rmtree(MODEL_DIR, ignore_errors=True)
    mlflow.artifacts.download_artifacts(logged.model_uri, dst_path=str(MODEL_DIR))
    record = {
        "run_id": run.info.run_id,
        "experiment_id": experiment_id,
        "model_uri": logged.model_uri,
    }
    RUN_FILE.write_text(json.dumps(record, indent=2) + "\n")
    return record
