"""The search index rows of each member, written one by one, in bulk, or by the migration that added the listing."""

from __future__ import annotations

import asyncio
from datetime import date

from alembic import command
from sqlalchemy import text

from domain.vocabulary import ActivityLength, AgeGroup, StemTopic
from persistence import members as member_table
from persistence import search_index
from persistence.migrate import alembic_config, upgrade
from persistence.models import Organisation
from tests.search_data import add_member

PROFILE = {
    "country": "BE", "topics": ["SPACE"], "lengths": ["HALF_DAY", "FULL_DAY"], "ages": ["AGES_6_9"],
    "formats": ["ONLINE"], "languages": ["nl", "fr"], "description": "Satellites: l'Europe vue d'en haut",
    "availability": [(date(2030, 1, 1), date(2030, 2, 1)), (date(2030, 5, 1), date(2030, 6, 1))],
}


async def index_rows(services) -> dict[str, list]:
    async with services.database.read() as session:
        if services.database.is_sqlite:
            document = " UNION ALL ".join(
                f"SELECT rowid, '{side}', names, organisation, place, role, topics, description, filters FROM {name}"
                for side, name in search_index.SQLITE_TEXT_TABLES.items()
            )
        else:
            document = "SELECT member_id, document::text FROM member_search"
        listing = (
            "SELECT member_id, side, period_end, country_code, profile_country_code, topics, lengths, ages, "
            "words_first, words_second, words_third FROM member_listing"
        )
        rows = {}
        for name, statement in (
            ("text", document + " ORDER BY 1"),
            ("listing", listing + " ORDER BY 1"),
            ("periods", "SELECT member_id, starts_on, ends_on FROM availability_period ORDER BY 1, 2"),
        ):
            rows[name] = [tuple(str(value) for value in row) for row in (await session.exec(text(statement))).all()]
        return rows


def test_tag_bits_match_vocabulary():
    for kind, vocabulary in (("topic", StemTopic), ("length", ActivityLength), ("age", AgeGroup)):
        assert search_index.TAG_BITS[kind] == tuple(value.name for value in vocabulary)


async def test_listing_row_values(services):
    member = await add_member(services, "Zoë Janssens", organisation="Orbit Lab", city="Liège",
                              role="Space engineer", subjects=("PHYSICS",), country="FR", profile=PROFILE)

    rows = await index_rows(services)

    assert rows["listing"] == [(
        str(member.id), "COMPANY", "2030-06-01", "FR", "BE",
        str(search_index.tag_bit("topic", "PHYSICS") | search_index.tag_bit("topic", "SPACE")),
        str(search_index.tag_bit("length", "HALF_DAY") | search_index.tag_bit("length", "FULL_DAY")),
        str(search_index.tag_bit("age", "AGES_6_9")),
        " zoe janssens orbit lab", " liege space engineer", " physics space",
    )]
    assert rows["periods"] == [
        (str(member.id), "2030-01-01", "2030-02-01"), (str(member.id), "2030-05-01", "2030-06-01"),
    ]


async def test_unlisted_members_have_no_index_rows(services):
    await add_member(services, "Emmy Noether", verified=False)
    await add_member(services, "Lise Meitner", complete=False)
    await add_member(services, "Niels Bohr", search_visible=False, profile=PROFILE)
    await add_member(services, "Enrico Fermi", deleted=True, profile=PROFILE)

    assert await index_rows(services) == {"text": [], "listing": [], "periods": []}


async def test_refresh_members_matches_refresh_member(services):
    first = await add_member(services, "Zoë Janssens", city="Liège", profile=PROFILE)
    second = await add_member(services, "Bram Peeters", kind="SCHOOL", joined_days=1)
    erased = await add_member(services, "Gone Member", joined_days=2)
    one_by_one = await index_rows(services)

    async with services.database.write() as session:
        erased_row = await member_table.get_member(session, erased.id)
        erased_row.deleted_at = erased_row.created_at
        members = [await member_table.get_member(session, member.id) for member in (first, second, erased)]
        await search_index.refresh_members(session, members)
    in_bulk = await index_rows(services)

    for name in ("text", "listing"):
        assert in_bulk[name] == [row for row in one_by_one[name] if row[0] != str(erased.id)]
        assert len(in_bulk[name]) == 2
    assert in_bulk["periods"] == one_by_one["periods"]


