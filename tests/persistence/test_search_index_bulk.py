"""`refresh_members` writes the same index rows as `refresh_member` does member by member."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from persistence import members as member_table
from persistence import search_index
from tests.search_data import add_member


async def index_rows(services) -> dict[str, list]:
    async with services.database.read() as session:
        if services.database.is_sqlite:
            document = "SELECT rowid, names, organisation, place, role, topics, description FROM member_search"
        else:
            document = "SELECT member_id, document::text FROM member_search"
        rows = {}
        for name, statement in (
            ("text", document + " ORDER BY 1"),
            ("tags", "SELECT member_id, kind, value FROM profile_tag ORDER BY 1, 2, 3"),
            ("periods", "SELECT member_id, starts_on, ends_on FROM availability_period ORDER BY 1, 2"),
        ):
            rows[name] = [tuple(row) for row in (await session.exec(text(statement))).all()]
        return rows


async def test_refresh_members_matches_refresh_member(services):
    profile = {
        "country": "BE", "topics": ["SPACE"], "lengths": ["HALF_DAY"], "ages": ["AGES_6_9"],
        "formats": ["ONLINE"], "languages": ["nl", "fr"], "description": "Satellites: l'Europe vue d'en haut",
        "availability": [(date(2030, 1, 1), date(2030, 2, 1)), (date(2030, 5, 1), date(2030, 6, 1))],
    }
    first = await add_member(services, "Zoë Janssens", city="Liège", profile=profile)
    second = await add_member(services, "Bram Peeters", kind="SCHOOL", joined_days=1)
    erased = await add_member(services, "Gone Member", joined_days=2)
    one_by_one = await index_rows(services)

    async with services.database.write() as session:
        erased_row = await member_table.get_member(session, erased.id)
        erased_row.deleted_at = erased_row.created_at
        members = [await member_table.get_member(session, member.id) for member in (first, second, erased)]
        await search_index.refresh_members(session, members)
    in_bulk = await index_rows(services)

    assert in_bulk["tags"] == [row for row in one_by_one["tags"] if row[0] != erased.id]
    assert in_bulk["periods"] == one_by_one["periods"]
    assert in_bulk["text"] == [row for row in one_by_one["text"] if row[0] != erased.id]
    assert len(in_bulk["text"]) == 2
    assert len(in_bulk["periods"]) == 2
