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

Fields of object types read without a resolver (`edges`, `node`,
`availability`) skip the resolver call too. A nullable object of a type
without `is_type_of` gets its subfields run directly. graphql-core's
`complete_value` completes lists and the other object fields, as after a
resolver call. Errors in them are reported the same way as by graphql-core.

A field with a resolver is plain too when `direct_reader` attaches a
function that returns its value without the resolver. That function serves
sources that carry the value already: a `User` built from a search page
carries its organisation, activity profile and contact request.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from operator import attrgetter
from typing import Any, TypeVar

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
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


class _NotPreloaded:
    def __repr__(self) -> str:
        return "NOT_PRELOADED"


# The value a direct reader returns when only the field's resolver can compute the value.
NOT_PRELOADED: Any = _NotPreloaded()

Reader = Callable[[Any, Any], Any]  # (source, context) -> value, or NOT_PRELOADED
_READER_ATTRIBUTE = "direct_reader"

ResolverFunction = TypeVar("ResolverFunction", bound=Callable[..., Any])


def direct_reader(read: Reader) -> Callable[[ResolverFunction], ResolverFunction]:
    """Attach `read` to a resolver function, below `@strawberry.field`.

    PlainFieldExecutor calls `read(source, context)` in place of the resolver
    and completes the value as graphql-core would. When it returns
    NOT_PRELOADED, the resolver runs as usual, so `read` must return what the
    resolver would. It saves Strawberry's resolver call and graphql-core's
    resolve info for values a source carries already.
    """

    def attach(resolver: ResolverFunction) -> ResolverFunction:
        setattr(resolver, _READER_ATTRIBUTE, read)
        return resolver

    return attach


def _reader(field: GraphQLField) -> Reader | None:
    """Return how to read `field` without its resolver, or None when only the resolver can."""
    if field.args:
        return None
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolve = field.resolve
    if definition is not None and definition.base_resolver is not None:
        read = getattr(definition.base_resolver.wrapped_func, _READER_ATTRIBUTE, None)
        # Field extensions and permissions run in Strawberry's resolver call, so they rule out a reader.
        return read if not definition.extensions else None
    # Strawberry marks the resolver it gives a field with no resolver, permission or extension.
    if resolve is None or not getattr(resolve, "_is_default", False):
        return None
    if definition is not None and definition.default_resolver is getattr:
        # What Strawberry's resolver does, without its two calls in between.
        read_attribute = attrgetter(definition.python_name)
        return lambda source, _context: read_attribute(source)
    return lambda source, _context: resolve(source)


@dataclass(frozen=True)
class PlainField:
    """A field that PlainFieldExecutor reads and completes itself: its reader and its completion."""

    field: GraphQLField
    read: Reader
    complete: Completer | None  # for scalars, enums and lists of them
    object_type: GraphQLObjectType | None  # for fields of object types, alone or in lists
    # A nullable object of a type without `is_type_of`: only its subfields need completing.
    direct: bool = False


def _plain_field(field: GraphQLField) -> PlainField | None:
    read = _reader(field)
    if read is None:
        return None
    complete = _completer(field.type)
    if complete is not None:
        return PlainField(field, read, complete, None)
    object_type = get_named_type(field.type)
    # Interfaces and unions need their type resolved, which graphql-core's path does.
    if not isinstance(object_type, GraphQLObjectType):
        return None
    direct = object_type is field.type and object_type.is_type_of is None
    return PlainField(field, read, None, object_type, direct)


# Keyed by id(field), with the field kept alive in its entry, because
# graphql-core's fields define equality and so cannot be dictionary keys. The
# service builds its schema once, so this has one entry per field of it.
_plain: dict[int, tuple[GraphQLField, PlainField | None]] = {}


def plain_field(field: GraphQLField) -> PlainField | None:
    """Return how to read and complete `field` without graphql-core's general path, or None."""
    entry = _plain.get(id(field))
    if entry is None or entry[0] is not field:
        entry = (field, _plain_field(field))
        _plain[id(field)] = entry
    return entry[1]


class PlainFieldExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, with the plain fields of each selection completed by `plain_field`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Strawberry always passes a manager. It has middleware only when an extension resolves fields.
        middleware = self.middleware_manager
        self._plain_fields_allowed = middleware is None or not middleware.middlewares
        # graphql-core collects each selection once per request and type, so
        # the plain fields of a selection are found once, not once per object.
        self._plain_fields: dict[int, tuple[GroupedFieldSet, dict[str, PlainField]]] = {}

    def plain_fields(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> dict[str, PlainField]:
        """Return the plain fields of a selection, by response name."""
        entry = self._plain_fields.get(id(fields))
        if entry is None or entry[0] is not fields:
            plain = {}
            for response_name, field_details_list in fields.items():
                node = field_details_list[0].node
                field = parent_type.fields.get(node.name.value)
                # One node without arguments or directives: @stream and @defer need the general path.
                if len(field_details_list) != 1 or field is None or node.arguments or node.directives:
                    continue
                found = plain_field(field)
                if found is not None:
                    plain[response_name] = found
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

        context = self.context_value
        values: dict[str, Any] = {}
        awaiting: list[str] = []
        others: GroupedFieldSet = {}
        try:
            for response_name, field_details_list in grouped_field_set.items():
                entry = plain.get(response_name)
                if entry is not None:
                    value = self._complete_plain(
                        entry, parent_type, source_value, context, path, response_name, field_details_list,
                        position_context,
                    )
                    if value is not NOT_PRELOADED:
                        values[response_name] = value
                        if entry.object_type is not None and self.is_awaitable(value):
                            awaiting.append(response_name)
                        continue
                others[response_name] = field_details_list
            completed = super().execute_fields(parent_type, source_value, path, others, position_context) if others else {}
        except Exception:
            # Like graphql-core, let the started completions finish, as they may fail too.
            if awaiting:
                self.settle_in_background([values[name] for name in awaiting])
            raise
        if awaiting or self.is_awaitable(completed):
            return _merge_when_done(grouped_field_set, values, awaiting, completed)
        return _merged(grouped_field_set, values, completed)

    def _complete_plain(
        self,
        entry: PlainField,
        parent_type: GraphQLObjectType,
        source: Any,
        context: Any,
        path: Path | None,
        response_name: str,
        field_details_list: FieldDetailsList,
        position_context: Any,
    ) -> Any:
        """Return the completed value of a plain field, or NOT_PRELOADED to leave it to graphql-core."""
        try:
            value = entry.read(source, context)
            if value is NOT_PRELOADED:
                return NOT_PRELOADED
            if entry.complete is not None:
                return entry.complete(value)
        except Exception:  # noqa: BLE001 - graphql-core's path reads the field again and reports it
            return NOT_PRELOADED
        if value is Undefined or isinstance(value, Exception) or self.is_awaitable(value):
            return NOT_PRELOADED
        if value is None and entry.direct:
            return None

        # Objects: what graphql-core's execute_field does after the resolver call.
        field_path = Path(path, response_name, parent_type.name)
        try:
            if entry.direct:
                completed = self.collect_and_execute_subfields(
                    entry.object_type, field_details_list, field_path, value, position_context
                )
            else:
                # Lists, non-null objects and types with `is_type_of` need a resolve info to complete.
                info = self.build_resolve_info(entry.field, [field_details_list[0].node], parent_type, field_path)
                completed = self.complete_value(
                    entry.field.type, field_details_list, info, field_path, value, position_context
                )
        except Exception as error:  # noqa: BLE001 - reported as graphql-core reports a field's error
            self.handle_field_error(error, entry.field.type, field_details_list, field_path)
            return None
        if self.is_awaitable(completed):
            return self._await_object(completed, entry.field.type, field_details_list, field_path)
        return completed

    async def _await_object(
        self, completed: Awaitable[Any], field_type: Any, field_details_list: FieldDetailsList, field_path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as error:  # noqa: BLE001 - reported as graphql-core reports a field's error
            self.handle_field_error(error, field_type, field_details_list, field_path)
            return None


def _merged(order: GroupedFieldSet, plain: dict[str, Any], others: dict[str, Any]) -> dict[str, Any]:
    """Join the two parts of a selection's result, in the order of the selection."""
    return {name: plain[name] if name in plain else others[name] for name in order if name in plain or name in others}


async def _merge_when_done(
    order: GroupedFieldSet, plain: dict[str, Any], awaiting: list[str], others: Any
) -> dict[str, Any]:
    """Await the objects among the plain fields and the rest of the selection together, then join them."""
    pending = [plain[name] for name in awaiting]
    others_pending = inspect.isawaitable(others)
    if others_pending:
        pending.append(others)
    done = await asyncio.gather(*pending)
    plain.update(zip(awaiting, done))
    return _merged(order, plain, done[-1] if others_pending else others)
