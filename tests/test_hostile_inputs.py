"""Hostile command-line input: Unicode digits, huge numbers, store URLs, unknown names, conflicting options, and
outputs that are devices, FIFOs, links or missing folders. Each is one line, exit 2, and nothing written."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from .conftest import INIT, QUESTION, assert_refused, invoke, log_args, snapshot

ARABIC_DATE, FULLWIDTH_FOUR = "٢٠٢٣-٠٤-٠١", "４"
UNICODE_DIGITS = {
    "statement --date": (log_args(date=ARABIC_DATE), "Error: Invalid value for '--date': date '٢٠٢٣-٠٤-٠١' contains "
                         "the digit '٢' (U+0662 ARABIC-INDIC DIGIT TWO) at character 1: type digits as 0-9"),
    "claim year": (log_args(claim="after ٢٠٢٨"), "Error: claim 'after ٢٠٢٨' contains the digit '٢' (U+0662"),
    "claim fullwidth year": (log_args(claim="by ２０２８"), "Error: claim 'by ２０２８' contains the digit '２' (U+FF12 "
                             "FULLWIDTH DIGIT TWO)"),
    "retract S١": (["retract", "S١", "--reason", "typo"], "Error: evidence reference 'S١' contains the digit '١'"),
    "supersedes S１": (log_args(supersedes="S１"), "Error: evidence reference 'S１' contains the digit '１'"),
    "run --chains": (["run", "--chains", FULLWIDTH_FOUR], "Error: Invalid value for '--chains': number '４' contains"),
    "probability": (log_args(probability="٠.٨"), "Error: probability '٠.٨' contains the digit '٠'"),
    "evidence --since": (["evidence", "list", "--since", "２０２３-01"], "Error: Invalid value for '--since': date"),
    "show --run": (["show", "--run", "١"], "Error: Invalid value for '--run': number '١' contains"),
}
HUGE = {
    "run --draws": (["run", "--draws", "9" * 23], "Error: draws 99999999999999999999999 is more than 100,000"),
    "run --tune": (["run", "--tune", "9" * 23], "Error: tune 99999999999999999999999 is more than 100,000"),
    "run --chains": (["run", "--chains", "9" * 23], "Error: chains 99999999999999999999999 is more than 16"),
    "all draws together": (["run", "--draws", "100000", "--chains", "2"], "Error: 100,000 draws x 2 chains is more than"),
    "run --draws 10**10": (["run", "--draws", "10000000000", "--chains", "1"], "Error: draws 10000000000 is more than"),
    "backtest --draws": (["backtest", QUESTION, "--from", "2023-01", "--draws", "9" * 40],
                         "Error: Invalid value for '--draws': number 999999999999999999999999999999... is too long"),
    "seed 2**64": (["run", "--seed", str(2**64)], "Error: seed 18446744073709551616 is more than 4,294,967,295"),
    "probability 1.5": (log_args(probability="1.5"), "Error: stated probability 1.5 is ambiguous: write it as a "
                        "fraction (0 to 1) or with % (0.015 or 1.5%)"),
    "draws 2.5": (["run", "--draws", "2.5"], "Error: Invalid value for '--draws': number '2.5' is not a whole number"),
    "run id past any row": (["show", "--run", str(2**70)], "Error: no forecast run 1180591620717411303424"),
}


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """The article's seed (read-only for the tests that use it: every case here is refused)."""
    path = tmp_path_factory.mktemp("hostile") / "forecast.db"
    assert invoke(path, *INIT).exit_code == 0
    return path


@pytest.mark.parametrize("case", [*UNICODE_DIGITS, *HUGE])
def test_unicode_digits_and_huge_numbers_are_refused(store: Path, case: str) -> None:
    args, message = {**UNICODE_DIGITS, **HUGE}[case]
    before = snapshot(store)
    assert_refused(invoke(store, *args), message)
    assert snapshot(store) == before


SECRET = "S3CRET"


