"""A graphql-core executor that completes plain fields without the general machinery.

Most fields of a result page are plain: Strawberry reads them from the
source object with no resolver of ours (`firstName`, `stemTopics`, `cursor`)
and their type is a scalar, an enum or a list of those. graphql-core
completes each one like any other field: it builds a resolve info, checks
twice whether the value must be awaited and walks the type in
`complete_value`. On a search page of 20 members, about 450 of the 600 fields
are plain, and that walk was the largest cost of the page after the SQL.

`PlainFieldExecutor` completes such a field with a function built once per
field from its type. Anything unusual (arguments, directives, a value of the
wrong kind, a null in a non-null position, an error) goes to graphql-core's
own path, which computes the field again and reports it exactly as before.
Reading a plain field has no side effect, so computing it twice is safe.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from enum import Enum
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

Completer = Callable[[Any], Any]


class _NotPlain(Exception):
    """The value needs graphql-core's general completion (an error, a null where none may be)."""


def _leaf(return_type: GraphQLLeafType) -> Completer:
    coerce = return_type.coerce_output_value
    names = _enum_names(return_type) if isinstance(return_type, GraphQLEnumType) else None

    def complete(value: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if names is not None and isinstance(value, Enum):
            # Strawberry's enum type finds the name by comparing values one by one.
            return names[value]
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise _NotPlain
        return coerced

    return complete


def _enum_names(return_type: GraphQLEnumType) -> dict[Enum, str]:
    """Map each member of the Python enum behind a Strawberry enum type to its GraphQL name."""
    wrapped = getattr(return_type, "wrapped_cls", None)
    if wrapped is None:
        return {}
    names: dict[Enum, str] = {}
    for member in wrapped:
        # The first name whose value equals the member's, as Strawberry's own lookup returns.
        name = next((name for name, value in return_type.values.items() if value.value == member.value), None)
        if name is not None:
            names[member] = name
    return names


def _list(complete_item: Completer) -> Completer:
    def complete(value: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise _NotPlain
        return [complete_item(item) for item in value]

    return complete


def _non_null(complete_inner: Completer) -> Completer:
    def complete(value: Any) -> Any:
        completed = complete_inner(value)
        if completed is None:
            raise _NotPlain
        return completed

    return complete


def _completer(return_type: GraphQLOutputType) -> Completer | None:
    """Build the completion of a value of `return_type`, or None for a type with fields of its own."""
    if isinstance(return_type, GraphQLNonNull):
        inner = _completer(return_type.of_type)
        return _non_null(inner) if inner is not None else None
    if isinstance(return_type, GraphQLList):
        item = _completer(return_type.of_type)
        return _list(item) if item is not None else None
    if is_leaf_type(return_type):
        return _leaf(return_type)
    return None


def _reader(field: GraphQLField) -> Completer | None:
    """Return how to read `field` from its source, or None when it has a resolver of its own."""
    resolve = field.resolve
    # Strawberry marks the resolver it gives a field with no resolver, permission or extension.
    if resolve is None or not getattr(resolve, "_is_default", False) or field.args:
        return None
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if definition is not None and definition.default_resolver is getattr:
        # What Strawberry's resolver does, without its two calls in between.
        return attrgetter(definition.python_name)
    return resolve


def _plain_completer(field: GraphQLField) -> Completer | None:
    """Return how to read and complete `field` at once, or None when it is not plain."""
    read = _reader(field)
    complete = _completer(field.type) if read is not None else None
    if complete is None:
        return None

    def read_and_complete(source: Any) -> Any:
        return complete(read(source))

    return read_and_complete


# Keyed by id(field), with the field kept alive beside its completer, because
# graphql-core's fields define equality and so cannot be dictionary keys. The
# schema is built once per process, so this has one entry per field.
_completers: dict[int, tuple[GraphQLField, Completer | None]] = {}


def plain_completer(field: GraphQLField) -> Completer | None:
    entry = _completers.get(id(field))
    if entry is None or entry[0] is not field:
        entry = (field, _plain_completer(field))
        _completers[id(field)] = entry
    return entry[1]


class PlainFieldExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, with the plain fields of each selection completed by `plain_completer`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Strawberry always passes a manager. It has middleware only when an extension resolves fields.
        middleware = self.middleware_manager
        self._plain_fields_allowed = middleware is None or not middleware.middlewares
        # graphql-core collects each selection once per request and type, so
        # the plain fields of a selection are found once, not once per object.
        self._plain_fields: dict[int, tuple[GroupedFieldSet, dict[str, Completer]]] = {}

    def plain_fields(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> dict[str, Completer]:
        """Return the completer of each plain field of a selection, by response name."""
        entry = self._plain_fields.get(id(fields))
        if entry is None or entry[0] is not fields:
            plain = {}
            for response_name, field_details_list in fields.items():
                node = field_details_list[0].node
                field = parent_type.fields.get(node.name.value)
                # One node without arguments or directives: @stream and @defer need the general path.
                if len(field_details_list) != 1 or field is None or node.arguments or node.directives:
                    continue
                complete = plain_completer(field)
                if complete is not None:
                    plain[response_name] = complete
            # The selection is kept with its entry, so its id is not reused during the request.
            entry = (fields, plain)
            self._plain_fields[id(fields)] = entry
        return entry[1]

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        plain = self.plain_fields(parent_type, grouped_field_set) if self._plain_fields_allowed else None
        if not plain:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)

        values: dict[str, Any] = {}
        others: GroupedFieldSet = {}
        for response_name, field_details_list in grouped_field_set.items():
            complete = plain.get(response_name)
            if complete is not None:
                try:
                    values[response_name] = complete(source_value)
                    continue
                except Exception:  # noqa: BLE001 - graphql-core's path reports it
                    pass
            others[response_name] = field_details_list
        if not others:
            return values

        completed = super().execute_fields(parent_type, source_value, path, others, position_context)
        if self.is_awaitable(completed):
            return _merge_when_done(grouped_field_set, values, completed)
        return _merged(grouped_field_set, values, completed)


def _merged(order: GroupedFieldSet, plain: dict[str, Any], others: dict[str, Any]) -> dict[str, Any]:
    """Join the two parts of a selection's result, in the order of the selection."""
    return {name: plain[name] if name in plain else others[name] for name in order if name in plain or name in others}


async def _merge_when_done(order: GroupedFieldSet, plain: dict[str, Any], others: Awaitable[dict[str, Any]]) -> Any:
    return _merged(order, plain, await others)
