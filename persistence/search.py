"""The member search query on SQLite (FTS5) and PostgreSQL (tsvector with GIN).

`domain.search` describes the sort key and each of its parts. The full-text
index finds the candidates: by their words, and on SQLite also by the values
of the list filters, which lets SQLite count them from the index alone.
SQLite keeps one full-text table per side and reads only the searched side's.
Everything else a search filters and ranks on is read from the candidate's
`member_listing` row, one row per candidate.
Text relevance counts, for each word, the weight of the most important part
of the profile containing a word that starts with it, from the listing's word
columns. Both databases compute it with the same string test, so they rank
alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Date, Integer, String, and_, bindparam, case, exists, func, literal, literal_column, or_, select, table, text,
    inspect, union_all,
)
from sqlalchemy.engine import Row
from sqlalchemy.orm import Bundle, aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select, Subquery
from sqlmodel.ext.asyncio.session import AsyncSession

from persistence import contact_requests as request_table
from persistence.models import ActivityProfile, AvailabilityPeriod, ContactRequest, Member, MemberListing, Organisation
from persistence.search_index import FIELDS, FILTER_COLUMN, MASK_COLUMNS, SQLITE_TEXT_TABLES, filter_word, tag_bit

# The weight of a word by the part of the profile it is found in: names and
# organisation, city and role, subjects and topics. A word that matched but is
# in none of these parts is in the description.
WORD_WEIGHTS = (("words_first", 8), ("words_second", 4), ("words_third", 2))
DESCRIPTION_WEIGHT = 1


@dataclass(frozen=True)
class SearchCriteria:
    """A validated search: words that must all match as prefixes, and filters that must all hold."""

    words: list[str]
    tags: dict[str, list[str]]  # "country", "topic", "length" or "age" -> values, any of which matches
    available_from: date | None = None
    available_until: date | None = None


@dataclass(frozen=True)
class SortKey:
    """A member's position in the results; the fields compare in the order listed."""

    score: int  # text relevance, higher first
    matches: int  # filter values held, more first
    stale: int  # 1 when every availability period has ended, 0 first
    created_at: datetime  # newer first
    member_id: int  # higher first


# A read-only row of a model's columns, read by attribute as the model is
# (see `_values`). A result list needs no ORM object for the rows it only shows.
Values = Row[Any]


@dataclass(frozen=True)
class Found:
    """One member a search found, with what a result list shows beside it."""

    member: Member
    organisation: Values | None  # the columns of `Organisation` except its timestamps
    activity_profile: Values | None  # the columns of `ActivityProfile` except its timestamp
    latest_request: Values | None  # the columns of `ContactRequest`: the latest between the viewer and the member
    exchange: tuple[bool, bool]  # as `contact_requests.exchanges_with` returns for the member
    sort_key: SortKey


def fts5_query(words: Sequence[str]) -> str:
    """Return an FTS5 expression requiring every word as a prefix: `"lyc"* "phys"*`.

    Each word is a quoted string, so FTS5 reads operators, column names and
    wildcards in it as plain text.
    """
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


def fts5_expression(criteria: SearchCriteria) -> str:
    """Return the FTS5 expression of a search's words and list filters, without the side.

    The words must match in the profile's text columns; each list filter must
    match one of its words in the filter column (`search_index.FILTER_COLUMN`).
    The search must have words or list filters.
    """
    parts = []
    if criteria.words:
        parts.append(f"{{{' '.join(FIELDS)}}} : ({fts5_query(criteria.words)})")
    for kind, values in criteria.tags.items():
        words = " OR ".join(filter_word(kind, value) for value in values)
        parts.append(f"{{{FILTER_COLUMN}}} : ({words})")
    return " AND ".join(parts)


def tsquery(words: Sequence[str]) -> str:
    """Return a to_tsquery expression requiring every word as a prefix: `'lyc':* & 'phys':*`."""
    return " & ".join("'" + word.replace("\\", "\\\\").replace("'", "''") + "':*" for word in words)


@dataclass(frozen=True)
class _Shape:
    """What a search statement's SQL depends on; the values are bound when it runs.

    Searches of one shape share one statement object, so SQLAlchemy builds it
    and computes its cache key once instead of on every search.
    """

    sqlite: bool
    other_side: tuple[tuple[str, str], ...]  # the viewer's kind -> the kind they search
    words: int
    tags: tuple[tuple[str, int], ...]  # (kind, number of values) of each list filter
    available_from: bool
    available_until: bool
    after: bool = False


def _uses_index(shape: _Shape) -> bool:
    """Return whether the candidates come from the full-text index: with words, or on SQLite with list filters too.

    SQLite's index also contains the filter words. Intersecting their lists
    found the 1,400 matches of countries plus a length among 100,000 members
    in 1.3 ms, where reading the listing rows of the two countries took the
    whole statement from 4.2 to 5.6 ms (bench/search.py, 2-core Intel Xeon).
    """
    return bool(shape.words) or (shape.sqlite and bool(shape.tags))


