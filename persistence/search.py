"""The member search query on SQLite (FTS5, bm25) and PostgreSQL (tsvector, ts_rank).

`domain.search` describes the sort key and each of its parts. Text relevance
is computed per database, then scaled to an integer from 0 to 1000 relative to
the best match of the same search. Scaling is needed because raw bm25 values
shrink towards zero when a word occurs in more than half of the profiles, and
ts_rank has a scale of its own. The integer makes ties exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Float, Integer, and_, case, cast, exists, func, literal, or_, select, text
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Select, Subquery
from sqlmodel.ext.asyncio.session import AsyncSession

from persistence.models import AvailabilityPeriod, Member, Organisation, ProfileTag

# bm25 weight of each FTS5 column, in table order (names, organisation, place,
# role, topics, description). They mirror PostgreSQL's default weights of the
# labels A (1.0), B (0.4), C (0.2) and D (0.1) that the index gives the same parts.
BM25_WEIGHTS = (10.0, 10.0, 4.0, 4.0, 2.0, 1.0)
# ts_rank normalisation 1 divides by 1 + log(document length), as bm25 also
# favours shorter profiles.
TS_RANK_NORMALISATION = 1
# The best text match of a search scores this much.
SCORE_SCALE = 1000


@dataclass(frozen=True)
class SearchCriteria:
    """A validated search: words that must all match as prefixes, and filters that must all hold."""

    words: list[str]
    tags: dict[str, list[str]]  # profile_tag kind -> values, any of which matches
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


def fts5_query(words: Sequence[str]) -> str:
    """Return an FTS5 expression requiring every word as a prefix: `"lyc"* "phys"*`.

    Each word is a quoted string, so FTS5 reads operators, column names and
    wildcards in it as plain text.
    """
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


def tsquery(words: Sequence[str]) -> str:
    """Return a to_tsquery expression requiring every word as a prefix: `'lyc':* & 'phys':*`."""
    return " & ".join("'" + word.replace("\\", "\\\\").replace("'", "''") + "':*" for word in words)


def _text_matches(session: AsyncSession, words: Sequence[str]) -> Subquery:
    """Select the members whose index entry contains every word, with the database's raw relevance."""
    if _is_sqlite(session):
        weights = ", ".join(str(weight) for weight in BM25_WEIGHTS)
        statement = text(
            f"SELECT rowid AS member_id, bm25(member_search, {weights}) AS raw "
            "FROM member_search WHERE member_search MATCH :expression"
        ).bindparams(expression=fts5_query(words))
    else:
        statement = text(
            f"SELECT member_id, CAST(ts_rank(document, query, {TS_RANK_NORMALISATION}) AS double precision) AS raw "
            "FROM member_search, to_tsquery('simple', :expression) AS query WHERE document @@ query"
        ).bindparams(expression=tsquery(words))
    return statement.columns(member_id=Integer, raw=Float).subquery("text_match")


def _relevance(session: AsyncSession, raw: ColumnElement) -> ColumnElement:
    """Scale raw relevance to 0..SCORE_SCALE against the best match among the rows of the query."""
    # bm25 is negative with the best match lowest; ts_rank is positive with the best highest.
    best = func.min(raw).over() if _is_sqlite(session) else func.max(raw).over()
    ratio = raw / func.nullif(best, 0)
    return cast(func.round(func.coalesce(ratio, 1.0) * SCORE_SCALE), Integer)


def _holds_tag(kind: str, values: Sequence[str]) -> ColumnElement:
    return and_(ProfileTag.kind == kind, ProfileTag.value.in_(values))


def _conditions(side: str, viewer_id: int, criteria: SearchCriteria) -> list[ColumnElement]:
    """Who may be listed, and which filters must hold."""
    conditions: list[ColumnElement] = [
        # Active members only, as `domain.profiles.is_active` defines them. The
        # inner join on the organisation already drops members without one.
        Organisation.kind == side,
        Member.id != viewer_id,
        Member.deleted_at.is_(None),
        Member.email_verified_at.is_not(None),
        Member.search_visible.is_(True),
        Member.role.is_not(None),
        Member.role != "",
        func.json_array_length(Member.subjects) > 0,
    ]

    for kind, values in criteria.tags.items():
        # IN, not a correlated EXISTS: SQLite then reads the few members holding
        # the values from the tag index instead of probing every member's tags,
        # about five times faster with 100,000 members (bench/search.py).
        conditions.append(Member.id.in_(select(ProfileTag.member_id).where(_holds_tag(kind, values))))

    if criteria.available_from is not None or criteria.available_until is not None:
        overlap = [AvailabilityPeriod.member_id == Member.id]
        if criteria.available_from is not None:
            overlap.append(AvailabilityPeriod.ends_on >= criteria.available_from)
        if criteria.available_until is not None:
            overlap.append(AvailabilityPeriod.starts_on <= criteria.available_until)
        conditions.append(exists().where(*overlap))
    return conditions


