"""SQLModel tables: the one place that defines how PGBS data is stored.

Rows never leave the persistence and domain layers: GraphQL types are built
from them by the schema layer. Enumerations are stored as their names
(`"SCHOOL"`, `"PENDING"`), lists of enumeration names as JSON arrays, and every
timestamp as an aware UTC datetime.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import JSON, Column, Field, SQLModel


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned with its time zone.

    SQLite has no time zone type, so without this a value read back would be
    naive; PostgreSQL stores `timestamptz`.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given where an aware one is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_column(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def json_column(default_factory: Any = list) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))


class Organisation(SQLModel, table=True):
    """The school or company a member belongs to; it outlives the member's erasure."""

    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)  # OrganisationKind name
    country_code: str = Field(max_length=2, index=True)
    city: str | None = Field(default=None, max_length=100)
    website: str | None = Field(default=None, max_length=300)
    created_at: datetime = utc_column(nullable=False)
    updated_at: datetime = utc_column(nullable=False)


class Member(SQLModel, table=True):
    """A registered person: a teacher or a STEM professional, or a coordinator."""

    __tablename__ = "member"

    id: int | None = Field(default=None, primary_key=True)
    # Normalised (lower case) address; null once the member erased their account.
    email: str | None = Field(default=None, max_length=320, unique=True)
    password_hash: str | None = Field(default=None, max_length=255)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    role: str | None = Field(default=None, max_length=100)
    subjects: list[str] = json_column()
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    email_verified_at: datetime | None = utc_column()
    is_coordinator: bool = Field(default=False)
    search_visible: bool = Field(default=True)
    invited_by_id: int | None = Field(default=None, foreign_key="member.id")
    # Non-essential e-mails the member accepts: {"reminders": bool, "notifications": bool}.
    email_preferences: dict[str, bool] = json_column(dict)
    # The secret part of the member's iCalendar feed URL; shown only to its owner.
    calendar_token: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = utc_column(nullable=False, index=True)
    updated_at: datetime = utc_column(nullable=False)
    deleted_at: datetime | None = utc_column()


class ActivityProfile(SQLModel, table=True):
    """The activities a member would like to organise; one profile per member."""

    __tablename__ = "activity_profile"

    member_id: int = Field(primary_key=True, foreign_key="member.id")
    country_code: str = Field(max_length=2)
    stem_topics: list[str] = json_column()
    activity_lengths: list[str] = json_column()
    age_groups: list[str] = json_column()
    # [{"from": "2027-01-10", "until": "2027-03-31"}, ...] in ISO 8601.
    availability: list[dict[str, str]] = json_column()
    formats: list[str] = json_column()
    languages: list[str] = json_column()
    description: str | None = Field(default=None, max_length=2000)
    updated_at: datetime = utc_column(nullable=False)


class MemberListing(SQLModel, table=True):
    """Search index row: what ranking and filtering read of one member the search may list.

    Derived from `Member`, `Organisation` and `ActivityProfile` by the search
    index and rewritten with them; a member who must not be listed (inactive,
    hidden or erased) has no row. Keeping every value a search compares in one
    narrow row lets a search read one row per candidate instead of several tables.
    """

    __tablename__ = "member_listing"
    __table_args__ = (
        sa.Index("ix_member_listing_country", "side", "country_code"),
        sa.Index("ix_member_listing_profile_country", "side", "profile_country_code"),
    )

    member_id: int = Field(primary_key=True, foreign_key="member.id")
    side: str = Field(max_length=16)  # the organisation's kind
    created_at: datetime = utc_column(nullable=False)
    # The latest end of the availability periods; null when the profile lists none.
    period_end: date | None = None
    country_code: str = Field(max_length=2)  # the organisation's country
    # The activity profile's country, or the organisation's without a profile.
    # Never null, so the planner's statistics of both country indexes compare.
    profile_country_code: str = Field(max_length=2)
    # Bit masks of the list values held, bit positions as in `search_index.TAG_BITS`.
    topics: int = 0
    lengths: int = 0
    ages: int = 0
    # The normalised words of the weighted parts of the profile, for relevance:
    # names and organisation; city and role; subjects and activity topics. Each
    # word follows one space (" lyon physics teacher").
    words_first: str = ""
    words_second: str = ""
    words_third: str = ""


