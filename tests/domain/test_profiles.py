"""The profile gate: a verified address and a complete profile (organisation, role, a subject)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import DomainError, ErrorCode
from domain.profiles import is_active, is_profile_complete, require_active
from persistence.models import Member

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)


def member(**fields: object) -> Member:
    values = {
        "id": 1, "first_name": "Ada", "last_name": "Byron", "role": "Teacher", "subjects": ["PHYSICS"],
        "organisation_id": 3, "email_verified_at": NOW, "created_at": NOW, "updated_at": NOW,
    }
    values.update(fields)
    return Member(**values)


def test_profile_complete_with_organisation_role_and_subject():
    assert is_profile_complete(member()) is True


@pytest.mark.parametrize(
    "missing", [{"organisation_id": None}, {"role": None}, {"role": ""}, {"subjects": []}]
)
def test_profile_incomplete_without_required_field(missing):
    assert is_profile_complete(member(**missing)) is False


def test_gate_passes_active_member():
    require_active(member())

    assert is_active(member()) is True


def test_gate_rejects_unverified_member_first():
    with pytest.raises(DomainError) as raised:
        require_active(member(email_verified_at=None, role=None))

    assert raised.value.code is ErrorCode.EMAIL_NOT_VERIFIED


def test_gate_rejects_incomplete_profile():
    with pytest.raises(DomainError) as raised:
        require_active(member(subjects=[]))

    assert raised.value.code is ErrorCode.PROFILE_INCOMPLETE
    assert "organisation, role and at least one subject" in str(raised.value)


def test_deleted_member_is_not_active():
    assert is_active(member(deleted_at=NOW)) is False
