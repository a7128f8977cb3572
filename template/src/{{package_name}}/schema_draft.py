"""Draft schema.yaml from a table, so a wide table needs no hand-typed schema.

`draft_schema` looks at each column once, with vectorised pandas operations, and
decides (the same policies are written into the draft's header):

- numeric: numbers; min/max are the observed range (the owner widens it when
  future data may go beyond); nullable when any value is missing. Integers with
  few distinct values stay numeric with a note that they may be codes.
- categorical: text with at most `max_categories` distinct values, sorted. Text
  with more is left out as high-cardinality, never made into a long list.
  Yes/no text stays categorical (type boolean needs true/false or 1/0 in the
  data, see validation.py); numbers mixed with text in a text column too.
- boolean: true/false columns, and integer columns holding only 0 and 1.
- left out, with the reason: all-missing and constant columns; ID-like ones
  (text different on every row, integers named like an identifier with a value
  per row or more values than the cap, row counters); dates and times (a
  datetime dtype, or text whose first DATE_SAMPLE distinct values parse as
  dates); high-cardinality text; Python objects of mixed types.
- target: binary for two values (the last sorted one is positive_class),
  multiclass for text or up to MAX_CLASSES whole numbers, else regression.

Every draft loads with schema.load_schema, and the table it came from passes
validation.validate_frame (rows without a target apart: they are counted).
"""

import re
import textwrap
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import Any, cast

import pandas as pd
import yaml

from .errors import ProjectError
from .schema import FeatureType
from .tasks import TASKS, Task

MAX_CATEGORIES = 50
MAX_CLASSES = 20  # a target with at most this many whole numbers is a label
MAX_CODES = 10  # an integer feature with at most this many values may be codes
MIN_ROWS_FOR_ID = 20  # below this, a value per row says little
DATE_SAMPLE = 100  # distinct text values tried as dates
PROBE = 1000  # distinct values tried as numbers in text above the category cap
NUMBER_KINDS = {"integer", "floating", "mixed-integer-float", "decimal"}
ID_WORDS = {"id", "uuid", "guid", "key", "index", "number", "no", "nr"}
SHORT_VALUE = 20  # longer classes and categories are listed one a line
FLAG_PAIRS = [{"yes", "no"}, {"y", "n"}, {"true", "false"}, {"t", "f"}]


@dataclass(frozen=True)
class DraftFeature:
    name: str
    type: FeatureType
    nullable: bool = False
    min: int | float | None = None
    max: int | float | None = None
    categories: list[str] | None = None
    note: str = ""  # written as a comment for the owner

    def as_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.nullable:
            entry["nullable"] = True
        for key in ("min", "max", "categories"):
            if (value := getattr(self, key)) is not None:
                entry[key] = value
        return entry


@dataclass(frozen=True)
class LeftOut:
    name: str
    reason: str


@dataclass(frozen=True)
class DraftTarget:
    name: str
    classes: list[int | str] | None = None
    positive_class: int | str | None = None
    missing: int = 0  # rows without a target
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": self.name}
        if self.classes is not None:
            entry["classes"] = self.classes
        if self.positive_class is not None:
            entry["positive_class"] = self.positive_class
        return entry


@dataclass(frozen=True)
class SchemaDraft:
    task: Task
    target: DraftTarget
    features: list[DraftFeature]
    left_out: list[LeftOut]
    rows: int
    max_categories: int

    def as_dict(self) -> dict[str, Any]:
        """The content of schema.yaml, without the comments."""
        return {
            "task": self.task,
            "target": self.target.as_dict(),
            "features": [feature.as_dict() for feature in self.features],
        }


