"""Checks shared by every input: text lengths, countries, languages, addresses, lists and dates.

Each check adds a problem to an `ErrorCollector` and returns the cleaned value,
so one input reports all of its problems together.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import TypeVar

import pycountry
from email_validator import EmailNotValidError, validate_email

from domain.errors import DomainError, ErrorCode, ErrorCollector

# Maximum lengths, in characters.
NAME_MAX = 100
ROLE_MAX = 100
ORGANISATION_NAME_MAX = 200
CITY_MAX = 100
WEBSITE_MAX = 300
MESSAGE_MAX = 2000
DESCRIPTION_MAX = 2000
TITLE_MAX = 200
EMAIL_MAX = 320
PASSWORD_MIN = 10
# Argon2 hashes any length, but a cap keeps one login from costing unbounded CPU.
PASSWORD_MAX = 1000

T = TypeVar("T")

_MULTILINE_CONTROLS = "\n\r\t"


def clean_text(
    errors: ErrorCollector,
    value: str | None,
    field: Sequence[str],
    *,
    max_length: int,
    required: bool = False,
    label: str,
    multiline: bool = False,
) -> str | None:
    """Strip `value`; report it when blank but required, longer than `max_length`, or holding control characters.

    Single-line values (names, titles, cities) reject line breaks too, since a
    name with a line break could cut an e-mail subject short. Multiline values
    (messages, descriptions) keep line breaks and tabs.
    """
    if value is None:
        if required:
            errors.add(ErrorCode.REQUIRED, f"{label} is required.", field)
        return None
    stripped = value.strip()
    if not stripped:
        if required:
            errors.add(ErrorCode.REQUIRED, f"{label} must not be blank.", field)
        return None
    if len(stripped) > max_length:
        errors.add(
            ErrorCode.TOO_LONG,
            f"{label} has {len(stripped)} characters; the maximum is {max_length}.",
            field,
        )
    allowed = _MULTILINE_CONTROLS if multiline else ""
    if any(unicodedata.category(character) == "Cc" and character not in allowed for character in stripped):
        where = "control characters" if multiline else "line breaks or control characters"
        errors.add(ErrorCode.INVALID, f"{label} must not contain {where}.", field)
    return stripped


def clean_country(errors: ErrorCollector, value: str | None, field: Sequence[str]) -> str | None:
    """Return the ISO 3166-1 alpha-2 code in upper case, or report an unknown one."""
    if value is None or not value.strip():
        errors.add(ErrorCode.REQUIRED, "A country code is required, for example 'FR'.", field)
        return None
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        errors.add(
            ErrorCode.INVALID_COUNTRY,
            f"{value!r} is not an ISO 3166-1 alpha-2 country code; use two letters such as 'FR' or 'DE'.",
            field,
        )
        return None
    return code


def clean_language(errors: ErrorCollector, value: str, field: Sequence[str]) -> str | None:
    """Return the ISO 639-1 code in lower case, or report an unknown one."""
    code = value.strip().lower()
    if len(code) != 2 or pycountry.languages.get(alpha_2=code) is None:
        errors.add(
            ErrorCode.INVALID_LANGUAGE,
            f"{value!r} is not an ISO 639-1 language code; use two letters such as 'fr' or 'de'.",
            field,
        )
        return None
    return code


def clean_unique(errors: ErrorCollector, values: Sequence[T], field: Sequence[str], *, label: str) -> list[T]:
    """Report values given twice; return the list in its given order."""
    seen: set[T] = set()
    for value in values:
        if value in seen:
            shown = getattr(value, "name", value)
            errors.add(ErrorCode.DUPLICATE, f"{label} lists {shown} more than once.", field)
            break
        seen.add(value)
    return list(values)


def clean_date_range(
    errors: ErrorCollector, starts: date, ends: date | None, field: Sequence[str], *, label: str
) -> None:
    if ends is not None and starts > ends:
        errors.add(
            ErrorCode.INVALID_DATE_RANGE,
            f"{label} starts on {starts.isoformat()}, after its end on {ends.isoformat()}.",
            field,
        )


def normalise_email(value: str, field: Sequence[str] = ("email",)) -> str:
    """Return the address in its normalised, lower-case form; raise `DomainError` when invalid.

    Addresses compare case-insensitively: `Ana@Example.org` and `ana@example.org`
    are the same member. No DNS look-up is made.
    """
    candidate = value.strip()
    if not candidate:
        raise DomainError(ErrorCode.REQUIRED, "An e-mail address is required.", field)
    if len(candidate) > EMAIL_MAX:
        raise DomainError(ErrorCode.TOO_LONG, f"An e-mail address has at most {EMAIL_MAX} characters.", field)
    try:
        result = validate_email(candidate, check_deliverability=False)
    except EmailNotValidError as error:
        raise DomainError(ErrorCode.INVALID, f"{candidate!r} is not a valid e-mail address: {error}", field) from None
    return result.normalized.lower()


def check_password(errors: ErrorCollector, password: str, field: Sequence[str]) -> None:
    if len(password) < PASSWORD_MIN:
        errors.add(
            ErrorCode.TOO_SHORT,
            f"The password has {len(password)} characters; use at least {PASSWORD_MIN}.",
            field,
        )
    elif len(password) > PASSWORD_MAX:
        errors.add(ErrorCode.TOO_LONG, f"The password has more than {PASSWORD_MAX} characters.", field)
