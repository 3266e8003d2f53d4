"""The coordinators' campaign report: members, contact requests and activities in figures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import Forbidden
from domain.services import Services
from domain.vocabulary import ActivityStatus, ContactRequestStatus, StemTopic
from persistence import activities as activity_table
from persistence.models import Member

# A contact request pending longer than this is counted as waiting too long.
PENDING_TOO_LONG = timedelta(days=14)


@dataclass(frozen=True)
class CountryActivities:
    country_code: str
    planned: int
    closed: int
    students_reached: int


@dataclass(frozen=True)
class CampaignFigures:
    generated_at: datetime
    members: list[tuple[str, str, int]]  # (organisation kind, country, members)
    requests_by_status: dict[str, int]  # every ContactRequestStatus name, zero included
    requests_pending_too_long: int
    activities_by_status: dict[str, int]  # every ActivityStatus name, zero included
    activities_by_country: list[CountryActivities]
    activities_by_topic: dict[str, int]  # topics with at least one activity, most frequent first
    students_reached: int


async def campaign_report(services: Services, viewer: Member) -> CampaignFigures:
    """Count the campaign's members, requests and activities; coordinators only."""
    if not viewer.is_coordinator:
        raise Forbidden("The campaign report is for coordinators only.")

    now = services.clock.now()
    async with services.database.read() as session:
        members = await activity_table.member_counts(session)
        requests = await activity_table.request_counts(session)
        pending_too_long = await activity_table.count_pending_since(session, now - PENDING_TOO_LONG)
        activity_rows = await activity_table.report_rows(session)

    by_status: Counter[str] = Counter()
    by_topic: Counter[str] = Counter()
    countries: dict[str, Counter[str]] = {}
    students_reached = 0
    for status, country, topics, reached in activity_rows:
        by_status[status] += 1
        by_topic.update(topics)
        country_counts = countries.setdefault(country, Counter())
        country_counts[status] += 1
        country_counts["students_reached"] += reached or 0
        students_reached += reached or 0

    topic_order = {topic.name: index for index, topic in enumerate(StemTopic)}
    return CampaignFigures(
        generated_at=now,
        members=members,
        requests_by_status={status.name: requests.get(status.name, 0) for status in ContactRequestStatus},
        requests_pending_too_long=pending_too_long,
        activities_by_status={status.name: by_status.get(status.name, 0) for status in ActivityStatus},
        activities_by_country=[
            CountryActivities(
                country_code=country,
                planned=counts[ActivityStatus.PLANNED.name],
                closed=counts[ActivityStatus.CLOSED.name],
                students_reached=counts["students_reached"],
            )
            for country, counts in sorted(countries.items())
        ],
        activities_by_topic=dict(
            sorted(by_topic.items(), key=lambda item: (-item[1], topic_order.get(item[0], len(topic_order))))
        ),
        students_reached=students_reached,
    )