def draft_schema(
    frame: pd.DataFrame,
    target: str,
    task: str | None = None,
    max_categories: int = MAX_CATEGORIES,
) -> SchemaDraft:
    """Draft the schema of `frame` predicting `target` (task inferred unless given)."""
    _check_frame(frame)
    if task is not None and task not in TASKS:
        raise ProjectError(f"unknown task {task!r}: use one of {', '.join(TASKS)}")
    if max_categories < 1:
        raise ProjectError("the category cap must be at least 1")
    if target not in frame.columns:
        raise ProjectError(_unknown_column(target, list(frame.columns)))
    known_task = cast("Task | None", task)  # checked against TASKS above
    drafted_target, inferred_task = _draft_target(frame[target], known_task)
    columns = [
        _draft_column(name, frame[name], max_categories)
        for name in frame.columns
        if name != target
    ]
    features = [c for c in columns if isinstance(c, DraftFeature)]
    left_out = [c for c in columns if isinstance(c, LeftOut)]
    if not features:
        reasons = "; ".join(f"{c.name}: {c.reason}" for c in left_out) or "none"
        raise ProjectError(f"no column can be a feature (left out: {reasons})")
    return SchemaDraft(
        inferred_task, drafted_target, features, left_out, len(frame), max_categories
    )


def _check_frame(frame: pd.DataFrame) -> None:
    if frame.empty:
        raise ProjectError("the table has no rows or no columns")
    not_text = [name for name in frame.columns if not isinstance(name, str)]
    if not_text:
        raise ProjectError(f"column names must be text; found {not_text[:5]}")
    duplicates = sorted(set(frame.columns[frame.columns.duplicated()]))
    if duplicates:
        raise ProjectError(f"duplicate column names: {duplicates}")


def _unknown_column(name: str, columns: list[str]) -> str:
    lowered = {column.lower(): column for column in columns}
    close = get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.6)
    if close:
        hint = "did you mean " + " or ".join(repr(lowered[c]) for c in close) + "?"
    else:
        shown = ", ".join(repr(c) for c in columns[:10])
        hint = f"the columns are {shown}" + (", ..." if len(columns) > 10 else "")
    return f"no column {name!r} in the data: {hint}"


# --- the target -------------------------------------------------------------


def _draft_target(values: pd.Series, task: Task | None) -> tuple[DraftTarget, Task]:
    name = str(values.name)
    present = values.dropna()
    missing = len(values) - len(present)
    if present.empty:
        raise ProjectError(f"the target {name!r} has no values")
    kind = pd.api.types.infer_dtype(present, skipna=False)
    if kind == "boolean":
        present, kind = present.astype(int), "integer"  # true/false as 1/0
    if kind not in NUMBER_KINDS and kind != "string":
        raise ProjectError(
            f"the target {name!r} holds {kind} values: it must be all numbers or "
            "all text"
        )
    numbers = pd.to_numeric(present) if kind in NUMBER_KINDS else None
    whole = numbers is not None and _whole(numbers)
    distinct = present.nunique()
    if distinct < 2:
        raise ProjectError(
            f"the target {name!r} has one value only ({present.iloc[0]!r}): "
            "nothing to predict"
        )
    task = task or _infer_task(distinct, is_text=numbers is None, whole=whole)
    notes = []
    if missing:
        notes += [
            f"{missing} rows have no {name}: validation fails on them.",
            "To drop them, set in params.yaml: data.drop_missing_target: true",
        ]
    if not TASKS[task].classifies:
        if numbers is None:
            raise ProjectError(
                f"the target {name!r} is text: regression needs numbers "
                "(use --task multiclass_classification or binary_classification)"
            )
        low, high = _plain(numbers.min(), whole), _plain(numbers.max(), whole)
        notes.append(f"observed range: {low} to {high} (add min/max to enforce one)")
        return DraftTarget(name, missing=missing, notes=notes), task
    classes = _classes(name, present, numbers, whole)
    if TASKS[task].binary and len(classes) != 2:
        raise ProjectError(
            f"binary_classification needs exactly two classes; the target {name!r} "
            f"has {len(classes)} (use --task multiclass_classification)"
        )
    if len(classes) > MAX_CLASSES:
        notes.append(f"{len(classes)} classes: check this is the column to predict")
    positive = classes[-1] if TASKS[task].binary else None
    return DraftTarget(name, classes, positive, missing, notes), task


