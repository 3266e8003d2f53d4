"""Members' private iCalendar feeds of the activities they plan.

The feed URL carries a random token stored in `member.calendar_token`; the
token is the only credential, so calendar applications can subscribe without
signing in. It is created the first time the member asks for the URL, and
`reset_feed` replaces it, after which the old URL returns 404.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

import icalendar

from domain.errors import DomainError, ErrorCode
from domain.services import Services
from persistence import data_rights as rights_table
from persistence import members as member_table
from persistence.models import Activity, Member

logger = logging.getLogger(__name__)

# 32 random bytes, URL-safe: 43 characters, which fits the 64-character column.
CALENDAR_TOKEN_BYTES = 32
PRODUCT_ID = "-//STEM Professionals Go Back to School//PGBS API//EN"
ACCEPTED = "ACCEPTED"


def feed_url(api_base_url: str, token: str) -> str:
    """Return the feed address; it points at this API (not the frontend), which serves `/calendar/`."""
    return f"{api_base_url}/calendar/{token}.ics"


async def ensure_feed_token(services: Services, member_id: int) -> str | None:
    """Return the member's feed token, creating one on first use; None for an erased member."""
    async with services.database.write() as session:
        # Only set when still missing, so two first reads at once agree on one token.
        await rights_table.set_calendar_token(
            session, member_id, secrets.token_urlsafe(CALENDAR_TOKEN_BYTES), only_if_missing=True
        )
        member = await session.get(Member, member_id, populate_existing=True)
    if member is None or member.deleted_at is not None:
        return None
    return member.calendar_token


async def reset_feed(services: Services, member_id: int) -> Member:
    """Give the member a new feed token; the old URL stops working at once."""
    async with services.database.write() as session:
        changed = await rights_table.set_calendar_token(
            session, member_id, secrets.token_urlsafe(CALENDAR_TOKEN_BYTES), only_if_missing=False
        )
        if not changed:
            raise DomainError(ErrorCode.NOT_FOUND, "Your account no longer exists.")
        member = await session.get(Member, member_id, populate_existing=True)
    logger.info("member %s reset their calendar feed", member_id)
    return member


async def render_feed(services: Services, token: str) -> bytes | None:
    """Return the iCalendar document of the feed with this token, or None when no member has it."""
    async with services.database.read() as session:
        member = await rights_table.get_member_by_calendar_token(session, token)
        if member is None:
            return None
        requests = await rights_table.requests_of(session, member.id)
        accepted = [request.id for request in requests if request.status == ACCEPTED]
        activities = await rights_table.activities_of_requests(session, accepted)
        organisation_ids = {activity.school_id for activity in activities} | {
            activity.company_id for activity in activities
        }
        organisations = await member_table.get_organisations(session, organisation_ids)

    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "PGBS activities")
    for activity in activities:
        calendar.add_component(_event(activity, organisations))
    return calendar.to_ical()


def _event(activity: Activity, organisations: dict) -> icalendar.Event:
    school = organisations.get(activity.school_id)
    company = organisations.get(activity.company_id)
    event = icalendar.Event()
    event.add("uid", f"activity-{activity.id}@pgbs")
    event.add("summary", activity.title)
    event.add("dtstamp", activity.updated_at)
    event.add("last-modified", activity.updated_at)
    # All-day event: DTEND is exclusive, so it is the day after the last day.
    event.add("dtstart", activity.starts_on)
    event.add("dtend", (activity.ends_on or activity.starts_on) + timedelta(days=1))
    event.add("location", f"{activity.city}, {activity.country_code}")
    event.add("status", "CONFIRMED")
    lines = [
        f"School: {school.name if school else 'unknown'}",
        f"Company: {company.name if company else 'unknown'}",
        f"Status: {activity.status.lower()}",
    ]
    if activity.description:
        lines.insert(0, activity.description)
    event.add("description", "\n".join(lines))
    return event
