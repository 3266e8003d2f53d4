"""The export of everything PGBS holds about a member, as one JSON document.

Password hashes and token digests are never included; the e-mail address of
another member appears only where the e-mail privacy rule lets the member see
it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from domain import privacy, preferences
from domain.calendar import feed_url
from domain.errors import DomainError, ErrorCode
from domain.services import Services
from persistence import data_rights as rights_table
from persistence import members as member_table
from persistence.models import Activity, ActivityProfile, ContactRequest, Member, Organisation

logger = logging.getLogger(__name__)

EXPORT_FORMAT_VERSION = 1


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def export_member_data(services: Services, member_id: int, api_base_url: str) -> dict[str, Any]:
    """Collect the member's data into a JSON-ready dictionary with camelCase keys.

    `api_base_url` is the address of this service, from which the calendar feed URL is built.
    """
    async with services.database.read() as session:
        member = await member_table.get_member(session, member_id)
        if member is None or member.deleted_at is not None:
            raise DomainError(ErrorCode.NOT_FOUND, "Your account no longer exists.")
        requests = await rights_table.requests_of(session, member_id)
        activities = await rights_table.activities_of_requests(session, [request.id for request in requests])
        others = await member_table.get_members(
            session, [request.recipient_id if request.sender_id == member_id else request.sender_id for request in requests]
        )
        organisation_ids = {other.organisation_id for other in others.values() if other.organisation_id}
        organisation_ids |= {activity.school_id for activity in activities} | {activity.company_id for activity in activities}
        if member.organisation_id:
            organisation_ids.add(member.organisation_id)
        organisations = await member_table.get_organisations(session, organisation_ids)
        profile = await session.get(ActivityProfile, member_id)
        invitations = await rights_table.invitations_sent_by(session, member_id)
        messages = await rights_table.messages_to_member(session, member_id, member.email)
        tokens = await rights_table.tokens_of(session, member_id)
        inviter = await member_table.get_member(session, member.invited_by_id) if member.invited_by_id else None

    activities_by_request: dict[int, list[Activity]] = {}
    for activity in activities:
        activities_by_request.setdefault(activity.contact_request_id, []).append(activity)

    logger.info("member %s exported their data", member_id)
    return {
        "formatVersion": EXPORT_FORMAT_VERSION,
        "exportedAt": _iso(services.clock.now()),
        "account": {
            "email": member.email,
            "firstName": member.first_name,
            "lastName": member.last_name,
            "role": member.role,
            "subjects": list(member.subjects),
            "isCoordinator": member.is_coordinator,
            "invitedBy": f"{inviter.first_name} {inviter.last_name}" if inviter and inviter.deleted_at is None else None,
            "emailVerifiedAt": _iso(member.email_verified_at),
            "createdAt": _iso(member.created_at),
            "updatedAt": _iso(member.updated_at),
        },
        "organisation": _organisation(organisations.get(member.organisation_id)) if member.organisation_id else None,
        "activityProfile": _activity_profile(profile) if profile else None,
        "preferences": {
            "email": preferences.email_preferences(member),
            "searchVisible": member.search_visible,
            "calendarFeedUrl": feed_url(api_base_url, member.calendar_token) if member.calendar_token else None,
        },
        "contactRequests": [
            _contact_request(member, request, others, requests, organisations, activities_by_request.get(request.id, []))
            for request in requests
        ],
        "invitations": [
            {
                "kind": invitation.kind,
                "firstName": invitation.first_name,
                "lastName": invitation.last_name,
                "email": invitation.email,
                "message": invitation.message,
                "createdAt": _iso(invitation.created_at),
                "expiresAt": _iso(invitation.expires_at),
                "accepted": invitation.accepted_by_id is not None,
            }
            for invitation in invitations
        ],
        "emails": [
            {
                "template": message.template,
                "to": message.to_address,
                "subject": message.subject,
                "textBody": message.text_body,
                "createdAt": _iso(message.created_at),
                "sentAt": _iso(message.sent_at),
                "failedAt": _iso(message.failed_at),
            }
            for message in messages
        ],
        # Sign-ins and e-mail links issued to the member; the tokens themselves are stored only as digests.
        "tokens": [
            {
                "purpose": token.purpose,
                "createdAt": _iso(token.created_at),
                "expiresAt": _iso(token.expires_at),
                "usedAt": _iso(token.used_at),
            }
            for token in tokens
        ],
    }


def _organisation(row: Organisation | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "name": row.name,
        "kind": row.kind,
        "countryCode": row.country_code,
        "city": row.city,
        "website": row.website,
    }


def _activity_profile(row: ActivityProfile) -> dict[str, Any]:
    return {
        "countryCode": row.country_code,
        "stemTopics": list(row.stem_topics),
        "activityLengths": list(row.activity_lengths),
        "ageGroups": list(row.age_groups),
        "availability": list(row.availability),
        "formats": list(row.formats),
        "languages": list(row.languages),
        "description": row.description,
        "updatedAt": _iso(row.updated_at),
    }


def _exchange(member: Member, other_id: int, requests: list[ContactRequest]) -> privacy.Exchange:
    """Return what the other member has done towards `member`, for the e-mail privacy rule."""
    sent = any(request.sender_id == other_id and request.recipient_id == member.id for request in requests)
    accepted = any(
        request.sender_id == member.id and request.recipient_id == other_id and request.status == "ACCEPTED"
        for request in requests
    )
    return privacy.Exchange(owner_sent_request=sent, owner_accepted_request=accepted)


def _contact_request(
    member: Member,
    request: ContactRequest,
    others: dict[int, Member],
    requests: list[ContactRequest],
    organisations: dict[int, Organisation],
    activities: list[Activity],
) -> dict[str, Any]:
    sent = request.sender_id == member.id
    other_id = request.recipient_id if sent else request.sender_id
    other = others.get(other_id)
    other_party = None
    if other is not None:
        organisation = organisations.get(other.organisation_id) if other.organisation_id else None
        visible = privacy.can_see_email(member, other, _exchange(member, other_id, requests))
        other_party = {
            "name": f"{other.first_name} {other.last_name}",
            "email": other.email if visible else None,
            "organisation": organisation.name if organisation else None,
        }
    return {
        "direction": "SENT" if sent else "RECEIVED",
        "status": request.status,
        "otherParty": other_party,
        "message": request.message,
        "responseMessage": request.response_message,
        "createdAt": _iso(request.created_at),
        "respondedAt": _iso(request.responded_at),
        "remindedAt": _iso(request.reminded_at),
        "activities": [_activity(activity, organisations) for activity in activities],
    }


def _activity(activity: Activity, organisations: dict[int, Organisation]) -> dict[str, Any]:
    school = organisations.get(activity.school_id)
    company = organisations.get(activity.company_id)
    return {
        "title": activity.title,
        "description": activity.description,
        "status": activity.status,
        "startsOn": _iso(activity.starts_on),
        "endsOn": _iso(activity.ends_on),
        "length": activity.length,
        "format": activity.format,
        "stemTopics": list(activity.stem_topics),
        "ageGroups": list(activity.age_groups),
        "expectedStudents": activity.expected_students,
        "city": activity.city,
        "countryCode": activity.country_code,
        "school": school.name if school else None,
        "company": company.name if company else None,
        "studentsReached": activity.students_reached,
        "summary": activity.summary,
        "createdAt": _iso(activity.created_at),
        "updatedAt": _iso(activity.updated_at),
        "closedAt": _iso(activity.closed_at),
    }