def _infer_task(distinct: int, is_text: bool, whole: bool) -> Task:
    if distinct == 2:
        return "binary_classification"
    if is_text or (whole and distinct <= MAX_CLASSES):
        return "multiclass_classification"
    return "regression"


def _classes(name, present, numbers, whole) -> list[int | str]:
    if numbers is None:
        return sorted(present.astype(str).unique().tolist())
    if not whole:
        example = numbers[numbers % 1 != 0].iloc[0]
        raise ProjectError(
            f"the target {name!r} has fractional values (e.g. {example:g}): "
            "classes must be whole numbers or text (use --task regression)"
        )
    return sorted(int(value) for value in numbers.unique())


# --- the features -----------------------------------------------------------


def _draft_column(
    name: str, values: pd.Series, max_categories: int
) -> DraftFeature | LeftOut:
    if pd.api.types.is_datetime64_any_dtype(values):
        return LeftOut(name, "date/time: derive numbers from it in prepare if useful")
    if pd.api.types.is_timedelta64_dtype(values):
        return LeftOut(name, "a duration: convert it to a number (e.g. seconds)")
    present = values.dropna()
    if present.empty:
        return LeftOut(name, "all values are missing")
    if isinstance(present.dtype, pd.CategoricalDtype):
        present = present.astype(object)
    nullable = len(present) < len(values)
    kind = pd.api.types.infer_dtype(present, skipna=False)
    if kind in ("date", "datetime", "datetime64", "time"):
        return LeftOut(name, "dates/times: derive numbers from them in prepare")
    if kind in ("mixed", "mixed-integer"):
        return LeftOut(name, _mixed_reason(present))
    if kind not in NUMBER_KINDS and kind not in ("boolean", "string"):
        return LeftOut(name, f"unsupported values ({kind})")
    if not nullable and present.nunique() == 1:
        return LeftOut(name, f"constant: {_shown(present.iloc[0])} on every row")
    if kind == "boolean":
        return DraftFeature(name, "boolean", nullable)
    if kind == "string":
        return _text_column(name, present.astype(str), nullable, max_categories)
    numbers = pd.to_numeric(present)
    return _numeric_column(name, numbers, nullable, len(values), max_categories)


def _numeric_column(
    name: str, numbers: pd.Series, nullable: bool, rows: int, max_categories: int
) -> DraftFeature | LeftOut:
    whole = _whole(numbers)
    distinct = numbers.nunique()
    low, high = numbers.min(), numbers.max()
    if whole and distinct == 2 and low == 0 and high == 1:
        note = "0/1 read as boolean (1 = true); requests send true/false for it"
        return DraftFeature(name, "boolean", nullable, note=note)
    if whole and (reason := _integer_id(name, numbers, rows, max_categories)):
        return LeftOut(name, reason)
    note = ""
    if whole and distinct <= MAX_CODES:
        shown = ", ".join(str(v) for v in sorted(int(v) for v in numbers.unique()))
        note = (
            f"only {distinct} distinct integers ({shown}): if they are codes, not "
            "amounts, use type: categorical with the codes as text in categories "
            "(and as text in the data, which validation compares)"
        )
    return DraftFeature(
        name, "numeric", nullable, _plain(low, whole), _plain(high, whole), note=note
    )


def _integer_id(name: str, numbers: pd.Series, rows: int, max_categories: int) -> str:
    distinct = numbers.nunique()
    unique_per_row = distinct == rows
    if _named_like_id(name) and (unique_per_row or distinct > max_categories):
        return f"ID-like: named like an identifier, {distinct} distinct integers"
    counts_up = numbers.max() - numbers.min() == rows - 1
    if unique_per_row and counts_up and rows >= MIN_ROWS_FOR_ID:
        return "ID-like: a row counter (a different integer on every row, counting up)"
    return ""


