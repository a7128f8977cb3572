"""How uvicorn serves the app: the options `{cli} serve` runs it with."""

from typing import Any

from ..environment import ServeSettings
from .observability import log_config
from .protocol import GuardedHttpToolsProtocol


def server_options(settings: ServeSettings) -> dict[str, Any]:
    """uvicorn.run / uvicorn.Config keyword arguments for these settings."""
    return {
        "http": GuardedHttpToolsProtocol,  # limits on the request head
        "h11_max_incomplete_event_size": settings.max_header_bytes,
        "timeout_keep_alive": settings.idle_timeout_seconds,
        "log_config": log_config(),  # JSON lines, in every worker process
        "access_log": False,  # the service logs each request itself, with its id
        "timeout_graceful_shutdown": 30,
    }