def _shape(session: AsyncSession, other_side: Mapping[str, str], criteria: SearchCriteria) -> _Shape:
    return _Shape(
        sqlite=_is_sqlite(session),
        other_side=tuple(sorted(other_side.items())),
        words=len(criteria.words),
        tags=tuple((kind, len(values)) for kind, values in criteria.tags.items()),
        available_from=criteria.available_from is not None,
        available_until=criteria.available_until is not None,
    )


def _parameters(
    shape: _Shape, viewer_organisation_id: int, viewer_id: int, criteria: SearchCriteria
) -> dict[str, object]:
    """Return the values of the bound parameters of a statement of `shape`."""
    values: dict[str, object] = {"viewer_organisation_id": viewer_organisation_id, "viewer_id": viewer_id}
    if _uses_index(shape):
        values["expression"] = fts5_expression(criteria) if shape.sqlite else tsquery(criteria.words)
    if criteria.words:
        values.update({f"word_{index}": " " + word for index, word in enumerate(criteria.words)})
    for kind, tag_values in criteria.tags.items():
        if kind == "country":
            values["countries"] = list(tag_values)
        else:
            values[f"{kind}_mask"] = sum(tag_bit(kind, value) for value in tag_values)
            values.update({f"{kind}_{index}": tag_bit(kind, value) for index, value in enumerate(tag_values)})
    values["available_from"] = criteria.available_from
    values["available_until"] = criteria.available_until
    return values


def _counted_by_index(shape: _Shape) -> bool:
    """Return whether the full-text index alone can count what a search finds: on SQLite, with no availability filter.

    Each side's table contains the filter words of exactly the listed members
    of that side, written with their listing rows, so the count is the same.
    """
    return shape.sqlite and _uses_index(shape) and not (shape.available_from or shape.available_until)


# An FTS5 expression that matches no entry: side words are no longer indexed.
_NO_MATCH = f"{{{FILTER_COLUMN}}} : {filter_word('side', 'none')}"


def _index_expression(shape: _Shape, side: str) -> ColumnElement:
    """Return the full-text expression for SQLite's table of `side`: the bound one when the search lists that side.

    For the other side's table it is an expression that matches nothing, so
    FTS5 reads one term there instead of evaluating the search.
    """
    return case((_side(shape) == side, bindparam("expression", type_=String)), else_=literal(_NO_MATCH))


def _index_count(shape: _Shape) -> Select:
    """Build the statement counting the members a search finds from the full-text index alone.

    Valid only when `_counted_by_index` is true for the shape.
    """
    counts = [
        select(func.count())
        .select_from(table(name))
        .where(
            literal_column(name).op("MATCH")(_index_expression(shape, side)),
            literal_column("rowid", Integer) != bindparam("viewer_id", type_=Integer),
        )
        .scalar_subquery()
        for side, name in SQLITE_TEXT_TABLES.items()
    ]
    total = counts[0]
    for count in counts[1:]:
        total = total + count
    return select(total)


def _text_matches(shape: _Shape) -> Subquery:
    """Select the ids of the members whose index entry contains every word.

    On SQLite the entry must be in the searched side's table and contain a
    value of each list filter, so that the full-text index alone narrows the
    candidates. A search with list filters and no words finds its candidates
    this way too. The listing conditions check the same again.
    """
    if shape.sqlite:
        return union_all(*(
            select(literal_column("rowid", Integer).label("member_id"))
            .select_from(table(name))
            .where(literal_column(name).op("MATCH")(_index_expression(shape, side)))
            for side, name in SQLITE_TEXT_TABLES.items()
        )).subquery("text_match")
    else:
        statement = text("SELECT member_id FROM member_search WHERE document @@ to_tsquery('simple', :expression)")
    return statement.columns(member_id=Integer).subquery("text_match")


def _side(shape: _Shape) -> ColumnElement:
    """Return the side the viewer searches, from the kind of the viewer's organisation."""
    organisation_id = bindparam("viewer_organisation_id", type_=Integer)
    kind = select(Organisation.kind).where(Organisation.id == organisation_id).scalar_subquery()
    return case(*((kind == own, other) for own, other in shape.other_side))


def _has_values(kind: str, count: int) -> list[ColumnElement]:
    """Return one condition per distinct value of a list filter, true when the listing has that value."""
    if kind == "country":
        organisation, profile = MemberListing.country_code, MemberListing.profile_country_code
        countries = bindparam("countries", expanding=True)
        # A profile in the organisation's country counts one country, not two.
        return [organisation.in_(countries), and_(profile.in_(countries), profile != organisation)]
    mask = getattr(MemberListing, MASK_COLUMNS[kind])
    return [mask.op("&")(bindparam(f"{kind}_{index}", type_=Integer)) != 0 for index in range(count)]


