"""PlainFieldExecutor returns the same result for every query as graphql-core's own executor.

Each query runs twice on one small schema, once with Strawberry's executor
and once with ours, and the two results (data, errors, paths) must be equal.
The schema mixes plain fields with resolvers, async resolvers, arguments,
enums, nested lists, nulls and wrong values, so both paths are taken.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import pytest
import strawberry

from schema import build_schema
from schema.execution import NOT_PRELOADED, PlainFieldExecutor, direct_reader, plain_field


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"
    CRIMSON = "crimson"


@strawberry.type
class Leaf:
    label: str
    colours: list[Colour]


# The names of the items whose `detail` resolver ran.
DETAIL_RESOLVER_CALLS: list[str] = []


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Tag(Named):
    weight: int


@strawberry.type
class Detail:
    text: str
    must: str

    @strawberry.field
    async def later(self) -> str:
        return f"{self.text} later"

    @strawberry.field
    async def must_later(self) -> str:
        if self.text == "fails later":
            raise ValueError("this non-null async field fails")
        return self.must


class SpecialTag(Tag):
    """A subclass of Tag's class, which Strawberry's `is_type_of` accepts but only a call shows."""


@strawberry.type
class Checked:
    """A type with its own `is_type_of`, which must be called as graphql-core calls it."""

    label: str

    @classmethod
    def is_type_of(cls, obj, _info) -> bool:
        return isinstance(obj, Checked) and obj.label != "rejected"


@strawberry.type
class Item:
    name: str
    note: str | None
    count: int
    colour: Colour
    colours: list[Colour]
    grid: list[list[int | None]]
    must: str
    leaves: list[Leaf]
    tags: list[str] = field(default_factory=list)
    required: Detail = field(default_factory=lambda: Detail(text="required", must="yes"))
    parts: list[Detail | None] = field(default_factory=lambda: [Detail(text="part", must="yes"), None])
    strict_parts: list[Detail] = field(default_factory=lambda: [Detail(text="strict", must="yes")])
    tags_list: list[Tag] = field(default_factory=lambda: [Tag(name="t1", weight=1), SpecialTag(name="t2", weight=2)])
    tag_tuple: list[Tag | None] = field(default_factory=lambda: (Tag(name="t3", weight=3), None))
    checked: list[Checked] = field(default_factory=lambda: [Checked(label="accepted")])
    failing_parts: list[Detail | None] = field(
        default_factory=lambda: [Detail(text="fine", must="yes"), Detail(text="fails later", must="yes")]
    )
    failing_strict_parts: list[Detail] | None = field(
        default_factory=lambda: [Detail(text="fine", must="yes"), Detail(text="fails later", must="yes")]
    )
    # The second item fails at once, while the first one's async field is still pending.
    broken_strict_parts: list[Detail] | None = field(
        default_factory=lambda: [
            Detail(text="fine", must="yes"),
            Detail(text="broken", must=None),  # type: ignore[arg-type]
        ]
    )

    @strawberry.field
    def shout(self, suffix: str = "!") -> str:
        return self.name.upper() + suffix

    @strawberry.field
    async def later(self) -> str:
        return f"{self.name} later"

    @strawberry.field
    def failing(self) -> str | None:
        raise ValueError("this resolver fails")

    # Fields with a direct reader. Each resolver returns what its reader
    # returns, or something else when the reader returns NOT_PRELOADED, so
    # the results show which of the two ran.

    def _read_detail(self, context) -> Detail | None:
        if self.name == "beta":
            return NOT_PRELOADED
        return None if self.name == "empty" else Detail(text=f"{self.name} detail", must="yes")

    @strawberry.field
    @direct_reader(_read_detail)
    def detail(self) -> Detail | None:
        DETAIL_RESOLVER_CALLS.append(self.name)
        detail = self._read_detail(None)
        return Detail(text="from the resolver", must="yes") if detail is NOT_PRELOADED else detail

    def _read_broken_detail(self, context) -> Detail | None:
        return Detail(text="broken", must=None)  # type: ignore[arg-type]

    @strawberry.field
    @direct_reader(_read_broken_detail)
    def broken_detail(self) -> Detail | None:
        return self._read_broken_detail(None)

    def _read_tag(self, context) -> Tag | None:
        return Tag(name=f"{self.name} tag", weight=2)

    @strawberry.field
    @direct_reader(_read_tag)
    def tag(self) -> Tag | None:
        return self._read_tag(None)

    def _read_context_word(self, context) -> str | None:
        return context["word"] if context else None

    @strawberry.field
    @direct_reader(_read_context_word)
    def context_word(self, info: strawberry.Info) -> str | None:
        return self._read_context_word(info.context)

    def _read_upper(self, context) -> str:
        raise ValueError("the reader fails, so the resolver runs")

    @strawberry.field
    @direct_reader(_read_upper)
    def upper(self) -> str:
        return self.name.upper()


@dataclass
class BadItem:
    """An object whose plain fields contain values of the wrong kind for their GraphQL type."""

    name: object = None
    note: object = None
    count: object = "many"
    colour: object = "purple"
    colours: object = "RED"
    grid: object = field(default_factory=lambda: [[1, "x"]])
    must: object = None
    leaves: object = field(default_factory=list)
    tags: object = field(default_factory=lambda: [None])
    required: object = None
    parts: object = field(default_factory=lambda: [Detail(text="part", must=None), None, "not a detail"])
    strict_parts: object = field(default_factory=lambda: [Detail(text="strict", must="yes"), None])
    tags_list: object = field(default_factory=lambda: [Tag(name="t1", weight=1), Detail(text="not a tag", must="no")])
    tag_tuple: object = field(default_factory=lambda: (tag for tag in [Tag(name="generated", weight=4), None]))
    checked: object = field(default_factory=lambda: [Checked(label="accepted"), Checked(label="rejected")])


def _item(name: str = "alpha") -> Item:
    return Item(
        name=name, note=None, count=3, colour=Colour.CRIMSON, colours=[Colour.RED, Colour.GREEN],
        grid=[[1, None], [2]], must="yes", leaves=[Leaf(label="l1", colours=[Colour.GREEN])], tags=["a", "b"],
    )


@strawberry.type
class Query:
    @strawberry.field
    def item(self) -> Item:
        return _item()

    @strawberry.field
    def items(self) -> list[Item]:
        return [_item("alpha"), _item("beta"), _item("empty")]

    @strawberry.field
    def bad(self) -> Item | None:
        return BadItem()  # type: ignore[return-value]

    @strawberry.field
    def bad_list(self) -> list[Item | None]:
        return [_item(), BadItem()]  # type: ignore[list-item]

    @strawberry.field
    def cast_tag(self) -> Item | None:
        # A value Strawberry's `is_type_of` accepts by its cast, not by its class.
        return BadItem(tags_list=[strawberry.cast(Tag, Detail(text="cast", must="yes"))])  # type: ignore[return-value]


def _schemas() -> tuple[strawberry.Schema, strawberry.Schema]:
    return strawberry.Schema(query=Query), strawberry.Schema(query=Query, execution_context_class=PlainFieldExecutor)


QUERIES = [
    "{ item { name note count colour colours grid must tags } }",
    "{ items { name colours leaves { label colours } } }",
    # Aliases, resolvers and plain fields interleaved: the keys keep the query's order.
    "{ item { b: count shout a: name later other: shout(suffix: '?') name colour } }".replace("'", '"'),
    "{ item { name failing count } }",
    "query ($yes: Boolean!) { item { name @include(if: $yes) count @skip(if: $yes) note } }",
    "{ item { name name n2: name } }",
    "{ item { ...F count } } fragment F on Item { name colours }",
    "{ item { __typename name } }",
    # Wrong values: the errors and their paths must be graphql-core's.
    "{ bad { note } }",
    "{ bad { name } }",
    "{ bad { must } }",
    "{ bad { count } }",
    "{ bad { colour } }",
    "{ bad { colours } }",
    "{ bad { grid } }",
    "{ bad { tags } }",
    "{ badList { name must tags } }",
    # Direct readers: objects, nulls, an interface type, the context, NOT_PRELOADED and a failing reader.
    "{ items { name detail { text later must } tag { name weight } contextWord upper } }",
    "{ item { detail { ... on Detail { text } } tag { ... on Named { name } __typename } } }",
    "{ item { brokenDetail { text must } name } }",
    "{ items { b: brokenDetail { must } detail { later } } }",
    # Objects in lists and non-null objects, read without a resolver.
    "{ items { required { text later } parts { text must later } strictParts { text } } }",
    "{ bad { required { text } } }",
    "{ bad { parts { text must } } }",
    "{ bad { strictParts { text } } }",
    "{ badList { parts { must } name } }",
    # Lists of objects with a type check: Strawberry's own, where the class decides, and the application's.
    "{ item { tagsList { name weight } tagTuple { name } checked { label } } }",
    "{ bad { tagsList { name } } }",
    "{ bad { tagTuple { name } } }",
    "{ bad { checked { label } } }",
    "{ castTag { tagsList { name } } }",
    # Async subfields that fail inside list items: the item, or the whole list, becomes null.
    "{ item { failingParts { text mustLater } name } }",
    "{ item { failingStrictParts { text mustLater } name } }",
    "{ item { brokenStrictParts { mustLater must } name } }",
    "{ items { strictParts { mustLater } } }",
]


@pytest.mark.parametrize("query", QUERIES)
async def test_results_equal_graphql_cores(query):
    general, plain = _schemas()

    expected = await general.execute(query, variable_values={"yes": True}, context_value={"word": "hello"})
    actual = await plain.execute(query, variable_values={"yes": True}, context_value={"word": "hello"})

    assert actual.data == expected.data
    assert list(_keys(actual.data)) == list(_keys(expected.data))
    assert [(error.message, error.path) for error in actual.errors or ()] == [
        (error.message, error.path) for error in expected.errors or ()
    ]


def _keys(value):
    """Every key of a result in order, depth first."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def test_plain_fields_of_item_type():
    graphql_schema = strawberry.Schema(query=Query)._schema
    fields = graphql_schema.type_map["Item"].fields

    plain = {name for name, item_field in fields.items() if plain_field(item_field) is not None}

    # Resolvers without a direct reader (shout, later, failing) take graphql-core's path.
    assert plain == {
        "name", "note", "count", "colour", "colours", "grid", "must", "tags", "leaves", "required", "parts",
        "strictParts", "tagsList", "tagTuple", "checked", "failingParts", "failingStrictParts", "brokenStrictParts",
        "detail", "brokenDetail", "tag", "contextWord", "upper",
    }