class AvailabilityPeriod(SQLModel, table=True):
    """Search index row: one availability period of a member's activity profile."""

    __tablename__ = "availability_period"
    __table_args__ = (sa.Index("ix_availability_period_member", "member_id", "starts_on", "ends_on"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id")
    starts_on: date
    ends_on: date


class AuthToken(SQLModel, table=True):
    """A bearer, verification or password-reset token, stored only as its SHA-256 digest."""

    __tablename__ = "auth_token"

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    purpose: str = Field(max_length=16)  # session, verify_email, reset_password
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = utc_column(nullable=False)
    expires_at: datetime = utc_column(nullable=False)
    used_at: datetime | None = utc_column()


class OutboxMessage(SQLModel, table=True):
    """An e-mail waiting for delivery or delivered; written in the transaction that causes it."""

    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_due", "sent_at", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    template: str = Field(max_length=64)
    to_address: str = Field(max_length=320)
    # The member the message is about or addressed to, for export and erasure.
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    subject: str = Field(max_length=300)
    text_body: str
    html_body: str | None = None
    created_at: datetime = utc_column(nullable=False)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = utc_column(nullable=False)
    # A worker keeps the message claimed until this moment while it tries to deliver it.
    locked_until: datetime | None = utc_column()
    sent_at: datetime | None = utc_column()
    failed_at: datetime | None = utc_column()
    last_error: str | None = Field(default=None, max_length=1000)


class ContactRequest(SQLModel, table=True):
    """A request from one member to connect with a member of the other side."""

    __tablename__ = "contact_request"
    __table_args__ = (
        # At most one open (pending or accepted) request per pair, in either direction:
        # the database enforces it, so two concurrent sends cannot both succeed.
        sa.Index(
            "uq_contact_request_open_pair",
            "pair_low_id",
            "pair_high_id",
            unique=True,
            sqlite_where=sa.text("status IN ('PENDING', 'ACCEPTED')"),
            postgresql_where=sa.text("status IN ('PENDING', 'ACCEPTED')"),
        ),
        sa.Index("ix_contact_request_recipient", "recipient_id", "status"),
        sa.Index("ix_contact_request_sender", "sender_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sender_id: int = Field(foreign_key="member.id")
    recipient_id: int = Field(foreign_key="member.id")
    pair_low_id: int  # min(sender_id, recipient_id)
    pair_high_id: int  # max(sender_id, recipient_id)
    status: str = Field(max_length=16)  # ContactRequestStatus name
    message: str = Field(max_length=2000)
    response_message: str | None = Field(default=None, max_length=2000)
    created_at: datetime = utc_column(nullable=False)
    responded_at: datetime | None = utc_column()
    reminded_at: datetime | None = utc_column()


class Invitation(SQLModel, table=True):
    """An e-mail invitation from a member to someone who is not yet a member."""

    __tablename__ = "invitation"

    id: int | None = Field(default=None, primary_key=True)
    inviter_id: int = Field(foreign_key="member.id", index=True)
    kind: str = Field(max_length=16)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    email: str = Field(max_length=320, index=True)
    message: str | None = Field(default=None, max_length=2000)
    token_hash: str = Field(max_length=64, unique=True)
    # False when the address already belonged to a member: nothing was sent,
    # but the inviter gets the same response so the address is not disclosed.
    sent: bool = Field(default=True)
    accepted_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = utc_column(nullable=False, index=True)
    expires_at: datetime = utc_column(nullable=False)


class Activity(SQLModel, table=True):
    """A classroom activity planned by the two sides of an accepted contact request."""

    __tablename__ = "activity"

    id: int | None = Field(default=None, primary_key=True)
    contact_request_id: int = Field(foreign_key="contact_request.id", index=True)
    school_id: int = Field(foreign_key="organisation.id")
    company_id: int = Field(foreign_key="organisation.id")
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    status: str = Field(max_length=16, index=True)  # ActivityStatus name
    starts_on: date
    ends_on: date | None = None
    length: str = Field(max_length=32)
    format: str = Field(max_length=16)
    stem_topics: list[str] = json_column()
    age_groups: list[str] = json_column()
    expected_students: int | None = None
    city: str = Field(max_length=100)
    country_code: str = Field(max_length=2, index=True)
    latitude: float | None = None
    longitude: float | None = None
    # True when the coordinates are the country's centre, not the city's.
    location_approximate: bool = Field(default=False)
    students_reached: int | None = None
    summary: str | None = Field(default=None, max_length=2000)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    closed_by_id: int | None = Field(default=None, foreign_key="member.id")
    closed_at: datetime | None = utc_column()
    created_at: datetime = utc_column(nullable=False)
    updated_at: datetime = utc_column(nullable=False)
    # Incremented by every change; an update names the version it read.
    version: int = Field(default=1)


class MapEvent(SQLModel, table=True):
    """One change of the public campaign map, numbered by a sequence that only grows."""

    __tablename__ = "map_event"

    sequence: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # MapUpdateKind name
    activity_id: int = Field(index=True)
    country_code: str = Field(max_length=2)
    # The public MapActivity as it was after the change (no personal data).
    payload: dict[str, Any] = json_column(dict)
    created_at: datetime = utc_column(nullable=False)


class MapSequence(SQLModel, table=True):
    """A single-row counter locked by each map event writer.

    Taking this row lock serialises map event writers on PostgreSQL, so sequence
    numbers become visible in the order they were given out and a reader that
    has seen sequence N never later finds a committed event below N.
    """

    __tablename__ = "map_sequence"

    id: int = Field(default=1, primary_key=True)
    last_sequence: int = Field(default=0)


class RateLimitCounter(SQLModel, table=True):
    """Requests counted per key (an action and a subject) within a fixed window."""

    __tablename__ = "rate_limit_counter"

    key: str = Field(primary_key=True, max_length=200)
    window_start: datetime = utc_column(nullable=False)
    count: int = Field(default=0)
    blocked_until: datetime | None = utc_column()
