"""The member search index, rewritten in the same transaction as every profile change.

Three parts, all derived from `Member`, `Organisation` and `ActivityProfile`:

- `member_search`: full text. SQLite uses an FTS5 table whose rowid is the
  member id, one column per weighted part; PostgreSQL a weighted tsvector with
  a GIN index. Both index text normalised here (lower case, accents removed),
  so the two databases see the same words.
- `profile_tag`: one row per list value (country, topic, length, age group,
  format, language), for list filters.
- `availability_period`: one row per availability period, for overlap filters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import TextClause, delete, insert, text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from persistence.models import ActivityProfile, AvailabilityPeriod, Member, Organisation, ProfileTag

# Weighted parts of the index, most important first. PostgreSQL labels them A to D.
FIELDS = ("names", "organisation", "place", "role", "topics", "description")
_PG_WEIGHTS = {"names": "A", "organisation": "A", "place": "B", "role": "B", "topics": "C", "description": "D"}

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


def profile_tags(member: Member, organisation: Organisation | None, profile: ActivityProfile | None) -> set[tuple[str, str]]:
    tags: set[tuple[str, str]] = {("topic", subject) for subject in member.subjects or []}
    if organisation is not None:
        tags.add(("country", organisation.country_code))
    if profile is not None:
        tags.add(("country", profile.country_code))
        tags.update(("topic", value) for value in profile.stem_topics)
        tags.update(("length", value) for value in profile.activity_lengths)
        tags.update(("age", value) for value in profile.age_groups)
        tags.update(("format", value) for value in profile.formats)
        tags.update(("language", value) for value in profile.languages)
    return tags


async def refresh_member(session: AsyncSession, member: Member) -> None:
    """Rewrite every index row of `member` from its current profile; remove them for an erased member."""
    member_id = member.id
    await _delete_rows(session, member_id)
    if member.deleted_at is not None:
        return

    organisation = await session.get(Organisation, member.organisation_id) if member.organisation_id else None
    profile = await session.get(ActivityProfile, member_id)

    await _write_text(session, member_id, index_fields(member, organisation, profile))
    for kind, value in sorted(profile_tags(member, organisation, profile)):
        session.add(ProfileTag(member_id=member_id, kind=kind, value=value))
    if profile is not None:
        for period in profile.availability:
            session.add(
                AvailabilityPeriod(
                    member_id=member_id,
                    starts_on=date.fromisoformat(period["from"]),
                    ends_on=date.fromisoformat(period["until"]),
                )
            )
    await session.flush()


async def refresh_members(session: AsyncSession, members: Sequence[Member]) -> None:
    """Rewrite the index rows of many members at once, as `refresh_member` does for one.

    Each table is written with one multi-row statement per batch instead of
    several statements per member, which makes bulk loads such as the demo
    data many times faster.
    """
    for start in range(0, len(members), _BATCH):
        await _refresh_batch(session, members[start : start + _BATCH])


async def _refresh_batch(session: AsyncSession, members: Sequence[Member]) -> None:
    ids = [member.id for member in members]
    await session.exec(delete(ProfileTag).where(ProfileTag.member_id.in_(ids)))
    await session.exec(delete(AvailabilityPeriod).where(AvailabilityPeriod.member_id.in_(ids)))
    key = "rowid" if _is_sqlite(session) else "member_id"
    await session.exec(text(f"DELETE FROM member_search WHERE {key} IN ({', '.join(str(int(i)) for i in ids)})"))

    listed = [member for member in members if member.deleted_at is None]
    organisation_ids = {member.organisation_id for member in listed if member.organisation_id is not None}
    organisations = {}
    if organisation_ids:
        found = await session.exec(select(Organisation).where(Organisation.id.in_(organisation_ids)))
        organisations = {organisation.id: organisation for organisation in found}
    found = await session.exec(select(ActivityProfile).where(ActivityProfile.member_id.in_(ids)))
    profiles = {profile.member_id: profile for profile in found}

    texts = []
    tags = []
    periods = []
    for member in listed:
        organisation = organisations.get(member.organisation_id)
        profile = profiles.get(member.id)
        texts.append({"id": member.id, **index_fields(member, organisation, profile)})
        tags += [
            {"member_id": member.id, "kind": kind, "value": value}
            for kind, value in sorted(profile_tags(member, organisation, profile))
        ]
        for period in profile.availability if profile is not None else ():
            periods.append({"member_id": member.id, "starts_on": date.fromisoformat(period["from"]),
                            "ends_on": date.fromisoformat(period["until"])})

    if texts:
        await session.exec(_text_insert(session), params=texts)
    if tags:
        await session.exec(insert(ProfileTag), params=tags)
    if periods:
        await session.exec(insert(AvailabilityPeriod), params=periods)


async def _delete_rows(session: AsyncSession, member_id: int) -> None:
    await session.exec(delete(ProfileTag).where(ProfileTag.member_id == member_id))
    await session.exec(delete(AvailabilityPeriod).where(AvailabilityPeriod.member_id == member_id))
    if _is_sqlite(session):
        await session.exec(text("DELETE FROM member_search WHERE rowid = :id").bindparams(id=member_id))
    else:
        await session.exec(text("DELETE FROM member_search WHERE member_id = :id").bindparams(id=member_id))


async def _write_text(session: AsyncSession, member_id: int, fields: dict[str, str]) -> None:
    await session.exec(_text_insert(session).bindparams(id=member_id, **fields))


def _text_insert(session: AsyncSession) -> TextClause:
    """Build the insert of one member's full-text row, with parameters `id` and one per name in FIELDS."""
    if _is_sqlite(session):
        columns = ", ".join(FIELDS)
        values = ", ".join(f":{name}" for name in FIELDS)
        return text(f"INSERT INTO member_search (rowid, {columns}) VALUES (:id, {values})")
    document = " || ".join(f"setweight(to_tsvector('simple', :{name}), '{_PG_WEIGHTS[name]}')" for name in FIELDS)
    return text(f"INSERT INTO member_search (member_id, document) VALUES (:id, {document})")


def _is_sqlite(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "sqlite"
