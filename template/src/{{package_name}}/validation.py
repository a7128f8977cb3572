"""Check a table against schema.yaml and report every problem in plain words."""

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from .errors import ProjectError
from .paths import VALIDATION_REPORT
from .schema import Feature, Schema

EXAMPLES_PER_PROBLEM = 5


@dataclass
class Problem:
    column: str
    problem: str
    count: int
    examples: list[dict] = field(default_factory=list)


@dataclass
class ValidationReport:
    rows: int
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_text(self, source: str) -> str:
        if self.ok:
            return f"{source}: {self.rows} rows match the schema"
        lines = [f"{source}: {len(self.problems)} problem(s) in {self.rows} rows"]
        for p in self.problems:
            lines.append(f"  - {p.column}: {p.problem}{_where(p)}")
        return "\n".join(lines)

    def write(self, path: Path = VALIDATION_REPORT) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        report = {
            "ok": self.ok,
            "rows": self.rows,
            "problems": [asdict(p) for p in self.problems],
        }
        path.write_text(json.dumps(report, indent=2, default=str) + "\n")


def _where(problem: Problem) -> str:
    if not problem.examples:
        return ""
    shown = ", ".join(f"row {e['row']}: {e['value']!r}" for e in problem.examples)
    rows = "row" if problem.count == 1 else "rows"
    return f" ({problem.count} {rows}; {shown})"


def _range_checks(minimum: float | None, maximum: float | None) -> list[pa.Check]:
    checks = []
    if minimum is not None:
        checks.append(pa.Check.ge(minimum, error=f"below the minimum {minimum:g}"))
    if maximum is not None:
        checks.append(pa.Check.le(maximum, error=f"above the maximum {maximum:g}"))
    return checks


def _feature_column(feature: Feature) -> pa.Column:
    if feature.type == "numeric":
        checks = _range_checks(feature.min, feature.max)
        return pa.Column(float, checks, nullable=feature.nullable, coerce=True)
    if feature.type == "categorical":
        allowed = pa.Check.isin(
            feature.categories, error=f"not one of the categories {feature.categories}"
        )
        return pa.Column(checks=allowed, nullable=feature.nullable)
    boolean = pa.Check.isin([True, False], error="not a boolean (true/false or 1/0)")
    return pa.Column(checks=boolean, nullable=feature.nullable)


def _target_column(schema: Schema) -> pa.Column:
    target = schema.target
    if schema.is_classification:
        allowed = pa.Check.isin(
            target.classes, error=f"not one of the classes {target.classes}"
        )
        return pa.Column(checks=allowed)
    return pa.Column(float, _range_checks(target.min, target.max), coerce=True)


def dataframe_schema(schema: Schema, with_target: bool = True) -> pa.DataFrameSchema:
    columns = {feature.name: _feature_column(feature) for feature in schema.features}
    if with_target:
        columns[schema.target.name] = _target_column(schema)
    return pa.DataFrameSchema(columns, strict=False)


def _describe(check: str, failure: object) -> str:
    """Turn pandera's check names into sentences a data owner understands."""
    if check == "not_nullable":
        return "missing values are not allowed"
    if check.startswith("coerce_dtype"):
        return "value is not a number"
    if check.startswith("dtype("):
        return f"wrong type ({failure})"
    return check


def _is_follow_up(
    column: str, check: str, group: pd.DataFrame, unparseable: set[str]
) -> bool:
    """A dtype or range failure that only repeats a column's "not a number"."""
    if column not in unparseable or check.startswith("coerce_dtype"):
        return False
    return check.startswith("dtype(") or bool(group["index"].isna().all())


def _problems(failures: pd.DataFrame) -> list[Problem]:
    failures = failures.assign(
        column=failures["column"].fillna(failures["failure_case"])
    )
    groups = [
        (str(column), str(check), group)
        for (column, check), group in failures.groupby(["column", "check"], sort=False)
    ]
    unparseable = {
        column for column, check, _ in groups if check.startswith("coerce_dtype")
    }
    problems = []
    for column, check, group in groups:
        if _is_follow_up(column, check, group, unparseable):
            continue
        if check == "column_in_dataframe":
            problems.append(Problem(column, "column is missing", 0))
            continue
        examples = [
            {"row": int(row), "value": value}
            for row, value in zip(group["index"], group["failure_case"], strict=True)
            if not pd.isna(row)
        ][:EXAMPLES_PER_PROBLEM]
        problem = _describe(check, group["failure_case"].iloc[0])
        problems.append(Problem(column, problem, len(group), examples))
    return problems


def validate_frame(
    frame: pd.DataFrame, schema: Schema, with_target: bool = True
) -> ValidationReport:
    """Check every row and column at once (lazy), not stopping at the first error."""
    if frame.empty:
        return ValidationReport(0, [Problem("(table)", "the table has no rows", 0)])
    try:
        dataframe_schema(schema, with_target).validate(frame, lazy=True)
    except SchemaErrors as errors:
        problems = _problems(errors.failure_cases)
        return ValidationReport(len(frame), _with_hints(problems, schema))
    return ValidationReport(len(frame), [])


def _with_hints(problems: list[Problem], schema: Schema) -> list[Problem]:
    """Say how to fix what has a setting for it: rows without a target."""
    for problem in problems:
        if problem.column == schema.target.name and problem.problem.startswith(
            "missing values"
        ):
            problem.problem += (
                " (to drop rows without a target, set data.drop_missing_target:"
                " true in params.yaml)"
            )
    return problems


@dataclass
class CheckedRows:
    """A table split by validation: rows that pass, with their values coerced
    to the schema's types, and a reason for each row that does not."""

    valid: pd.DataFrame
    reasons: dict[Any, str]  # row label -> every problem of the row


def _row_reasons(failures: pd.DataFrame) -> dict[Any, str]:
    """Each failing row's problems, "column: problem (value)"; raises for a
    problem of a whole column, which no row can be blamed for."""
    per_row: dict[Any, list[str]] = {}
    groups = list(failures.groupby(["column", "check"], sort=False, dropna=False))
    unparseable = {
        str(column) for (column, check), _ in groups if str(check).startswith("coerce")
    }
    for (column, check), group in groups:
        column, check = str(column), str(check)
        if _is_follow_up(column, check, group, unparseable):
            continue
        problem = _describe(check, group["failure_case"].iloc[0])
        if group["index"].isna().any():
            raise ProjectError(f"{column}: {problem}")
        for row, value in zip(group["index"], group["failure_case"], strict=True):
            per_row.setdefault(row, []).append(f"{column}: {problem} ({value!r})")
    return {row: "; ".join(problems) for row, problems in per_row.items()}


def check_rows(frame: pd.DataFrame, schema: Schema) -> CheckedRows:
    """Validate the features of every row and keep the rows that pass.

    A column with values that are not numbers is checked against its range
    only once those rows are out, so the rows left are checked again until
    every problem is found."""
    checker = dataframe_schema(schema, with_target=False)
    reasons: dict[Any, str] = {}
    remaining = frame
    while not remaining.empty:
        try:
            return CheckedRows(checker.validate(remaining, lazy=True), reasons)
        except SchemaErrors as errors:
            found = _row_reasons(errors.failure_cases)
        if not found:  # pandera reported nothing a row can be blamed for
            raise ProjectError("the table does not match the schema")
        reasons |= found
        remaining = remaining.drop(index=list(found))
    return CheckedRows(remaining, reasons)