@pytest.mark.parametrize("url, message", [
    ("garbage://", "Error: unknown kind of store 'garbage://': give a file path, sqlite:///PATH or postgresql://"),
    ("mysql://u@h/x", "Error: unknown kind of store 'mysql://u@h/x'"),
    (f"postgresql://u:{SECRET}@[::1/x", "Error: malformed store URL 'postgresql://u:***@[::1/x'"),
    (f"postgresql://u@127.0.0.1:1/x?password={SECRET}", "Error: cannot open store postgresql+psycopg://u@127.0.0.1:1/x?"
                                                        "password=***: "),
    (f"postgresql://u:{SECRET}@127.0.0.1:1/x", "Error: cannot open store postgresql+psycopg://u:***@127.0.0.1:1/x: "),
    ("sqlite:///{path}?cache=shared", "Error: store URL 'sqlite:///{path}?cache=shared': SQLite stores take only "
                                      "?mode=ro (read-only), not cache"),
    ("sqlite:///{path}?mode=rw", "Error: store URL 'sqlite:///{path}?mode=rw': SQLite stores take only ?mode=ro"),
    ("{missing}", "Error: no store at {missing}: `forecast init` creates one (or check --db and $FORECAST_DB)"),
], ids=["garbage", "other-database", "malformed", "password-parameter", "password", "sqlite-option", "sqlite-rw",
        "missing-path"])
def test_store_urls_are_refused_without_secrets(store: Path, tmp_path: Path, url: str, message: str) -> None:
    fields = {"path": store, "missing": tmp_path / "typo.db"}
    result = invoke(url.format(**fields), "evidence", "list")
    assert_refused(result, message.format(**fields))
    assert SECRET not in result.stderr and not (tmp_path / "typo.db").exists()


def test_read_only_url_reads_and_never_writes(store: Path) -> None:
    before = snapshot(store)
    url = f"sqlite:///{store}?mode=ro"
    assert invoke(url, "evidence", "list").exit_code == 0
    assert_refused(invoke(url, *log_args(), "--no-update"),
                   "Error: the store is read-only (opened with ?mode=ro): nothing was written")
    assert snapshot(store) == before


