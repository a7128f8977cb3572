"""Custom resources checked offline against their CRDs' schemas, vendored in
crds/ (its README says from where). Checked strictly, as kubernetes_validate
checks built-in kinds: a field the schema does not define is an error, where
the API server would drop it without a word."""

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

CRDS = Path(__file__).with_name("crds")


def strict(schema: Any) -> Any:
    """The schema with unknown fields refused wherever it lists the fields."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    tightened = {key: strict(value) for key, value in schema.items()}
    lists_fields = "properties" in schema and "additionalProperties" not in schema
    if lists_fields and not schema.get("x-kubernetes-preserve-unknown-fields"):
        tightened["additionalProperties"] = False
    return tightened


@cache
def schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> its strict schema."""
    found = {}
    for path in CRDS.glob("*.json"):
        crd = json.loads(path.read_text())
        found[(f"{crd['group']}/{crd['version']}", crd["kind"])] = strict(crd["schema"])
    return found


def validate(resource: dict) -> None:
    """Raises jsonschema.ValidationError naming the field and the problem."""
    schema = schemas()[(resource["apiVersion"], resource["kind"])]
    jsonschema.Draft7Validator(schema).validate(resource)
