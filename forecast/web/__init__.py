"""`forecast serve`: the analyst's workbench in a browser, over the same store and through the same domain
functions as the command line. :func:`create_app` makes the ASGI app; :func:`serve` runs it with uvicorn."""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..store import Store
from .security import is_loopback


def check_binding(host: str, token: str | None) -> None:
    """A server reachable from other machines must require an access token."""
    if not is_loopback(host) and not token:
        raise InputError(f"--host {host} is reachable from other machines: set an access token with --token or "
                         "$FORECAST_TOKEN (or bind to 127.0.0.1)")
    if token is not None and len(token) < 16:
        raise InputError("the access token is too short: use at least 16 characters (e.g. from `openssl rand -hex 16`)")


def create_app(store: Store, **options: Any) -> Any:
    """The ASGI app (see :func:`forecast.web.app.create_app` for the options)."""
    from .app import create_app as make

    return make(store, **options)


def serve(store: Store, host: str, port: int, *, read_only: bool, token: str | None, fit: dict[str, Any],
          proxied: bool = False) -> None:
    """Serve the workbench until interrupted (``proxied``: trust X-Forwarded-* from a reverse proxy on this machine)."""
    import uvicorn

    check_binding(host, token)
    app = create_app(store, read_only=read_only, token=token, fit=fit)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=proxied,
                forwarded_allow_ips="127.0.0.1" if proxied else None, server_header=False,
                h11_max_incomplete_event_size=64 * 1024)
