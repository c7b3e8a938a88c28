"""`forecast serve` from the command line: the bindings it refuses, and the real binary serving a store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import INIT, assert_refused
from .webserver import free_port


@pytest.mark.parametrize("args, message", [
    (["--host", "0.0.0.0"], "Error: --host 0.0.0.0 is reachable from other machines: set an access token"),
    (["--host", "192.0.2.7", "--token", "short"], "Error: the access token is too short"),
    (["--port", "0"], "Error: Invalid value for '--port'"),
    (["--draws", "0"], "Error: draws 0 is less than 10"),
])
def test_serve_refuses_an_unsafe_or_bad_binding(run, args, message) -> None:
    assert run(*INIT).exit_code == 0
    assert_refused(run("serve", *args), message)


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.8.9.10"])
def test_loopback_needs_no_token(host) -> None:
    from forecast.web import check_binding

    check_binding(host, None)


def test_the_forecast_binary_serves_the_store(run, db_path: Path) -> None:
    assert run(*INIT).exit_code == 0
    port = free_port()
    binary = Path(sys.executable).parent / "forecast"
    env = {**os.environ, "FORECAST_DB": str(db_path), "FORECAST_TOKEN": "fixture-token-0123456789"}
    server = subprocess.Popen([str(binary), "serve", "--port", str(port), "--read-only"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "access token required" in server.stdout.readline()
        deadline = time.monotonic() + 30
        while True:
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/",
                                                 headers={"Authorization": "Bearer fixture-token-0123456789"})
                with urllib.request.urlopen(request, timeout=5) as response:
                    body = response.read().decode()
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline and server.poll() is None, server.stderr.read()
                time.sleep(0.2)
        assert response.status == 200 and "russia-iss-withdrawal" in body and "read-only" in body
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/runs", data=b"x=1", timeout=5)
        assert refused.value.code == 401  # no token: refused before any route
    finally:
        server.terminate()
        server.wait(10)


def test_a_request_body_over_the_limit_is_refused(run, db_path: Path) -> None:
    from .conftest import snapshot
    from .webserver import serving

    assert run(*INIT).exit_code == 0
    unchanged = snapshot(db_path)
    with serving(str(db_path)) as server:
        body = b"quote=" + b"x" * (300 * 1024)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server.url}/questions/russia-iss-withdrawal/statement", data=body, timeout=10)
        assert refused.value.code == 413
        assert refused.value.headers["content-security-policy"].startswith("default-src 'none'")
    assert snapshot(db_path) == unchanged


def test_without_a_token_only_loopback_host_names_are_served(run, db_path: Path) -> None:
    """A page elsewhere whose DNS name is rebound to 127.0.0.1 gets nothing (its Host header is its own name)."""
    from .webserver import serving

    assert run(*INIT).exit_code == 0
    with serving(str(db_path)) as server:
        port = server.url.rsplit(":", 1)[1]
        for host, status in ((f"evil.example.org:{port}", 421), (f"localhost:{port}", 200), (f"[::1]:{port}", 200)):
            request = urllib.request.Request(server.url + "/", headers={"Host": host})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    got = response.status
            except urllib.error.HTTPError as exc:
                got = exc.code
            assert got == status, host
    with serving(str(db_path), token="fixture-token-0123456789") as server:
        request = urllib.request.Request(server.url + "/", headers={"Host": "forecast.example.org",
                                                                    "Authorization": "Bearer fixture-token-0123456789"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200  # with a token (behind a proxy), any name
