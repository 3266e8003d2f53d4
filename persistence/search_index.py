"""The member search index, rewritten in the same transaction as every profile change.

Three parts, all derived from `Member`, `Organisation` and `ActivityProfile`:

- Full text. SQLite uses one FTS5 table per side (`SQLITE_TEXT_TABLES`),
  whose rowid is the member id, with one column per weighted part;
  PostgreSQL uses `member_search`, a weighted tsvector with a GIN index. Both
  index text normalised here (lower case, accents removed), so the two
  databases see the same words.
- `member_listing`: one row per member a search may list, with everything a
  search filters and ranks on: side, countries, list values as bit masks, the
  newest availability date and the words of each weighted part.
- `availability_period`: one row per availability period, for overlap filters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import TextClause, delete, insert, text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from persistence.models import ActivityProfile, AvailabilityPeriod, Member, MemberListing, Organisation

# Weighted parts of the index, most important first. PostgreSQL labels them A to D.
FIELDS = ("names", "organisation", "place", "role", "topics", "description")
_PG_WEIGHTS = {"names": "A", "organisation": "A", "place": "B", "role": "B", "topics": "C", "description": "D"}
# The listing's word columns: the parts labelled A, B and C. A word found only
# in the description (D) is known to match from the full-text index alone.
LISTING_WORDS = {
    "words_first": ("names", "organisation"),
    "words_second": ("place", "role"),
    "words_third": ("topics",),
}

# SQLite's full-text tables also have, in this column, one word per value a
# search filters on ("countryde", "topicphysics"), so a search with free text
# and filters finds its candidates in the full-text index alone.
FILTER_COLUMN = "filters"

# SQLite's full-text table of the members of each side (the kind of their
# organisation). A search reads only the side it lists, so the index needs no
# side word, which every search would otherwise intersect with the half of
# all entries that contain it.
SQLITE_TEXT_TABLES = {"SCHOOL": "member_search_school", "COMPANY": "member_search_company"}

# Bit i of a listing mask is set when the profile has value i of the kind's
# list. The names are those of `domain.vocabulary` (a test keeps them equal).
# A new value goes at the end: moving one would misread every stored mask.
TAG_BITS = {
    "topic": (
        "MATHEMATICS", "PHYSICS", "CHEMISTRY", "BIOLOGY", "COMPUTER_SCIENCE", "ENGINEERING", "TECHNOLOGY",
        "EARTH_AND_ENVIRONMENT", "SPACE", "HEALTH_AND_MEDICINE", "ENERGY", "ROBOTICS", "DATA_AND_AI", "OTHER",
    ),
    "length": ("SINGLE_LESSON", "HALF_DAY", "FULL_DAY", "MULTIPLE_SESSIONS", "LONG_TERM_PROJECT"),
    "age": ("AGES_6_9", "AGES_10_12", "AGES_13_15", "AGES_16_19"),
}
# The listing column holding each kind's mask.
MASK_COLUMNS = {"topic": "topics", "length": "lengths", "age": "ages"}

# Members per statement in `refresh_members`, well under the bound-parameter limits.
_BATCH = 500

# Letters and digits only: the underscore counts as a separator, as it does for
# SQLite's unicode61 tokenizer.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def normalise_search_text(value: str) -> str:
    """Lower-case `value` and strip accents, so 'Zürich' and 'zurich' index and match alike."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(character for character in decomposed if not unicodedata.combining(character))


def search_words(value: str) -> list[str]:
    """Split free text into normalised words; punctuation and query syntax are dropped."""
    return _WORD.findall(normalise_search_text(value))


def _topic_words(names: Iterable[str]) -> str:
    return " ".join(name.replace("_", " ") for name in names)


