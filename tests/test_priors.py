"""Priors as data: the real files load; every kind of mistake is a clear error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from forecast.domain.priors import data_dir, load_priors
from forecast.errors import PriorError
from forecast.store.tables import EXPERT_KINDS


def test_project_priors_load() -> None:
    priors = load_priors(data_dir("priors"))
    spec = priors.questions["russia-iss-withdrawal"]
    assert (spec.horizon_start, spec.horizon_end) == ("2022-07", "2032-12")
    assert spec.notice["months"] == 12 and spec.notice["earliest"] is None
    assert set(priors.reliability.kinds) == set(EXPERT_KINDS)
    assert priors.reliability.weights["hedged"] < priors.reliability.weights["firm"]


def test_every_number_has_a_rationale() -> None:
    for path in (data_dir("priors")).rglob("*.toml"):
        for line in path.read_text().splitlines():
            if "value =" in line:
                assert 'why = "' in line, f"{path.name}: {line}"


@pytest.fixture
def priors_copy(tmp_path: Path) -> Path:
    target = tmp_path / "priors"
    shutil.copytree(data_dir("priors"), target)
    return target


EDITS = [
    ("reliability.toml", "[weights]\n", "[weights]\nfrim = { value = 1.0, why = \"typo\" }\n",
     r"\[weights\]: unknown key 'frim'"),
    ("reliability.toml", 'hedged = { value = 0.5, why = "', 'hedged = { value = 0.5, why = "" }\n#',
     r"\[weights\].hedged: every number needs a one-line rationale"),
    ("reliability.toml", "[kinds.other]", "[kinds.pundit]", "has no prior for expert kind 'other'"),
    ("reliability.toml", "mean = { value = 0.55", "mean = { value = 1.55", r"\[kinds.other\].mean: value 1.55 is outside"),
    ("reliability.toml", "affiliation_correlation = { value = 0.5,", "affiliation_correlation = { value = 0.02,",
     r"\[dependence\]: affiliation_correlation_sd 0.2 is too large for a correlation of mean 0.02"),
    ("reliability.toml", "superseded = { value = 0.0,", "superseded = { value = 1.5,",
     r"\[dependence\].superseded: value 1.5 is outside \[0.0, 1.0\]"),
    ("questions/russia-iss-withdrawal.toml", 'horizon_end = "2032-12"', 'horizon_end = "2032-13"',
     r"\[question\] malformed month|\[question\] month 13"),
    ("questions/russia-iss-withdrawal.toml", "trend_sd = { value = 0.3,", "trend_sd = { value = \"x\",",
     r"\[date_prior\].trend_sd: value 'x' is not a number"),
    ("questions/russia-iss-withdrawal.toml", "annual_hazard = { value = 0.08, why", "annual_hazard = { vale = 0.08, why",
     r"annual_hazard: write numbers as"),
    ("questions/russia-iss-withdrawal.toml", "[notice]", "[notice\n", "invalid TOML"),
    ("questions/russia-iss-withdrawal.toml", 'slug = "russia-iss-withdrawal"', 'slug = "../evil"', "slug '../evil' must be"),
    ("questions/russia-iss-withdrawal.toml", 'kind = "date"', 'kind = "when"', "kind 'when' is not supported"),
    ("questions/russia-iss-withdrawal.toml", "months = { value = 12,", "monhts = { value = 12,", r"\[notice\]: unknown key 'monhts'"),
    ("questions/russia-iss-withdrawal.toml", 'tags = ["space", "iss"]', 'tags = "space"', "tags must be list"),
    ("questions/russia-iss-withdrawal.toml", "months = { value = 12,",
     'bind_probability = { value = 1.5, why = "x" }\nmonths = { value = 12,',
     r"\[notice\].bind_probability: value 1.5 is outside \[0.01, 1.0\]"),
    ("questions/russia-iss-withdrawal.toml", "months = { value = 12,", 'bind_probability = 0.8\nmonths = { value = 12,',
     r"\[notice\].bind_probability: write numbers as"),
    ("recipes.toml", "bind_probability = { value = 0.9,", "bind_probabilty = { value = 0.9,",
     r"\[recipe.announced-exit.notice\]: unknown key 'bind_probabilty'"),
    ("recipes.toml", "bind_probability = { value = 0.9,", "bind_probability = { value = 0.0,",
     r"\[recipe.announced-exit.notice\].bind_probability: value 0.0 is outside \[0.01, 1.0\]"),
]


@pytest.mark.parametrize(("name", "old", "new", "message"), EDITS)
def test_invalid_priors_are_refused(priors_copy: Path, name: str, old: str, new: str, message: str) -> None:
    path = priors_copy / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(PriorError, match=message):
        load_priors(priors_copy)


def test_init_with_invalid_priors_writes_nothing(run, db_path: Path, priors_copy: Path) -> None:
    path = priors_copy / "reliability.toml"
    path.write_text(path.read_text().replace("[weights]\n", "[weights]\nfrim = { value = 1.0, why = \"x\" }\n"))
    result = run("init", "--priors", str(priors_copy))
    assert result.exit_code == 2 and "unknown key 'frim'" in result.stderr
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM question").fetchone() == (0,)


def test_reliability_priors_stored_before_the_dependence_table_read_with_its_defaults() -> None:
    import tomllib

    from forecast.domain.priors import parse_reliability

    raw = tomllib.loads((data_dir("priors") / "reliability.toml").read_text())
    bundled = parse_reliability(raw, "bundled").dependence
    raw.pop("dependence")
    assert parse_reliability(raw, "old store").dependence == bundled


def test_bind_probability_comes_from_the_recipe_and_a_question_file_overrides_it(priors_copy: Path) -> None:
    import tomllib

    from forecast.domain.priors import DEFAULT_BIND_PROBABILITY

    recipe = tomllib.loads((data_dir("priors") / "recipes.toml").read_text())["recipe"]["announced-exit"]["notice"]
    assert recipe["bind_probability"]["value"] == DEFAULT_BIND_PROBABILITY  # the default for what has no table
    assert load_priors(priors_copy).questions["russia-iss-withdrawal"].notice["bind_probability"] == DEFAULT_BIND_PROBABILITY
    path = priors_copy / "questions" / "russia-iss-withdrawal.toml"
    path.write_text(path.read_text().replace("months = { value = 12,",
                                             'bind_probability = { value = 0.6, why = "x" }\nmonths = { value = 12,', 1))
    assert load_priors(priors_copy).questions["russia-iss-withdrawal"].notice["bind_probability"] == 0.6


def test_a_notice_rule_stored_before_bind_probability_reads_with_the_default() -> None:
    from dataclasses import asdict

    from forecast.domain.priors import DEFAULT_BIND_PROBABILITY, question_definition, spec_from_definition

    spec = load_priors(data_dir("priors")).questions["russia-iss-withdrawal"]
    stored = question_definition(spec)
    stored["notice"] = {k: v for k, v in stored["notice"].items() if k != "bind_probability"}
    read = spec_from_definition({**stored, "source": spec.source})
    assert read == spec and asdict(read)["notice"]["bind_probability"] == DEFAULT_BIND_PROBABILITY


@pytest.mark.parametrize("content", [
    b"[question]\nslug = \n", b"[question]\n[extra]\n", "title = 'Caf\u00e9'".encode("latin-1"), b"#" * (1024 * 1024 + 1),
    b"[question]\nslug = 'fixture-question'\n"])
def test_an_uploaded_question_file_reads_as_the_file(tmp_path: Path, monkeypatch, content: bytes) -> None:
    """The web's upload (bytes and a name) gives what `question add FILE` reads from the file, refusals included."""
    from forecast.domain.priors import parse_question_bytes, read_question_file
    from forecast.errors import ForecastError

    monkeypatch.chdir(tmp_path)
    Path("upload.toml").write_bytes(content)
    results = []
    for read in (lambda: read_question_file(Path("upload.toml")), lambda: parse_question_bytes(content, "upload.toml")):
        try:
            results.append(read())
        except ForecastError as exc:
            results.append((type(exc), str(exc)))
    assert results[0] == results[1]
