"""Limits on the size and cost of one GraphQL request, checked before it runs.

The document of the operation to run is measured once: its depth (fields
nested in fields), its aliases and its cost. Each fragment is measured once,
and its totals count again at every spread, so a fragment with 10 aliases
spread 500 times counts 5,000 aliases. A chain of fragments that each spread
the next twice is therefore measured in linear time. Fragment cycles add
nothing here, because graphql-core's NoFragmentCycles rule reports them.

Cost: each connection field (a field whose type is named `...Connection`)
costs its `first` argument, or DEFAULT_PAGE_SIZE when it is absent,
multiplied by the `first` of every connection it is nested in. Other fields
cost nothing, because the depth and alias limits bound them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLInterfaceType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

from schema.connections import DEFAULT_PAGE_SIZE

CONNECTION_SUFFIX = "Connection"


class LimitExceeded(GraphQLError):
    """Top-level error for a request over one of the limits; `extensions.code` names the limit."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, extensions={"code": code})


@dataclass(frozen=True)
class Measure:
    """Depth, alias count and cost of a selection set, with connections nested in it counted once."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0


class DocumentMeter:
    """Measures the operations of one parsed document against a schema."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None) -> None:
        self.schema = schema
        self.variables = variables or {}
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.operations = [
            definition for definition in document.definitions if isinstance(definition, OperationDefinitionNode)
        ]
        self._fragment_measures: dict[str, Measure] = {}
        # Variables read as a `first` argument: the only ones a measure depends on.
        self.page_variables: set[str] = set()
        self._measure_fragments()

    def measure(self, operation_name: str | None) -> Measure:
        """Measure the operation that would run; with no clear choice, the largest of each dimension."""
        operations = self.operations
        if operation_name is not None:
            operations = [op for op in operations if op.name is not None and op.name.value == operation_name]
        measures = [self._measure_operation(operation) for operation in operations]
        return Measure(
            depth=max((m.depth for m in measures), default=0),
            aliases=max((m.aliases for m in measures), default=0),
            cost=max((m.cost for m in measures), default=0),
        )

    def _measure_operation(self, operation: OperationDefinitionNode) -> Measure:
        root = self.schema.get_root_type(operation.operation)
        return self._measure_selections(operation.selection_set, root)

    def _measure_fragments(self) -> None:
        # Fragments are measured in dependency order without recursing across
        # spreads, so a long chain of fragments cannot exhaust the Python stack.
        for name in self._dependency_order():
            fragment = self.fragments[name]
            parent = self.schema.get_type(fragment.type_condition.name.value)
            self._fragment_measures[name] = self._measure_selections(fragment.selection_set, parent)

    def _dependency_order(self) -> list[str]:
        """Return fragment names so that each comes after every fragment it spreads; skip cycles."""
        order: list[str] = []
        state: dict[str, str] = {}  # "open" while its spreads are being visited, then "done"
        for start in self.fragments:
            if start in state:
                continue
            stack: list[tuple[str, Iterator[str]]] = [(start, self._spreads_of(start))]
            state[start] = "open"
            while stack:
                name, spreads = stack[-1]
                child = next(spreads, None)
                if child is None:
                    stack.pop()
                    state[name] = "done"
                    order.append(name)
                elif child in self.fragments and child not in state:
                    state[child] = "open"
                    stack.append((child, self._spreads_of(child)))
        return order

    def _spreads_of(self, name: str) -> Iterator[str]:
        pending: list[SelectionSetNode] = [self.fragments[name].selection_set]
        while pending:
            selection_set = pending.pop()
            for selection in selection_set.selections:
                if isinstance(selection, FragmentSpreadNode):
                    yield selection.name.value
                elif selection.selection_set is not None:
                    pending.append(selection.selection_set)

    def _measure_selections(self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None) -> Measure:
        depth = aliases = cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                part = self._measure_field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                scope = self.schema.get_type(condition.name.value) if condition else parent
                part = self._measure_selections(selection.selection_set, scope)
            else:
                # A spread of an unknown fragment or one in a cycle measures zero;
                # validation reports both.
                part = self._fragment_measures.get(selection.name.value, Measure())
            depth = max(depth, part.depth)
            aliases += part.aliases
            cost += part.cost
        return Measure(depth=depth, aliases=aliases, cost=cost)

    def _measure_field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        definition = _field_definition(parent, node.name.value)
        field_type = get_named_type(definition.type) if definition is not None else None
        aliases = 1 if node.alias is not None else 0
        if node.selection_set is None:
            return Measure(depth=1, aliases=aliases, cost=0)

        inner = self._measure_selections(node.selection_set, field_type)
        if field_type is not None and field_type.name.endswith(CONNECTION_SUFFIX):
            page = self._page_size(node)
            # The connection itself costs one page; everything inside it is repeated per item.
            return Measure(depth=inner.depth + 1, aliases=aliases + inner.aliases, cost=page + page * inner.cost)
        return Measure(depth=inner.depth + 1, aliases=aliases + inner.aliases, cost=inner.cost)

    def _page_size(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return max(int(value.value), 0)
            if isinstance(value, VariableNode):
                self.page_variables.add(value.name.value)
                return page_size_of(self.variables.get(value.name.value))
        return DEFAULT_PAGE_SIZE


def page_size_of(value: Any) -> int:
    """Return the page size of a `first` variable's value; a missing or non-integer value means the default."""
    if isinstance(value, int) and not isinstance(value, bool):
        return max(value, 0)
    return DEFAULT_PAGE_SIZE


@dataclass
class _Measured:
    # Held so that no other schema or document can take their ids while the entry lives.
    schema: GraphQLSchema
    document: DocumentNode
    page_variables: tuple[str, ...]
    measures: dict[tuple[int, ...], Measure]


class MeasureCache:
    """A store of measures, one per parsed document, operation and page sizes given by variables.

    `CachedParser` (schema/extensions.py) reuses the parsed document of a
    query it has seen. A client that sends the same query again is therefore
    measured once per page size, not once per request: 40 µs for the search
    page, 1 µs from here.
    """

    def __init__(self, documents: int = 256, page_sizes: int = 32) -> None:
        self._documents = documents
        self._page_sizes = page_sizes
        self._entries: OrderedDict[tuple[int, int, str | None], _Measured] = OrderedDict()

    def measure(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: Mapping[str, Any] | None,
        operation_name: str | None,
    ) -> Measure:
        values = variables or {}
        key = (id(schema), id(document), operation_name)
        entry = self._entries.get(key)
        if entry is None:
            meter = DocumentMeter(schema, document, values)
            measure = meter.measure(operation_name)
            entry = _Measured(schema, document, tuple(sorted(meter.page_variables)), {})
            entry.measures[self._sizes(entry, values)] = measure
            self._entries[key] = entry
            if len(self._entries) > self._documents:
                self._entries.popitem(last=False)
            return measure

        self._entries.move_to_end(key)
        sizes = self._sizes(entry, values)
        measure = entry.measures.get(sizes)
        if measure is None:
            measure = DocumentMeter(schema, document, values).measure(operation_name)
            if len(entry.measures) < self._page_sizes:
                entry.measures[sizes] = measure
        return measure

    @staticmethod
    def _sizes(entry: _Measured, values: Mapping[str, Any]) -> tuple[int, ...]:
        return tuple(page_size_of(values.get(name)) for name in entry.page_variables)


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
        return parent.fields.get(name)
    return None


def variables_depth(value: Any) -> int:
    """Return how deeply lists and objects nest in a JSON value (a scalar is 0), without recursion."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, Mapping):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
        pending.extend((child, depth + 1) for child in children)
    return deepest
