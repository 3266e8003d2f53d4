"""The public campaign map: what an activity shows to everyone, and the record of each change.

A snapshot contains no personal data: no member names and no e-mail addresses,
only the organisations' names and a town-level position.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from domain.locations import public_coordinate
from domain.services import Services
from domain.vocabulary import MapUpdateKind
from persistence import map_log
from persistence.database import after_commit
from persistence.models import Activity, MapEvent


def map_snapshot(activity: Activity, school_name: str, company_name: str) -> dict[str, Any]:
    """Return the public view of an activity as JSON-ready values."""
    return {
        "id": activity.id,
        "title": activity.title,
        "status": activity.status,
        "startsOn": activity.starts_on.isoformat(),
        "endsOn": activity.ends_on.isoformat() if activity.ends_on else None,
        "format": activity.format,
        "stemTopics": list(activity.stem_topics),
        "city": activity.city,
        "countryCode": activity.country_code,
        "latitude": public_coordinate(activity.latitude),
        "longitude": public_coordinate(activity.longitude),
        "approximate": activity.location_approximate,
        "schoolName": school_name,
        "companyName": company_name,
    }


async def record_change(
    services: Services,
    session: AsyncSession,
    kind: MapUpdateKind,
    activity: Activity,
    school_name: str,
    company_name: str,
) -> MapEvent:
    """Append the change to the map event log and publish its sequence once the transaction commits."""
    # NOTE: an event is filed under the activity's country after the change, so an edit that moves an
    # activity to another country is not shown to subscribers filtering on the country it left.
    event = await map_log.append(
        session,
        kind=kind.name,
        activity_id=activity.id,
        country_code=activity.country_code,
        payload=map_snapshot(activity, school_name, company_name),
        now=services.clock.now(),
    )
    sequence = event.sequence
    broker = services.broker
    after_commit(session, lambda: broker.publish(map_log.MAP_CHANNEL, str(sequence)))
    return event
