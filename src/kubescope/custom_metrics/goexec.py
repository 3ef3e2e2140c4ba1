"""Execution of a parsed Go template (:mod:`kubescope.custom_metrics.gotemplate`), with Go's semantics.

Dot starts as the data and changes in ``with`` and ``range``; ``$`` is always the data. A field of a
struct that does not exist is an error (:class:`~kubescope.custom_metrics.gotemplate.FieldError`); a missing
map key is ``<no value>`` (Go's default ``missingkey`` option). Work is bounded: 1 MiB of output,
a million loop iterations and 100 nested template calls per execution, so a hostile or mistaken
template cannot hang or exhaust the server.
"""

from __future__ import annotations

from typing import Any

from kubescope.custom_metrics.gofuncs import BUILTINS, TemplateExecError
from kubescope.custom_metrics.goprint import NO_VALUE, format_v, go_type, truth
from kubescope.custom_metrics.gotemplate import (
    DOT,
    ActionNode,
    Branch,
    FieldError,
    FieldRef,
    Func,
    Lit,
    LoopControl,
    Node,
    Pipe,
    Struct,
    Template,
    TemplateCall,
    TextNode,
)

MAX_OUTPUT = 1 << 20
MAX_ITERATIONS = 1_000_000
MAX_DEPTH = 100


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Located(TemplateExecError):
    """An error already prefixed with its location."""


