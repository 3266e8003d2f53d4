"""Global ids: opaque, URL-safe, and decoded to None whenever they are not one of ours."""

from __future__ import annotations

import base64

import pytest

from schema.node import MAX_KEY, decode_global_id, encode_global_id


def raw_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_global_id_round_trip():
    global_id = encode_global_id("User", 42)

    assert decode_global_id(global_id) == ("User", 42)
    assert decode_global_id(global_id, "User") == ("User", 42)


def test_global_id_is_url_safe_and_opaque():
    global_id = encode_global_id("ContactRequest", 1023)

    assert "=" not in global_id
    assert "ContactRequest" not in global_id
    assert set(global_id) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_decode_rejects_other_expected_type():
    assert decode_global_id(encode_global_id("Activity", 3), "User") is None


@pytest.mark.parametrize(
    "global_id",
    [
        "",
        "not base64 at all!",
        "%%%",
        raw_id("User"),  # no separator
        raw_id("User:"),  # no key
        raw_id(":5"),  # no type
        raw_id("User:abc"),
        raw_id("User:-1"),
        raw_id("User:+1"),
        raw_id("User:1.5"),
        raw_id("User:007"),  # not the canonical form of 7
        raw_id("User:\u0661\u0662"),  # Arabic-Indic digits, which int() would accept
        raw_id(f"User:{MAX_KEY + 1}"),  # beyond any primary key the database stores
        raw_id("User:1") + "==",  # padded: not the form we issue
        base64.urlsafe_b64encode(b"\xff\xfe:1").decode(),  # not UTF-8
        "A" * 500,
    ],
)
def test_decode_returns_none_for_foreign_ids(global_id):
    assert decode_global_id(global_id) is None


def test_decode_accepts_largest_key():
    assert decode_global_id(encode_global_id("User", MAX_KEY)) == ("User", MAX_KEY)


def test_decode_rejects_non_string():
    assert decode_global_id(123) is None  # type: ignore[arg-type]
