"""Options with a fixed set of values: a typo is refused like an unknown name (one line, "did you mean", the values
known, exit 2), before any store is opened. The prompts' side is in test_entry.py (a typo there is asked again)."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from forecast.cli import cli
from forecast.cli.params import SuggestingChoice

from .conftest import QUESTION, assert_refused, log_args

OBSERVATION = ["log", "observation", "--question", QUESTION, "--date", "2023-01-01", "--source", "fixture, example.org"]
KINDS = "advocate, agency, analyst, journalist, official, other"
OBSERVATION_KINDS = "annulled, event, event-not-yet, no-notice-as-of, notice-extended, notice-given, notice-revoked"

# (command, option): the command line with the typo, and the refusal it gets
TYPOS = {
    ("claim check", "--strength"): (["claim", "check", "after 2024", "--question", QUESTION, "--strength", "frim"],
                                    "Error: unknown strength 'frim' (did you mean 'firm'?); known: firm, hedged"),
    ("log statement", "--strength"): ([*log_args(), "--strength", "Hedged"],
                                      "Error: unknown strength 'Hedged' (did you mean 'hedged'?); known: firm, hedged"),
    ("evidence edit", "--strength"): (["evidence", "edit", "S1", "--strength", "hedgd", "--yes"],
                                      "Error: unknown strength 'hedgd' (did you mean 'hedged'?); known: firm, hedged"),
    ("log statement", "--date-precision"): ([*log_args(), "--date-precision", "mnth"],
                                            "Error: unknown date precision 'mnth' (did you mean 'month'?); "
                                            "known: day, month, year"),
    ("log observation", "--kind"): ([*OBSERVATION, "--kind", "evnt-not-yet"],
                                    "Error: unknown observation kind 'evnt-not-yet' (did you mean 'event-not-yet'?); "
                                    f"known: {OBSERVATION_KINDS}"),
    ("log observation", "--date-precision"): ([*OBSERVATION, "--kind", "event", "--date-precision", "yeer"],
                                              "Error: unknown date precision 'yeer' (did you mean 'year'?)"),
    ("expert list", "--kind"): (["expert", "list", "--kind", "jurnalist"],
                                f"Error: unknown expert kind 'jurnalist' (did you mean 'journalist'?); known: {KINDS}"),
    ("expert add", "--kind"): (["expert", "add", "Expert Q", "--kind", "offical"],
                               "Error: unknown expert kind 'offical' (did you mean 'official'?)"),
    ("export", "--format"): (["export", "--format", "jsn", "out.json"],
                             "Error: unknown format 'jsn' (did you mean 'json'?); known: csv, json"),
    ("import", "--format"): (["import", "--format", "cvs", "in.csv"], "Error: unknown format 'cvs' (did you mean 'csv'?)"),
    ("run", "--sampler"): (["run", "--sampler", "nutpi"], "Error: unknown sampler 'nutpi' (did you mean 'nutpie'?)"),
    ("learn", "--half"): (["learn", "--half", "tset"], "Error: unknown half 'tset' (did you mean 'test'?)"),
    ("learn", "--every"): (["learn", "--every", "quartr"], "Error: unknown period 'quartr' (did you mean 'quarter'?)"),
    ("learn", "--values"): (["learn", "--values", "kind"], "Error: unknown group 'kind' (did you mean 'kinds'?)"),
    ("backtest", "--every"): (["backtest", "--every", "yaer"], "Error: unknown period 'yaer' (did you mean 'year'?)"),
    ("question new", "--kind"): (["question", "new", "mars-landing", "--kind", "binry"],
                                 "Error: unknown question kind 'binry' (did you mean 'binary'?); known: binary, date"),
    ("expert list", "--kind", "far off"): (["expert", "list", "--kind", "xyz"],
                                           f"Error: unknown expert kind 'xyz'; known: {KINDS}"),  # nothing close
}


def choice_types(group: click.Group = cli, path: tuple[str, ...] = ()) -> dict[tuple[str, str], click.ParamType]:
    """The type of every option of the CLI whose values are a fixed set, by (command, option)."""
    found: dict[tuple[str, str], click.ParamType] = {}
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= choice_types(command, (*path, name))
        else:
            found |= {(" ".join((*path, name)), p.opts[0]): p.type for p in command.params
                      if isinstance(p.type, click.Choice)}
    return found


def test_every_choice_option_suggests_and_is_tested() -> None:
    types = choice_types()
    assert set(types) == {case[:2] for case in TYPOS}
    assert [key for key, kind in types.items() if not isinstance(kind, SuggestingChoice)] == []


@pytest.mark.parametrize(("args", "message"), TYPOS.values(), ids=[" ".join(case) for case in TYPOS])
def test_a_typo_in_a_choice_is_one_line_with_a_suggestion(run, db: str, tmp_path: Path, monkeypatch, args,
                                                           message) -> None:
    monkeypatch.chdir(tmp_path)
    assert_refused(run(*args), message)
    assert list(tmp_path.iterdir()) == []  # no store, no file: refused while the command line was read