def _text_column(
    name: str, text: pd.Series, nullable: bool, max_categories: int
) -> DraftFeature | LeftOut:
    # Each distinct value once: text columns mostly repeat a few values.
    values = pd.Series(text.unique())
    # Above the cap a probe decides, to keep wide tables of IDs fast.
    probe = values if len(values) <= max_categories else values.iloc[:PROBE]
    is_number = pd.to_numeric(probe, errors="coerce").notna()
    if is_number.all():
        numbers = pd.to_numeric(values, errors="coerce")
        is_number = numbers.notna()
        if is_number.all():
            # Validation and the features read such text as numbers.
            whole = _whole(numbers)
            low, high = _plain(numbers.min(), whole), _plain(numbers.max(), whole)
            note = "numbers stored as text"
            return DraftFeature(name, "numeric", nullable, low, high, note=note)
    if _looks_like_dates(values):
        example = values.iloc[0]
        return LeftOut(name, f"dates/times as text (e.g. {example!r}): derive numbers")
    distinct = len(values)
    enough_rows = len(text) >= MIN_ROWS_FOR_ID or _named_like_id(name)
    if distinct == len(text) and enough_rows and distinct > 1:
        return LeftOut(name, f"ID-like: different text on every row ({distinct})")
    mixed = _mixed_example(values, is_number)
    if distinct > max_categories:
        kind = f"numbers mixed with text ({mixed})" if mixed else "text"
        counted = f"{distinct} distinct values (cap {max_categories})"
        return LeftOut(name, f"high-cardinality {kind}: {counted}")
    categories = sorted(values.tolist())
    note = _flag_note(categories)
    if mixed:
        note = (
            f"numbers mixed with text ({mixed}), kept as categories; if the text "
            "means missing, blank it and make this numeric"
        )
    return DraftFeature(name, "categorical", nullable, categories=categories, note=note)


def _mixed_example(values: pd.Series, is_number: pd.Series) -> str:
    if not is_number.any() or is_number.all():
        return ""
    number, word = values[is_number].iloc[0], values[~is_number].iloc[0]
    return f"e.g. {number!r} and {word!r}"


def _flag_note(categories: list[str]) -> str:
    if len(categories) != 2 or {c.lower() for c in categories} not in FLAG_PAIRS:
        return ""
    return (
        "a yes/no flag kept categorical: type boolean needs true/false or 1/0 "
        "in the data"
    )


def _looks_like_dates(values: pd.Series) -> bool:
    """Distinct values that are dates or times as text, judged on a sample."""
    sample = values.iloc[:DATE_SAMPLE]
    # Two groups of digits at least: dateutil alone also reads "May" or "1a".
    if not sample.str.contains(r"\d+\D+\d+").all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, format="mixed", errors="coerce")
    return bool(parsed.notna().all())


def _mixed_reason(present: pd.Series) -> str:
    # A rare path (objects of several types), so a per-value check is fine.
    is_text = present.map(lambda value: isinstance(value, str))
    if not is_text.any() or is_text.all():
        return "mixed types: values of several kinds in one column"
    number, word = present[~is_text].iloc[0], present[is_text].iloc[0]
    return (
        f"mixed types: {type(number).__name__} (e.g. {number!r}) and text "
        f"(e.g. {word!r}); store one type (all text makes it categorical)"
    )


def _named_like_id(name: str) -> bool:
    words = re.split(r"[^0-9A-Za-z]+|(?<=[a-z])(?=[A-Z])", name.strip())
    words = [word.lower() for word in words if word]
    return bool(words) and words[-1] in ID_WORDS


def _whole(numbers: pd.Series) -> bool:
    if pd.api.types.is_integer_dtype(numbers):
        return True
    floats = numbers.astype(float)
    return bool(((floats % 1) == 0).all())


def _plain(value: Any, whole: bool) -> int | float:
    """numpy scalars as Python numbers, whole ones without ".0"."""
    return int(value) if whole else float(value)


def _shown(value: Any) -> str:
    return repr(value.item() if hasattr(value, "item") else value)


# --- the YAML ---------------------------------------------------------------


