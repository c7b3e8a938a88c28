"""The examples of the README and docs/, read from the Markdown and run as written.

A page's examples run in order in one empty directory (for a page of docs/, one where `forecast init` has
made the store, unless the page's first command is an `init` of its own):
- a fenced block preceded by ``<!-- file: NAME -->`` is written to NAME;
- a ``console`` block runs each ``$ `` line with bash; a trailing ``# exit N`` is the exit code it must give
  (0 otherwise);
- the lines shown under a ``$ `` line (up to the next one) are its output, and are compared with what the command
  printed (stdout, then stderr; trailing spaces and trailing blank lines ignored, as the page cannot show them):
  - a line ``...`` on its own stands for any number of lines, and ``...`` inside a line for any text: the page
    writes ``...`` where the output varies from run to run (today's date, a ``logged_at`` timestamp, the
    author's login name, the temporary directory) or where it leaves lines out;
  - a trailing ``# output varies`` on the ``$`` line (before or after ``# exit N``) says the output shown is an
    example that is not compared: for output that comes from sampling (``run``, ``backtest``, a report);
  - a command with no output shown is not compared (its exit code still is);
- a ``python`` block runs as a script;
- a ``bash``/``sh``/``shell`` block (a shell example that cannot run here, such as the two commands that set
  up a machine) must be preceded by ``<!-- not run: REASON -->``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"^<!--\s*(file|not run):\s*(.+?)\s*-->$")
TRAILING = re.compile(r"\s+#\s*(exit\s+(\d+)|output varies)\s*$")  # `# exit N`, `# output varies`
ELIDED = "..."
SHELL = {"bash", "sh", "shell"}


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    language: str
    text: str
    marker: tuple[str, str] | None  # ("file", NAME) or ("not run", REASON)


def blocks(page: Path) -> list[Block]:
    """Every top-level fenced block of a Markdown page, with the marker comment just before it."""
    found, lines, index = [], page.read_text(encoding="utf-8").splitlines(), 0
    while index < len(lines):
        opened = FENCE.match(lines[index])
        if not opened:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        before = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = MARKER.match(before.strip())
        found.append(Block(page, index + 1, opened.group(1), "\n".join(lines[index + 1:end]) + "\n",
                           (marker.group(1), marker.group(2)) if marker else None))
        index = end + 1
    return found


@dataclass(frozen=True)
class Command:
    text: str
    exit_code: int
    shown: tuple[str, ...]  # the output lines shown under it
    compared: bool  # False with `# output varies` or with no output shown


def _command(pending: str, shown: list[str]) -> Command:
    code, varies = 0, False
    while found := TRAILING.search(pending):
        code, varies = (int(found.group(2)), varies) if found.group(2) else (code, True)
        pending = pending[:found.start()]
    while shown and not shown[-1].strip():
        shown.pop()
    return Command(pending, code, tuple(line.rstrip() for line in shown), bool(shown) and not varies)


def commands(block: Block) -> list[Command]:
    """The ``$`` lines of a console block (continued with a trailing backslash), each with its exit code and the
    output shown under it."""
    out: list[Command] = []
    pending, continued, shown = "", False, []
    for raw in block.text.splitlines():
        if continued:
            pending += "\n" + raw
        elif raw.startswith("$ "):
            if pending:
                out.append(_command(pending, shown))
            pending, shown = raw[2:], []
        elif pending:
            shown.append(raw)
        continued = pending.endswith("\\") and not shown
    if pending:
        out.append(_command(pending, shown))
    return out


def _line_pattern(shown: str) -> str:
    return ".*".join(re.escape(part) for part in shown.split(ELIDED))


def output_matches(shown: tuple[str, ...], printed: str) -> bool:
    """Whether the printed output is the one shown, ``...`` standing for what varies (see the module)."""
    lines = [line.rstrip() for line in printed.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    pattern = "".join("(?:.*\n)*?" if line == ELIDED else _line_pattern(line) + "\n" for line in shown)
    return re.fullmatch(pattern, "".join(line + "\n" for line in lines)) is not None


def environment(bin_dir: Path) -> dict[str, str]:
    """The caller's environment with ``bin_dir`` first on PATH and no store chosen."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "FORECAST_"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "120"
    return env


def run_page(page: Path, work: Path, bin_dir: Path = Path(sys.executable).parent, init: bool = False) -> int:
    """Run every example of ``page`` in ``work`` (with ``init``, after `forecast init` unless the page begins
    with an init); returns how many ran. Fails on the first that misbehaves."""
    env, ran = environment(bin_dir), 0
    found = blocks(page)
    first = next((c.text for b in found if b.language == "console" for c in commands(b)), "")
    if init and not first.startswith("forecast init"):
        subprocess.run([str(bin_dir / "forecast"), "init"], cwd=work, env=env, capture_output=True, check=True)
    for block in found:
        where = f"{page.name}:{block.line}"
        if block.marker and block.marker[0] == "file":
            (work / block.marker[1]).write_text(block.text, encoding="utf-8")
        elif block.language == "console":
            for command in commands(block):
                done = subprocess.run(["bash", "-c", command.text], cwd=work, env=env, capture_output=True, text=True,
                                      timeout=900)
                assert done.returncode == command.exit_code, (
                    f"{where}: `{command.text}` exited {done.returncode}, not {command.exit_code}:\n"
                    f"{done.stdout[-1500:]}\n{done.stderr[-1500:]}")
                printed = done.stdout + done.stderr
                assert not command.compared or output_matches(command.shown, printed), (
                    f"{where}: `{command.text}` printed other than the page shows:\n--- shown\n"
                    + "\n".join(command.shown) + f"\n--- printed\n{printed}")
                ran += 1
        elif block.language == "python":
            done = subprocess.run([str(bin_dir / "python"), "-c", block.text], cwd=work, env=env,
                                  capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, f"{where}: the Python example failed:\n{done.stderr[-3000:]}"
            ran += 1
        elif block.language in SHELL:
            assert block.marker and block.marker[0] == "not run", (
                f"{where}: a {block.language} example must run (make it a console block) or say why not "
                "(<!-- not run: REASON -->)")
    return ran