def _has_any_value(kind: str) -> ColumnElement:
    """Return the condition that the listing has at least one of a list filter's values."""
    if kind == "country":
        countries = bindparam("countries", expanding=True)
        # Two IN conditions joined by OR, so PostgreSQL can read each from its index.
        return or_(MemberListing.country_code.in_(countries), MemberListing.profile_country_code.in_(countries))
    mask = getattr(MemberListing, MASK_COLUMNS[kind])
    return mask.op("&")(bindparam(f"{kind}_mask", type_=Integer)) != 0


def _conditions(shape: _Shape) -> list[ColumnElement]:
    """Who may be listed, and which filters must hold."""
    listed_side = MemberListing.side
    if _uses_index(shape) and shape.sqlite:
        # With the full-text index, SQLite must start from its matches and
        # read each one's listing row by its key. Appending an empty string keeps the
        # side out of the choice of index, which would otherwise lead SQLite to
        # scan the side's listing rows and look each up in the full-text index,
        # hundreds of times slower for common words (bench/search.py).
        listed_side = listed_side.concat("")
    conditions: list[ColumnElement] = [
        listed_side == _side(shape),
        MemberListing.member_id != bindparam("viewer_id", type_=Integer),
    ]

    for kind, _count in shape.tags:
        conditions.append(_has_any_value(kind))

    if shape.available_from or shape.available_until:
        overlap = [AvailabilityPeriod.member_id == MemberListing.member_id]
        if shape.available_from:
            overlap.append(AvailabilityPeriod.ends_on >= bindparam("available_from", type_=Date))
        if shape.available_until:
            overlap.append(AvailabilityPeriod.starts_on <= bindparam("available_until", type_=Date))
        conditions.append(exists().where(*overlap))
    return conditions


def _matching(shape: _Shape, *columns: ColumnElement) -> Select:
    """Select `columns` of every member the search finds, in no order."""
    statement = select(*columns)
    if _uses_index(shape):
        text_match = _text_matches(shape)
        statement = statement.select_from(text_match).join(
            MemberListing, MemberListing.member_id == text_match.c.member_id
        )
    else:
        statement = statement.select_from(MemberListing)
    return statement.where(*_conditions(shape))


def _word_score(shape: _Shape, index: int) -> ColumnElement:
    """Return the weight of the most important part of the profile containing a word that starts with word `index`."""
    # Each word of a word column follows one space, so a word starts with
    # `word` exactly when " " + word occurs in the column. The parameter
    # contains " " + word.
    position = func.instr if shape.sqlite else func.strpos
    needle = bindparam(f"word_{index}", type_=String)
    return case(
        *((position(getattr(MemberListing, column), needle) > 0, weight) for column, weight in WORD_WEIGHTS),
        else_=DESCRIPTION_WEIGHT,
    )


def _ranked(shape: _Shape) -> Subquery:
    """Build a subquery of every member the search finds, with the parts of its sort key."""
    score: ColumnElement = literal(0)
    for index in range(shape.words):
        score = score + _word_score(shape, index)

    matches: ColumnElement = literal(0)
    for kind, count in shape.tags:
        for has_value in _has_values(kind, count):
            matches = matches + case((has_value, 1), else_=0)

    stale = case((MemberListing.period_end < bindparam("today", type_=Date), 1), else_=0)
    columns = [
        MemberListing.member_id.label("member_id"),
        score.label("score"),
        matches.label("matches"),
        stale.label("stale"),
        MemberListing.created_at.label("created_at"),
    ]
    if not _counted_by_index(shape):
        # Every member found, counted before the keyset condition of a later page.
        columns.append(func.count().over().label("total"))
    return _matching(shape, *columns).subquery("ranked")


def _after(ranked: Subquery) -> ColumnElement:
    """Rows that sort after the bound `after_*` key: the keyset condition for the next page."""
    column = ranked.c
    key = {name: bindparam(f"after_{name}", type_=column[name].type)
           for name in ("score", "matches", "stale", "created_at", "member_id")}
    condition: ColumnElement = column.member_id < key["member_id"]
    condition = or_(column.created_at < key["created_at"], and_(column.created_at == key["created_at"], condition))
    condition = or_(column.stale > key["stale"], and_(column.stale == key["stale"], condition))
    condition = or_(column.matches < key["matches"], and_(column.matches == key["matches"], condition))
    return or_(column.score < key["score"], and_(column.score == key["score"], condition))


def _result_order(page) -> list[ColumnElement]:
    column = page.c
    return [column.score.desc(), column.matches.desc(), column.stale.asc(), column.created_at.desc(),
            column.member_id.desc()]


