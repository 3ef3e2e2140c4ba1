"""Go's ``text/template``, as prometheus-adapter runs its templates (delimiters ``<<`` and ``>>``).

prometheus-adapter's ``metricsQuery`` and ``resources.template`` are Go templates; configs written
for it must render to the same PromQL here, quirks included. No maintained Python library runs Go
templates (the one wrapper on PyPI needs cgo and a Go toolchain), so this module implements the
language: text and actions, ``-`` trim markers, comments, pipelines, variables (``$x := ...``,
``$x = ...``), ``if``/``else if``/``else``, ``range`` (slices, maps in key order, integers, with
``break``/``continue``), ``with``/``else with``, ``define``/``template``/``block``, parenthesised
pipelines, field chains and Go's builtins (``and or not len index slice eq ne lt le gt ge print printf
println html js urlquery``).

Values print as Go's ``fmt`` prints them: a string slice as ``[a b]``, a map as ``map[k:v]`` (keys
sorted), floats in ``%g`` shortest form, a missing map key as ``<no value>``.

A template executes on a :class:`Struct` (Go struct: a missing field is an error) whose fields hold
``str``, ``int``, ``float``, ``bool``, ``list`` (slices) and ``dict`` (maps) values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubescope.apiserver.status import go_quote
from kubescope.custom_metrics.gofuncs import BUILTINS, NO_VALUE, TemplateExecError

__all__ = ["NO_VALUE", "FieldError", "Struct", "Template", "TemplateError", "TemplateExecError", "parse"]


class TemplateError(ValueError):
    """A template does not parse; the message is Go's kind of message (``template: name:1: ...``)."""


class FieldError(TemplateExecError):
    """A field that the data does not have (a typo such as ``<<.Serie>>``): always a config error."""


class Struct:
    """A Go struct value: named fields, a type name for error messages."""

    __slots__ = ("fields", "type_name")

    def __init__(self, type_name: str, **fields: Any) -> None:
        self.type_name = type_name
        self.fields = fields


# -- lexer ------------------------------------------------------------------------------------------

