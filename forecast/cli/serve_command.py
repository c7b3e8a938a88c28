"""`forecast serve`: the web workbench over the store."""

from __future__ import annotations

from typing import Any

import click

from .group import cli
from .params import WHOLE


@cli.command(name="serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any but a loopback address needs --token.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--read-only", is_flag=True, help="Serve the pages only: no forms, no re-forecasts.")
@click.option("--token", envvar="FORECAST_TOKEN", metavar="TOKEN",
              help="Access token every request needs (a login form sets a cookie); or $FORECAST_TOKEN.")
@click.option("--behind-proxy", is_flag=True,
              help="Trust X-Forwarded-For/-Proto from a reverse proxy on this machine (TLS ends there).")
@click.option("--draws", type=WHOLE, default=1000, show_default=True, help="Draws per chain of a re-forecast.")
@click.option("--tune", type=WHOLE, help="Tuning steps of a re-forecast (default: adaptive, as `forecast run`).")
@click.option("--chains", type=WHOLE, default=4, show_default=True, help="Chains of a re-forecast.")
@click.pass_obj
def serve_command(env, host: str, port: int, read_only: bool, token: str | None, behind_proxy: bool, draws: int,
                  tune: int | None, chains: int) -> None:
    """Serve the web workbench over the store: portfolio, questions, experts, calibration, forms, re-forecasts.

    Example: forecast serve --port 8000
    """
    from ..runs.fitting import fit_settings
    from ..web import check_binding, serve

    check_binding(host, token)
    fit: dict[str, Any] = {"draws": draws, "tune": tune, "chains": chains}
    fit_settings(**fit)  # refused now, not at the first re-forecast
    store = env.store()
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Serving {store.shown_url} at http://{shown}:{port}/" + (" (read-only)" if read_only else "")
               + ("; access token required" if token else "") + ". Ctrl-C stops it.")
    serve(store, host, port, read_only=read_only, token=token, fit=fit, proxied=behind_proxy)
