"""E-mail messages rendered from templates in `mailer/templates`.

A template NAME has a plain-text part `NAME.txt` whose first line is
`Subject: …`, and optionally an HTML part `NAME.html`. Values are escaped
in the HTML part only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text_body: str
    html_body: str | None


class TemplateError(ValueError):
    """Raised when a template is missing or lacks its subject line."""


@lru_cache(maxsize=1)
def _environments() -> tuple[jinja2.Environment, jinja2.Environment]:
    loader = jinja2.FileSystemLoader(TEMPLATES)
    text = jinja2.Environment(
        loader=loader, autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    html = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    return text, html


def render(template: str, values: dict[str, Any]) -> RenderedMessage:
    """Render the named template; raise `TemplateError` or jinja2's UndefinedError on a mistake."""
    text_environment, html_environment = _environments()
    try:
        text = text_environment.get_template(f"{template}.txt").render(**values)
    except jinja2.TemplateNotFound:
        raise TemplateError(f"no e-mail template {template}.txt in {TEMPLATES}") from None

    first_line, _, body = text.partition("\n")
    if not first_line.startswith("Subject: "):
        raise TemplateError(f"{template}.txt must start with a 'Subject: ' line")
    subject = first_line.removeprefix("Subject: ").strip()

    html_body = None
    if (TEMPLATES / f"{template}.html").exists():
        html_body = html_environment.get_template(f"{template}.html").render(subject=subject, **values)
    return RenderedMessage(subject=subject, text_body=body.lstrip("\n"), html_body=html_body)