_SPACE = " \t\r\n"
_ACTION_TOKEN = re.compile(
    r"""(?P<space>[ \t\r\n]+)
      | (?P<declare>:=)
      | (?P<field>\.[A-Za-z_][A-Za-z0-9_]*)
      | (?P<var>\$[A-Za-z0-9_]*)
      | (?P<str>"(?:[^"\\\n]|\\.)*")
      | (?P<raw>`[^`]*`)
      | (?P<char>'(?:[^'\\\n]|\\.[^']*)')
      | (?P<num>[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][+-]?\d+)?))
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<dot>\.)
      | (?P<punct>[|(),=])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: str
    line: int
    spaced: bool
    """Whether white space precedes the token (``.a .b`` is two arguments, ``.a.b`` one chain)."""


def _lex(src: str, name: str, left: str, right: str) -> Iterator[tuple[str, Any, int]]:
    """Yield ``("text", str, line)`` and ``("action", [Token...], line)`` items, trim markers applied."""
    pos = 0
    line = 1
    trim_next = False
    n = len(src)
    while pos <= n:
        start = src.find(left, pos)
        text = src[pos:] if start < 0 else src[pos:start]
        if trim_next:
            text = text.lstrip(_SPACE)
        trim_prev = False
        if start >= 0:
            after = start + len(left)
            if src.startswith("-", after) and after + 1 < n and src[after + 1] in _SPACE:
                trim_prev = True
        if trim_prev:
            text = text.rstrip(_SPACE)
        if text:
            yield ("text", text, line)
        if start < 0:
            return
        line += src.count("\n", pos, start)
        pos = start + len(left) + (2 if trim_prev else 0)
        action_line = line
        # a comment is the whole action: /* ... */, trim markers around it allowed
        body_start = pos
        while body_start < n and src[body_start] in _SPACE and trim_prev:
            body_start += 1
        if src.startswith("/*", body_start):
            end = src.find("*/", body_start + 2)
            if end < 0:
                raise TemplateError(f"template: {name}:{action_line}: unclosed comment")
            close = end + 2
            trim_next = False
            if src.startswith(" -" + right, close):
                trim_next, close = True, close + 2
            elif not src.startswith(right, close):
                raise TemplateError(f"template: {name}:{action_line}: comment ends before closing delimiter")
            line += src.count("\n", pos, close)
            pos = close + len(right)
            continue
        tokens: list[Token] = []
        spaced = True
        while True:
            if pos >= n:
                raise TemplateError(f"template: {name}:{action_line}: unclosed action")
            if src.startswith(right, pos):
                pos += len(right)
                trim_next = False
                break
            if src[pos] in _SPACE and src.startswith("-" + right, pos + 1):
                line += src.count("\n", pos, pos + 1)
                pos += 2 + len(right)
                trim_next = True
                break
            m = _ACTION_TOKEN.match(src, pos)
            if m is None:
                raise TemplateError(f"template: {name}:{line}: unexpected {go_quote(src[pos])} in command")
            kind = m.lastgroup or ""
            value = m.group()
            if kind == "space":
                line += value.count("\n")
                spaced = True
                if src.startswith("-" + right, m.end()):  # " ->>" after a run of spaces
                    pos = m.end() + 1 + len(right)
                    trim_next = True
                    break
            else:
                if kind == "str" and "\n" in value:
                    raise TemplateError(f"template: {name}:{line}: unterminated quoted string")
                tokens.append(Token(kind, value, line, spaced))
                spaced = False
                line += value.count("\n")
            pos = m.end()
        yield ("action", tokens, action_line)
    return


# -- syntax tree ------------------------------------------------------------------------------------


@dataclass
class Node:
    line: int


@dataclass
class TextNode(Node):
    text: str


@dataclass
class Pipe(Node):
    decl: list[str]
    assign: bool
    cmds: list[list[Any]]
    """Each command is a list of argument nodes (see :meth:`_Parser.operand`)."""


@dataclass
class ActionNode(Node):
    pipe: Pipe


@dataclass
class Branch(Node):
    kind: str  # if | range | with
    pipe: Pipe
    body: list[Node]
    other: list[Node] | None


@dataclass
class TemplateCall(Node):
    name: str
    pipe: Pipe | None


@dataclass
class LoopControl(Node):
    kind: str  # break | continue


@dataclass(frozen=True)
class Lit:
    value: Any
    text: str


@dataclass(frozen=True)
class FieldRef:
    """``.A.B`` on dot, ``$x.A`` on a variable, ``(pipe).A`` on a pipeline's value."""

    base: Any  # None for dot, a variable name "$x", or a Pipe
    chain: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Func:
    name: str


class _Dot:
    text = "."


DOT = _Dot()


@dataclass
class Template:
    """A parsed template and the templates it defines; :meth:`execute` renders it."""

    name: str
    root: list[Node]
    defined: dict[str, list[Node]] = field(default_factory=dict)
    funcs: Mapping[str, Callable[..., Any]] = field(default_factory=lambda: BUILTINS)

    def execute(self, data: Any) -> str:
        from kubescope.custom_metrics.goexec import Executor

        return Executor(self, data).run()


def parse(src: str, name: str = "template", left: str = "<<", right: str = ">>") -> Template:
    """Parse a template; raise :class:`TemplateError` naming the line on a syntax error."""
    return _Parser(src, name, left, right).parse()


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b",
            "f": "\f", "v": "\v", "0": "\0"}  # fmt: skip


