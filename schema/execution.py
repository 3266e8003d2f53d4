"""A graphql-core executor that completes plain fields without the general machinery.

Most fields of a result page are plain: Strawberry reads them from the
source object with no resolver of ours (`firstName`, `stemTopics`, `cursor`)
and their type is a scalar, an enum or a list of those. graphql-core
completes each one like any other field: it builds a resolve info, checks
twice whether the value must be awaited and walks the type in
`complete_value`. On a search page of 20 members, about 450 of the 600 fields
are plain, and that walk was the largest cost of the page after the SQL.

`PlainFieldExecutor` completes such a field with a function built once per
field from its type, and reads an attribute of the source directly where
Strawberry's resolver would. Which fields of a selection are plain is found
once per request, not once per object. Anything unusual (arguments,
directives, a value of the wrong kind, a null in a non-null position, an
error) goes to graphql-core's own path, which computes the field again and
reports it exactly as before. Reading a plain field has no side effect, so
computing it twice is safe.

Fields of object types read without a resolver (`edges`, `node`,
`availability`) skip the resolver call too. An object, or a list or tuple of
objects, gets its subfields run directly when graphql-core would accept each
object as it is: the type has no `is_type_of`, or Strawberry generated it and
the object is an instance of the type's own class. Anything else (a null
where none may be, another class, a list of lists, an `is_type_of` of the
application) goes to graphql-core's `complete_value` with a resolve info, as
after a resolver call. Errors are reported the same way as by graphql-core.

A field with a resolver is plain too when `direct_reader` attaches a
function that returns its value without the resolver. That function serves
sources that carry the value already: a `User` built from a search page
carries its organisation, activity profile and contact request.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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
    GraphQLResolveInfoHelpers,
    Undefined,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.cast import get_strawberry_type_cast

Completer = Callable[[Any], Any]


class _NotPlain(Exception):
    """The value needs graphql-core's general completion (an error, a null where none may be)."""


def _leaf(return_type: GraphQLLeafType, nullable: bool) -> Completer:
    coerce = return_type.coerce_output_value
    names = _enum_names(return_type) if isinstance(return_type, GraphQLEnumType) else None

    def complete(value: Any) -> Any:
        if value is None or value is Undefined:
            if nullable:
                return None
            raise _NotPlain
        if names is not None:
            # Strawberry's enum type finds the name by comparing values one by one.
            name = names.get(id(value))
            if name is not None:
                return name
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise _NotPlain
        return coerced

    return complete


def _enum_names(return_type: GraphQLEnumType) -> dict[int, str]:
    """Map the id of each member of the Python enum behind a Strawberry enum type to its GraphQL name.

    Keyed by id, not by member: hashing a member runs `Enum.__hash__`, Python
    code, and a page completes about 230 enum values. The enum class keeps its
    members, so their ids stay theirs.
    """
    wrapped = getattr(return_type, "wrapped_cls", None)
    if wrapped is None:
        return {}
    names: dict[int, str] = {}
    for member in wrapped:
        # The first name whose value equals the member's, as Strawberry's own lookup returns.
        name = next((name for name, value in return_type.values.items() if value.value == member.value), None)
        if name is not None:
            names[id(member)] = name
    return names


def _list(complete_item: Completer, nullable: bool) -> Completer:
    def complete(value: Any) -> Any:
        value_type = type(value)
        if value_type is not list and value_type is not tuple:
            if (value is None or value is Undefined) and nullable:
                return None
            # Other iterables may be consumed once, and graphql-core's path must read the value again.
            raise _NotPlain
        return [complete_item(item) for item in value]

    return complete


def _completer(return_type: GraphQLOutputType, nullable: bool = True) -> Completer | None:
    """Build the completion of a value of `return_type`, or None for a type with fields of its own."""
    if isinstance(return_type, GraphQLNonNull):
        return _completer(return_type.of_type, nullable=False)
    if isinstance(return_type, GraphQLList):
        item = _completer(return_type.of_type)
        return _list(item, nullable) if item is not None else None
    if is_leaf_type(return_type):
        return _leaf(return_type, nullable)
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
    attribute = _attribute(field)
    if attribute is not None:
        # What Strawberry's resolver does, without its two calls in between.
        read_attribute = attrgetter(attribute)
        return lambda source, _context: read_attribute(source)
    return lambda source, _context: resolve(source)


def _attribute(field: GraphQLField) -> str | None:
    """Return the attribute of the source that Strawberry's resolver returns for a field without one of ours."""
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if definition is None or definition.base_resolver is not None or definition.default_resolver is not getattr:
        return None
    return definition.python_name


