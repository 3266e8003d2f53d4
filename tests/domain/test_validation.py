"""Shared input checks: control characters in single-line and multiline text."""

from __future__ import annotations

import pytest

from domain.errors import ErrorCode, ErrorCollector
from domain.validation import clean_text


@pytest.mark.parametrize("value", ["Ana\nSilva", "Ana\rSilva", "Ana\tSilva", "Ana\x00Silva", "Ana\x1bSilva"])
def test_single_line_text_rejects_control_characters(value):
    errors = ErrorCollector()

    clean_text(errors, value, ("input", "firstName"), max_length=100, label="First name")

    assert [problem.code for problem in errors.problems] == [ErrorCode.INVALID]
    assert errors.problems[0].field == ("input", "firstName")


def test_multiline_text_keeps_line_breaks_and_tabs():
    errors = ErrorCollector()

    cleaned = clean_text(errors, "Hello,\r\n\tsee you soon\n", ("message",), max_length=2000, label="The message",
                         multiline=True)

    assert errors.problems == []
    assert cleaned == "Hello,\r\n\tsee you soon"


def test_multiline_text_rejects_other_control_characters():
    errors = ErrorCollector()

    clean_text(errors, "Hello\x00there", ("message",), max_length=2000, label="The message", multiline=True)

    assert [problem.code for problem in errors.problems] == [ErrorCode.INVALID]


def test_plain_unicode_text_passes():
    errors = ErrorCollector()

    cleaned = clean_text(errors, "  Zoë Łukasiewicz 🚀 ", ("input", "lastName"), max_length=100, label="Last name")

    assert errors.problems == []
    assert cleaned == "Zoë Łukasiewicz 🚀"
