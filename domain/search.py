"""Member search: who a member finds, and in which order.

A member who passed the profile gate searches the other side (a school finds
companies, a company finds schools) among active members who chose to be
listed. Free text is a search term, never query syntax. It is split into
words, and every word must match the start of a word in one of the indexed
parts of a profile: names, organisation, city, role, subjects and activity
topics, or the activity description. Filters combine with AND, and a list
filter matches a profile holding any of its values.

Results are ordered by, in turn:

1. text relevance, highest first: for each word, the weight of the most
   important part of the profile containing a word that starts with it, summed
   over the words. Names and organisation weigh 8, city and role 4, subjects
   and activity topics 2, the description 1 (0 for everyone without text);
2. how many of the filter values the profile holds, most first;
3. whether the activity profile is stale (it lists periods and every one has
   ended): current profiles, and members without one, come first;
4. membership date, newest first, then member id, highest first.

Pages are keyset pages over that sort key, so paging never repeats or skips
a member while the data stays unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from domain.errors import DomainError, ErrorCode, ErrorCollector
from domain.privacy import Exchange
from domain.profiles import require_active
from domain.services import Services
from domain.validation import clean_country, clean_date_range
from domain.vocabulary import ActivityLength, AgeGroup, OrganisationKind, StemTopic
from persistence import search as search_table
from persistence.models import Member
from persistence.search import SearchCriteria, SortKey, Values
from persistence.search_index import search_words

# Free text longer than this is rejected rather than cut, so a search never
# silently ignores what the user typed. It is ample for any real query.
TEXT_MAX = 1000
# More country codes than ISO 3166-1 defines cannot be meant.
COUNTRY_CODES_MAX = 250


@dataclass(frozen=True)
class SearchFilter:
    """The free text and filters of one search, each optional."""

    text: str | None = None
    country_codes: list[str] | None = None
    stem_topics: list[StemTopic] | None = None
    activity_lengths: list[ActivityLength] | None = None
    age_groups: list[AgeGroup] | None = None
    available_from: date | None = None
    available_until: date | None = None


@dataclass(frozen=True)
class SearchHit:
    """One member found, with the sort key that places it in the results."""

    member: Member
    sort_key: SortKey


@dataclass(frozen=True)
class SearchPage:
    """One page of results with the rows a result list shows beside each member, keyed by member id."""

    hits: list[SearchHit]
    has_next_page: bool
    total_count: int
    # Rows of the models' columns (`Values`), read by attribute as the models are.
    organisations: dict[int, Values]  # keyed by organisation id
    activity_profiles: dict[int, Values]
    exchanges: dict[int, Exchange]  # what each member has done towards the viewer (e-mail privacy rule)
    latest_requests: dict[int, Values]  # the latest request between the viewer and each member


def criteria_from_filter(search_filter: SearchFilter | None) -> SearchCriteria:
    """Validate a filter and turn it into search criteria; raise DomainError listing every problem."""
    search_filter = search_filter or SearchFilter()
    errors = ErrorCollector()

    text = search_filter.text or ""
    if len(text) > TEXT_MAX:
        errors.add(
            ErrorCode.TOO_LONG,
            f"The search text has {len(text)} characters; the maximum is {TEXT_MAX}. Shorten it.",
            ("filter", "text"),
        )
    # Repeating a word changes nothing in which members match.
    words = list(dict.fromkeys(search_words(text)))

    country_codes: list[str] = []
    given_codes = search_filter.country_codes or []
    if len(given_codes) > COUNTRY_CODES_MAX:
        errors.add(
            ErrorCode.INVALID,
            f"countryCodes lists {len(given_codes)} codes; the maximum is {COUNTRY_CODES_MAX}.",
            ("filter", "countryCodes"),
        )
    else:
        for index, value in enumerate(given_codes):
            code = clean_country(errors, value, ("filter", "countryCodes", str(index)))
            if code is not None and code not in country_codes:
                country_codes.append(code)

    if search_filter.available_from is not None and search_filter.available_until is not None:
        clean_date_range(
            errors,
            search_filter.available_from,
            search_filter.available_until,
            ("filter", "availableFrom"),
            label="The availability filter",
        )
    errors.raise_if_any()

    tags: dict[str, list[str]] = {}
    for kind, values in (
        ("country", country_codes),
        ("topic", [topic.name for topic in search_filter.stem_topics or []]),
        ("length", [length.name for length in search_filter.activity_lengths or []]),
        ("age", [age.name for age in search_filter.age_groups or []]),
    ):
        # An empty list filters nothing, like a missing one.
        if values:
            tags[kind] = sorted(set(values))

    return SearchCriteria(
        words=words,
        tags=tags,
        available_from=search_filter.available_from,
        available_until=search_filter.available_until,
    )


def sort_key_from_cursor(position: list[Any] | None) -> SortKey | None:
    """Return the sort key a cursor position holds; raise DomainError for one this search did not issue."""
    if position is None:
        return None
    invalid = DomainError(
        ErrorCode.INVALID,
        "`after` is not a cursor from search; pass an `endCursor` or `cursor` value of a search result.",
        ("after",),
    )
    if len(position) != 5 or not all(isinstance(value, int) for value in (*position[:3], position[4])):
        raise invalid
    score, matches, stale, created_at, member_id = position
    if not isinstance(created_at, str):
        raise invalid
    try:
        joined = datetime.fromisoformat(created_at)
    except ValueError:
        raise invalid from None
    if joined.tzinfo is None:
        raise invalid
    return SortKey(score=score, matches=matches, stale=stale, created_at=joined, member_id=member_id)


def cursor_position(key: SortKey) -> list[Any]:
    """Return the JSON-friendly position that `sort_key_from_cursor` reads back."""
    return [key.score, key.matches, key.stale, key.created_at.isoformat(), key.member_id]


async def search_members(
    services: Services,
    viewer: Member,
    search_filter: SearchFilter | None,
    *,
    first: int,
    after: SortKey | None = None,
) -> SearchPage:
    """Return one page of the members `viewer` finds with `search_filter`.

    Raises DomainError with EMAIL_NOT_VERIFIED or PROFILE_INCOMPLETE when the
    viewer did not pass the profile gate, and with input codes (TOO_LONG,
    INVALID_COUNTRY, INVALID_DATE_RANGE, INVALID) for a bad filter.
    """
    require_active(viewer)
    criteria = criteria_from_filter(search_filter)
    today = services.clock.now().date()
    other_side = {kind.name: kind.other_side.name for kind in OrganisationKind}

    # One statement, and a count only when the page is empty: a count taken
    # after a newer commit than the page's is no worse than one taken later.
    async with services.database.read(snapshot=False) as session:
        found, total_count = await search_table.find_members(
            session, viewer.organisation_id, other_side, viewer.id, criteria, today=today, after=after,
            limit=first + 1,
        )
        if total_count is None:
            total_count = await search_table.count_members(
                session, viewer.organisation_id, other_side, viewer.id, criteria
            )
    page = found[:first]
    return SearchPage(
        hits=[SearchHit(member=item.member, sort_key=item.sort_key) for item in page],
        has_next_page=len(found) > first,
        total_count=total_count,
        organisations={item.organisation.id: item.organisation for item in page if item.organisation is not None},
        activity_profiles={item.member.id: item.activity_profile for item in page if item.activity_profile is not None},
        exchanges={item.member.id: Exchange(*item.exchange) for item in page},
        latest_requests={item.member.id: item.latest_request for item in page if item.latest_request is not None},
    )
