"""`forecast docs`: the shipped documentation, listed and printed, and an unknown topic refused."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from forecast.cli import cli

from .conftest import PROJECT


def test_docs_lists_every_page_with_its_title() -> None:
    result = CliRunner().invoke(cli, ["docs"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].split() == ["index", "forecast"]  # the index first
    topics = {line.split()[0] for line in lines[1:]}
    assert topics == {page.stem for page in (PROJECT / "docs").glob("*.md")}
    assert any(line.split(None, 1) == ["entry", "Logging evidence, checking claims, your own question"] for line in lines)


@pytest.mark.parametrize("topic", ["entry", "ENTRY", "entry.md"])
def test_docs_prints_a_page_as_written(topic: str) -> None:
    result = CliRunner().invoke(cli, ["docs", topic])
    assert result.exit_code == 0, result.output
    assert result.output == (PROJECT / "docs" / "entry.md").read_text(encoding="utf-8") + "\n"


def test_an_unknown_topic_is_one_line_with_the_closest_page() -> None:
    result = CliRunner().invoke(cli, ["docs", "entri"])
    assert result.exit_code == 2
    assert result.output == ("Error: unknown documentation page 'entri' (did you mean 'entry'?); known: api, claims, "
                             "correcting, development, entry, evaluation, evidence, glossary, index, install, learning, "
                             "model, ... (`forecast docs` lists them with their titles)\n")


def test_the_observation_help_points_at_a_page_that_exists() -> None:
    result = CliRunner().invoke(cli, ["log", "observation", "--help"])
    assert "More: forecast docs entry (logging evidence)." in result.output


def test_on_a_terminal_the_page_goes_through_the_pager(tmp_path) -> None:
    """On a pseudo-terminal, `forecast docs` hands the page to $PAGER (here a script that counts what it was given)."""
    import os
    import pty
    import select
    import subprocess
    import sys

    pager = tmp_path / "pager"
    pager.write_text(f"#!/bin/sh\nwc -l > {tmp_path / 'paged'}\n")
    pager.chmod(0o755)
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "forecast", "docs", "claims"], stdin=follower, stdout=follower,
                            stderr=follower, cwd=PROJECT, close_fds=True, env={**os.environ, "PAGER": str(pager)})
    os.close(follower)
    while select.select([leader], [], [], 60)[0]:
        try:
            if not os.read(leader, 65536):
                break
        except OSError:
            break
    os.close(leader)
    assert proc.wait(timeout=60) == 0
    lines = len((PROJECT / "docs" / "claims.md").read_text(encoding="utf-8").splitlines())
    assert int((tmp_path / "paged").read_text().split()[0]) in (lines, lines + 1)