@pytest.mark.parametrize("args, message", [
    (["runs", "--question", "nosuch"], "Error: unknown question 'nosuch'; known: iss-retirement, russia-iss-withdrawal"),
    (["score", "russia-iss"], "Error: unknown question 'russia-iss' (did you mean 'russia-iss-withdrawal'?)"),
    (["calibration", "nosuch", "--json"], "Error: unknown question 'nosuch'"),
    (["report", "--tag", "nosuch"], "Error: unknown tag 'nosuch'; known: iss, space"),
    (["score", "--tag", "spac"], "Error: unknown tag 'spac' (did you mean 'space'?)"),
    (["question", "list", "--tag", "spce"], "Error: unknown tag 'spce' (did you mean 'space'?)"),
    (["show", "russia-iss-withdrwal"], "Error: unknown question 'russia-iss-withdrwal' (did you mean"),
    (["evidence", "list", "--expert", "Borisof"], "Error: unknown expert 'Borisof' (did you mean 'Borisov', another name "
                                                 "of 'Yury Borisov'?)"),
    (["report", "--tag", "space"], "Error: no stored run for any question tagged 'space': run or backtest one first"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_unknown_names_in_read_commands_are_exit_2(store: Path, args: list[str], message: str) -> None:
    assert_refused(invoke(store, *args), message)


@pytest.mark.parametrize("args, message", [
    (["report", "--run", "1", "--as-of", "2025-01-01"], "Error: give --run or --as-of, not both"),
    (["report", QUESTION, "--tag", "space"], "Error: give a question or --tag, not both"),
    (["report", "--out", ""], "Error: Invalid value for '--out': an empty path names no file or folder"),
    (["show", "--json", "--csv"], "Error: give --json or --csv, not both"),
    (["evidence", "list", "--since", "2025-01", "--until", "2024-01"], "Error: --since 2025-01-01 is after --until"),
    (["log", "observation", "--question", QUESTION, "--kind", "event-not-yet", "--date", "2025-01-01",
      "--effective", "2026-01-01", "--source", "x"], "Error: --effective is only for notice-given and notice-extended"),
    (["export", "out.json", "--format", "csv"], "Error: --format csv does not match the file name 'out.json'"),
    ([*log_args(date="2023-04"), "--date-precision", "day"], "Error: --date 2023-04 names a month; --date-precision"),
    (["init", "--empty", "--observations", "."], "Error: give --empty or --observations, not both"),
    (["init", "--casebook-dir", "."], "Error: no casebook files (*.toml) in '.'"),
    (["status", "--db", "other.db"], "Error: No such option '--db': it goes before the command (forecast --db PATH "
                                     "COMMAND ...)"),
    (log_args(url="not a url"), "Error: url 'not a url' is not a web address; give the address a reader can open"),
    (log_args(url="www.example.org/fixture"), "Error: url 'www.example.org/fixture' is not a web address: write "
                                              "'https://www.example.org/fixture'"),
    (log_args(url="javascript:alert(1)"), "Error: url 'javascript:alert(1)' is not a web address"),
    (["log", "observation", "--question", QUESTION, "--kind", "event-not-yet", "--date", "2025-01-01",
      "--source", "x", "--url", "http://[::1"], "Error: url 'http://[::1' is not a web address"),
], ids=lambda v: " ".join(v)[:40] if isinstance(v, list) else None)
def test_conflicting_options_are_refused(store: Path, args: list[str], message: str, tmp_path: Path,
                                         monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = snapshot(store)
    assert_refused(invoke(store, *args), message)
    assert snapshot(store) == before and list(tmp_path.iterdir()) == []


def _node(tmp_path: Path, kind: str) -> Path:
    """A FIFO, or a character device (the same device as /dev/null), in the test's own folder (never in /dev)."""
    path = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        try:
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("creating a device node needs root")
    return path


@pytest.mark.parametrize("kind, description", [("fifo", "a FIFO (named pipe)"), ("device", "a character device")])
@pytest.mark.parametrize("command", ["export", "calibration"])
def test_outputs_onto_devices_and_fifos_are_refused_and_the_node_kept(store: Path, tmp_path: Path, kind: str,
                                                                      description: str, command: str) -> None:
    node = _node(tmp_path, kind)
    node = node.rename(node.with_suffix(".csv" if command == "export" else ".svg"))
    mode = os.lstat(node).st_mode
    args = ["export", str(node)] if command == "export" else ["calibration", "--out", str(node)]
    assert_refused(invoke(store, *args), f"Error: {str(node)!r} is {description}, not a file: nothing was written")
    assert os.lstat(node).st_mode == mode


@pytest.mark.parametrize("command", ["export", "calibration"])
def test_outputs_never_write_through_a_link(store: Path, tmp_path: Path, command: str) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    link = tmp_path / ("out.csv" if command == "export" else "out.svg")
    link.symlink_to(target)
    args = ["export", str(link)] if command == "export" else ["calibration", "--out", str(link)]
    assert_refused(invoke(store, *args), f"Error: {str(link)!r} is a symbolic link")
    assert target.read_text() == "keep me" and link.is_symlink()


def test_outputs_into_missing_folders_are_refused_and_create_nothing(store: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "dir"
    assert_refused(invoke(store, "export", str(missing / "x.json")), f"Error: cannot write '{missing / 'x.json'}': "
                   f"'{missing}' does not exist")
    assert_refused(invoke(store, "calibration", "--out", str(missing / "c.png")), "Error: cannot write")
    assert_refused(invoke(store, "report", "--out", str(missing)), "Error: cannot write reports to")
    assert list(tmp_path.iterdir()) == []


def test_calibration_keeps_the_old_file_when_writing_fails(store: Path, tmp_path: Path, monkeypatch) -> None:
    from forecast.basics import files

    out = tmp_path / "c.png"
    assert invoke(store, "calibration", "--out", str(out)).exit_code == 0
    before = out.read_bytes()

    def half(fd, mode):
        handle = open(fd, mode)  # noqa: SIM115
        handle.write = lambda data: (_ for _ in ()).throw(OSError(28, "No space left on device"))
        return handle

    monkeypatch.setattr(files.os, "fdopen", half)
    assert_refused(invoke(store, "calibration", "--out", str(out)), f"Error: cannot write {str(out)!r}: No space left")
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["c.png"]


@pytest.mark.parametrize("command", [["import"], ["question", "add"]])
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_reads_of_fifos_and_devices_are_refused_before_reading(store: Path, tmp_path: Path, command, kind) -> None:
    node = _node(tmp_path, kind)
    named = node.rename(node.with_suffix(".json" if command == ["import"] else ".toml"))
    result = invoke(store, *command, str(named))
    assert result.exit_code == 2 and f"{str(named)!r} is a {'FIFO' if kind == 'fifo' else 'character device'}" in \
        result.stderr.replace("a FIFO (named pipe)", "a FIFO")


def test_reads_over_the_size_limit_are_refused(store: Path, tmp_path: Path, monkeypatch) -> None:
    from forecast.basics import files

    monkeypatch.setattr(files, "MAX_INPUT_BYTES", 1000)
    big = tmp_path / "big.json"
    big.write_text("[" + " " * 2000 + "]")
    assert_refused(invoke(store, "import", str(big)), f"Error: import file {str(big)!r} is 2,002 bytes; the limit is 1,000")
