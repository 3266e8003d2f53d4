"""Replace profile_tag with member_listing, one narrow row per member a search may list.

A search used to join the member, organisation, profile_tag and
availability_period tables for every candidate; the listing row holds what it
filters and ranks on, so a search reads one row per candidate. SQLite's
full-text table gains a column of filter words, so a search with free text and
filters finds its candidates there alone. The whole search index is rebuilt
from the profiles, because it now holds listed members only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlmodel import Session, select

from persistence import search_index
from persistence.models import ActivityProfile, Member, Organisation

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Members rebuilt per batch.
BATCH = 1000

# The columns the index is built from, named so that a column added to these
# tables by a later revision is not read before it exists.
MEMBER_COLUMNS = (
    "id", "first_name", "last_name", "role", "subjects", "organisation_id", "email_verified_at",
    "search_visible", "created_at", "deleted_at",
)
ORGANISATION_COLUMNS = ("id", "name", "kind", "country_code", "city")
PROFILE_COLUMNS = ("member_id", "country_code", "stem_topics", "activity_lengths", "age_groups", "availability",
                   "description")

# The full-text rows of this revision's `member_search`, written here rather
# than by `search_index`, which writes to the tables of later revisions.
SQLITE_TEXT_INSERT = sa.text(
    "INSERT INTO member_search (rowid, names, organisation, place, role, topics, description, filters) "
    "VALUES (:id, :names, :organisation, :place, :role, :topics, :description, :filters)"
)
POSTGRESQL_TEXT_INSERT = sa.text(
    "INSERT INTO member_search (member_id, document) VALUES (:id, "
    "setweight(to_tsvector('simple', :names), 'A') || setweight(to_tsvector('simple', :organisation), 'A') || "
    "setweight(to_tsvector('simple', :place), 'B') || setweight(to_tsvector('simple', :role), 'B') || "
    "setweight(to_tsvector('simple', :topics), 'C') || setweight(to_tsvector('simple', :description), 'D'))"
)


def upgrade() -> None:
    op.create_table(
        "member_listing",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("profile_country_code", sa.String(length=2), nullable=False),
        sa.Column("topics", sa.Integer(), nullable=False),
        sa.Column("lengths", sa.Integer(), nullable=False),
        sa.Column("ages", sa.Integer(), nullable=False),
        sa.Column("words_first", sa.String(), nullable=False),
        sa.Column("words_second", sa.String(), nullable=False),
        sa.Column("words_third", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("member_id"),
    )
    with op.batch_alter_table("member_listing", schema=None) as batch_op:
        batch_op.create_index("ix_member_listing_country", ["side", "country_code"], unique=False)
        batch_op.create_index("ix_member_listing_profile_country", ["side", "profile_country_code"], unique=False)
    with op.batch_alter_table("profile_tag", schema=None) as batch_op:
        batch_op.drop_index("ix_profile_tag_kind_value")
    op.drop_table("profile_tag")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE member_search")
        op.execute(
            "CREATE VIRTUAL TABLE member_search USING fts5("
            "names, organisation, place, role, topics, description, filters, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
    rebuild_search_index()


def rebuild_search_index() -> None:
    """Rewrite member_search, member_listing and availability_period from the profiles."""
    bind = op.get_bind()
    op.execute("DELETE FROM member_search")
    op.execute("DELETE FROM availability_period")
    session = Session(bind=bind)
    # Reflected rather than taken from the models, which may hold later columns.
    tables = {
        name: sa.Table(name, sa.MetaData(), autoload_with=bind) for name in ("member_listing", "availability_period")
    }
    ids = session.exec(select(Member.id).order_by(Member.id)).all()
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        members = _read(session, Member, MEMBER_COLUMNS, Member.id.in_(batch))
        organisation_ids = {member.organisation_id for member in members if member.organisation_id is not None}
        organisations = _read(session, Organisation, ORGANISATION_COLUMNS, Organisation.id.in_(organisation_ids))
        profiles = _read(session, ActivityProfile, PROFILE_COLUMNS, ActivityProfile.member_id.in_(batch))

        rows = search_index.index_rows(
            members,
            {organisation.id: organisation for organisation in organisations},
            {profile.member_id: profile for profile in profiles},
        )
        if rows.texts:
            insert = SQLITE_TEXT_INSERT if bind.dialect.name == "sqlite" else POSTGRESQL_TEXT_INSERT
            bind.execute(insert, rows.texts)
        for name, values in (("member_listing", rows.listings), ("availability_period", rows.periods)):
            if values:
                bind.execute(sa.insert(tables[name]), values)


def _read(session: Session, model: type, names: tuple[str, ...], condition: sa.ColumnElement) -> list:
    """Read the named columns of `model`'s rows into detached instances."""
    columns = [getattr(model, name) for name in names]
    return [model(**dict(zip(names, row))) for row in session.exec(select(*columns).where(condition)).all()]


def downgrade() -> None:
    op.create_table(
        "profile_tag",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("member_id", "kind", "value"),
    )
    with op.batch_alter_table("profile_tag", schema=None) as batch_op:
        batch_op.create_index("ix_profile_tag_kind_value", ["kind", "value", "member_id"], unique=False)
    with op.batch_alter_table("member_listing", schema=None) as batch_op:
        batch_op.drop_index("ix_member_listing_profile_country")
        batch_op.drop_index("ix_member_listing_country")
    op.drop_table("member_listing")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE member_search")
        op.execute(
            "CREATE VIRTUAL TABLE member_search USING fts5("
            "names, organisation, place, role, topics, description, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
    # NOTE: profile_tag and SQLite's member_search come back empty; a downgraded
    # database finds a member again once their profile is saved.
