"""Request and response types derived from schema.yaml.

Types, ranges, categories and required fields all come from the schema, so a
bad request gets a 422 naming each field and problem before the model runs.
Requests are TypedDicts: pydantic validates the raw JSON straight into plain
dicts, with no model objects to build and dump again on the hot path.
"""

from typing import Annotated, Any, Literal, NotRequired, TypedDict, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, create_model, with_config

from ..schema import Feature, Schema

FORBID_EXTRA = ConfigDict(extra="forbid")

# The request and prediction types are built at run time from schema.yaml, so
# mypy, which checks only types written out in the source, knows them as Any.
RuntimeType = Any


def _annotation(feature: Feature) -> Any:
    description = feature.description or None
    if feature.type == "numeric":
        # Numbers only (strict: no "12" strings, no true/false); NaN and
        # Infinity are rejected, not predicted on.
        limits = Field(
            ge=feature.min,
            le=feature.max,
            allow_inf_nan=False,
            strict=True,
            description=description,
        )
        return Annotated[float, limits]
    if feature.type == "categorical":
        return Annotated[
            # A categorical feature always has categories (schema.py checks).
            Literal[tuple(feature.categories or [])],
            Field(description=description),
        ]
    return Annotated[StrictBool, Field(description=description)]


def _typed_dict(name: str, fields: dict[str, Any]) -> RuntimeType:
    typed = TypedDict(name, fields)  # type: ignore[misc]  # built at run time
    return with_config(FORBID_EXTRA)(typed)


def record_type(schema: Schema) -> RuntimeType:
    """One input row: required unless the schema says the feature is nullable
    (then it may be null or left out)."""
    fields = {}
    for feature in schema.features:
        annotation = _annotation(feature)
        fields[feature.name] = (
            NotRequired[annotation | None] if feature.nullable else annotation
        )
    return _typed_dict("Record", fields)


def batch_type(record: RuntimeType, max_batch_size: int) -> RuntimeType:
    rows = Annotated[list[record], Field(min_length=1, max_length=max_batch_size)]
    return _typed_dict("BatchRequest", {"records": rows})


def invocations_type(record: RuntimeType, max_batch_size: int) -> RuntimeType:
    """The JSON formats of MLflow's scoring server (`mlflow models serve`):
    exactly one of dataframe_split, dataframe_records, instances or inputs."""
    batch = Field(min_length=1, max_length=max_batch_size)
    rows = Annotated[list[record], batch]
    params = NotRequired[dict[str, Any] | None]
    split = _typed_dict(
        "DataframeSplit",
        {
            "columns": list[str],
            "data": Annotated[list[list[Any]], batch],
            "index": NotRequired[list[Any] | None],
        },
    )
    columns = dict[str, Annotated[list[Any], batch]]
    formats = [
        _typed_dict("SplitRequest", {"dataframe_split": split, "params": params}),
        _typed_dict("RecordsRequest", {"dataframe_records": rows, "params": params}),
        _typed_dict("InstancesRequest", {"instances": rows, "params": params}),
        _typed_dict("InputsRequest", {"inputs": rows | columns, "params": params}),
    ]
    return Union[tuple(formats)]  # noqa: UP007 - a Union built at run time


def invocation_rows(body: dict) -> tuple[list[dict], bool]:
    """The request's rows, and whether they still need validating as records
    (the column-oriented formats cannot be typed per field in the schema)."""
    if "dataframe_split" in body:
        split = body["dataframe_split"]
        if any(len(row) != len(split["columns"]) for row in split["data"]):
            raise ValueError("dataframe_split: every row needs one value per column")
        return [
            dict(zip(split["columns"], row, strict=True)) for row in split["data"]
        ], True
    given = body.get("dataframe_records") or body.get("instances") or body["inputs"]
    if isinstance(given, dict):
        if len({len(values) for values in given.values()}) > 1:
            raise ValueError("inputs: every column needs the same number of values")
        if not given or not any(given.values()):
            raise ValueError("inputs: no records")
        columns = list(given)
        rows = zip(*given.values(), strict=True)
        return [dict(zip(columns, values, strict=True)) for values in rows], True
    return given, False


def prediction_model(schema: Schema) -> type[BaseModel]:
    classes = schema.target.classes or []  # set for classification (schema.py)
    label = Literal[tuple(classes)] if schema.is_classification else float
    fields: dict[str, Any] = {"prediction": (label, ...)}
    if schema.is_classification:
        fields["probabilities"] = (dict[str, float], ...)
    return create_model("Prediction", **fields)


def single_response_model(prediction: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        "SinglePrediction", __base__=prediction, model_version=(str, ...)
    )


def batch_response_model(prediction: RuntimeType) -> type[BaseModel]:
    return create_model(
        "BatchPrediction", model_version=(str, ...), predictions=(list[prediction], ...)
    )


class InvocationsResponse(BaseModel):
    predictions: list[Any]