def index_fields(
    member: Member, organisation: Organisation | None, profile: ActivityProfile | None
) -> dict[str, str]:
    """Return the normalised text of each weighted part of the member's index entry."""
    topics = list(member.subjects or [])
    if profile is not None:
        topics += [topic for topic in profile.stem_topics if topic not in topics]
    fields = {
        "names": f"{member.first_name} {member.last_name}",
        "organisation": organisation.name if organisation else "",
        "place": " ".join(filter(None, [organisation.city if organisation else None])),
        "role": member.role or "",
        "topics": _topic_words(topics),
        "description": (profile.description or "") if profile else "",
    }
    # Stored as the words of `search_words` joined by spaces, so FTS5's tokenizer and
    # PostgreSQL's parser receive plain words and split them alike. Otherwise PostgreSQL
    # would keep '3.14' or an e-mail address as one token where FTS5 makes two.
    return {name: " ".join(search_words(value)) for name, value in fields.items()}


def filter_word(kind: str, value: str) -> str:
    """Return the word of `FILTER_COLUMN` for one value a search filters on: kind and value, letters and digits only."""
    return "".join(character for character in f"{kind}{value}".lower() if character.isalnum())


def filter_words(listing: dict[str, Any]) -> str:
    """Return the `FILTER_COLUMN` text of a `listing_values` row."""
    words = [filter_word("country", code) for code in {listing["country_code"], listing["profile_country_code"]}]
    for kind, column in MASK_COLUMNS.items():
        words += [filter_word(kind, value) for value in TAG_BITS[kind] if listing[column] & tag_bit(kind, value)]
    return " ".join(sorted(words))


def tag_bit(kind: str, value: str) -> int:
    """Return the mask bit of one list value of `kind` ("topic", "length" or "age")."""
    return 1 << TAG_BITS[kind].index(value)


def _mask(kind: str, values: Iterable[str]) -> int:
    mask = 0
    for value in values:
        mask |= tag_bit(kind, value)
    return mask


def is_listed(member: Member, organisation: Organisation | None) -> bool:
    """Return whether a search may list `member`: active as `domain.profiles.is_active` defines it, and visible."""
    return (
        member.deleted_at is None
        and member.email_verified_at is not None
        and member.search_visible
        and organisation is not None
        and bool(member.role)
        and bool(member.subjects)
    )


def listing_values(
    member: Member, organisation: Organisation | None, profile: ActivityProfile | None, fields: dict[str, str]
) -> dict[str, Any] | None:
    """Return the `member_listing` row of `member` as column values, or None when it must not be listed.

    `fields` is what `index_fields` returns for the same member.
    """
    if not is_listed(member, organisation):
        return None
    topics = list(member.subjects)
    profile_country = organisation.country_code
    period_end = None
    lengths: list[str] = []
    ages: list[str] = []
    if profile is not None:
        topics += profile.stem_topics
        lengths = profile.activity_lengths
        ages = profile.age_groups
        profile_country = profile.country_code
        if profile.availability:
            period_end = max(date.fromisoformat(period["until"]) for period in profile.availability)
    words = {column: _listing_words(fields[part] for part in parts) for column, parts in LISTING_WORDS.items()}
    return {
        "member_id": member.id,
        "side": organisation.kind,
        "created_at": member.created_at,
        "period_end": period_end,
        "country_code": organisation.country_code,
        "profile_country_code": profile_country,
        "topics": _mask("topic", topics),
        "lengths": _mask("length", lengths),
        "ages": _mask("age", ages),
        **words,
    }


async def refresh_member(session: AsyncSession, member: Member) -> None:
    """Rewrite every index row of `member` from its current profile; remove them when it must not be listed."""
    await refresh_members(session, [member])


async def refresh_members(session: AsyncSession, members: Sequence[Member]) -> None:
    """Rewrite the index rows of many members at once.

    Each table is written with one multi-row statement per batch instead of
    several statements per member, which makes bulk loads such as the demo
    data many times faster.
    """
    for start in range(0, len(members), _BATCH):
        await _refresh_batch(session, members[start : start + _BATCH])