class Executor:
    def __init__(self, template: Template, data: Any) -> None:
        self.t = template
        self.vars: list[tuple[str, Any]] = [("$", data)]
        self.out: list[str] = []
        self.size = 0
        self.iterations = 0
        self.depth = 0
        self.data = data

    def run(self) -> str:
        self.walk(self.data, self.t.root)
        return "".join(self.out)

    # -- output and errors -------------------------------------------------------------------------

    def emit(self, s: str) -> None:
        self.size += len(s)
        if self.size > MAX_OUTPUT:
            raise TemplateExecError(f"template: {self.t.name}: output exceeds {MAX_OUTPUT} bytes")
        self.out.append(s)

    def fail(self, node: Node | Any, where: str, e: Exception) -> TemplateExecError:
        if isinstance(e, _Located):
            return e
        line = getattr(node, "line", 0)
        cls = _LocatedField if isinstance(e, FieldError) else _Located
        return cls(f'template: {self.t.name}:{line}: executing "{self.t.name}" at <{where}>: {e}')

    # -- statements ---------------------------------------------------------------------------------

    def walk(self, dot: Any, nodes: list[Node]) -> None:
        for node in nodes:
            if isinstance(node, TextNode):
                self.emit(node.text)
            elif isinstance(node, ActionNode):
                mark = len(self.vars)
                value = self.pipe(dot, node.pipe, declare=True)
                if not node.pipe.decl:
                    self.emit(format_v(value))
                if node.pipe.decl and not node.pipe.assign:
                    # declarations in a plain action last until the end of the enclosing block
                    mark = len(self.vars)
                del self.vars[mark:]
            elif isinstance(node, Branch):
                self.branch(dot, node)
            elif isinstance(node, TemplateCall):
                self.call_template(dot, node)
            elif isinstance(node, LoopControl):
                raise _Break() if node.kind == "break" else _Continue()

    def branch(self, dot: Any, node: Branch) -> None:
        mark = len(self.vars)
        try:
            if node.kind == "range":
                self.range(dot, node)
                return
            value = self.pipe(dot, node.pipe, declare=True)
            if truth(value):
                self.walk(value if node.kind == "with" else dot, node.body)
            elif node.other is not None:
                self.walk(dot, node.other)
        finally:
            del self.vars[mark:]

    def range(self, dot: Any, node: Branch) -> None:
        value = self.pipe(dot, node.pipe, declare=False)
        pairs: list[tuple[Any, Any]]
        if isinstance(value, list | tuple):
            pairs = list(enumerate(value))
        elif isinstance(value, dict):
            pairs = [(k, value[k]) for k in sorted(value)]
        elif isinstance(value, int) and not isinstance(value, bool):
            if value > MAX_ITERATIONS:
                raise self.fail(
                    node, "range", TemplateExecError(f"range over {value} exceeds the loop limit")
                )
            pairs = [(i, i) for i in range(value)]
        elif value is None or value is NO_VALUE:
            pairs = []
        else:
            raise self.fail(node, "range", TemplateExecError(f"range can't iterate over {format_v(value)}"))
        if not pairs:
            if node.other is not None:
                self.walk(dot, node.other)
            return
        decl = node.pipe.decl
        base = len(self.vars)
        for key, elem in pairs:
            self.iterations += 1
            if self.iterations > MAX_ITERATIONS:
                raise self.fail(node, "range", TemplateExecError("loop limit exceeded"))
            del self.vars[base:]
            if len(decl) == 1:
                self.vars.append((decl[0], elem))
            elif len(decl) == 2:
                self.vars.append((decl[0], key))
                self.vars.append((decl[1], elem))
            try:
                self.walk(elem, node.body)
            except _Continue:
                continue
            except _Break:
                break

    def call_template(self, dot: Any, node: TemplateCall) -> None:
        body = self.t.defined.get(node.name)
        if body is None:
            raise self.fail(
                node, f"template {node.name}", TemplateExecError(f'template "{node.name}" not defined')
            )
        new_dot = self.pipe(dot, node.pipe, declare=False) if node.pipe is not None else None
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(
                node, f"template {node.name}", TemplateExecError("exceeded maximum template depth")
            )
        saved = self.vars
        self.vars = [("$", new_dot)]
        try:
            self.walk(new_dot, body)
        finally:
            self.vars = saved
            self.depth -= 1

    # -- pipelines ----------------------------------------------------------------------------------

    def pipe(self, dot: Any, pipe: Pipe, *, declare: bool) -> Any:
        value: Any = _MISSING
        for cmd in pipe.cmds:
            value = self.command(dot, cmd, value, pipe)
        if declare and pipe.decl:
            if pipe.assign:
                self.set_var(pipe.decl[0], value, pipe)
            else:
                for name in pipe.decl:
                    self.vars.append((name, value))
        return value

    def set_var(self, name: str, value: Any, node: Node) -> None:
        for i in range(len(self.vars) - 1, -1, -1):
            if self.vars[i][0] == name:
                self.vars[i] = (name, value)
                return
        raise self.fail(node, name, TemplateExecError(f"undefined variable: {name}"))

    def var(self, name: str, node: Node) -> Any:
        for n, v in reversed(self.vars):
            if n == name:
                return v
        raise self.fail(node, name, TemplateExecError(f"undefined variable: {name}"))

    def command(self, dot: Any, cmd: list[Any], final: Any, pipe: Pipe) -> Any:
        first = cmd[0]
        if isinstance(first, Func):
            return self.call(dot, first, cmd[1:], final, pipe)
        what = getattr(first, "text", "") if not isinstance(first, Pipe) else "(pipeline)"
        if len(cmd) > 1 or final is not _MISSING:
            if isinstance(first, FieldRef) and first.chain:
                msg = f"{first.chain[-1]} has arguments but cannot be invoked as function"
            else:
                msg = f"can't give argument to non-function {what}"
            raise self.fail(pipe, what, TemplateExecError(msg))
        if isinstance(first, Lit) and first.value is None:
            raise self.fail(pipe, "nil", TemplateExecError("nil is not a command"))
        return self.arg(dot, first, pipe)

    def arg(self, dot: Any, node: Any, pipe: Pipe) -> Any:
        if isinstance(node, Lit):
            return node.value
        if node is DOT:
            return dot
        if isinstance(node, FieldRef):
            return self.field_chain(dot, node, pipe)
        if isinstance(node, Pipe):
            mark = len(self.vars)
            try:
                return self.pipe(dot, node, declare=False)
            finally:
                del self.vars[mark:]
        if isinstance(node, Func):
            return self.call(dot, node, [], _MISSING, pipe)
        raise AssertionError(f"unknown node {node!r}")

    def field_chain(self, dot: Any, node: FieldRef, pipe: Pipe) -> Any:
        if node.base is None:
            value = dot
        elif isinstance(node.base, str):
            value = self.var(node.base, pipe)
        else:
            value = self.arg(dot, node.base, pipe)
        for name in node.chain:
            try:
                value = _field(value, name)
            except TemplateExecError as e:
                raise self.fail(pipe, node.text, e) from None
        return value

    def call(self, dot: Any, fn: Func, args: list[Any], final: Any, pipe: Pipe) -> Any:
        if fn.name in ("and", "or"):
            operands = list(args)
            if not operands and final is _MISSING:
                raise self.fail(
                    pipe,
                    fn.name,
                    TemplateExecError(f"wrong number of args for {fn.name}: want at least 1 got 0"),
                )
            value: Any = None
            for i, a in enumerate(operands):
                value = self.arg(dot, a, pipe)
                if truth(value) != (fn.name == "and") or (i == len(operands) - 1 and final is _MISSING):
                    return value
            return final if final is not _MISSING else value
        values = [self.arg(dot, a, pipe) for a in args]
        if final is not _MISSING:
            values.append(final)
        try:
            return BUILTINS[fn.name](*values)
        except TemplateExecError as e:
            raise self.fail(pipe, fn.name, TemplateExecError(f"error calling {fn.name}: {e}")) from None
        except TypeError:
            raise self.fail(
                pipe, fn.name, TemplateExecError(f"wrong number of args for {fn.name}: got {len(values)}")
            ) from None


class _LocatedField(_Located, FieldError):
    pass


class _Missing:
    pass


_MISSING = _Missing()


def _field(value: Any, name: str) -> Any:
    if isinstance(value, Struct):
        if name not in value.fields:
            raise FieldError(f"can't evaluate field {name} in type {value.type_name}")
        return value.fields[name]
    if isinstance(value, dict):
        return value.get(name, NO_VALUE)
    if value is None or value is NO_VALUE:
        return NO_VALUE
    raise TemplateExecError(f"can't evaluate field {name} in type {go_type(value)}")
