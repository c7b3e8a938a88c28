"""The README and docs/: every example runs as written, the site builds in strict mode, the README stays short."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import PROJECT
from .docs_examples import blocks, run_page

PAGES = [PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md"))]
ELSEWHERE = {"api.md": "tests/test_api.py runs its Python session and checks what it returns"}


@pytest.mark.slow  # every page's examples, on stores of their own: run by `bash scripts/test --all` and CI
@pytest.mark.parametrize("page", [p for p in PAGES[1:] if p.name not in ELSEWHERE], ids=lambda p: p.name)
def test_every_example_runs_as_written(page: Path, tmp_path: Path) -> None:
    run_page(page, tmp_path, init=True)  # asserts each command's exit code, and that every shell block runs or says why not


@pytest.mark.slow  # the README walk-through end to end: run by `bash scripts/test --all` and CI
def test_the_readme_walk_through_runs_and_reports(tmp_path: Path) -> None:
    assert run_page(PAGES[0], tmp_path) >= 12
    assert list((tmp_path / "reports").glob("ruritania-treaty-exit-*.html"))


def test_pages_checked_elsewhere_have_examples() -> None:
    for name in ELSEWHERE:
        assert [b for b in blocks(PROJECT / "docs" / name) if b.language == "python"], name


def test_a_shell_block_that_neither_runs_nor_says_why_fails(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("Text.\n\n```bash\nforecast init\n```\n")
    with pytest.raises(AssertionError, match="must run .* or say why not"):
        run_page(page, tmp_path)
    page.write_text("```console\n$ forecast --db x.db show  # exit 2\n$ forecast --db x.db show\n```\n")
    with pytest.raises(AssertionError, match="exited 2, not 0"):
        run_page(page, tmp_path)


@pytest.mark.parametrize(("shown", "agrees"), [
    ("$ printf 'a\\nb 1\\nc\\n'\na\nb 1\nc\n", True),
    ("$ printf 'a\\nb 1\\nc\\n'\na\nb 2\nc\n", False),  # a line differs
    ("$ printf 'a\\nb 1\\nc\\n'\na\nb 1\n", False),  # a line is missing
    ("$ printf 'a\\nb 1\\nc\\n'\na\nb ...\nc\n", True),  # `...` in a line: any text
    ("$ printf 'a\\nb 1\\nc\\n'\na\n...\n", True),  # `...` alone: any lines
    ("$ printf 'a\\nb 1\\nc\\n'\n...\nb 1\n...\n", True),
    ("$ printf 'a\\nb 1\\nc\\n'  # output varies\nsomething else\n", True),  # shown, not compared
    ("$ printf 'one\\n' >&2; exit 2  # exit 2  # output varies\nother\n", True),
    ("$ printf 'one\\n' >&2; exit 2  # exit 2\none\n", True),  # stderr is output too
    ("$ printf 'one\\n' >&2; exit 2  # exit 2\ntwo\n", False),
    ("$ printf 'x'\n", True),  # no output shown: not compared
])
def test_the_output_shown_is_the_output_printed(tmp_path: Path, shown: str, agrees: bool) -> None:
    page = tmp_path / "page.md"
    page.write_text(f"```console\n{shown}```\n")
    if agrees:
        assert run_page(page, tmp_path) == 1
    else:
        with pytest.raises(AssertionError, match="printed other than the page shows"):
            run_page(page, tmp_path)


def test_the_readme_is_short() -> None:
    assert len((PROJECT / "README.md").read_text(encoding="utf-8").splitlines()) <= 200


def test_the_docs_build_in_strict_mode(tmp_path: Path) -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "mkdocs"), "build", "--strict", "--site-dir",
                           str(tmp_path / "site")], cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "site" / "index.html").exists() and (tmp_path / "site" / "model" / "index.html").exists()
