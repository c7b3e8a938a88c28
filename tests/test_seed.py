"""The seed evidence: every encoding checks against the claim language; init is idempotent."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from forecast.claims import parse_claim
from forecast.domain.priors import data_dir

from .conftest import snapshot

SEED = tomllib.loads((data_dir("observations") / "russia-iss-withdrawal.toml").read_text())


def test_seed_covers_the_article_experts() -> None:
    experts = {s["expert"] for s in SEED["statement"]}
    assert {"Yury Borisov", "John Logsdon", "Anatoly Zak", "Bill Nelson", "Dmitry Rogozin", "Casey Dreier",
            "Robyn Gatens", "Joel Montalbano"} <= experts


@pytest.mark.parametrize("entry", SEED["statement"], ids=lambda e: e["expert"])
def test_each_encoding_is_auditable(entry: dict) -> None:
    assert tuple(v or None for v in entry["encoded"]) == parse_claim(entry["claim"]).bounds()
    for key in ("quote", "source", "rationale", "said_on", "date_precision"):
        assert entry[key].strip(), key


def test_seed_observations_include_no_notice_and_still_participating() -> None:
    kinds = {(o["kind"], o["observed_on"]) for o in SEED["observation"]}
    assert ("no-formal-notice", "2022-07-27") in kinds and ("still-participating", "2026-11-23") in kinds


def test_mismatched_encoding_is_refused(run, db_path: Path, tmp_path: Path) -> None:
    seed = tmp_path / "observations"
    shutil.copytree(data_dir("observations"), seed)
    path = seed / "russia-iss-withdrawal.toml"
    path.write_text(path.read_text().replace('encoded = ["2025-01", ""]', 'encoded = ["2024-01", ""]', 1))
    result = run("init", "--observations", str(seed))
    assert result.exit_code == 2
    assert "statement 1: 'encoded' ['2024-01', ''] does not match claim 'after 2024' (2025-01 .. open)" in result.stderr
    assert [line for line in snapshot(db_path) if line.startswith('INSERT INTO "statement"')] == []