def test_objects_needing_resolve_info():
    graphql_schema = strawberry.Schema(query=Query)._schema
    fields = graphql_schema.type_map["Item"].fields

    # Checked has an `is_type_of` of its own, which may read the resolve info.
    assert plain_field(fields["checked"]).objects is None
    # Tag's `is_type_of` is Strawberry's, which accepts instances of Tag's class.
    assert plain_field(fields["tagsList"]).objects.origin is Tag
    # Detail has no `is_type_of` at all.
    assert plain_field(fields["strictParts"]).objects.origin is None


async def test_plain_fields_skip_the_resolve_info():
    """The point of the executor: a plain field is completed without graphql-core's resolve info."""
    built = []

    class CountingExecutor(PlainFieldExecutor):
        def build_resolve_info(self, field_def, field_nodes, parent_type, path):
            built.append(f"{parent_type.name}.{field_nodes[0].name.value}")
            return super().build_resolve_info(field_def, field_nodes, parent_type, path)

    schema = strawberry.Schema(query=Query, execution_context_class=CountingExecutor)

    result = await schema.execute(
        "{ item { name count colours shout later detail { text } tag { name } required { text } "
        "strictParts { text } leaves { label } tagsList { name } checked { label } } }"
    )

    assert result.errors is None
    # Only the resolvers without a reader, the SpecialTag in tagsList (not of Tag's own class) and the
    # list whose type has its own `is_type_of` get a resolve info.
    assert sorted(built) == ["Item.checked", "Item.later", "Item.shout", "Item.tagsList", "Query.item"]


async def test_direct_reader_replaces_resolver():
    _general, plain = _schemas()
    DETAIL_RESOLVER_CALLS.clear()

    result = await plain.execute("{ items { name detail { text } } }")

    assert result.errors is None
    # alpha's and empty's values come from the reader, beta's from the resolver after NOT_PRELOADED.
    assert DETAIL_RESOLVER_CALLS == ["beta"]
    assert result.data == {"items": [
        {"name": "alpha", "detail": {"text": "alpha detail"}},
        {"name": "beta", "detail": {"text": "from the resolver"}},
        {"name": "empty", "detail": None},
    ]}


def test_service_schema_uses_executor():
    assert build_schema().execution_context_class is PlainFieldExecutor