@dataclass(frozen=True)
class Objects:
    """The completion rules of a field of objects that needs no resolve info."""

    nullable: bool  # the field may be null
    item_type: GraphQLOutputType | None  # the item type of a list of objects, None for one object
    item_nullable: bool  # a list item may be null
    # The class whose instances the type's `is_type_of` accepts without a call,
    # or None when the type has no `is_type_of`.
    origin: type | None

    def accepts(self, value: Any) -> bool:
        """Return whether graphql-core's type check would pass `value`, known without calling it."""
        if self.origin is None:
            return True
        return type(value) is self.origin and get_strawberry_type_cast(value) is None


@dataclass(frozen=True)
class PlainField:
    """A field that PlainFieldExecutor reads and completes itself: its reader and its completion."""

    field: GraphQLField
    read: Reader
    complete: Completer | None  # for scalars, enums and lists of them
    object_type: GraphQLObjectType | None  # for fields of object types, alone or in lists
    # For objects and lists of objects that need no resolve info. None sends them to `complete_value`.
    objects: Objects | None = None
    # For scalars, enums and lists of them that `read` takes from this attribute of the source.
    attribute: str | None = None


def _plain_field(field: GraphQLField) -> PlainField | None:
    read = _reader(field)
    if read is None:
        return None
    complete = _completer(field.type)
    if complete is not None:
        attribute = _attribute(field) if getattr(field.resolve, "_is_default", False) else None
        return PlainField(field, read, complete, None, attribute=attribute)
    object_type = get_named_type(field.type)
    # Interfaces and unions need their type resolved, which graphql-core's path does.
    if not isinstance(object_type, GraphQLObjectType):
        return None
    return PlainField(field, read, None, object_type, _objects(field.type, object_type))


def _objects(field_type: GraphQLOutputType, object_type: GraphQLObjectType) -> Objects | None:
    """Return the completion rules of a field of one object or a list of objects.

    None means the field needs `complete_value`.
    """
    origin = None
    if object_type.is_type_of is not None:
        definition = object_type.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
        # Strawberry's own `is_type_of` accepts instances of the type's class, but the application's may do anything.
        if definition is None or definition.is_type_of is not None:
            return None
        origin = definition.origin

    nullable = not isinstance(field_type, GraphQLNonNull)
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if inner is object_type:
        return Objects(nullable, None, False, origin)
    if not isinstance(inner, GraphQLList):
        return None
    item_type = inner.of_type
    item_nullable = not isinstance(item_type, GraphQLNonNull)
    if (item_type if item_nullable else item_type.of_type) is not object_type:
        return None  # a list of lists
    return Objects(nullable, item_type, item_nullable, origin)


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


# A selection's fields in order: response name, field details and how the field is completed here, if it is.
_Plan = list[tuple[str, FieldDetailsList, PlainField | None]]


class PlainFieldExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, with the plain fields of each selection completed by `plain_field`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Strawberry always passes a manager. It has middleware only when an extension resolves fields.
        middleware = self.middleware_manager
        self._plain_fields_allowed = middleware is None or not middleware.middlewares
        # graphql-core collects each selection once per request and type, so
        # the plan of a selection is made once, not once per object.
        self._plans: dict[int, tuple[GroupedFieldSet, _Plan | None]] = {}

    # graphql-core stores these helpers, made of the executor's bound methods, on
    # the executor: a reference cycle that kept the whole request alive until a
    # garbage collection. Built on each read, they go with the executor.
    @property
    def async_helpers(self) -> GraphQLResolveInfoHelpers:
        return GraphQLResolveInfoHelpers(gather=self.gather_async_work, track=self.track_async_work)

    @async_helpers.setter
    def async_helpers(self, _helpers: GraphQLResolveInfoHelpers) -> None:
        pass  # graphql-core's constructor assigns the same helpers

    def plan(self, parent_type: GraphQLObjectType, fields: GroupedFieldSet) -> _Plan | None:
        """Return each field of a selection in order with its PlainField or None, or None when none is plain."""
        entry = self._plans.get(id(fields))
        if entry is None or entry[0] is not fields:
            plan = [(response_name, field_details_list, self._plain_entry(parent_type, field_details_list))
                    for response_name, field_details_list in fields.items()]
            # The selection is kept with its entry, so its id is not reused during the request.
            entry = (fields, plan if any(row[2] is not None for row in plan) else None)
            self._plans[id(fields)] = entry
        return entry[1]

    @staticmethod
    def _plain_entry(parent_type: GraphQLObjectType, field_details_list: FieldDetailsList) -> PlainField | None:
        node = field_details_list[0].node
        field = parent_type.fields.get(node.name.value)
        # One node without arguments or directives: @stream and @defer need the general path.
        if len(field_details_list) != 1 or field is None or node.arguments or node.directives:
            return None
        return plain_field(field)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        plan = self.plan(parent_type, grouped_field_set) if self._plain_fields_allowed else None
        if plan is None:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)

        context = self.context_value
        values: dict[str, Any] = {}
        awaiting: list[str] = []
        others: GroupedFieldSet = {}
        try:
            for response_name, field_details_list, entry in plan:
                if entry is not None:
                    attribute = entry.attribute
                    if attribute is not None:
                        # Most fields of a page: a scalar, an enum or a list of them, read from an attribute.
                        try:
                            values[response_name] = entry.complete(getattr(source_value, attribute))
                            continue
                        except Exception:  # noqa: BLE001, S112 - graphql-core's path reads it again and reports it
                            pass
                    else:
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
        if not others:
            return values  # every field completed here, in the selection's order
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
        objects = entry.objects
        if objects is not None and value is None:
            return None if objects.nullable else NOT_PRELOADED
        if objects is not None and not _completes_directly(objects, value):
            # graphql-core's path reports the null or the wrong value; no subfield has run yet.
            return NOT_PRELOADED

        # Objects: what graphql-core's execute_field does after the resolver call.
        field_path = Path(path, response_name, parent_type.name)
        try:
            if objects is not None and objects.item_type is not None:
                completed = self._complete_items(entry.object_type, objects, value, field_details_list, field_path,
                                                 position_context)
            elif objects is not None:
                completed = self._execute_subfields(
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

    def _complete_items(
        self,
        object_type: GraphQLObjectType,
        objects: Objects,
        items: list[Any] | tuple[Any, ...],
        field_details_list: FieldDetailsList,
        field_path: Path,
        position_context: Any,
    ) -> Any:
        """Complete a list of objects that `_completes_directly` accepted, as graphql-core's list completion does."""
        item_type = objects.item_type
        completed: list[Any] = []
        awaiting: list[int] = []
        try:
            for index, item in enumerate(items):
                if item is None:
                    completed.append(None)
                    continue
                item_path = field_path.add_key(index, None)
                try:
                    value = self._execute_subfields(object_type, field_details_list, item_path, item, position_context)
                except Exception as error:  # noqa: BLE001 - reported as graphql-core reports an item's error
                    # Raises again when the item may not be null, which fails the whole list.
                    self.handle_field_error(error, item_type, field_details_list, item_path)
                    value = None
                if self.is_awaitable(value):
                    value = self._await_object(value, item_type, field_details_list, item_path)
                    awaiting.append(index)
                completed.append(value)
        except Exception:
            if awaiting:
                self.settle_in_background([completed[index] for index in awaiting])
            raise
        if awaiting:
            return _fill_when_done(completed, awaiting)
        return completed

    def _execute_subfields(
        self,
        object_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
        source: Any,
        position_context: Any,
    ) -> Any:
        """Run the subfields of an object, as graphql-core's `collect_and_execute_subfields` does.

        Outside deferred fragments, that method calls `execute_fields` through
        two other calls. This calls it directly.
        """
        if position_context is None:
            grouped_field_set, new_defer_usages, _forbidden = self.collect_subfields(object_type, field_details_list)
            if not new_defer_usages:
                return self.execute_fields(object_type, source, path, grouped_field_set, None)
        return self.collect_and_execute_subfields(object_type, field_details_list, path, source, position_context)

    async def _await_object(
        self, completed: Awaitable[Any], field_type: Any, field_details_list: FieldDetailsList, field_path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as error:  # noqa: BLE001 - reported as graphql-core reports a field's error
            self.handle_field_error(error, field_type, field_details_list, field_path)
            return None


def _completes_directly(objects: Objects, value: Any) -> bool:
    """Return whether a field's value is one object or a list or tuple of objects that need no resolve info."""
    if objects.item_type is None:
        return objects.accepts(value)
    if type(value) not in (list, tuple):
        return False  # other iterables may hold awaitables or be consumed once
    for item in value:
        if item is None:
            if not objects.item_nullable:
                return False
        elif not objects.accepts(item):
            return False
    return True


async def _fill_when_done(completed: list[Any], awaiting: list[int]) -> list[Any]:
    """Await the list items that are still completing and put each one in its place."""
    done = await gather_with_cancel(*(completed[index] for index in awaiting))
    for index, value in zip(awaiting, done, strict=True):
        completed[index] = value
    return completed


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
    # One awaitable needs no task of its own, as in graphql-core.
    done = [await pending[0]] if len(pending) == 1 else await gather_with_cancel(*pending)
    plain.update(zip(awaiting, done))
    return _merged(order, plain, done[-1] if others_pending else others)
