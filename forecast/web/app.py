"""The web workbench as an ASGI app: routes, the access gate, CSRF-checked forms, error pages.

Every handler parses the request, calls the functions the CLI calls (through ``views`` and ``forms``,
in a worker thread: the database and the model are blocking code) and renders a template. A
:class:`~forecast.errors.ForecastError` becomes a page with its one-line message and status 400, 404
or 409; anything else a 500 page without a traceback (the traceback goes to the server's log).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..basics.text import displayable
from ..errors import ForecastError, NotFoundError
from ..report.templating import STYLESHEET
from ..store import Store
from . import expert_forms, forms, pages
from .bench import Refused, Workbench, status_of
from .rendering import STATIC
from .runner import Runner
from .security import (ACCESS_COOKIE, ANALYST_COOKIE, CSRF_COOKIE, OPEN_PATHS, BodyLimit, Scope, Secrets,
                       host_name, is_loopback,
                       SecureHeaders, new_browser_id)

log = logging.getLogger("forecast.web")
STATIC_FILES = {"report.css": STYLESHEET, "web.css": STATIC / "web.css", "web.js": STATIC / "web.js"}


Handler = Callable[[Workbench, Request], Awaitable[Response]]


def handled(bench: Workbench, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """``handler`` with errors turned into pages: one line, status 400/403/404/409, or 500 without detail."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(bench, request)
        except ForecastError as exc:
            return bench.error_page(request, str(exc), status_of(exc))
        except Refused as exc:
            return bench.error_page(request, str(exc), exc.status)
        except Exception:
            log.exception("error serving %s %s", request.method, request.url.path)
            return bench.error_page(request, "internal error: the server's log has the details", 500)

    return endpoint


async def static(bench: Workbench, request: Request) -> Response:
    path = STATIC_FILES.get(request.path_params["name"])
    if path is None:
        raise NotFoundError(f"no file {request.path_params['name']!r}")
    return FileResponse(path, headers={"cache-control": "max-age=300"})


async def login_form(bench: Workbench, request: Request) -> Response:
    return bench.page(request, "login.html", {"next": _local(request.query_params.get("next")),
                                              "needs_token": bench.secrets.access_token is not None})


async def login(bench: Workbench, request: Request) -> Response:
    fields = await bench.form(request)
    token = fields.get("token", "")
    if bench.secrets.access_token is not None and not bench.secrets.token_matches(token):
        raise Refused("access refused: wrong access token", 403)
    response = RedirectResponse(_local(fields.get("next")), status_code=303)
    secure = request.url.scheme == "https"
    if bench.secrets.access_token is not None:
        response.set_cookie(ACCESS_COOKIE, bench.secrets.access_cookie(), httponly=True, samesite="strict",
                            secure=secure)
    name = fields.get("analyst", "").strip()
    if name:
        response.set_cookie(ANALYST_COOKIE, bench.secrets.sign_analyst(displayable(name[:80])), httponly=True,
                            samesite="strict", secure=secure)
    return response


def _local(target: str | None) -> str:
    """A redirect target on this server only (a path), else the portfolio."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def run_status_json(bench: Workbench, request: Request) -> Response:
    state = bench.runner.snapshot()
    return JSONResponse(None if state is None else {**vars(state), "percent": state.percent})


class Gate:
    """Gives each browser its CSRF cookie and, with an access token set, lets only logged-in requests past
    (a page view goes to the login form; anything else is refused with 401)."""

    def __init__(self, app: Any, secrets: Secrets) -> None:
        self.app, self.secrets = app, secrets

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cookies = _cookies(scope)
        browser = cookies.get(CSRF_COOKIE) or new_browser_id()
        scope.setdefault("state", {})["browser"] = browser
        path = scope["path"]
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        if self.secrets.access_token is None and not is_loopback(host_name(host)):
            # Without a token only this machine's own names are served: a page elsewhere that rebinds its DNS
            # name to 127.0.0.1 can neither read the pages nor post the forms.
            return await HTMLResponse("Refused: this server answers only to 127.0.0.1 or localhost without an "
                                      "access token.", 421)(scope, receive, send)
        bearer = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        bearer_token = bearer[7:] if bearer.lower().startswith("bearer ") else None
        if not path.startswith(OPEN_PATHS) and not self.secrets.access_allowed(cookies.get(ACCESS_COOKIE), bearer_token):
            if scope["method"] in ("GET", "HEAD"):
                response: Response = RedirectResponse(f"/login?next={quote(path)}", status_code=303)
            else:
                response = HTMLResponse("Access refused: log in with the server's access token first.", 401)
            return await self._with_cookie(response, browser, cookies)(scope, receive, send)

        async def send_with_cookie(message: dict) -> None:
            if message["type"] == "http.response.start" and CSRF_COOKIE not in cookies:
                message["headers"] = [*message.get("headers", []), (b"set-cookie", _csrf_cookie(browser, scope))]
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _with_cookie(self, response: Response, browser: str, cookies: dict[str, str]) -> Response:
        if CSRF_COOKIE not in cookies:
            response.raw_headers.append((b"set-cookie", _csrf_cookie(browser, {})))
        return response


def _cookies(scope: Scope) -> dict[str, str]:
    raw = dict(scope["headers"]).get(b"cookie", b"").decode("latin-1")
    parsed: SimpleCookie = SimpleCookie()
    try:
        parsed.load(raw)
    except Exception:  # noqa: BLE001  (a malformed cookie header counts as none)
        return {}
    return {key: morsel.value for key, morsel in parsed.items()}


def _csrf_cookie(browser: str, scope: Scope | dict) -> bytes:
    secure = "; Secure" if scope.get("scheme") == "https" else ""
    return f"{CSRF_COOKIE}={browser}; Path=/; HttpOnly; SameSite=Strict{secure}".encode()


def create_app(store: Store, *, read_only: bool = False, token: str | None = None,
               fit: dict[str, Any] | None = None) -> Any:
    """The workbench over ``store``: read-only pages, and unless ``read_only`` the forms and re-forecasts.
    With ``token``, every request needs it (the login form sets a cookie). ``fit``: the settings of
    re-forecasts (draws, tune, chains, seed, sampler, as `forecast run` takes them)."""
    bench = Workbench(store, Secrets(token), read_only, Runner(store, fit or {}))
    routes = [*pages.ROUTES, ("/login", login_form, ["GET"]), ("/login", login, ["POST"]),
              ("/static/{name}", static, ["GET"]), ("/runs/current.json", run_status_json, ["GET"])]
    if not read_only:
        routes += [*forms.ROUTES, *expert_forms.ROUTES]
    app = Starlette(routes=[Route(path, handled(bench, handler), methods=methods) for path, handler, methods in routes])
    app.state.bench = bench

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        message = "no such page" if status == 404 else "that method is not allowed here (the server may be read-only)"
        return bench.error_page(request, message, status)

    app.add_exception_handler(404, not_found)
    app.add_exception_handler(405, not_found)
    served = SecureHeaders(BodyLimit(Gate(app, bench.secrets)))
    setattr(served, "bench", bench)  # tests and benchmarks wait on its runner
    return served
