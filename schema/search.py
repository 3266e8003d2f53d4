"""The input of member search, and the top-level error for a search the API cannot run."""

from __future__ import annotations

from datetime import date

import strawberry
from graphql import GraphQLError

from domain import search
from domain.errors import DomainError
from schema.enums import ActivityLength, AgeGroup, StemTopic


@strawberry.input(description="What to search for. Every part is optional, and the parts combine with AND.")
class SearchFilter:
    text: str | None = strawberry.field(
        default=None,
        description=(
            "Words that must all occur, each as the start of a word, in a member's names, organisation, city, "
            f"role, subjects, activity topics or activity description. At most {search.TEXT_MAX} characters; "
            "punctuation and query syntax are ignored."
        ),
    )
    country_codes: list[str] | None = strawberry.field(
        default=None, description="ISO 3166-1 alpha-2 codes; matches the organisation's or activity profile's country."
    )
    stem_topics: list[StemTopic] | None = strawberry.field(
        default=None, description="Matches a member whose subjects or activity topics hold any of these."
    )
    activity_lengths: list[ActivityLength] | None = None
    age_groups: list[AgeGroup] | None = None
    available_from: date | None = strawberry.field(
        default=None, description="Matches a member with an availability period ending on or after this date."
    )
    available_until: date | None = strawberry.field(
        default=None, description="Matches a member with an availability period starting on or before this date."
    )

    def to_domain(self) -> search.SearchFilter:
        return search.SearchFilter(
            text=self.text,
            country_codes=list(self.country_codes) if self.country_codes is not None else None,
            stem_topics=list(self.stem_topics) if self.stem_topics is not None else None,
            activity_lengths=list(self.activity_lengths) if self.activity_lengths is not None else None,
            age_groups=list(self.age_groups) if self.age_groups is not None else None,
            available_from=self.available_from,
            available_until=self.available_until,
        )


class BadSearchInput(GraphQLError):
    """Top-level error for a search filter or cursor the API rejects.

    `search` is a query and its result has no `userErrors`, so each problem is
    listed under `extensions.problems` with the same code, message and field
    path a `UserError` would carry.
    """

    def __init__(self, error: DomainError) -> None:
        problems = [
            {"code": problem.code.value, "message": problem.message, "field": list(problem.field or ())}
            for problem in error.problems
        ]
        super().__init__(
            " ".join(problem.message for problem in error.problems),
            extensions={"code": "BAD_USER_INPUT", "problems": problems},
        )
