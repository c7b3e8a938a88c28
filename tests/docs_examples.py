"""The examples of the README and docs/, read from the Markdown and run as written.

A page's examples run in order in one empty directory (for a page of docs/, one where `forecast init` has
made the store, unless the page's first command is an `init` of its own):
- a fenced block preceded by ``<!-- file: NAME -->`` is written to NAME;
- a ``console`` block runs each ``$ `` line with bash; a trailing ``# exit N`` is the exit code it must give
  (0 otherwise);
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
EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")
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


def commands(block: Block) -> list[tuple[str, int]]:
    """The ``$`` lines of a console block (continued with a trailing backslash), each with its exit code."""
    out: list[tuple[str, int]] = []
    pending = ""
    for raw in block.text.splitlines():
        if pending:
            pending += "\n" + raw
        elif raw.startswith("$ "):
            pending = raw[2:]
        else:
            continue  # output shown in the docs
        if pending.endswith("\\"):
            continue
        code = EXIT.search(pending)
        out.append((EXIT.sub("", pending), int(code.group(1)) if code else 0))
        pending = ""
    return out


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
    first = next((c for b in found if b.language == "console" for c, _ in commands(b)), "")
    if init and not first.startswith("forecast init"):
        subprocess.run([str(bin_dir / "forecast"), "init"], cwd=work, env=env, capture_output=True, check=True)
    for block in found:
        where = f"{page.name}:{block.line}"
        if block.marker and block.marker[0] == "file":
            (work / block.marker[1]).write_text(block.text, encoding="utf-8")
        elif block.language == "console":
            for command, expected in commands(block):
                done = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True,
                                      timeout=900)
                assert done.returncode == expected, (f"{where}: `{command}` exited {done.returncode}, not "
                                                     f"{expected}:\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}")
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
