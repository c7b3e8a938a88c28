"""One server's state, and what every handler uses: rendering a page, an error page, a checked form."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..errors import ConflictError, DuplicateError, ForecastError, NotFoundError
from ..store import Store
from .rendering import render
from .runner import Runner
from .security import ANALYST_COOKIE, CSRF_COOKIE, CSRF_FIELD, Secrets


class Refused(Exception):
    """A request refused before the domain is asked (CSRF, access), with its status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def status_of(exc: ForecastError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    return 409 if isinstance(exc, DuplicateError | ConflictError) else 400


@dataclass
class Workbench:
    """One server's state: the store, its secrets, whether it writes, and the re-forecast worker."""

    store: Store
    secrets: Secrets
    read_only: bool
    runner: Runner

    def page(self, request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        browser = request.scope["state"]["browser"]
        analyst = self.secrets.analyst(request.cookies.get(ANALYST_COOKIE))
        html = render(template, context, self.secrets.csrf_token(browser), self.read_only, analyst)
        return HTMLResponse(html, status_code=status)

    def error_page(self, request: Request, message: str, status: int) -> HTMLResponse:
        return self.page(request, "error.html", {"message": message, "status": status}, status)

    async def form(self, request: Request) -> dict[str, str]:
        """The posted form's text fields, once its CSRF token is checked."""
        if request.headers.get("sec-fetch-site") == "cross-site":
            raise Refused("form refused: it was posted from another site", 403)
        form = await request.form()
        fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
        if not self.secrets.csrf_valid(request.cookies.get(CSRF_COOKIE), fields.pop(CSRF_FIELD, None)):
            raise Refused("form refused: its CSRF token is missing or wrong (reload the page and try again)", 403)
        return fields

    def analyst(self, request: Request) -> str | None:
        """The signed-in analyst's name, if any."""
        return self.secrets.analyst(request.cookies.get(ANALYST_COOKIE))

    def author(self, request: Request) -> dict[str, Any]:
        """The keyword arguments naming the author of the rows a form writes, passed to each domain call: the
        signed-in analyst, else none (the domain then records ``$FORECAST_ANALYST`` or the server's login name)."""
        analyst = self.analyst(request)
        return {"author": analyst} if analyst else {}