async def test_organisation_kind_change_moves_text_row(services):
    member = await add_member(services, "Zoë Janssens", kind="COMPANY", profile=PROFILE)

    async with services.database.write() as session:
        row = await member_table.get_member(session, member.id)
        organisation = await session.get(Organisation, row.organisation_id)
        organisation.kind = "SCHOOL"
        await search_index.refresh_member(session, row)
    rows = await index_rows(services)

    assert [listing[1] for listing in rows["listing"]] == ["SCHOOL"]
    if services.database.is_sqlite:
        # The row left the company table for the school table.
        assert [text_row[:2] for text_row in rows["text"]] == [(str(member.id), "SCHOOL")]
    else:
        assert len(rows["text"]) == 1


async def test_migration_builds_the_listing_of_existing_members(services, database_url):
    await add_member(services, "Zoë Janssens", city="Liège", profile=PROFILE)
    await add_member(services, "Bram Peeters", kind="SCHOOL", joined_days=1)
    await add_member(services, "Niels Bohr", search_visible=False, joined_days=2)
    written_by_the_service = await index_rows(services)
    await services.database.dispose()

    # Back to the revision before member_listing, then forward again.
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0001")
    try:
        assert "member_listing" not in await _tables(services)
    finally:
        await asyncio.to_thread(upgrade, database_url)

    assert await index_rows(services) == written_by_the_service
    assert len(written_by_the_service["listing"]) == 2


async def _tables(services) -> set[str]:
    async with services.database.read() as session:
        if services.database.is_sqlite:
            statement = "SELECT name FROM sqlite_master WHERE type = 'table'"
        else:
            statement = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        return {row[0] for row in (await session.exec(text(statement))).all()}


async def test_migration_splits_sqlite_text_by_side(services, database_url):
    await add_member(services, "Zoë Janssens", city="Liège", profile=PROFILE)
    await add_member(services, "Bram Peeters", kind="SCHOOL", joined_days=1)
    written_by_the_service = await index_rows(services)
    await services.database.dispose()

    # Back to one table whose filter words include the side, as revision 0002 wrote them.
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0002")
    try:
        if services.database.is_sqlite:
            async with services.database.read() as session:
                filters = (await session.exec(text("SELECT filters FROM member_search ORDER BY rowid"))).all()
            assert ["sidecompany" in row[0].split() for row in filters] == [True, False]
            assert ["sideschool" in row[0].split() for row in filters] == [False, True]
            assert not set(search_index.SQLITE_TEXT_TABLES.values()) & await _tables(services)
    finally:
        await asyncio.to_thread(upgrade, database_url)

    tables = await _tables(services)
    if services.database.is_sqlite:
        assert "member_search" not in tables
        assert set(search_index.SQLITE_TEXT_TABLES.values()) <= tables
    else:
        assert "member_search" in tables
    assert await index_rows(services) == written_by_the_service
    assert len(written_by_the_service["text"]) == 2


async def test_migration_spaces_the_listing_words(services, database_url):
    await add_member(services, "Zoë Janssens", city="Liège", profile=PROFILE)
    await add_member(services, "Bram Peeters", kind="SCHOOL", joined_days=1)
    written_by_the_service = await index_rows(services)
    await services.database.dispose()
    words = "SELECT words_first, words_second, words_third FROM member_listing ORDER BY member_id"

    # Back to the word columns without the leading space.
    await asyncio.to_thread(command.downgrade, alembic_config(database_url), "0003")
    try:
        async with services.database.read() as session:
            unspaced = [tuple(row) for row in (await session.exec(text(words))).all()]
    finally:
        await asyncio.to_thread(upgrade, database_url)

    spaced = [row[-3:] for row in written_by_the_service["listing"]]
    assert unspaced == [tuple(column[1:] for column in row) for row in spaced]
    assert all(column.startswith(" ") and not column.startswith("  ") for row in spaced for column in row)
    assert await index_rows(services) == written_by_the_service
