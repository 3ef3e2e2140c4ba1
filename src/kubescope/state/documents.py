"""Kubernetes objects from JSON or YAML files that may be hostile, read within bounds.

``kubescope render`` reads whatever it is given: a 700-byte YAML alias bomb once took 8 s and
1.86 GB, binary files and deeply nested documents ended in tracebacks. Here every file is read
within bounds and every problem becomes one message naming the file (and the document), while
the rest of the input is kept:

* size: at most ``max_bytes`` per file (standard input included);
* text: UTF-8 without NUL characters, else the file is reported as binary;
* nesting: at most :data:`MAX_DEPTH` levels (JSON and YAML alike; Kubernetes objects nest a few
  dozen levels at most);
* YAML aliases: a document may not expand to more than :data:`MAX_EXPANSION` times its own nodes
  (and :data:`MIN_EXPANDED_NODES`), the way goyaml refuses "excessive aliasing"; recursive
  aliases are refused.

A YAML syntax error ends its file at that document (the parser cannot resynchronise); the
documents before it are kept.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
import yaml

MAX_DEPTH = 256
MAX_EXPANSION = 10
MIN_EXPANDED_NODES = 100_000
YamlLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it (its parser also caps nesting itself)."""


@dataclass(frozen=True)
class Document:
    """One JSON value or YAML document of a file (``index`` counts from 1)."""

    source: str
    index: int
    value: Any

    @property
    def where(self) -> str:
        return f"{self.source} (document {self.index})" if self.index > 1 else self.source


class InputError(Exception):
    """A file, document or object that cannot be used; the message names it and says why."""


def read_bytes(path: str, max_bytes: int) -> bytes:
    """The content of ``path`` (``-``: standard input), refused beyond ``max_bytes``."""
    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            data = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with open(path, "rb") as f:
                data = f.read(max_bytes + 1)
    except OSError as e:
        raise InputError(f"{name}: cannot read: {e.strerror or e}") from None
    if len(data) > max_bytes:
        raise InputError(
            f"{name}: larger than {max_bytes} bytes (--max-file-size); raise the limit if the file is meant"
        )
    return data


def _text(name: str, data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{name}: not a JSON or YAML text file (not UTF-8 at byte {e.start})") from None
    nul = text.find("\x00")
    if nul >= 0:
        raise InputError(f"{name}: not a JSON or YAML text file (binary data: NUL at character {nul})")
    return text.removeprefix("\ufeff")


def documents(path: str, max_bytes: int) -> Iterator[Document | InputError]:
    """The documents of a file, and an :class:`InputError` where reading stopped or a document
    was refused."""
    name = "<stdin>" if path == "-" else path
    try:
        text = _text(name, read_bytes(path, max_bytes))
    except InputError as e:
        yield e
        return
    if text.lstrip().startswith(("{", "[")):
        yield _json(name, text)
    else:
        yield from _yaml(name, text)


def _json(name: str, text: str) -> Document | InputError:
    try:
        value = msgspec.json.decode(text)
    except RecursionError:
        return InputError(f"{name}: nested too deeply (more than {MAX_DEPTH} levels)")
    except msgspec.DecodeError as e:
        return InputError(f"{name}: not valid JSON: {e}")
    try:
        _check_depth(value)
    except InputError as e:
        return InputError(f"{name}: {e}")
    return Document(name, 1, value)


def _check_depth(value: Any) -> None:
    """Refuse plain values (from JSON) nested more than :data:`MAX_DEPTH` levels, without recursing."""
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(f"nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(v, dict):
            stack.extend((x, depth + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, depth + 1) for x in v)


def _yaml(name: str, text: str) -> Iterator[Document | InputError]:
    loader = YamlLoader(text)
    index = 0
    try:
        while True:
            index += 1
            where = f"{name} (document {index})" if index > 1 else name
            try:
                if not loader.check_node():
                    return
                node = loader.get_node()
                check_node(node)
                value = loader.construct_document(node)
            except InputError as e:
                yield InputError(f"{where}: {e}")
                return
            except RecursionError:
                yield InputError(f"{where}: nested too deeply (more than {MAX_DEPTH} levels)")
                return
            except yaml.YAMLError as e:
                yield InputError(f"{where}: not valid JSON or YAML: {' '.join(str(e).split())}")
                return
            if value is not None:
                yield Document(name, index, value)
    finally:
        loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def check_node(root: yaml.Node) -> None:
    """Refuse a composed YAML document nested more than :data:`MAX_DEPTH` levels, with recursive
    aliases, or whose aliases expand it beyond :data:`MAX_EXPANSION` times its own size; in time
    linear in its distinct nodes (an alias is counted, not walked again)."""
    size: dict[int, int] = {}  # id(node) -> nodes once expanded
    height: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in size:
            continue
        children = _children(node)
        if not children_done:
            if key in visiting:
                raise InputError("a YAML alias refers to a node that contains it (recursive alias)")
            visiting.add(key)
            stack.append((node, True))
            for c in children:
                if id(c) in visiting and id(c) not in size:
                    raise InputError("a YAML alias refers to a node that contains it (recursive alias)")
                if id(c) not in size:
                    stack.append((c, False))
            continue
        visiting.discard(key)
        size[key] = 1 + sum(size[id(c)] for c in children)
        height[key] = 1 + max((height[id(c)] for c in children), default=0)
        if height[key] > MAX_DEPTH:
            raise InputError(f"nested too deeply (more than {MAX_DEPTH} levels)")
    total, distinct = size[id(root)], len(size)
    if total > MIN_EXPANDED_NODES and total > MAX_EXPANSION * distinct:
        raise InputError(
            f"YAML aliases expand {distinct} nodes to {total} (more than {MAX_EXPANSION} times): "
            "refused as an alias bomb"
        )