def _unquote(s: str, name: str, line: int) -> str:
    """Go ``strconv.Unquote`` for double-quoted strings and character literals."""
    body = s[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        i += 1
        c = body[i] if i < len(body) else ""
        if c in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[c]
            digits = body[i + 1 : i + 1 + width]
            if len(digits) != width or not all(d in "0123456789abcdefABCDEF" for d in digits):
                raise TemplateError(f"template: {name}:{line}: invalid syntax in {s}")
            out.append(chr(int(digits, 16)))
            i += 1 + width
        elif c in "01234567" and body[i : i + 3].isdigit():
            out.append(chr(int(body[i : i + 3], 8)))
            i += 3
        elif c in _ESCAPES:
            out.append(_ESCAPES[c])
            i += 1
        else:
            raise TemplateError(f"template: {name}:{line}: invalid syntax in {s}")
    return "".join(out)


class _Parser:
    def __init__(self, src: str, name: str, left: str, right: str) -> None:
        self.name = name
        self.items = list(_lex(src, name, left, right))
        self.i = 0
        self.defined: dict[str, list[Node]] = {}
        self.vars: list[list[str]] = [["$"]]
        self._open: list[str] = []
        self._pending: list[Token] = []

    def fail(self, line: int, msg: str) -> TemplateError:
        return TemplateError(f"template: {self.name}:{line}: {msg}")

    def parse(self) -> Template:
        body, stop, line = self.list_until(())
        if stop is not None:
            raise self.fail(line, f"unexpected {{{{{stop}}}}}")
        return Template(self.name, body, self.defined)

    def list_until(self, stops: tuple[str, ...]) -> tuple[list[Node], str | None, int]:
        """Nodes up to one of ``stops`` (``end``, ``else``); returns the stop and its action tokens."""
        out: list[Node] = []
        while self.i < len(self.items):
            kind, value, line = self.items[self.i]
            self.i += 1
            if kind == "text":
                out.append(TextNode(line, value))
                continue
            toks: list[Token] = value
            if not toks:
                raise self.fail(line, "missing value for command")
            head = toks[0]
            word = head.value if head.kind == "ident" else ""
            if word in ("end", "else"):
                if word not in stops:
                    raise self.fail(line, f"unexpected {{{{{word}}}}}")
                self._pending = toks[1:]
                return out, word, line
            if word in ("if", "range", "with"):
                out.append(self.branch(word, toks[1:], line))
            elif word in ("define", "block"):
                node = self.define(word, toks[1:], line)
                if node is not None:
                    out.append(node)
            elif word == "template":
                out.append(self.template_call(toks[1:], line))
            elif word in ("break", "continue"):
                if len(toks) > 1:
                    raise self.fail(line, f"unexpected {go_quote(toks[1].value)} in {word}")
                if "range" not in self._open:
                    raise self.fail(line, f"{{{{{word}}}}} outside {{{{range}}}}")
                out.append(LoopControl(line, word))
            else:
                out.append(ActionNode(line, self.pipe(toks, line, decl_ok=True)))
        if stops:
            raise self.fail(self.items[-1][2] if self.items else 1, "unexpected EOF")
        return out, None, 0

    def branch(self, kind: str, toks: list[Token], line: int) -> Branch:
        self.vars.append([])
        self._open = [*self._open, kind]
        try:
            pipe = self.pipe(toks, line, decl_ok=True, range_decl=kind == "range")
            body, stop, sline = self.list_until(("end", "else"))
            other: list[Node] | None = None
            if stop == "else":
                rest = self._pending
                if rest and rest[0].kind == "ident" and rest[0].value in ("if", "with") and kind != "range":
                    # "else if" / "else with": a nested branch that shares our {{end}}
                    nested_kind = rest[0].value
                    if nested_kind != kind:
                        raise self.fail(sline, f"unexpected {go_quote(nested_kind)} after else in {kind}")
                    other = [self.branch(kind, rest[1:], sline)]
                    return Branch(line, kind, pipe, body, other)
                if rest:
                    raise self.fail(sline, f"unexpected {go_quote(rest[0].value)} in else")
                other, _, eline = self.list_until(("end",))
                if self._pending:
                    raise self.fail(eline, f"unexpected {go_quote(self._pending[0].value)} in end")
            elif self._pending:
                raise self.fail(sline, f"unexpected {go_quote(self._pending[0].value)} in end")
            return Branch(line, kind, pipe, body, other)
        finally:
            self.vars.pop()
            self._open = self._open[:-1]

    def _name_and_pipe(self, word: str, toks: list[Token], line: int) -> tuple[str, Pipe | None]:
        if not toks or toks[0].kind not in ("str", "raw"):
            raise self.fail(line, f"unexpected {go_quote(toks[0].value if toks else 'end')} in {word} clause")
        name = _unquote(toks[0].value, self.name, line) if toks[0].kind == "str" else toks[0].value[1:-1]
        pipe = self.pipe(toks[1:], line, decl_ok=False) if len(toks) > 1 else None
        return name, pipe

    def define(self, word: str, toks: list[Token], line: int) -> Node | None:
        name, pipe = self._name_and_pipe(word, toks, line)
        if word == "define" and pipe is not None:
            raise self.fail(line, "unexpected pipeline in define clause")
        saved_vars, saved_open = self.vars, self._open
        self.vars, self._open = [["$"]], []
        try:
            body, _, eline = self.list_until(("end",))
        finally:
            self.vars, self._open = saved_vars, saved_open
        if self._pending:
            raise self.fail(eline, f"unexpected {go_quote(self._pending[0].value)} in end")
        self.defined[name] = body
        return TemplateCall(line, name, pipe) if word == "block" else None

    def template_call(self, toks: list[Token], line: int) -> TemplateCall:
        name, pipe = self._name_and_pipe("template", toks, line)
        return TemplateCall(line, name, pipe)

    # -- pipelines ------------------------------------------------------------------------------

    def pipe(self, toks: list[Token], line: int, *, decl_ok: bool, range_decl: bool = False) -> Pipe:
        decl: list[str] = []
        assign = False
        i = 0
        # $x := / $x = / $i, $e :=
        if decl_ok and toks and toks[0].kind == "var":
            j = 0
            names = []
            while j < len(toks) and toks[j].kind == "var":
                names.append(toks[j].value)
                j += 1
                if j < len(toks) and toks[j].value == "," and range_decl and len(names) == 1:
                    j += 1
                    continue
                break
            if j < len(toks) and toks[j].kind == "declare":
                decl, i = names, j + 1
                self.vars[-1].extend(names)
            elif j < len(toks) and toks[j].value == "=" and len(names) == 1:
                self._check_var(names[0], line)
                decl, assign, i = names, True, j + 1
        cmds: list[list[Any]] = []
        cmd: list[Any] = []
        rest = toks[i:]
        k = 0
        while k < len(rest):
            t = rest[k]
            if t.value == "|" and t.kind == "punct":
                if not cmd:
                    raise self.fail(line, "missing command before |")
                cmds.append(cmd)
                cmd = []
                k += 1
                continue
            node, k = self.operand(rest, k, line)
            cmd.append(node)
        if cmd:
            cmds.append(cmd)
        elif cmds:
            raise self.fail(line, "missing command after |")
        if not cmds:
            raise self.fail(line, "missing value for command")
        return Pipe(line, decl, assign, cmds)

    def _check_var(self, name: str, line: int) -> None:
        if not any(name in scope for scope in self.vars):
            raise self.fail(line, f"undefined variable {go_quote(name)}")

    def operand(self, toks: list[Token], k: int, line: int) -> tuple[Any, int]:
        t = toks[k]
        node: Any
        if t.kind == "punct" and t.value == "(":
            depth, j = 1, k + 1
            while j < len(toks) and depth:
                if toks[j].kind == "punct":
                    depth += {"(": 1, ")": -1}.get(toks[j].value, 0)
                j += 1
            if depth:
                raise self.fail(line, "unclosed left paren")
            node = self.pipe(toks[k + 1 : j - 1], line, decl_ok=False)
            k = j
        elif t.kind == "field":
            node, k = FieldRef(None, (t.value[1:],), t.value), k + 1
        elif t.kind == "var":
            self._check_var(t.value, line)
            node, k = FieldRef(t.value, (), t.value), k + 1
        elif t.kind == "dot":
            node, k = DOT, k + 1
        elif t.kind == "str":
            node, k = Lit(_unquote(t.value, self.name, line), t.value), k + 1
        elif t.kind == "raw":
            node, k = Lit(t.value[1:-1], t.value), k + 1
        elif t.kind == "char":
            ch = _unquote('"' + t.value[1:-1].replace('"', '\\"') + '"', self.name, line)
            if len(ch) != 1:
                raise self.fail(line, f"malformed character constant: {t.value}")
            node, k = Lit(ord(ch), t.value), k + 1
        elif t.kind == "num":
            node, k = Lit(_number(t.value, self.name, line), t.value), k + 1
        elif t.kind == "ident":
            if t.value in ("true", "false"):
                node = Lit(t.value == "true", t.value)
            elif t.value == "nil":
                node = Lit(None, "nil")
            elif t.value in BUILTINS:
                node = Func(t.value)
            else:
                raise self.fail(line, f"function {go_quote(t.value)} not defined")
            k += 1
        else:
            raise self.fail(line, f"unexpected {go_quote(t.value)} in operand")
        # field chains: (pipe).A.B, $x.A, .A.B - only without white space in between
        chain: list[str] = []
        while k < len(toks) and toks[k].kind == "field" and not toks[k].spaced:
            chain.append(toks[k].value[1:])
            k += 1
        if chain:
            if isinstance(node, FieldRef):
                node = FieldRef(node.base, node.chain + tuple(chain), node.text + "." + ".".join(chain))
            elif isinstance(node, Pipe) or node is DOT:
                node = FieldRef(node if isinstance(node, Pipe) else None, tuple(chain), "." + ".".join(chain))
            else:
                raise self.fail(line, f"unexpected . after term {go_quote(toks[k - len(chain) - 1].value)}")
        return node, k


def _number(text: str, name: str, line: int) -> int | float:
    s = text.replace("_", "")
    try:
        low = s.lower().lstrip("+-")
        if low.startswith(("0x", "0b", "0o")):
            return int(s, 0)
        if any(c in low for c in ".e"):
            return float(s)
        if len(low) > 1 and low.startswith("0"):
            return int(s, 8)
        return int(s)
    except ValueError:
        raise TemplateError(f"template: {name}:{line}: bad number syntax: {go_quote(text)}") from None
