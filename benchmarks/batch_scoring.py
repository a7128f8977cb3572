"""Batch scoring (`score`) against its floor, its memory and Spark.

Run with a generated project's interpreter from its root, after `dvc repro`
(models/model), with pyspark added for the Spark column (`uv add --optional
spark "pyspark>=4.0"`, `uv sync --extra spark`):

    .venv/bin/python <template>/benchmarks/batch_scoring.py --rows 1000000 10000000

For each row count, on the same Parquet folder of sample rows (files of
--file-rows rows, all valid):
- floor: the predictor alone (the model resolved as `score` does, the rows
  already in memory as a frame) turning --chunk-rows rows at a time into
  predictions, the least any engine must spend, in rows per CPU second;
- local: `score` in this process, in rows per CPU second (the ratio to the
  floor is the target), then `score --engine local` as a command: its rows/s
  from its own summary line (imports and model excluded), its peak RSS
  from /usr/bin/time -v;
- spark: `score --engine spark --spark-master local[2]` likewise (its peak
  RSS is the largest process's, the JVM's or a Python worker's).
Prints a table and one JSON line.
"""

import argparse
import importlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

SUMMARY = re.compile(r"(\d+) rows in, (\d+) scored, (\d+) rejected in ([\d.]+) s")
PEAK = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")


def project_module(name: str):
    package = yaml.safe_load(Path(".copier-answers.yml").read_text())["package_name"]
    return importlib.import_module(f"{package}.{name}")


def write_input(folder: Path, rows: int, file_rows: int) -> None:
    """`rows` sample rows as files of `file_rows`: one file generated, the
    others copies of it (the values do not change the cost)."""
    schema = project_module("schema").load_schema()
    sample = project_module("sample_data")
    folder.mkdir(parents=True)
    first = folder / "part-00000.parquet"
    frame = sample.generate(min(rows, file_rows), seed=3)
    frame.drop(columns=[schema.target.name]).to_parquet(first)
    for index in range(1, -(-rows // file_rows)):
        shutil.copy(first, folder / f"part-{index:05d}.parquet")


def in_process(folder: Path, chunk_rows: int) -> dict:
    """Rows per CPU second, which other jobs on the machine do not change
    as much as wall time: the predictor alone on the first file, already
    read into memory (the floor), and the local engine's `score` on the
    whole folder, both in this process with the model resolved once."""
    schema = project_module("schema").load_schema()
    job = project_module("scoring.job")
    model = job.resolve_model("models/model", schema, "auto")
    frame = pd.read_parquet(folder / "part-00000.parquet")[schema.feature_names]
    started = time.process_time()
    for start in range(0, len(frame), chunk_rows):
        model.predictor.predict(job.plain_records(frame[start : start + chunk_rows]))
    floor = len(frame) / (time.process_time() - started)
    output = folder.with_name(folder.name + "-in-process")
    scoring = job.ScoringJob(folder, output, model, "bench", chunk_rows=chunk_rows)
    started = time.process_time()
    summary = job.score(scoring, schema)
    local = summary.rows_in / (time.process_time() - started)
    shutil.rmtree(output)
    return {"floor_cpu_rows_per_s": floor, "local_cpu_rows_per_s": local}


def run_score(folder: Path, output: Path, engine: str, chunk_rows: int) -> dict:
    slug = yaml.safe_load(Path(".copier-answers.yml").read_text())["project_slug"]
    command = ["/usr/bin/time", "-v", str(Path(sys.executable).with_name(slug)), "score"]
    command += ["-i", str(folder), "-o", str(output), "--model-uri", "models/model"]
    command += ["--engine", engine, "--spark-master", "local[2]"]
    command += ["--chunk-rows", str(chunk_rows), "--batch-id", "bench"]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    summary, peak = SUMMARY.search(result.stdout), PEAK.search(result.stderr)
    if result.returncode != 0 or summary is None or peak is None:
        raise SystemExit(f"{engine} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    rows, seconds = int(summary[1]), float(summary[4])
    return {
        "rows_per_s": rows / seconds,
        "seconds": seconds,
        "wall_s": wall,
        "peak_rss_mb": int(peak[1]) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--file-rows", type=int, default=1_000_000)
    parser.add_argument("--chunk-rows", type=int, default=50_000)
    parser.add_argument("--no-spark", action="store_true", help="local engine only")
    options = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="batch-scoring-") as scratch:
        for rows in options.rows:
            folder = Path(scratch) / f"in-{rows}"
            write_input(folder, rows, options.file_rows)
            result: dict[str, Any] = in_process(folder, options.chunk_rows)
            engines = ["local"] if options.no_spark else ["local", "spark"]
            for engine in engines:
                output = Path(scratch) / f"out-{rows}-{engine}"
                result[engine] = run_score(folder, output, engine, options.chunk_rows)
                shutil.rmtree(output)
            results[rows] = result
            shutil.rmtree(folder)
    print_table(results)
    print(json.dumps(results))


def print_table(results: dict) -> None:
    header = ["rows", "floor rows/CPU s", "local rows/CPU s", "local/floor"]
    header += ["local rows/s", "local peak MB"]
    header += ["spark rows/s", "spark/local", "spark peak MB"]
    print("| " + " | ".join(header) + " |")
    print("|" + " ---: |" * len(header))
    for rows, result in results.items():
        local, spark = result["local"], result.get("spark")
        cells = [
            f"{rows:,}",
            f"{result['floor_cpu_rows_per_s']:,.0f}",
            f"{result['local_cpu_rows_per_s']:,.0f}",
            f"{result['local_cpu_rows_per_s'] / result['floor_cpu_rows_per_s']:.2f}",
            f"{local['rows_per_s']:,.0f}",
            f"{local['peak_rss_mb']:,.0f}",
        ]
        if spark:
            cells += [
                f"{spark['rows_per_s']:,.0f}",
                f"{spark['rows_per_s'] / local['rows_per_s']:.2f}",
                f"{spark['peak_rss_mb']:,.0f}",
            ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
