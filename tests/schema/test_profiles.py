"""updateProfile and updateActivityProfile: validation with codes and field paths, nothing stored on rejection."""

from __future__ import annotations

from tests.conftest import count_rows
from tests.factories import UPDATE_ACTIVITY_PROFILE, UPDATE_PROFILE, active_member, verified_member

PROFILE = """
query { viewer { firstName lastName role subjects isProfileComplete organisation { name kind countryCode city website } } }
"""
ACTIVITY_PROFILE = """
query { viewer { activityProfile {
  countryCode stemTopics activityLengths ageGroups formats languages description availability { from until }
} } }
"""

ORGANISATION = {"name": "Lycée Curie", "kind": "SCHOOL", "countryCode": "FR", "city": "Paris"}
ACTIVITY = {
    "countryCode": "FR",
    "stemTopics": ["PHYSICS", "SPACE"],
    "activityLengths": ["SINGLE_LESSON"],
    "ageGroups": ["AGES_13_15"],
    "availability": [{"from": "2027-03-01", "until": "2027-04-30"}, {"from": "2027-01-10", "until": "2027-01-31"}],
    "formats": ["IN_PERSON"],
    "languages": ["fr", "EN"],
    "description": "Two visits a term.",
}


def errors_by_field(payload: dict) -> dict[tuple[str, ...], str]:
    return {tuple(error["field"]): error["code"] for error in payload["userErrors"]}


async def update_profile(client, token: str, **fields: object) -> dict:
    return (await client.execute(UPDATE_PROFILE, {"input": fields}, token=token))["updateProfile"]


async def update_activity_profile(client, token: str, **changes: object) -> dict:
    return (
        await client.execute(UPDATE_ACTIVITY_PROFILE, {"input": {**ACTIVITY, **changes}}, token=token)
    )["updateActivityProfile"]


async def viewer(client, query: str, token: str) -> dict:
    return (await client.execute(query, token=token))["viewer"]


async def test_update_profile_stores_fields(client, services):
    member = await verified_member(client, services, "ada@example.org")

    payload = await update_profile(
        client, member.token, role=" Physics teacher ", subjects=["PHYSICS", "SPACE"],
        organisation={**ORGANISATION, "countryCode": "fr", "website": "https://lycee-curie.example"},
    )

    assert payload["userErrors"] == []
    assert payload["user"]["isProfileComplete"] is True
    profile = await viewer(client, PROFILE, member.token)
    assert profile["role"] == "Physics teacher"
    assert profile["subjects"] == ["PHYSICS", "SPACE"]
    assert profile["organisation"] == {
        "name": "Lycée Curie", "kind": "SCHOOL", "countryCode": "FR", "city": "Paris",
        "website": "https://lycee-curie.example",
    }


async def test_update_profile_leaves_missing_fields_unchanged(client, services):
    member = await active_member(client, services, "ada@example.org", role="Teacher", first_name="Ada")

    payload = await update_profile(client, member.token, lastName="Lovelace")

    assert payload["userErrors"] == []
    profile = await viewer(client, PROFILE, member.token)
    assert profile["firstName"] == "Ada"
    assert profile["lastName"] == "Lovelace"
    assert profile["role"] == "Teacher"
    assert profile["organisation"] is not None


async def test_update_profile_rejects_invalid_fields_together(client, services):
    member = await verified_member(client, services, "ada@example.org", first_name="Ada")

    payload = await update_profile(
        client, member.token,
        firstName="x" * 101,
        lastName="y" * 101,
        role="r" * 101,
        subjects=["PHYSICS", "PHYSICS"],
        organisation={"name": "n" * 201, "kind": "SCHOOL", "countryCode": "XX", "website": "lycee-curie.example"},
    )

    assert payload["user"] is None
    assert errors_by_field(payload) == {
        ("input", "firstName"): "TOO_LONG",
        ("input", "lastName"): "TOO_LONG",
        ("input", "role"): "TOO_LONG",
        ("input", "subjects"): "DUPLICATE",
        ("input", "organisation", "name"): "TOO_LONG",
        ("input", "organisation", "countryCode"): "INVALID_COUNTRY",
        ("input", "organisation", "website"): "INVALID",
    }
    assert all(error["message"] for error in payload["userErrors"])


async def test_update_profile_rejection_stores_nothing(client, services):
    member = await verified_member(client, services, "ada@example.org", first_name="Ada")

    payload = await update_profile(
        client, member.token, firstName="Grace", role="Teacher", subjects=["PHYSICS"],
        organisation={**ORGANISATION, "countryCode": "ZZ"},
    )

    assert errors_by_field(payload) == {("input", "organisation", "countryCode"): "INVALID_COUNTRY"}
    profile = await viewer(client, PROFILE, member.token)
    assert profile["firstName"] == "Ada"
    assert profile["role"] is None
    assert profile["subjects"] == []
    assert profile["organisation"] is None
    assert await count_rows(services, "organisation") == 0


async def test_update_profile_rejects_blank_names_and_role(client, services):
    member = await verified_member(client, services, "ada@example.org")

    payload = await update_profile(client, member.token, firstName="  ", role="")

    assert errors_by_field(payload) == {("input", "firstName"): "REQUIRED", ("input", "role"): "REQUIRED"}


