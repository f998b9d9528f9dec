"""YAML reading with limits, for every YAML the service reads (schemas and policies).

PyYAML's safe loader builds no Python objects beyond plain data, but it trusts the shape
of the document: its composer recurses once per nesting level (a few thousand ``[`` end
in ``RecursionError``), and anchors and aliases let a few lines stand for billions of
nodes ("billion laughs"). ``LimitedSafeLoader`` refuses, with the limit in the message:

- nesting deeper than ``MAX_DEPTH`` levels, counted after aliases are followed;
- a document that expands, through aliases, to more than ``MAX_NODES`` nodes;
- an alias inside the node it refers to (a recursive structure);
- values that cannot be built (an integer of thousands of digits, the 30th of February).

Every refusal is a ``yaml.YAMLError`` (``YamlLimitError`` or ``ConstructorError``) with
a position, so callers keep one ``except yaml.YAMLError`` path.

>>> safe_load("columns: {age: {type: integer, min: 0, max: 9}}")["columns"]["age"]["max"]
9
>>> try:
...     safe_load("x: " + "[" * 40 + "]" * 40)
... except YamlLimitError as exc:
...     print(describe(exc))
line 1, column 35: the document nests deeper than 32 levels, the limit for schema and policy files
"""

from __future__ import annotations

from typing import Any, ClassVar

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode

#: Deepest nesting a schema or policy may use (they need fewer than five levels).
MAX_DEPTH = 32
#: Most nodes a document may expand to once its aliases are followed.
MAX_NODES = 1_000_000


class YamlLimitError(yaml.MarkedYAMLError):
    """A YAML document breaks one of the reader's limits."""


class LimitedSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that enforces ``MAX_DEPTH`` and ``MAX_NODES``."""

    max_depth: ClassVar[int] = MAX_DEPTH
    max_nodes: ClassVar[int] = MAX_NODES

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        """Compose one node, refusing to go deeper than ``max_depth`` (before recursing)."""
        if self._depth >= self.max_depth:
            self.check_event()  # parses the next event into ``current_event``
            event = self.current_event
            raise YamlLimitError(problem=_too_deep(self.max_depth),
                                 problem_mark=event.start_mark if event is not None else None)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> Node | None:
        """Compose the document, then measure it with its aliases followed."""
        node = super().compose_document()
        if node is not None:
            measure(node, max_depth=self.max_depth, max_nodes=self.max_nodes)
        return node

    def construct_document(self, node: Node) -> Any:
        """Build the values; a value Python refuses to build is a YAML error at its node."""
        try:
            return super().construct_document(node)
        except (ValueError, OverflowError) as exc:
            raise ConstructorError(problem=f"a value cannot be read ({exc})",
                                   problem_mark=node.start_mark) from None


def _too_deep(limit: int) -> str:
    return f"the document nests deeper than {limit} levels, the limit for schema and policy files"


def measure(root: Node, *, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> int:
    """Count the nodes of ``root`` with every alias followed, within the limits.

    Shared nodes (anchors) are measured once and counted at every use, so the walk is
    linear in the composed document while the count is that of the expanded one.

    Returns:
        The number of nodes of the expanded document.

    Raises:
        YamlLimitError: too deep, too many nodes, or a node that contains itself.
    """
    measured: dict[int, tuple[int, int]] = {}  # id -> (nodes, height)
    open_nodes: set[int] = set()

    def visit(node: Node, depth: int) -> tuple[int, int]:
        key = id(node)
        if key in open_nodes:
            raise YamlLimitError(problem="an alias refers to a node that contains it "
                                 "(a recursive alias); YAML for schemas and policies must be "
                                 "a tree", problem_mark=node.start_mark)
        if key not in measured:
            if depth > max_depth:
                raise YamlLimitError(problem=_too_deep(max_depth), problem_mark=node.start_mark)
            open_nodes.add(key)
            count, height = 1, 1
            for child in _children(node):
                child_count, child_height = visit(child, depth + 1)
                count, height = count + child_count, max(height, child_height + 1)
                if count > max_nodes:
                    raise YamlLimitError(
                        problem=f"the document expands to more than {max_nodes:,} nodes once "
                        "its aliases (*name) are followed, the limit for schema and policy "
                        "files; is it an alias bomb?", problem_mark=node.start_mark)
            open_nodes.discard(key)
            measured[key] = (count, height)
        count, height = measured[key]
        if depth - 1 + height > max_depth:
            raise YamlLimitError(problem=_too_deep(max_depth), problem_mark=node.start_mark)
        return count, height

    return visit(root, 1)[0]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def safe_load(text: str | bytes) -> Any:
    """Parse one YAML document of plain data, within the limits.

    Raises:
        yaml.YAMLError: a syntax error, a limit (``YamlLimitError``) or an unbuildable value.
    """
    loader = LimitedSafeLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def describe(exc: yaml.YAMLError) -> str:
    """One line for a YAML error: position, problem and context, without the excerpt.

    >>> try:
    ...     safe_load("a: [1, 2")
    ... except yaml.YAMLError as exc:
    ...     print(describe(exc))
    line 1, column 9: expected ',' or ']', but got '<stream end>' (while parsing a flow sequence)
    """
    if not isinstance(exc, yaml.MarkedYAMLError):
        return " ".join(str(exc).split())
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    what = exc.problem or "unreadable YAML"
    if exc.context:
        what = f"{what} ({exc.context})"
    return where + " ".join(what.split())