# The latest request of each member found, read from a second copy of its table.
_LatestRequest = aliased(ContactRequest, name="latest_request")


def _values(name: str, entity: Any, *, without: tuple[str, ...] = ()) -> Bundle:
    """Select the columns of `entity` (a model or an alias of one), except those named in `without`, as one `Values` row.

    Such a row needs no instance state, identity map entry or SQLModel object,
    which made a page of 20 results 0.37 ms faster (BENCHMARKS.md).
    """
    table = inspect(entity).mapper.local_table
    return Bundle(name, *(getattr(entity, column.key) for column in table.columns if column.key not in without))


# The page never shows when an organisation or an activity profile was written, so the
# statement leaves those timestamps out, which saves parsing 60 of them per page of 20.
_TIMESTAMPS = ("created_at", "updated_at")


@lru_cache(maxsize=256)
def _page_statement(shape: _Shape) -> Select:
    """Build the statement of one page of results, with each member's rows beside it."""
    ranked = _ranked(shape)
    page = select(ranked)
    if shape.after:
        page = page.where(_after(ranked))
    # The page is cut before the joins, so they read `limit` rows only.
    page = page.order_by(*_result_order(ranked)).limit(bindparam("limit", type_=Integer)).subquery("page")

    viewer_id = bindparam("viewer_id", type_=Integer)
    sent, accepted = request_table.exchange_conditions(viewer_id, page.c.member_id)
    latest = _LatestRequest
    # SQLite computes `count(*) OVER ()` by writing every ranked row to a
    # temporary table and reading it back: 11 of the 26 ms of a search finding
    # 10,000 members. Counting the index entries takes 4 ms (bench/search.py,
    # 2-core Intel Xeon).
    total = _index_count(shape).scalar_subquery() if _counted_by_index(shape) else page.c.total
    return (
        select(
            Member,
            _values("organisation", Organisation, without=_TIMESTAMPS),
            _values("activity_profile", ActivityProfile, without=_TIMESTAMPS),
            _values("latest_request", latest), sent, accepted,
            page.c.score, page.c.matches, page.c.stale, total.label("total"),
        )
        .select_from(page)
        .join(Member, Member.id == page.c.member_id)
        .outerjoin(Organisation, Organisation.id == Member.organisation_id)
        .outerjoin(ActivityProfile, ActivityProfile.member_id == Member.id)
        .outerjoin(latest, latest.id == request_table.latest_request_id(viewer_id, page.c.member_id))
        .order_by(*_result_order(page))
    )


@lru_cache(maxsize=256)
def _count_statement(shape: _Shape) -> Select:
    return _index_count(shape) if _counted_by_index(shape) else _matching(shape, func.count())


async def count_members(
    session: AsyncSession,
    viewer_organisation_id: int,
    other_side: Mapping[str, str],
    viewer_id: int,
    criteria: SearchCriteria,
) -> int:
    """Count every member the search finds."""
    shape = _shape(session, other_side, criteria)
    parameters = _parameters(shape, viewer_organisation_id, viewer_id, criteria)
    result = await session.exec(_count_statement(shape), params=parameters)
    return result.scalar_one()


async def find_members(
    session: AsyncSession,
    viewer_organisation_id: int,
    other_side: Mapping[str, str],
    viewer_id: int,
    criteria: SearchCriteria,
    *,
    today: date,
    after: SortKey | None,
    limit: int,
) -> tuple[list[Found], int | None]:
    """Return up to `limit` members the search finds, in result order, starting after `after`, and how many it finds.

    The viewer searches the side that `other_side` maps the kind of their
    organisation to. Each member comes with its organisation, activity profile
    and contact requests with the viewer, read by the same statement. The count
    comes from that statement too, which must rank every member found anyway;
    it is None when the page is empty, so only then `count_members` runs.
    """
    shape = replace(_shape(session, other_side, criteria), after=after is not None)
    parameters = _parameters(shape, viewer_organisation_id, viewer_id, criteria)
    parameters.update(today=today, limit=limit)
    if after is not None:
        parameters.update({f"after_{name}": value for name, value in asdict(after).items()})

    result = await session.exec(_page_statement(shape), params=parameters)
    found = []
    total = None
    for member, organisation, profile, request, owner_sent, owner_accepted, score, matches, stale, total in result:
        key = SortKey(score=score, matches=matches, stale=stale, created_at=member.created_at, member_id=member.id)
        found.append(Found(
            member=member,
            # An outer join that found no row gives a bundle of nulls.
            organisation=organisation if organisation.id is not None else None,
            activity_profile=profile if profile.member_id is not None else None,
            latest_request=request if request.id is not None else None,
            exchange=(bool(owner_sent), bool(owner_accepted)),
            sort_key=key,
        ))
    return found, total


def _is_sqlite(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "sqlite"
