"""YAML reading for policies that keeps node positions, so errors can cite lines.

PyYAML's safe loader composes a node tree (each node carries its start mark) and
then constructs plain Python values from it. The policy loader keeps both: the
values are validated by pydantic and the nodes turn pydantic's error locations back
into line numbers. Two YAML 1.1 traps are closed here: duplicate keys (PyYAML keeps
the last one silently) are found on the node tree, and ``1e-5`` (a string in YAML 1.1
because it lacks a dot) is read as the number it is meant to be, as in YAML 1.2.
The loader is the project's limited safe loader (``governance.core.yamlsafe``): nesting
depth, alias expansion and recursive aliases are bounded before anything is built.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from governance.core.yamlsafe import LimitedSafeLoader

_MERGE_TAG = "tag:yaml.org,2002:merge"


class PolicyYamlLoader(LimitedSafeLoader):
    """Limited safe loader that also reads exponent-only floats such as ``1e-5``."""


PolicyYamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


@dataclass(frozen=True)
class YamlDocument:
    """One parsed document: its node tree, its value and its repeated keys."""

    root: Node | None
    data: Any
    duplicates: list[tuple[int, str, int]]


def read_yaml(text: str) -> YamlDocument:
    """Compose and construct one YAML document, noting duplicate keys on the way.

    Args:
        text: the document.

    Returns:
        The document; ``root`` and ``data`` are ``None`` when it is empty.

    Raises:
        yaml.YAMLError: on a syntax error; ``problem_mark`` holds its position.
    """
    loader = PolicyYamlLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return YamlDocument(None, None, [])
        # Before construction: constructing flattens merge keys into the tree.
        duplicates = duplicate_keys(root)
        return YamlDocument(root, loader.construct_document(root), duplicates)
    finally:
        loader.dispose()


def line_of(node: Node) -> int:
    """1-based line on which ``node`` starts."""
    return int(node.start_mark.line) + 1


def duplicate_keys(root: Node) -> list[tuple[int, str, int]]:
    """Find keys defined twice in the same mapping.

    Args:
        root: a freshly composed tree (merge keys not yet flattened).

    Returns:
        ``(line, dotted path, line of the first definition)`` for every repeat.
    """
    found: list[tuple[int, str, int]] = []
    seen_nodes: set[int] = set()

    def walk(node: Node, path: str) -> None:
        if id(node) in seen_nodes:
            return
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            first: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                if not isinstance(key, ScalarNode) or key.tag == _MERGE_TAG:
                    walk(value, path)
                    continue
                child = f"{path}.{key.value}" if path else str(key.value)
                ident = (key.tag, key.value)
                if ident in first:
                    found.append((line_of(key), child, first[ident]))
                else:
                    first[ident] = line_of(key)
                walk(value, child)
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, f"{path}[{index}]")

    walk(root, "")
    return found


def locate(root: Node, loc: Sequence[str | int]) -> tuple[int, bool]:
    """Map a validation location (keys and list indices) to a YAML line.

    The line is that of the deepest element of ``loc`` present in the document: the
    key's line for mapping entries, the item's line for list items.

    Args:
        root: the document's root node.
        loc: path of keys and indices, e.g. ``("risk", "max_attack_auc")``.

    Returns:
        The 1-based line and whether the whole path was found.
    """
    node, line = root, line_of(root)
    for part in loc:
        if isinstance(node, MappingNode):
            match = None
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value == str(part):
                    match = (key, value)  # the last one wins, as in construction
            if match is None:
                return line, False
            line, node = line_of(match[0]), match[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return line, False
            node = node.value[part]
            line = line_of(node)
        else:
            return line, False
    return line, True