def _matching(
    session: AsyncSession, side: str, viewer_id: int, criteria: SearchCriteria
) -> tuple[Select, Subquery | None]:
    """Build a select over every member the search finds, in no order, and return its text match subquery too."""
    text_match = _text_matches(session, criteria.words) if criteria.words else None
    statement = select(Member.id).select_from(Member).join(Organisation, Organisation.id == Member.organisation_id)
    if text_match is not None:
        statement = statement.join(text_match, text_match.c.member_id == Member.id)
    return statement.where(*_conditions(side, viewer_id, criteria)), text_match


def _ranked(session: AsyncSession, side: str, viewer_id: int, criteria: SearchCriteria, today: date) -> Subquery:
    """Build a subquery of every member the search finds, with the parts of its sort key."""
    statement, text_match = _matching(session, side, viewer_id, criteria)
    score = _relevance(session, text_match.c.raw) if text_match is not None else literal(0)

    if criteria.tags:
        any_filter_value = or_(*(_holds_tag(kind, values) for kind, values in criteria.tags.items()))
        matches = select(func.count()).where(ProfileTag.member_id == Member.id, any_filter_value).scalar_subquery()
    else:
        matches = literal(0)

    has_periods = exists().where(AvailabilityPeriod.member_id == Member.id)
    has_current = exists().where(AvailabilityPeriod.member_id == Member.id, AvailabilityPeriod.ends_on >= today)
    stale = case((and_(has_periods, ~has_current), 1), else_=0)

    return statement.with_only_columns(
        Member.id.label("member_id"),
        score.label("score"),
        matches.label("matches"),
        stale.label("stale"),
        Member.created_at.label("created_at"),
        # Every member found, counted before the keyset condition of a later page.
        func.count().over().label("total"),
    ).subquery("ranked")


def _after(ranked: Subquery, key: SortKey) -> ColumnElement:
    """Rows that sort after `key`: the keyset condition for the next page."""
    column = ranked.c
    condition: ColumnElement = column.member_id < key.member_id
    condition = or_(column.created_at < key.created_at, and_(column.created_at == key.created_at, condition))
    condition = or_(column.stale > key.stale, and_(column.stale == key.stale, condition))
    condition = or_(column.matches < key.matches, and_(column.matches == key.matches, condition))
    return or_(column.score < key.score, and_(column.score == key.score, condition))


async def count_members(session: AsyncSession, side: str, viewer_id: int, criteria: SearchCriteria) -> int:
    """Count every member the search finds."""
    statement, _text_match = _matching(session, side, viewer_id, criteria)
    result = await session.exec(statement.with_only_columns(func.count()))
    return result.scalar_one()


async def find_members(
    session: AsyncSession,
    side: str,
    viewer_id: int,
    criteria: SearchCriteria,
    *,
    today: date,
    after: SortKey | None,
    limit: int,
) -> tuple[list[tuple[Member, SortKey]], int | None]:
    """Return up to `limit` members the search finds, in result order, starting after `after`, and how many it finds.

    The count comes from the same statement, which must rank every member found
    anyway; it is None when the page is empty, so only then `count_members` runs.
    """
    ranked = _ranked(session, side, viewer_id, criteria, today)
    statement = select(Member, ranked.c.score, ranked.c.matches, ranked.c.stale, ranked.c.total).join(
        ranked, ranked.c.member_id == Member.id
    )
    if after is not None:
        statement = statement.where(_after(ranked, after))
    statement = statement.order_by(
        ranked.c.score.desc(),
        ranked.c.matches.desc(),
        ranked.c.stale.asc(),
        ranked.c.created_at.desc(),
        ranked.c.member_id.desc(),
    ).limit(limit)

    result = await session.exec(statement)
    found = []
    total = None
    for member, score, matches, stale, total in result:
        key = SortKey(score=score, matches=matches, stale=stale, created_at=member.created_at, member_id=member.id)
        found.append((member, key))
    return found, total


def _is_sqlite(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "sqlite"
