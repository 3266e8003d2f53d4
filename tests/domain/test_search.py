"""Member search rules and ranking, on SQLite and PostgreSQL alike.

`CASES` is the table of searches for which both databases must return the same
results. Every case runs once per database through the `services` fixture.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from domain import search
from domain.errors import DomainError, ErrorCode
from domain.search import SearchFilter
from domain.vocabulary import ActivityLength, AgeGroup, StemTopic
from tests.conftest import counted_statements
from tests.search_data import add_member


def days(services, offset: int):
    return services.clock.now().date() + timedelta(days=offset)


async def campaign(services):
    """A school viewer, five listed companies, and members nobody may find."""
    viewer = await add_member(
        services, "Claire Moreau", kind="SCHOOL", organisation="Lycee Jean Moulin", role="Physics teacher",
        subjects=("PHYSICS",),
    )
    await add_member(
        services, "Ada Lovelace", organisation="Analytical Engines", city="Paris", role="Software engineer",
        subjects=("COMPUTER_SCIENCE", "DATA_AND_AI"), joined_days=1,
        profile={
            "topics": ["COMPUTER_SCIENCE"], "lengths": ["SINGLE_LESSON"], "ages": ["AGES_13_15"],
            "availability": [(days(services, 10), days(services, 100))],
            "description": "Workshops on algorithms and robots",
        },
    )
    await add_member(
        services, "Marie Curie", organisation="Radium Institute", country="PL", city="Warsaw", role="Physicist",
        subjects=("PHYSICS", "CHEMISTRY"), joined_days=2,
        profile={
            "topics": ["PHYSICS", "CHEMISTRY"], "lengths": ["HALF_DAY"], "ages": ["AGES_16_19", "AGES_13_15"],
            "availability": [(days(services, -300), days(services, -200))],
            "description": "Radioactivity experiments for older students",
        },
    )
    await add_member(
        services, "Nikola Tesla", organisation="Tesla Energy Works", country="HR", city="Zagreb",
        role="Electrical engineer", subjects=("ENGINEERING", "ENERGY"), joined_days=3,
        profile={
            "topics": ["ENERGY", "PHYSICS"], "lengths": ["FULL_DAY", "SINGLE_LESSON"], "ages": ["AGES_10_12"],
            "availability": [(days(services, 30), days(services, 60))],
            "description": "Coils, sparks and the physics of electricity",
        },
    )
    await add_member(
        services, "Rosalind Franklin", organisation="Helix Labs", city="Lyon", role="Biochemist",
        subjects=("BIOLOGY", "CHEMISTRY"), joined_days=4,
    )
    await add_member(
        services, "Alan Turing", organisation="Codebreakers Ltd", country="IE", city="Dublin", role="Data scientist",
        subjects=("DATA_AND_AI", "MATHEMATICS"), joined_days=5,
        profile={
            "topics": ["DATA_AND_AI"], "lengths": ["MULTIPLE_SESSIONS"], "ages": ["AGES_16_19"],
            "availability": [(days(services, 200), days(services, 260))],
            "description": "Machine learning for curious minds",
        },
    )

    # Never listed for the viewer: the same side, unverified, incomplete, hidden, erased.
    await add_member(services, "Sophie Germain", kind="SCHOOL", role="Physics teacher", subjects=("PHYSICS",),
                     joined_days=6)
    await add_member(services, "Emmy Noether", role="Physicist", subjects=("PHYSICS",), verified=False,
                     joined_days=7)
    await add_member(services, "Lise Meitner", complete=False, joined_days=8)
    await add_member(services, "Niels Bohr", role="Physicist", subjects=("PHYSICS",), search_visible=False,
                     joined_days=9)
    await add_member(services, "Enrico Fermi", role="Physicist", subjects=("PHYSICS",), deleted=True,
                     joined_days=10)
    return viewer


# (case name, filter, expected last names in result order)
CASES = [
    ("no filter lists all, stale last", SearchFilter(), ["Turing", "Franklin", "Tesla", "Lovelace", "Curie"]),
    ("blank text is no text", SearchFilter(text="   "), ["Turing", "Franklin", "Tesla", "Lovelace", "Curie"]),
    ("names", SearchFilter(text="Marie"), ["Curie"]),
    ("organisation", SearchFilter(text="radium"), ["Curie"]),
    ("city", SearchFilter(text="Lyon"), ["Franklin"]),
    ("role", SearchFilter(text="biochemist"), ["Franklin"]),
    ("subjects", SearchFilter(text="mathematics"), ["Turing"]),
    ("activity topics", SearchFilter(text="computer science"), ["Lovelace"]),
    ("description", SearchFilter(text="radioactivity"), ["Curie"]),
    ("every word must match", SearchFilter(text="machine learning"), ["Turing"]),
    ("words match different fields", SearchFilter(text="alan dublin"), ["Turing"]),
    ("no member holds both words", SearchFilter(text="machine robots"), []),
    ("prefix, role above topics and description", SearchFilter(text="phys"), ["Curie", "Tesla"]),
    ("accents ignored", SearchFilter(text="ÉLECTR"), ["Tesla"]),
    ("names above description", SearchFilter(text="tesla"), ["Tesla"]),
    ("wildcard is plain text", SearchFilter(text="tes*"), ["Tesla"]),
    ("quotes are plain text", SearchFilter(text='"marie'), ["Curie"]),
    ("fts5 operators are words", SearchFilter(text="phys OR machine"), []),
    ("fts5 column syntax", SearchFilter(text="names:marie"), []),
    ("fts5 NEAR syntax", SearchFilter(text="NEAR(marie curie)"), []),
    ("tsquery syntax", SearchFilter(text="phys & !curie | (tesla)"), []),
    ("sql is plain text", SearchFilter(text="'; DROP TABLE member; --"), []),
    ("emoji ignored", SearchFilter(text="🚀 phys 🔬"), ["Curie", "Tesla"]),
    ("only emoji is no text", SearchFilter(text="🚀🔬"), ["Turing", "Franklin", "Tesla", "Lovelace", "Curie"]),
    ("500 characters", SearchFilter(text=("phys " * 100)), ["Curie", "Tesla"]),
    ("country, lower case", SearchFilter(country_codes=["fr"]), ["Franklin", "Lovelace"]),
    ("any of the countries", SearchFilter(country_codes=["PL", "HR"]), ["Tesla", "Curie"]),
    ("empty list filters nothing", SearchFilter(country_codes=[]), ["Turing", "Franklin", "Tesla", "Lovelace", "Curie"]),
    ("topics, more matches first", SearchFilter(stem_topics=[StemTopic.PHYSICS, StemTopic.CHEMISTRY]),
     ["Curie", "Franklin", "Tesla"]),
    ("more matches before newer", SearchFilter(stem_topics=[StemTopic.COMPUTER_SCIENCE, StemTopic.DATA_AND_AI]),
     ["Lovelace", "Turing"]),
    ("filters combine with AND", SearchFilter(stem_topics=[StemTopic.PHYSICS], age_groups=[AgeGroup.AGES_10_12]),
     ["Tesla"]),
    ("activity length", SearchFilter(activity_lengths=[ActivityLength.SINGLE_LESSON]), ["Tesla", "Lovelace"]),
    ("text and country", SearchFilter(text="phys", country_codes=["HR"]), ["Tesla"]),
]


@pytest.mark.parametrize(("search_filter", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
async def test_search_cases(services, search_filter, expected):
    viewer = await campaign(services)

    page = await search.search_members(services, viewer, search_filter, first=20)

    assert [hit.member.last_name for hit in page.hits] == expected
    assert page.total_count == len(expected)


# (case name, from offset in days, until offset in days, expected) relative to today.
AVAILABILITY_CASES = [
    ("inside two periods", 40, 50, ["Tesla", "Lovelace"]),
    ("from only", 150, None, ["Turing"]),
    ("until only", None, -250, ["Curie"]),
    ("touching an end day", 100, 100, ["Lovelace"]),
    ("between periods", 101, 199, []),
]


@pytest.mark.parametrize(
    ("starts", "ends", "expected"), [case[1:] for case in AVAILABILITY_CASES], ids=[case[0] for case in AVAILABILITY_CASES]
)
async def test_search_availability_overlap(services, starts, ends, expected):
    viewer = await campaign(services)
    search_filter = SearchFilter(
        available_from=days(services, starts) if starts is not None else None,
        available_until=days(services, ends) if ends is not None else None,
    )

    page = await search.search_members(services, viewer, search_filter, first=20)

    assert [hit.member.last_name for hit in page.hits] == expected


# Searches counted from the full-text index (text, list filters) and from the listing (none, availability).
COUNTED_SEARCHES = {
    "text": lambda services: SearchFilter(text="phys"),
    "list filters": lambda services: SearchFilter(country_codes=["PL", "HR"]),
    "no filter": lambda services: None,
    "availability": lambda services: SearchFilter(text="phys", available_from=days(services, -400)),
}


@pytest.mark.parametrize("make_filter", COUNTED_SEARCHES.values(), ids=COUNTED_SEARCHES.keys())
async def test_search_total_after_last_page(services, make_filter):
    viewer = await campaign(services)
    search_filter = make_filter(services)
    whole = await search.search_members(services, viewer, search_filter, first=20)

    after_last = await search.search_members(
        services, viewer, search_filter, first=20, after=whole.hits[-1].sort_key
    )

    assert after_last.hits == []
    assert after_last.total_count == whole.total_count == len(whole.hits) >= 2


async def test_search_company_finds_schools(services):
    await campaign(services)
    company = await add_member(services, "Grace Hopper", role="Engineer", joined_days=20)

    page = await search.search_members(services, company, None, first=20)

    assert [hit.member.last_name for hit in page.hits] == ["Germain", "Moreau"]


async def test_search_word_weight_by_part(services):
    viewer = await add_member(services, "Claire Moreau", kind="SCHOOL", role="Teacher", subjects=("PHYSICS",))
    # Newest first: without weights the order would be the reverse of the expected one.
    await add_member(services, "Ana Silva", role="Engineer", joined_days=5,
                     profile={"description": "Volta would love this"})
    await add_member(services, "Bea Costa", role="Engineer", subjects=("ENERGY",), joined_days=4,
                     profile={"description": "Voltage and current"})
    await add_member(services, "Cara Lima", role="Volta curator", joined_days=3)
    await add_member(services, "Dora Reis", role="Engineer", city="Voltana", organisation="Volta Works", joined_days=2)
    await add_member(services, "Alessandro Volta", role="Engineer", joined_days=1)

    page = await search.search_members(services, viewer, SearchFilter(text="volta"), first=20)

    # Names and organisation 8, city and role 4, description 1; the best part counts once.
    assert [(hit.member.last_name, hit.sort_key.score) for hit in page.hits] == [
        ("Reis", 8), ("Volta", 8), ("Lima", 4), ("Silva", 1), ("Costa", 1),
    ]


async def test_search_scores_add_up_over_words(services):
    viewer = await add_member(services, "Claire Moreau", kind="SCHOOL", role="Teacher", subjects=("PHYSICS",))
    await add_member(services, "Ana Silva", role="Energy engineer", subjects=("ENERGY",), joined_days=2)
    await add_member(services, "Bea Energy", role="Engineer", subjects=("ENERGY",), joined_days=1)
    await add_member(services, "Cara Lima", role="Engineer", subjects=("ENERGY", "SPACE"), joined_days=3)

    page = await search.search_members(services, viewer, SearchFilter(text="energy engineer"), first=20)

    # "energy": names 8, role 4, topics 2; "engineer": role 4 for all three.
    assert [(hit.member.last_name, hit.sort_key.score) for hit in page.hits] == [
        ("Energy", 12), ("Silva", 8), ("Lima", 6),
    ]


async def test_search_stale_profile_after_current(services):
    viewer = await add_member(services, "Claire Moreau", kind="SCHOOL", role="Teacher", subjects=("PHYSICS",))
    ended = {"availability": [(days(services, -60), days(services, -30)), (days(services, -20), days(services, -1))]}
    running = {"availability": [(days(services, -60), days(services, -30)), (days(services, -5), days(services, 0))]}
    await add_member(services, "Ended Member", joined_days=3, profile=ended)
    await add_member(services, "Running Member", joined_days=2, profile=running)
    await add_member(services, "Without Profile", joined_days=1)
    await add_member(services, "Without Periods", joined_days=0, profile={})

    page = await search.search_members(services, viewer, None, first=20)

    assert [hit.member.first_name for hit in page.hits] == ["Running", "Without", "Without", "Ended"]
    assert [hit.sort_key.stale for hit in page.hits] == [0, 0, 0, 1]


async def test_search_same_date_orders_by_id(services):
    viewer = await add_member(services, "Claire Moreau", kind="SCHOOL", role="Teacher", subjects=("PHYSICS",))
    first = await add_member(services, "First Member", joined_days=1)
    second = await add_member(services, "Second Member", joined_days=1)

    page = await search.search_members(services, viewer, None, first=20)

    assert [hit.member.id for hit in page.hits] == [second.id, first.id]


async def test_search_pages_never_repeat_or_skip(services):
    viewer = await add_member(services, "Claire Moreau", kind="SCHOOL", role="Teacher", subjects=("PHYSICS",))
    for index in range(7):
        # Pairs share a membership date; half hold both topics, so the key varies in every part.
        subjects = ("PHYSICS", "ENERGY") if index % 2 else ("PHYSICS",)
        await add_member(services, f"Member M{index}", subjects=subjects, joined_days=index // 2)
    search_filter = SearchFilter(text="member", stem_topics=[StemTopic.PHYSICS, StemTopic.ENERGY])
    whole = await search.search_members(services, viewer, search_filter, first=100)

    seen = []
    after = None
    while True:
        page = await search.search_members(services, viewer, search_filter, first=3, after=after)
        assert page.total_count == 7
        seen += [hit.member.id for hit in page.hits]
        if not page.has_next_page:
            break
        after = page.hits[-1].sort_key

    assert seen == [hit.member.id for hit in whole.hits]
    assert len(set(seen)) == 7


async def test_search_cursor_round_trip(services):
    viewer = await campaign(services)
    page = await search.search_members(services, viewer, None, first=2)

    key = search.sort_key_from_cursor(search.cursor_position(page.hits[-1].sort_key))
    rest = await search.search_members(services, viewer, None, first=20, after=key)

    assert [hit.member.last_name for hit in rest.hits] == ["Tesla", "Lovelace", "Curie"]
    assert rest.has_next_page is False


@pytest.mark.parametrize(
    "position",
    [[], [1, 2, 3], ["a", 0, 0, "2026-01-01T00:00:00+00:00", 1], [1, 0, 0, "yesterday", 1],
     [1, 0, 0, "2026-01-01T00:00:00", 1], [1, 0, 0, 5, 1]],
)
def test_search_cursor_rejects_foreign_position(position):
    with pytest.raises(DomainError) as raised:
        search.sort_key_from_cursor(position)

    assert raised.value.code is ErrorCode.INVALID
    assert raised.value.problems[0].field == ("after",)


async def test_search_requires_verified_viewer(services):
    viewer = await add_member(services, "Claire Moreau", kind="SCHOOL", verified=False)

    with pytest.raises(DomainError) as raised:
        await search.search_members(services, viewer, None, first=20)

    assert raised.value.code is ErrorCode.EMAIL_NOT_VERIFIED


async def test_search_requires_complete_profile(services):
    viewer = await add_member(services, "Claire Moreau", kind="SCHOOL", complete=False)

    with pytest.raises(DomainError) as raised:
        await search.search_members(services, viewer, None, first=20)

    assert raised.value.code is ErrorCode.PROFILE_INCOMPLETE


def test_search_filter_text_limit():
    search.criteria_from_filter(SearchFilter(text="x" * search.TEXT_MAX))

    with pytest.raises(DomainError) as raised:
        search.criteria_from_filter(SearchFilter(text="x" * (search.TEXT_MAX + 1)))

    assert raised.value.code is ErrorCode.TOO_LONG
    assert raised.value.problems[0].field == ("filter", "text")


def test_search_filter_reports_every_problem():
    bad = SearchFilter(
        country_codes=["FR", "XX", "France"],
        available_from=date(2027, 5, 1),
        available_until=date(2027, 4, 1),
    )

    with pytest.raises(DomainError) as raised:
        search.criteria_from_filter(bad)

    problems = {problem.field: problem.code for problem in raised.value.problems}
    assert problems == {
        ("filter", "countryCodes", "1"): ErrorCode.INVALID_COUNTRY,
        ("filter", "countryCodes", "2"): ErrorCode.INVALID_COUNTRY,
        ("filter", "availableFrom"): ErrorCode.INVALID_DATE_RANGE,
    }


def test_search_filter_words_and_tags():
    criteria = search.criteria_from_filter(
        SearchFilter(text="Lycée l'École, lycée!", country_codes=["de", "DE"], stem_topics=[])
    )

    assert criteria.words == ["lycee", "l", "ecole"]
    assert criteria.tags == {"country": ["DE"]}


async def _search_statements(services, viewer, search_filter) -> list[str]:
    with counted_statements(services) as sent:
        await search.search_members(services, viewer, search_filter, first=20)
    return sent


@pytest.mark.parametrize(
    ("search_filter", "uses_index", "counts_in_window"),
    [
        (SearchFilter(country_codes=["PL", "HR"]), True, False),
        (SearchFilter(text="phys"), True, False),
        (SearchFilter(text="phys", available_from=date(2020, 1, 1)), True, True),
        (None, False, True),
    ],
    ids=["list filters", "text", "text and period", "no filter"],
)
async def test_search_sqlite_statement_shape(services, search_filter, uses_index, counts_in_window):
    if not services.database.is_sqlite:
        pytest.skip("only SQLite's full-text index contains the filter words")
    viewer = await campaign(services)

    [statement] = await _search_statements(services, viewer, search_filter)

    # Both sides' tables appear in the statement; the other side's gets an expression that matches nothing.
    assert ("member_search_company MATCH" in statement) is uses_index
    assert ("member_search_school MATCH" in statement) is uses_index
    assert ("OVER ()" in statement) is counts_in_window
