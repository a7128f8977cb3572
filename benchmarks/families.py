"""Every model family of a generated project: fit time, and prediction time
with scikit-learn and with ONNX Runtime, side by side in one run.

Run with the project's interpreter from its root (its dev environment has
every family installed):

    cd <project> && .venv/bin/python <template>/benchmarks/families.py

Fits each family with the project's params.yaml hyperparameters on 5,000
sample rows, then prints one JSON line per family (medians) and a table.
"""

import importlib
import json
import statistics
import time
from pathlib import Path
from typing import Any

import yaml

FAMILIES = ["random_forest", "gradient_boosting", "linear", "lightgbm", "xgboost"]


def median_seconds(function, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    package = yaml.safe_load(Path(".copier-answers.yml").read_text())["package_name"]
    conversion = importlib.import_module(f"{package}.serve.conversion")
    train = importlib.import_module(f"{package}.train")
    schema = importlib.import_module(f"{package}.schema").load_schema()
    params = importlib.import_module(f"{package}.settings").load_params()
    sample = importlib.import_module(f"{package}.sample_data")

    frame = sample.generate(5000, seed=42)
    test = sample.generate(1000, seed=77).drop(columns=[schema.target.name])
    records = json.loads(test.to_json(orient="records"))
    one, batch = records[:1], records
    rows: list[dict[str, Any]] = []
    for family in FAMILIES:
        params.model.family = family
        started = time.perf_counter()
        model = train.fit(frame, schema, params)
        result: dict[str, Any] = {"family": family}
        result["fit_s"] = time.perf_counter() - started
        sklearn = conversion.SklearnPredictor(model, schema)
        onnx = conversion.build_predictor(model, schema, "onnx", records[:5])
        result["max_gap"] = conversion.parity_gap(onnx, sklearn, records)
        for name, predictor in (("sklearn", sklearn), ("onnx", onnx)):
            result[f"{name}_1_row_ms"] = 1000 * median_seconds(
                lambda p=predictor: p.predict(one), 30
            )
            seconds = median_seconds(lambda p=predictor: p.predict(batch), 5)
            result[f"{name}_1000_rows_per_s"] = 1000 / seconds
        print(json.dumps(result), flush=True)
        rows.append(result)
    print()
    print(
        "| family | fit s | sklearn 1 row ms | ONNX 1 row ms | x | sklearn rows/s "
        "(1000) | ONNX rows/s | x | max gap |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| `{r['family']}` | {r['fit_s']:.1f} | {r['sklearn_1_row_ms']:.2f} | "
            f"{r['onnx_1_row_ms']:.3f} | {r['sklearn_1_row_ms'] / r['onnx_1_row_ms']:.0f} | "
            f"{r['sklearn_1000_rows_per_s']:,.0f} | {r['onnx_1000_rows_per_s']:,.0f} | "
            f"{r['onnx_1000_rows_per_s'] / r['sklearn_1000_rows_per_s']:.1f} | "
            f"{r['max_gap']:.1e} |"
        )


if __name__ == "__main__":
    main()
