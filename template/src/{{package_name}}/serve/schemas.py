"""Request and response models derived from schema.yaml.

Types, ranges, categories and required fields all come from the schema, so a
bad request gets a 422 naming each field and problem before the model runs.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, create_model

from ..schema import Feature, Schema


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _annotation(feature: Feature) -> Any:
    if feature.type == "numeric":
        # allow_inf_nan=False: NaN and Infinity are rejected, not predicted on.
        return Annotated[
            float, Field(ge=feature.min, le=feature.max, allow_inf_nan=False)
        ]
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


class DataframeSplit(_Strict):
    columns: list[str]
    data: list[list[Any]]
    index: list[Any] | None = None


class InvocationsRequest(_Strict):
    """The JSON formats of MLflow's scoring server (`mlflow models serve`)."""

    dataframe_split: DataframeSplit | None = None
    dataframe_records: list[dict[str, Any]] | None = None
    instances: list[dict[str, Any]] | None = None
    inputs: list[dict[str, Any]] | dict[str, list[Any]] | None = None
    params: dict[str, Any] | None = None

    def records(self) -> list[dict[str, Any]]:
        given = [
            name
            for name in ("dataframe_split", "dataframe_records", "instances", "inputs")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of dataframe_split, dataframe_records, instances, "
                f"inputs (got {given or 'none'})"
            )
        if self.dataframe_split is not None:
            split = self.dataframe_split
            if any(len(row) != len(split.columns) for row in split.data):
                raise ValueError(
                    "dataframe_split: every row needs one value per column"
                )
            return [dict(zip(split.columns, row, strict=True)) for row in split.data]
        if isinstance(self.inputs, dict):
            columns = self.inputs
            lengths = {len(values) for values in columns.values()}
            if len(lengths) > 1:
                raise ValueError("inputs: every column needs the same number of values")
            count = lengths.pop() if lengths else 0
            return [
                {name: values[i] for name, values in columns.items()}
                for i in range(count)
            ]
        return self.dataframe_records or self.instances or self.inputs or []
