"""Endpoints for operating the service: liveness, readiness, the model being
served and Prometheus metrics. Ordinary FastAPI: a new endpoint of this kind
goes here."""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from .error_handlers import NOT_READY
from .state import ServiceStateDep

router = APIRouter()


@router.get("/health")
async def health() -> dict:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/ready", responses=NOT_READY)
async def ready(state: ServiceStateDep) -> dict:
    """Readiness: the model is loaded and warmed up (503 otherwise)."""
    state.ready()
    return {"status": "ready", "model_version": state.metadata.get("version")}


@router.get("/metadata", responses=NOT_READY)
async def metadata(state: ServiceStateDep) -> dict:
    """The model being served, its metrics and the input schema."""
    state.ready()
    return {**state.metadata, "schema": state.schema.model_dump(exclude_none=True)}


@router.get("/metrics", include_in_schema=False)
async def prometheus_metrics(state: ServiceStateDep) -> Response:
    registry = state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
