"""plain_fit.py's fit, then tracked as the pipeline tracks it, in one process.

Run with the generated project's interpreter from its root. After the same
data, split and fit as benchmarks/plain_fit.py, it records one MLflow run
(parameters, the model logged with skops, its signature and input example),
registers the model and makes the version champion, in a local SQLite store
of its own (bench-tracked.db, kept between runs as a project keeps
mlflow.db). No DVC, no validation, no evaluation reports, no gate: the floor
of what MLflow tracking and a registry cost, paid once, where the pipeline's
stages pay parts of it in each process.
"""

import runpy
import time
from pathlib import Path

started = time.perf_counter()

import mlflow  # noqa: E402
import skops.io  # noqa: E402
from mlflow.models import infer_signature  # noqa: E402

STORE = Path("bench-tracked.db").resolve()
ARTIFACTS = Path("bench-tracked-artifacts").resolve()
EXPERIMENT = "tracked-floor"
MODEL_NAME = "tracked-floor"

fitted = runpy.run_path(str(Path(__file__).with_name("plain_fit.py")))
pipeline, train, target = fitted["pipeline"], fitted["train"], fitted["target"]
example = train.drop(columns=[target]).head(5)

mlflow.set_tracking_uri(f"sqlite:///{STORE}")
if mlflow.get_experiment_by_name(EXPERIMENT) is None:
    mlflow.create_experiment(EXPERIMENT, ARTIFACTS.as_uri())
mlflow.set_experiment(EXPERIMENT)
with mlflow.start_run():
    mlflow.log_params(fitted["params"]["model"]["random_forest"])
    logged = mlflow.sklearn.log_model(
        pipeline,
        name="model",
        signature=infer_signature(example, pipeline.predict(example)),
        input_example=example,
        skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(pipeline)),
        pip_requirements=mlflow.sklearn.get_default_pip_requirements(include_skops=True),
    )
version = mlflow.register_model(logged.model_uri, MODEL_NAME).version
mlflow.MlflowClient().set_registered_model_alias(MODEL_NAME, "champion", version)
print(f"registered v{version} in {time.perf_counter() - started:.2f} s")
