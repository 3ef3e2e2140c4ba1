"""The command lines of README.md, docs/*.md and deploy/**/*.md, as a reader would type them.

A fenced block is read as commands when its language is ``sh``, ``bash``, ``shell`` or ``console``,
or when it has no language and some line starts with ``$ ``:

* ``sh``/``bash``/``shell``: every line that is not blank or a comment is a command;
* ``console`` and bare blocks: lines starting with ``$ `` are commands, the lines after one (up to
  the next) are its documented output.

A trailing ``\\`` continues a command on the next line. A block whose info string names a file
(```` ```yaml file=crs.yaml ````; renderers show only the language) is that file's content: the
doc-test writes it into the working directory, where the commands after it read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHELL_LANGS = {"sh", "bash", "shell"}
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([^\s`]*)\s*(.*)$")


@dataclass
class Command:
    doc: str  # path relative to the repository
    line: int  # 1-based line of the command's first line
    text: str  # the command, continuation lines joined
    block: int  # index of its code block in the doc
    output: list[str] = field(default_factory=list)  # documented output (console blocks)

    def where(self) -> str:
        return f"{self.doc}:{self.line}"


@dataclass
class FileBlock:
    doc: str
    line: int
    name: str
    content: str
    block: int


def docs() -> list[Path]:
    """The documents whose commands are run: README.md, docs/*.md, the READMEs under deploy/."""
    return [
        REPO / "README.md",
        *sorted((REPO / "docs").glob("*.md")),
        *sorted((REPO / "deploy").rglob("*.md")),
    ]


def parse(path: Path) -> list[Command | FileBlock]:
    rel = str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)
    lines = path.read_text().splitlines()
    out: list[Command | FileBlock] = []
    i = 0
    block = -1
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang, info = m[2], m[3].lower(), m[4]
        start = i + 1
        j = start
        while j < len(lines) and not lines[j].strip().startswith(fence[:3]):
            j += 1
        body = lines[start:j]
        block += 1
        name = re.search(r"\bfile=(\S+)", info)
        if name:
            out.append(FileBlock(rel, start, name[1], "\n".join(body) + "\n", block))
        elif lang in SHELL_LANGS:
            out.extend(_shell_block(rel, body, start + 1, block))
        elif lang == "console" or (lang == "" and any(x.startswith("$ ") for x in body)):
            out.extend(_console_block(rel, body, start + 1, block))
        i = j + 1
    return out


def _join(body: list[str], k: int) -> tuple[str, int]:
    """The command starting at body[k] with its ``\\`` continuations; the index after it."""
    text = body[k]
    while text.endswith("\\") and k + 1 < len(body):
        k += 1
        text = text[:-1].rstrip() + " " + body[k].strip()
    return text, k + 1


def _shell_block(doc: str, body: list[str], first_line: int, block: int) -> list[Command]:
    out = []
    k = 0
    while k < len(body):
        line = body[k].strip()
        if not line or line.startswith("#"):
            k += 1
            continue
        text, nxt = _join([b.strip() for b in body], k)
        out.append(Command(doc, first_line + k, text, block))
        k = nxt
    return out


def _console_block(doc: str, body: list[str], first_line: int, block: int) -> list[Command]:
    out: list[Command] = []
    k = 0
    while k < len(body):
        if body[k].startswith("$ "):
            text, nxt = _join([b.rstrip() for b in body], k)
            out.append(Command(doc, first_line + k, text[2:].strip(), block))
            k = nxt
        else:
            if out and body[k].strip():
                out[-1].output.append(body[k])
            k += 1
    return out