def draft_yaml(draft: SchemaDraft, source: str) -> str:
    """schema.yaml text for `draft`, with comments the owner reads while editing."""
    parts = [
        _header(draft, source),
        _dump({"task": draft.task}),
        _block(_dump({"target": draft.target.as_dict()}), draft.target.notes, 2),
        "features:\n",
        *(_feature_block(feature) for feature in draft.features),
        _left_out(draft.left_out),
    ]
    return "".join(parts)


def _header(draft: SchemaDraft, source: str) -> str:
    lines = [
        f"A DRAFT written by infer-schema from {source} ({draft.rows} rows).",
        "Review every entry before training: types, ranges, categories, the notes.",
        "How it was drafted:",
        "- numeric: min/max are the range seen in the data; widen them if new data",
        "  may go beyond (values outside fail validation). Integers with few",
        "  distinct values stay numeric, with a note: they may be codes.",
        "- nullable: true where the data has missing values.",
        f"- categorical: text with at most {draft.max_categories} distinct values, "
        "categories sorted.",
        "- boolean: true/false columns and 0/1 integer columns; yes/no text stays",
        "  categorical (type boolean needs true/false or 1/0 in the data).",
        "- left out (listed at the end, with the reason): empty, constant and",
        "  ID-like columns, dates, text above the category cap, mixed types.",
        "Feature fields: name, type (numeric | categorical | boolean), nullable,",
        "min, max, categories, description.",
    ]
    return "".join(f"# {line}\n" for line in lines) + "\n"


def _feature_block(feature: DraftFeature) -> str:
    notes = [feature.note] if feature.note else []
    return textwrap.indent(_block(_dump([feature.as_dict()]), notes, 2), "  ")


def _block(text: str, notes: list[str], indent: int) -> str:
    """`text` with the notes as comments after its first line."""
    first, _, rest = text.partition("\n")
    comments = [
        " " * indent + "# " + line
        for note in notes
        for line in textwrap.wrap(note, width=84 - indent)
    ]
    return "\n".join([first, *comments]) + "\n" + rest


def _left_out(left_out: list[LeftOut]) -> str:
    if not left_out:
        return ""
    lines = ["", "# Left out (to use one, add it under features):"]
    lines += [f"# - {column.name}: {column.reason}" for column in left_out]
    return "\n".join(lines) + "\n"


class _DraftDumper(yaml.SafeDumper):
    """Mappings in block style; lists of short values (classes, categories) on
    one line, lists of long ones one value a line."""

    def represent_list(self, data: Iterable[Any]) -> yaml.SequenceNode:
        items = list(data)
        flow = all(isinstance(item, int | str) for item in items) and all(
            len(str(item)) <= SHORT_VALUE for item in items
        )
        return self.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent list items under their key, as the project's schema.yaml does.
        return super().increase_indent(flow, False)


_DraftDumper.add_representer(list, _DraftDumper.represent_list)


def _dump(data: Any) -> str:
    # yaml quotes any value that would otherwise read as something else
    # ("No", "1", "null"); names with spaces or parentheses stay as they are.
    return yaml.dump(
        data,
        Dumper=_DraftDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=84,
    )


def summary(draft: SchemaDraft) -> list[str]:
    """A few lines for the terminal: what became what, and why."""
    by_type = {
        kind: sum(f.type == kind for f in draft.features)
        for kind in ("numeric", "categorical", "boolean")
    }
    target = draft.target
    classes = f"classes {target.classes}" if target.classes else "numeric"
    lines = [
        f"task: {draft.task}, target {target.name!r} ({classes})",
        "features: " + ", ".join(f"{n} {kind}" for kind, n in by_type.items()),
    ]
    if target.missing:
        lines.append(
            f"rows without a target: {target.missing} (they fail validation; "
            "params.yaml data.drop_missing_target: true drops them)"
        )
    if draft.left_out:
        lines.append(f"left out: {len(draft.left_out)} columns")
        lines += [f"  - {c.name}: {c.reason}" for c in draft.left_out]
    return lines
