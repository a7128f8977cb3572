"""`score --engine spark` for real: pyspark added to the binary deep project as its
README says (an optional `spark` extra), its champion scored in Spark local mode from a
Parquet folder of several files with bad rows, and the result compared with
`score --engine local` on the same input: the same predictions, the same
rejects. That project also runs its own Spark tests (which skip
without pyspark) and mypy with pyspark's types.

.ci/run installs Java when missing and sets REQUIRE_JAVA: there a missing
Java fails; elsewhere these tests skip."""

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.testing.deep_project import Deep
from devtools.testing.projects import in_project, run, uv

pytestmark = pytest.mark.slow

# Rows of the project's sample data, written as three files whose names do
# not follow the row order, with one bad row of each kind the schema allows.
MAKE_INPUT = """
import importlib, json, sys, yaml
from pathlib import Path
answers = yaml.safe_load(open('.copier-answers.yml'))
schema = yaml.safe_load(open('schema.yaml'))
sample = importlib.import_module(answers['package_name'] + '.sample_data')
frame = sample.generate(600, seed=21).drop(columns=[schema['target']['name']])
features = schema['features']
ranged = next(f for f in features if f.get('max') is not None)
category = next(f for f in features if f['type'] == 'categorical')
required = next(f for f in features if f['type'] == 'numeric' and not f.get('nullable'))
frame[ranged['name']] = frame[ranged['name']].astype(float)
frame[required['name']] = frame[required['name']].astype(float)
frame.loc[5, ranged['name']] = ranged['max'] + 1
frame.loc[250, category['name']] = 'no such category'
frame.loc[590, required['name']] = None
frame['row_id'] = range(len(frame))
folder = Path(sys.argv[1])
folder.mkdir()
for name, rows in (('b', slice(0, 200)), ('a', slice(200, 420)), ('c', slice(420, None))):
    frame[rows].to_parquet(folder / f'part-{name}.parquet')
"""

# Both outputs read back in row order: the rows and values must be equal.
COMPARE = """
import json, sys
import pandas as pd
def scores(folder):
    frame = pd.read_parquet(folder).sort_values('row_id', ignore_index=True)
    return frame.astype({'batch_id': str})
local, spark = scores(sys.argv[1]), scores(sys.argv[2])
pd.testing.assert_frame_equal(spark.drop(columns='scored_at'), local.drop(columns='scored_at'))
print(json.dumps({'rows': len(spark), 'columns': list(spark.columns)}))
"""


def java_or_skip() -> None:
    if shutil.which("java") or os.environ.get("JAVA_HOME"):
        return
    if os.environ.get("REQUIRE_JAVA"):
        pytest.fail("REQUIRE_JAVA is set but no java was found")
    pytest.skip("no Java on this machine (apt-get install openjdk-17-jre-headless)")


def has_pyspark(project: Path) -> bool:
    return bool(list((project / ".venv").glob("lib/*/site-packages/pyspark")))


@pytest.fixture(scope="module")
def with_spark_extra(deep: Deep) -> Iterator[Path]:
    """The deep project with pyspark added, as its README says, once for this
    module; as it was again afterwards (its committed pyproject.toml and
    uv.lock, synced), as the other deep modules expect."""
    java_or_skip()
    assert not has_pyspark(deep.path), "pyspark is installed without being added"
    run([uv(), "add", "--optional", "spark", "pyspark>=4.0"], deep.path)
    run([uv(), "sync", "--extra", "spark"], deep.path)
    yield deep.path
    run(["git", "checkout", "--", "pyproject.toml", "uv.lock"], deep.path)
    run([uv(), "sync", "--locked"], deep.path)


# The Spark engine has no task-specific step: the local engine's predictor
# and output columns (scoring/job.py, run per task in test_batch_scoring.py)
# inside mapInPandas. A classifier's label and probabilities are the most
# it must carry.
@pytest.mark.deep_tasks("binary_classification")
def test_spark_scores_the_champion_as_the_local_engine_does(deep: Deep, with_spark_extra):
    source = deep.path.parent / "spark-input"
    shutil.rmtree(source, ignore_errors=True)
    in_project(deep.path, "python", "-c", MAKE_INPUT, str(source))
    outputs = {engine: deep.path.parent / f"scores-{engine}" for engine in ("local", "spark")}
    lines = {}
    for engine, output in outputs.items():
        shutil.rmtree(output, ignore_errors=True)
        command = [deep.slug, "score", "-i", str(source), "-o", str(output), "--batch-id", "b1"]
        command += ["--engine", engine, "--spark-master", "local[2]"]
        lines[engine] = in_project(deep.path, *command).stdout.strip().splitlines()[-1]

    for line in lines.values():
        assert "600 rows in, 597 scored, 3 rejected" in line, line
    compared = in_project(deep.path, "python", "-c", COMPARE, *map(str, outputs.values()))
    facts = json.loads(compared.stdout.strip().splitlines()[-1])
    assert facts["rows"] == 597 and "prediction" in facts["columns"]
    rejects = [(output / "_rejects" / "batch_id=b1.csv").read_text() for output in outputs.values()]
    assert rejects[0] == rejects[1]
    # Files in name order: a (rows 200-419 of the frame), b, c.
    assert [line.split(",")[0] for line in rejects[1].splitlines()] == [
        "input_row",
        "50",
        "225",
        "590",
    ]


# The project's Spark tests do not depend on the task.
@pytest.mark.deep_tasks("binary_classification")
def test_the_project_spark_tests_and_types_pass_with_the_extra(deep: Deep, with_spark_extra):
    """Its Spark tests skip without pyspark: here they run, and pass."""
    result = in_project(
        deep.path, "pytest", "-q", "-rs", "-p", "no:cacheprovider", "tests/test_scoring_spark.py"
    )
    assert "4 passed" in result.stdout and "skipped" not in result.stdout, result.stdout
    in_project(deep.path, "mypy")