async def test_update_profile_rejects_website_without_scheme_or_host(client, services):
    member = await verified_member(client, services, "ada@example.org")

    for website in ("www.example.org", "javascript:alert(1)", "https://", "http://exa mple.org"):
        payload = await update_profile(client, member.token, organisation={**ORGANISATION, "website": website})
        assert errors_by_field(payload) == {("input", "organisation", "website"): "INVALID"}, website


async def test_update_profile_needs_sign_in(client):
    body = await client.post(UPDATE_PROFILE, {"input": {"role": "Teacher"}})

    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_profile_complete_needs_organisation_role_and_subject(client, services):
    member = await verified_member(client, services, "ada@example.org")

    only_role = await update_profile(client, member.token, role="Teacher")
    with_subjects = await update_profile(client, member.token, subjects=["BIOLOGY"])
    with_organisation = await update_profile(client, member.token, organisation=ORGANISATION)
    without_subjects = await update_profile(client, member.token, subjects=[])

    assert only_role["user"]["isProfileComplete"] is False
    assert with_subjects["user"]["isProfileComplete"] is False
    assert with_organisation["user"]["isProfileComplete"] is True
    assert without_subjects["user"]["isProfileComplete"] is False


async def test_update_activity_profile_stores_normalised_profile(client, services):
    member = await active_member(client, services, "ada@example.org")

    payload = await update_activity_profile(client, member.token, countryCode="fr")

    assert payload["userErrors"] == []
    stored = (await viewer(client, ACTIVITY_PROFILE, member.token))["activityProfile"]
    assert stored == {
        "countryCode": "FR",
        "stemTopics": ["PHYSICS", "SPACE"],
        "activityLengths": ["SINGLE_LESSON"],
        "ageGroups": ["AGES_13_15"],
        "formats": ["IN_PERSON"],
        "languages": ["fr", "en"],
        "description": "Two visits a term.",
        "availability": [{"from": "2027-01-10", "until": "2027-01-31"}, {"from": "2027-03-01", "until": "2027-04-30"}],
    }


async def test_update_activity_profile_replaces_previous(client, services):
    member = await active_member(client, services, "ada@example.org")
    await update_activity_profile(client, member.token)

    payload = await update_activity_profile(
        client, member.token, stemTopics=["BIOLOGY"], formats=None, languages=None, description=None
    )

    assert payload["userErrors"] == []
    stored = (await viewer(client, ACTIVITY_PROFILE, member.token))["activityProfile"]
    assert stored["stemTopics"] == ["BIOLOGY"]
    assert stored["formats"] == []
    assert stored["languages"] == []
    assert stored["description"] is None


async def test_update_activity_profile_rejects_invalid_fields_together(client, services):
    member = await active_member(client, services, "ada@example.org")

    payload = await update_activity_profile(
        client, member.token,
        countryCode="XY",
        stemTopics=["PHYSICS", "PHYSICS"],
        activityLengths=["HALF_DAY", "HALF_DAY"],
        ageGroups=["AGES_6_9", "AGES_6_9"],
        formats=["ONLINE", "ONLINE"],
        languages=["fr", "xx"],
        availability=[{"from": "2027-05-01", "until": "2027-04-01"}],
        description="d" * 2001,
    )

    assert payload["user"] is None
    assert errors_by_field(payload) == {
        ("input", "countryCode"): "INVALID_COUNTRY",
        ("input", "stemTopics"): "DUPLICATE",
        ("input", "activityLengths"): "DUPLICATE",
        ("input", "ageGroups"): "DUPLICATE",
        ("input", "formats"): "DUPLICATE",
        ("input", "languages", "1"): "INVALID_LANGUAGE",
        ("input", "availability", "0"): "INVALID_DATE_RANGE",
        ("input", "description"): "TOO_LONG",
    }


async def test_update_activity_profile_rejects_duplicate_languages_and_periods(client, services):
    member = await active_member(client, services, "ada@example.org")
    period = {"from": "2027-01-10", "until": "2027-01-31"}

    payload = await update_activity_profile(client, member.token, languages=["fr", "FR"], availability=[period, period])

    assert errors_by_field(payload) == {("input", "languages"): "DUPLICATE", ("input", "availability"): "DUPLICATE"}


async def test_update_activity_profile_rejection_keeps_stored_profile(client, services):
    member = await active_member(client, services, "ada@example.org")
    await update_activity_profile(client, member.token)
    before = (await viewer(client, ACTIVITY_PROFILE, member.token))["activityProfile"]

    payload = await update_activity_profile(client, member.token, stemTopics=["ENERGY"], languages=["klingon"])

    assert errors_by_field(payload) == {("input", "languages", "0"): "INVALID_LANGUAGE"}
    assert (await viewer(client, ACTIVITY_PROFILE, member.token))["activityProfile"] == before


async def test_update_activity_profile_rejection_creates_nothing(client, services):
    member = await active_member(client, services, "ada@example.org")

    payload = await update_activity_profile(client, member.token, countryCode="")

    assert errors_by_field(payload) == {("input", "countryCode"): "REQUIRED"}
    assert (await viewer(client, ACTIVITY_PROFILE, member.token))["activityProfile"] is None
    assert await count_rows(services, "activity_profile") == 0
