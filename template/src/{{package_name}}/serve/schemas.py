"""Request and response models derived from schema.yaml.

Types, ranges, categories and required fields all come from the schema, so a
bad request gets a 422 naming each field and problem before the model runs.
"""

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, create_model

from ..schema import Feature, Schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _annotation(feature: Feature) -> Any:
    if feature.type == "numeric":
        # Numbers only (strict: no "12" strings, no true/false); NaN and
        # Infinity are rejected, not predicted on.
        limits = Field(ge=feature.min, le=feature.max, allow_inf_nan=False, strict=True)
        return Annotated[float, limits]
    if feature.type == "categorical":
        return Literal[tuple(feature.categories)]
    return StrictBool


def record_model(schema: Schema) -> type[BaseModel]:
    """One input row: required unless the schema says the feature is nullable."""
    fields: dict[str, Any] = {}
    for feature in schema.features:
        annotation = _annotation(feature)
        description = feature.description or None
        if feature.nullable:
            fields[feature.name] = (
                annotation | None,
                Field(None, description=description),
            )
        else:
            fields[feature.name] = (annotation, Field(description=description))
    return create_model("Record", __base__=_Strict, **fields)


def batch_model(record: type[BaseModel], max_batch_size: int) -> type[BaseModel]:
    return create_model(
        "BatchRequest",
        __base__=_Strict,
        records=(list[record], Field(min_length=1, max_length=max_batch_size)),
    )


def prediction_type(schema: Schema) -> Any:
    if not schema.is_classification:
        return float
    return Literal[tuple(schema.target.classes)]


def prediction_model(schema: Schema) -> type[BaseModel]:
    fields: dict[str, Any] = {"prediction": (prediction_type(schema), ...)}
    if schema.is_classification:
        fields["probabilities"] = (dict[str, float], ...)
    return create_model("Prediction", **fields)


def batch_response_model(prediction: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        "BatchPrediction",
        model_version=(str, ...),
        predictions=(list[prediction], ...),
    )


def single_response_model(prediction: type[BaseModel]) -> type[BaseModel]:
    return create_model(
        "SinglePrediction", __base__=prediction, model_version=(str, ...)
    )


def invocations_model(record: type[BaseModel], max_batch_size: int) -> Any:
    """The JSON formats of MLflow's scoring server (`mlflow models serve`):
    exactly one of dataframe_split, dataframe_records, instances or inputs."""
    batch = Field(min_length=1, max_length=max_batch_size)
    rows = Annotated[list[record], batch]
    params = (dict[str, Any] | None, None)
    split = create_model(
        "DataframeSplit",
        __base__=_Strict,
        columns=(list[str], ...),
        data=(Annotated[list[list[Any]], batch], ...),
        index=(list[Any] | None, None),
    )
    formats = [
        create_model(
            "SplitRequest",
            __base__=_Strict,
            dataframe_split=(split, ...),
            params=params,
        ),
        create_model(
            "RecordsRequest",
            __base__=_Strict,
            dataframe_records=(rows, ...),
            params=params,
        ),
        create_model(
            "InstancesRequest", __base__=_Strict, instances=(rows, ...), params=params
        ),
        create_model(
            "InputsRequest",
            __base__=_Strict,
            inputs=(rows | dict[str, Annotated[list[Any], batch]], ...),
            params=params,
        ),
    ]
    return Union[tuple(formats)]  # noqa: UP007 - a Union built at run time


def invocation_rows(body: BaseModel) -> tuple[list[dict], bool]:
    """The request's rows, and whether they still need validating as records
    (the column-oriented formats cannot be typed per field in the schema)."""
    if hasattr(body, "dataframe_split"):
        split = body.dataframe_split
        if any(len(row) != len(split.columns) for row in split.data):
            raise ValueError("dataframe_split: every row needs one value per column")
        return [dict(zip(split.columns, row, strict=True)) for row in split.data], True
    given = getattr(body, "dataframe_records", None) or getattr(body, "instances", None)
    given = given or body.inputs
    if isinstance(given, dict):
        if len({len(values) for values in given.values()}) > 1:
            raise ValueError("inputs: every column needs the same number of values")
        columns = list(given)
        if not columns or not any(given.values()):
            raise ValueError("inputs: no records")
        return [
            dict(zip(columns, values, strict=True))
            for values in zip(*given.values(), strict=True)
        ], True
    return [row.model_dump() for row in given], False
