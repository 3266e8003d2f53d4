"""Queries and writes for activities.

Every change is a conditional UPDATE or DELETE naming the `version` the caller
read and the status it expects, so a change based on a stale read matches no
row instead of overwriting a concurrent one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from persistence.models import Activity, ContactRequest, Member, Organisation


async def get_activity(session: AsyncSession, activity_id: int, *, lock: bool = False) -> Activity | None:
    """Read the row afresh, with a row lock until the transaction ends when `lock` is true.

    The lock applies on PostgreSQL only. On SQLite a write transaction already holds the database write lock.
    """
    return await session.get(Activity, activity_id, populate_existing=True, with_for_update=lock or None)


async def get_activities(session: AsyncSession, activity_ids: Iterable[int]) -> dict[int, Activity]:
    ids = list(set(activity_ids))
    if not ids:
        return {}
    result = await session.exec(select(Activity).where(Activity.id.in_(ids)))
    return {row.id: row for row in result}


async def change_if_current(
    session: AsyncSession, activity_id: int, version: int | None, expected_status: str, **values: Any
) -> bool:
    """Apply `values` and bump the version only if the row still has `expected_status` and,
    unless None, `version`."""
    conditions = [Activity.id == activity_id, Activity.status == expected_status]
    if version is not None:
        conditions.append(Activity.version == version)
    result = await session.exec(
        update(Activity).where(*conditions).values(version=Activity.version + 1, **values)
    )
    return result.rowcount == 1


async def delete_if_status(session: AsyncSession, activity_id: int, expected_status: str) -> bool:
    """Delete the row only if it still has `expected_status`."""
    result = await session.exec(
        delete(Activity).where(Activity.id == activity_id, Activity.status == expected_status)
    )
    return result.rowcount == 1


def _visible_to(member_id: int) -> ColumnElement[bool]:
    """Activities of contact requests the member sent or received."""
    requests = select(ContactRequest.id).where(
        or_(ContactRequest.sender_id == member_id, ContactRequest.recipient_id == member_id)
    )
    return Activity.contact_request_id.in_(requests)


async def list_activities(
    session: AsyncSession,
    *,
    member_id: int | None,
    contact_request_id: int | None,
    status: str | None,
    before_id: int | None,
    limit: int,
) -> tuple[list[Activity], int]:
    """Return a page of activities, newest first, and the total count of the selection.

    `member_id` limits the selection to that member's contact requests; None
    selects every activity (for coordinators).
    """
    conditions: list[ColumnElement[bool]] = []
    if member_id is not None:
        conditions.append(_visible_to(member_id))
    if contact_request_id is not None:
        conditions.append(Activity.contact_request_id == contact_request_id)
    if status is not None:
        conditions.append(Activity.status == status)

    total = (await session.exec(select(func.count()).select_from(Activity).where(*conditions))).one()
    query = select(Activity).where(*conditions)
    if before_id is not None:
        query = query.where(Activity.id < before_id)
    rows = (await session.exec(query.order_by(Activity.id.desc()).limit(limit))).all()
    return list(rows), total


async def pages_by_request(
    session: AsyncSession,
    request_ids: Sequence[int],
    *,
    status: str | None,
    before_id: int | None,
    limit: int,
) -> tuple[dict[int, list[Activity]], dict[int, int]]:
    """Return, for several contact requests at once, a page of activities each and each total count.

    Two queries in all, whatever the number of requests: the page uses a
    window function (SQLite 3.25 and later, PostgreSQL) to keep the newest
    `limit` rows of each request.
    """
    conditions: list[ColumnElement[bool]] = [Activity.contact_request_id.in_(list(request_ids))]
    if status is not None:
        conditions.append(Activity.status == status)

    totals_query = (
        select(Activity.contact_request_id, func.count()).where(*conditions).group_by(Activity.contact_request_id)
    )
    totals = {request_id: count for request_id, count in (await session.exec(totals_query)).all()}

    page_conditions = list(conditions)
    if before_id is not None:
        page_conditions.append(Activity.id < before_id)
    position = (
        func.row_number()
        .over(partition_by=Activity.contact_request_id, order_by=Activity.id.desc())
        .label("position")
    )
    ranked = select(Activity.id.label("activity_id"), position).where(*page_conditions).subquery()
    page_query = (
        select(Activity)
        .join(ranked, ranked.c.activity_id == Activity.id)
        .where(ranked.c.position <= limit)
        .order_by(Activity.id.desc())
    )
    pages: dict[int, list[Activity]] = {request_id: [] for request_id in request_ids}
    for row in (await session.exec(page_query)).all():
        pages[row.contact_request_id].append(row)
    return pages, totals


async def map_rows(
    session: AsyncSession, *, country_code: str | None, status: str | None
) -> list[tuple[Activity, str, str]]:
    """Return every activity for the public map with its school's and company's names, by start date."""
    school = Organisation.__table__.alias("school")
    company = Organisation.__table__.alias("company")
    query = (
        select(Activity, school.c.name, company.c.name)
        .join(school, school.c.id == Activity.school_id)
        .join(company, company.c.id == Activity.company_id)
    )
    if country_code is not None:
        query = query.where(Activity.country_code == country_code)
    if status is not None:
        query = query.where(Activity.status == status)
    result = await session.exec(query.order_by(Activity.starts_on, Activity.id))
    return [(row, school_name, company_name) for row, school_name, company_name in result.all()]


async def report_rows(session: AsyncSession) -> list[tuple[str, str, list[str], int | None]]:
    """Return (status, country, topics, students reached) of every activity, for the campaign report."""
    result = await session.exec(
        select(Activity.status, Activity.country_code, Activity.stem_topics, Activity.students_reached)
    )
    return [tuple(row) for row in result.all()]


async def member_counts(session: AsyncSession) -> list[tuple[str, str, int]]:
    """Return (organisation kind, country, number of members) for members who have not erased their account."""
    query = (
        select(Organisation.kind, Organisation.country_code, func.count(Member.id))
        .join(Organisation, Organisation.id == Member.organisation_id)
        .where(Member.deleted_at.is_(None))
        .group_by(Organisation.kind, Organisation.country_code)
        .order_by(Organisation.kind, Organisation.country_code)
    )
    return [tuple(row) for row in (await session.exec(query)).all()]


async def request_counts(session: AsyncSession) -> dict[str, int]:
    result = await session.exec(select(ContactRequest.status, func.count()).group_by(ContactRequest.status))
    return {status: count for status, count in result.all()}


async def count_pending_since(session: AsyncSession, created_before: Any) -> int:
    result = await session.exec(
        select(func.count())
        .select_from(ContactRequest)
        .where(ContactRequest.status == "PENDING", ContactRequest.created_at < created_before)
    )
    return result.one()
