"""Follow the registry alias the service was started on
(SERVE_MODEL_URI `models:/<name>@<alias>`, the champion by default): every
SERVE_RELOAD_SECONDS, look up the version the alias points at and, when it
has moved, load, convert and warm up that version in a thread, then swap it
in at once (ServiceState.swap). Requests in flight finish on the model they
started with. A version that does not load leaves the old one serving,
says why in the log and in /metadata (`reload_error`), and is not tried
again; moving the alias again, or a restart, tries anew. A model directory
(the image's baked model) is never reloaded."""

import asyncio
import logging
import re

import anyio

from ..schema import Schema
from .served_model import ServedModel, load_served_model
from .state import ServiceState

log = logging.getLogger("service")

REGISTRY_ALIAS = re.compile(r"models:/(?P<name>[^/@]+)@(?P<alias>[^/@]+)")


def followed_alias(model_uri: str) -> tuple[str, str] | None:
    """(name, alias) of a `models:/<name>@<alias>` URI; None for others."""
    match = REGISTRY_ALIAS.fullmatch(model_uri)
    return (match["name"], match["alias"]) if match else None


def aliased_version(name: str, alias: str) -> str:
    from mlflow import MlflowClient

    from .. import tracking

    tracking.connect()
    return str(MlflowClient().get_model_version_by_alias(name, alias).version)


def load_version(
    name: str, alias: str, version: str, schema: Schema, backend: str
) -> ServedModel:
    # By number, not by alias: the alias may move again while this loads.
    return load_served_model(f"models:/{name}/{version}", schema, backend, alias=alias)


async def follow_alias(state: ServiceState, name: str, alias: str) -> None:
    interval = state.settings.reload_seconds
    not_loaded: str | None = None  # the version that failed: not tried again
    while True:
        await anyio.sleep(interval)
        try:
            version = await anyio.to_thread.run_sync(
                aliased_version, name, alias, abandon_on_cancel=True
            )
        except Exception as error:  # the registry unreachable: try next time
            log.warning("cannot look up %s@%s: %s", name, alias, error)
            continue
        served = state.model.version if state.model else None
        if version in (served, not_loaded):
            continue
        log.info("loading version %s of %s (@%s)", version, name, alias)
        try:
            model = await anyio.to_thread.run_sync(
                load_version,
                name,
                alias,
                version,
                state.schema,
                state.settings.backend,
                abandon_on_cancel=True,
            )
        except Exception as error:  # whatever it is, the old model keeps serving
            not_loaded = version
            state.reload_error = (
                f"version {version} of {name} (@{alias}) not loaded: {error}; "
                f"still serving version {served}"
            )
            log.error(state.reload_error)
            continue
        not_loaded = None
        state.swap(model)


def start_following(state: ServiceState) -> asyncio.Task | None:
    """The task that follows the alias, when there is one to follow."""
    alias = followed_alias(state.model_uri)
    if alias is None or not state.settings.reload_seconds or state.fatal:
        return None
    return asyncio.create_task(follow_alias(state, *alias))
