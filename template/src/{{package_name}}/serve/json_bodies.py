"""Validate request bodies with pydantic straight from JSON bytes, and still
describe them in the OpenAPI document.

FastAPI's own body parameters parse JSON in Python, validate, then copy into
models; on a 1000-row batch that costs more than the model itself. Here the
handler reads the bytes and a TypeAdapter validates them in one pass, and the
OpenAPI request body is added from the same type's JSON schema.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from pydantic import TypeAdapter, ValidationError

REF_TEMPLATE = "#/components/schemas/{model}"


class JsonBody:
    """A request body type: its validator and its OpenAPI description."""

    def __init__(self, body_type: Any, components: dict[str, Any]):
        self.adapter = TypeAdapter(body_type)
        schema = self.adapter.json_schema(ref_template=REF_TEMPLATE)
        components.update(schema.pop("$defs", {}))
        self.openapi_extra = {
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": schema}},
            }
        }

    async def read(self, request: Request) -> Any:
        try:
            return self.adapter.validate_json(await request.body())
        except ValidationError as error:
            raise_invalid(error, ("body",))


def raise_invalid(error: ValidationError, prefix: tuple) -> None:
    """Report pydantic errors as FastAPI's 422, located under `prefix`."""
    raise RequestValidationError(
        [{**e, "loc": (*prefix, *e["loc"])} for e in error.errors()]
    ) from None


def install_openapi(
    app: FastAPI, components: dict[str, Any], security_schemes: dict[str, Any]
) -> None:
    """Add the request body types' shared definitions and the security schemes
    that the routes' `security` entries name to the OpenAPI document."""

    def openapi() -> dict:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            parts = document.setdefault("components", {})
            parts.setdefault("schemas", {}).update(components)
            if security_schemes:
                parts["securitySchemes"] = security_schemes
            app.openapi_schema = document
        return app.openapi_schema

    # FastAPI's documented way to extend the document; mypy sees a method.
    app.openapi = openapi  # type: ignore[method-assign]
