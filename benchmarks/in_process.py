"""In-process floor of a generated project's model: scikit-learn and ONNX.

Run with the project's interpreter from its root, with the exported model
directory as argument. Prints one JSON line of timings (medians).
"""

import importlib
import json
import statistics
import sys
import time
from pathlib import Path

import yaml


def median_seconds(function, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    package = yaml.safe_load(Path(".copier-answers.yml").read_text())["package_name"]
    model_source = importlib.import_module(f"{package}.serve.model_source")
    conversion = importlib.import_module(f"{package}.serve.conversion")
    schema = importlib.import_module(f"{package}.schema").load_schema()
    sample = importlib.import_module(f"{package}.sample_data")

    loaded = model_source.load(sys.argv[1])
    frame = sample.generate(1000, seed=77).drop(columns=[schema.target.name])
    records = json.loads(frame.to_json(orient="records"))
    sklearn = conversion.SklearnPredictor(loaded.model, schema)
    onnx = conversion.build_predictor(loaded.model, schema, "onnx", records[:5])
    one, batch = records[:1], records
    results = {}
    for name, predictor in (("sklearn", sklearn), ("onnx", onnx)):
        results[f"{name}_1_row_ms"] = 1000 * median_seconds(lambda p=predictor: p.predict(one), 200)
        batch_seconds = median_seconds(lambda p=predictor: p.predict(batch), 20)
        results[f"{name}_1000_rows_per_s"] = 1000 / batch_seconds
    print(json.dumps(results))


if __name__ == "__main__":
    main()
