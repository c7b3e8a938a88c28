"""What every request passes through: the access token, CSRF tokens, a request size limit and the
response headers (a Content-Security-Policy with no inline script, no framing, no sniffing).

Tokens are HMACs under a secret made when the server starts, so a restart logs everyone out and no
token is kept anywhere. The access cookie holds an HMAC of the access token, never the token itself.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote, unquote

ACCESS_COOKIE, CSRF_COOKIE, ANALYST_COOKIE = "forecast_access", "forecast_csrf", "forecast_analyst"
CSRF_FIELD = "csrf_token"
MAX_BODY = 256 * 1024  # bytes: a form with a long quote, or an uploaded question file
# Scripts only from the server's own files; inline style is allowed because the figures are matplotlib SVG
# (style attributes); stored text never reaches a style: every printed value is autoescaped.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
                           "frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CONTENT_SECURITY_POLICY.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
           (b"cross-origin-opener-policy", b"same-origin"), (b"cache-control", b"no-store")]
OPEN_PATHS = ("/login", "/static/")  # reachable without the access token

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name or address in a Host header, without its port."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class Secrets:
    """The server's secret, and the tokens derived from it."""

    def __init__(self, access_token: str | None) -> None:
        self.key = secrets.token_bytes(32)
        self.access_token = access_token

    def _mac(self, *parts: str) -> str:
        return hmac.new(self.key, "\x00".join(parts).encode(), hashlib.sha256).hexdigest()

    def access_cookie(self) -> str:
        assert self.access_token is not None
        return self._mac("access", self.access_token)

    def access_allowed(self, cookie: str | None, bearer: str | None) -> bool:
        """No token set, or the request carries it (as the login cookie or an ``Authorization: Bearer``)."""
        if self.access_token is None:
            return True
        if bearer is not None and hmac.compare_digest(bearer.encode(), self.access_token.encode()):
            return True
        return cookie is not None and hmac.compare_digest(cookie, self.access_cookie())

    def token_matches(self, given: str) -> bool:
        return self.access_token is not None and hmac.compare_digest(given.encode(), self.access_token.encode())

    def csrf_token(self, browser: str) -> str:
        """The form token for the browser that holds the CSRF cookie ``browser`` (signed double submit)."""
        return self._mac("csrf", browser)

    def csrf_valid(self, browser: str | None, given: str | None) -> bool:
        return bool(browser and given) and hmac.compare_digest(self.csrf_token(browser or ""), given or "")

    def sign_analyst(self, name: str) -> str:
        """A cookie value naming the analyst (percent-encoded, signed)."""
        encoded = quote(name, safe="")
        return f"{self._mac('analyst', encoded)}.{encoded}"

    def analyst(self, cookie: str | None) -> str | None:
        """The analyst name a login cookie carries, if its signature holds."""
        mac, _, encoded = (cookie or "").partition(".")
        valid = encoded and hmac.compare_digest(mac, self._mac("analyst", encoded))
        return unquote(encoded) if valid else None


def new_browser_id() -> str:
    return secrets.token_urlsafe(24)


class BodyLimit:
    """Refuses a request body over ``limit`` bytes with 413, by its Content-Length or as it streams in."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[dict]],
                       send: Callable[[dict], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            return await _too_large(send, self.limit)
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:
            await _too_large(send, self.limit)


class BodyTooLarge(Exception):
    """A streamed request body went over the limit."""


async def _too_large(send: Callable[[dict], Awaitable[None]], limit: int) -> None:
    body = f"Request refused: the body is over {limit // 1024} KiB.".encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), *HEADERS]})
    await send({"type": "http.response.body", "body": body})


class SecureHeaders:
    """Adds the security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[dict]],
                       send: Callable[[dict], Awaitable[None]]) -> None:
        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in HEADERS if h[0] not in names)]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)
