"""Import validates every row like the command that would have written it (issue 11): the first
bad row stops the import with a one-line error naming it, and nothing is written."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from forecast.io.transfer import COLUMNS
from forecast.store import open_store

from .conftest import REPORTER, assert_refused, log_args, snapshot


@pytest.fixture
def rows(run, seeded: Path, tmp_path: Path) -> list[dict]:
    """The export of a store with a retraction and a supersession (S4 superseded by S9)."""
    assert run("retract", "S2", "--reason", "paraphrase").exit_code == 0
    assert run(*log_args(claim="after 2026", supersedes="S4"), "--no-update").exit_code == 0
    path = tmp_path / "export.json"
    assert run("export", str(path)).exit_code == 0
    return json.loads(path.read_text())


def _write(rows: list[dict], path: Path) -> Path:
    if path.suffix == ".csv":
        pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
    else:
        path.write_text(json.dumps(rows, ensure_ascii=False))
    return path


def _first(rows: list[dict], record: str, **match: str) -> dict:
    return next(r for r in rows if r["record"] == record and all(r[k] == v for k, v in match.items()))


def _set(record: str, **values: object) -> Callable[[list[dict]], dict]:
    """A mutation: the first row of ``record`` gets ``values``."""
    def mutate(rows: list[dict]) -> dict:
        row = _first(rows, record)
        row.update(values)
        return row
    return mutate


def _self_superseding(rows: list[dict]) -> dict:
    row = _first(rows, "statement")
    row.update(superseded_by=row["uid"], retracted_at=row["logged_at"])
    return row


def _cycle(rows: list[dict]) -> dict:
    old = _first(rows, "statement", expert="Casey Dreier", claim_text="after 2025")
    new = _first(rows, "statement", uid=old["superseded_by"])
    new.update(superseded_by=old["uid"], retracted_at=new["logged_at"])
    return old


def _superseded_not_retracted(rows: list[dict]) -> dict:
    row = _first(rows, "statement", expert="Casey Dreier", claim_text="after 2025")
    row["retracted_at"] = None
    return row


CASES = {
    "quote is a JSON number": (_set("statement", quote=42), "quote must be text, not a number"),
    "NUL byte in a quote": (_set("statement", quote="Of course\x00"), "quote contains control character U+0000"),
    "escape sequence in a source": (_set("observation", source="\x1b]8;;http://x\x1b\\"),
                                    "source contains control character U+001B"),
    "probability true": (_set("statement", probability=True), "probability must be a number, not true/false"),
    "probability nan": (_set("statement", probability="nan"), "probability 'nan' is not a number"),
    "aliases as a string": (_set("expert", aliases="Zak"), "aliases 'Zak' are not a JSON list of names"),
    "aliases as a JSON string": (_set("expert", aliases='"Zak"'), "aliases must be a list of names, not text"),
    "alias that is a number": (_set("expert", aliases="[1]"), "alias must be text, not a number"),
    "self-supersession": (_self_superseding, "superseded by itself"),
    "supersession cycle": (_cycle, "supersession cycle through"),
    "superseded but not retracted": (_superseded_not_retracted, "a superseded row needs a retracted_at"),
    "retracted before logged": (_set("statement", retracted_at="2020-01-01T00:00:00"),
                                "retracted_at 2020-01-01T00:00:00 is before logged_at"),
    "logged in 2099": (_set("observation", logged_at="2099-01-01T00:00:00+00:00"),
                       "logged_at 2099-01-01T00:00:00+00:00 is in the future"),
    "malformed logged_at": (_set("observation", logged_at="yesterday"), "malformed logged_at 'yesterday'"),
    "path as a slug": (_set("question", slug="../../../tmp/evil-slug"), "malformed slug '../../../tmp/evil-slug'"),
    "newline after a slug": (_set("question", slug="russia-iss-withdrawal\n"), "malformed slug 'russia-iss-withdrawal\\n'"),
    "horizon abc": (_set("question", horizon_end="abc"), "malformed month 'abc'"),
    "horizon reversed": (_set("question", horizon_start="2033-01"), "horizon ends (2032-12) before it starts (2033-01)"),
    "question unlike its definition": (_set("question", slug="mars-landing"),
                                       "question 'mars-landing': its definition does not match the row"),
    "horizon unlike its definition": (_set("question", horizon_end="2031-12"),
                                      "question 'iss-retirement': its definition does not match the row"),
    "resolution outside the horizon": (_set("question", status="resolved", resolution="2040-01"),
                                       "resolution 2040-01 is outside the horizon"),
    "open with a resolution": (_set("question", resolution="2030-01"), "status 'open' cannot have a resolution"),
    "unknown status": (_set("question", status="pending"), "unknown question status 'pending'"),
    "NUL in a title": (_set("question", title="ISS\x00"), "title contains control character U+0000"),
    "question created in 2099": (_set("question", created_at="2099-01-01T00:00:00"), "created_at 2099-01-01T00:00:00"),
}
CSV_CASES = ["NUL byte in a quote", "probability nan", "aliases as a string", "self-supersession", "horizon abc",
             "path as a slug", "retracted before logged"]


def _refused_into_empty_store(run, rows: list[dict], path: Path, message: str, line: int) -> None:
    empty = path.parent / "empty.db"
    open_store(str(empty))
    before = snapshot(empty)
    assert_refused(run("import", str(_write(rows, path)), db=empty), f"Error: row {line}: {message}")
    assert snapshot(empty) == before


@pytest.mark.parametrize(("case", "suffix"), [(c, "json") for c in CASES] + [(c, "csv") for c in CSV_CASES])
def test_bad_row_is_refused_by_name_and_nothing_written(run, rows, tmp_path: Path, case: str, suffix: str) -> None:
    mutate, message = CASES[case]
    line = rows.index(mutate(rows)) + 2
    _refused_into_empty_store(run, rows, tmp_path / f"bad.{suffix}", message, line)


@pytest.mark.parametrize("suffix", ["json", "csv"])
def test_unchanged_export_imports(run, rows, tmp_path: Path, suffix: str) -> None:
    imported = run("import", str(_write(rows, tmp_path / f"good.{suffix}")), db=tmp_path / "empty.db")
    assert imported.exit_code == 0, imported.stderr


def test_backdated_rows_are_refused_unless_the_store_is_empty(run, rows, tmp_path: Path) -> None:
    """A row logged before the store's latest evidence would change what --known-at reproduces."""
    newest = _first(rows, "statement", expert=REPORTER, claim_text="after 2026")
    newest.update(superseded_by=None)
    batch = [r for r in rows if r["record"] in ("question", "expert")] + [newest]
    later = tmp_path / "later.db"
    assert run("init", db=later).exit_code == 0  # its seed evidence is logged after ``newest``
    before = snapshot(later)
    message = f"Error: row {len(batch) + 1}: logged_at {newest['logged_at']} is earlier than the store's latest evidence"
    assert_refused(run("import", str(_write(batch, tmp_path / "old.json")), db=later), message)
    assert snapshot(later) == before
    newest["logged_at"] = dt.datetime.now(dt.UTC).isoformat()
    assert run("import", str(_write(batch, tmp_path / "now.json")), db=later).exit_code == 0
    assert run("import", str(_write(rows, tmp_path / "all.json")), db=tmp_path / "empty.db").exit_code == 0