async def _refresh_batch(session: AsyncSession, members: Sequence[Member]) -> None:
    ids = [member.id for member in members]
    await session.exec(delete(MemberListing).where(MemberListing.member_id.in_(ids)))
    await session.exec(delete(AvailabilityPeriod).where(AvailabilityPeriod.member_id.in_(ids)))
    listed_ids = ", ".join(str(int(i)) for i in ids)
    if _is_sqlite(session):
        # A member whose organisation changed kind moves to the other side's table.
        for name in SQLITE_TEXT_TABLES.values():
            await session.exec(text(f"DELETE FROM {name} WHERE rowid IN ({listed_ids})"))
    else:
        await session.exec(text(f"DELETE FROM member_search WHERE member_id IN ({listed_ids})"))

    organisation_ids = {member.organisation_id for member in members if member.organisation_id is not None}
    organisations = {}
    if organisation_ids:
        found = await session.exec(select(Organisation).where(Organisation.id.in_(organisation_ids)))
        organisations = {organisation.id: organisation for organisation in found}
    found = await session.exec(select(ActivityProfile).where(ActivityProfile.member_id.in_(ids)))
    profiles = {profile.member_id: profile for profile in found}

    rows = index_rows(members, organisations, profiles)
    if _is_sqlite(session):
        for side, texts in _texts_by_side(rows).items():
            await session.exec(sqlite_text_insert(side), params=texts)
    elif rows.texts:
        await session.exec(POSTGRESQL_TEXT_INSERT, params=rows.texts)
    if rows.listings:
        await session.exec(insert(MemberListing), params=rows.listings)
    if rows.periods:
        await session.exec(insert(AvailabilityPeriod), params=rows.periods)


@dataclass
class IndexRows:
    """The rows of each index table for a set of members, as column values."""

    texts: list[dict[str, Any]] = field(default_factory=list)  # in the order of `listings`
    listings: list[dict[str, Any]] = field(default_factory=list)
    periods: list[dict[str, Any]] = field(default_factory=list)


def _listing_words(parts: Iterable[str]) -> str:
    """Join the words of `parts` for a listing word column, each after one space: " lyon physics teacher".

    A word of the column then starts with a search word exactly where " " +
    that word occurs, which a search tests without building a string per row.
    """
    return "".join(" " + word for part in parts for word in part.split())


def index_rows(
    members: Iterable[Member], organisations: dict[int, Organisation], profiles: dict[int, ActivityProfile]
) -> IndexRows:
    """Return the index rows of `members`; members who must not be listed get none."""
    rows = IndexRows()
    for member in members:
        organisation = organisations.get(member.organisation_id)
        profile = profiles.get(member.id)
        fields = index_fields(member, organisation, profile)
        listing = listing_values(member, organisation, profile, fields)
        if listing is None:
            continue
        rows.texts.append({"id": member.id, **fields, FILTER_COLUMN: filter_words(listing)})
        rows.listings.append(listing)
        for period in profile.availability if profile is not None else ():
            rows.periods.append({
                "member_id": member.id,
                "starts_on": date.fromisoformat(period["from"]),
                "ends_on": date.fromisoformat(period["until"]),
            })
    return rows


def _texts_by_side(rows: IndexRows) -> dict[str, list[dict[str, Any]]]:
    """Group the full-text rows by the side of their member, as SQLite stores them."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for texts, listing in zip(rows.texts, rows.listings, strict=True):
        grouped.setdefault(listing["side"], []).append(texts)
    return grouped


def sqlite_text_insert(side: str) -> TextClause:
    """Build the insert of one full-text row into SQLite's table of `side`, with parameters `id` and one per column.

    The columns are FIELDS and FILTER_COLUMN.
    """
    columns = ", ".join((*FIELDS, FILTER_COLUMN))
    values = ", ".join(f":{name}" for name in (*FIELDS, FILTER_COLUMN))
    return text(f"INSERT INTO {SQLITE_TEXT_TABLES[side]} (rowid, {columns}) VALUES (:id, {values})")


# The insert of one full-text row into PostgreSQL's table of both sides, with
# parameters `id` and one per name of FIELDS.
POSTGRESQL_TEXT_INSERT = text(
    "INSERT INTO member_search (member_id, document) VALUES (:id, "
    + " || ".join(f"setweight(to_tsvector('simple', :{name}), '{_PG_WEIGHTS[name]}')" for name in FIELDS)
    + ")"
)


def _is_sqlite(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "sqlite"
