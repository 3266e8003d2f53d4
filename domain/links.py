"""Links in e-mails: they point at the frontend under PUBLIC_BASE_URL, with URL-safe tokens."""

from __future__ import annotations

from urllib.parse import urlencode


def verify_email_link(base_url: str, token: str) -> str:
    return f"{base_url}/verify-email?{urlencode({'token': token})}"


def reset_password_link(base_url: str, token: str) -> str:
    return f"{base_url}/reset-password?{urlencode({'token': token})}"


def invitation_link(base_url: str, token: str) -> str:
    return f"{base_url}/register?{urlencode({'invitation': token})}"


def sign_in_link(base_url: str) -> str:
    return f"{base_url}/sign-in"


def forgot_password_link(base_url: str) -> str:
    return f"{base_url}/reset-password"
