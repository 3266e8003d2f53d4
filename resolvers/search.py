"""`search`: members of the other side, found by free text and filters."""

from __future__ import annotations

import strawberry

from domain import search
from domain.errors import DomainError, ErrorCode
from schema.connections import PageInfo, decode_cursor, encode_cursor, page_size
from schema.context import Context
from schema.errors import ForbiddenError
from schema.search import BadSearchInput, SearchFilter
from schema.types import Preloaded, User, UserConnection, UserEdge

Info = strawberry.Info[Context, None]

# Codes with which the profile gate rejects a viewer; search reports them as FORBIDDEN.
_GATE_CODES = {ErrorCode.EMAIL_NOT_VERIFIED, ErrorCode.PROFILE_INCOMPLETE}


@strawberry.type
class SearchQuery:
    @strawberry.field(
        description=(
            "Active members of the other side (schools find companies, companies find schools), ranked by text "
            "relevance, then by how many filter values they hold. `first` is at most 100."
        )
    )
    async def search(
        self, info: Info, filter: SearchFilter | None = None, first: int | None = None, after: str | None = None
    ) -> UserConnection:
        viewer = info.context.require_viewer()
        size = page_size(first)
        position = decode_cursor(after)

        try:
            start = search.sort_key_from_cursor(position)
            page = await search.search_members(
                info.context.services,
                viewer,
                filter.to_domain() if filter is not None else None,
                first=size,
                after=start,
            )
        except DomainError as error:
            if error.code in _GATE_CODES:
                raise ForbiddenError(error.problems[0].message) from None
            raise BadSearchInput(error) from None

        members = [hit.member for hit in page.hits]
        # Nested fields then find each member in the request's loader, not the database.
        info.context.loaders.prime_members(members)
        preloaded = Preloaded(
            organisations=page.organisations,
            activity_profiles=page.activity_profiles,
            exchanges=page.exchanges,
            latest_requests=page.latest_requests,
        )
        edges = [
            UserEdge(
                cursor=encode_cursor(search.cursor_position(hit.sort_key)),
                node=User.from_row(hit.member, preloaded),
            )
            for hit in page.hits
        ]
        return UserConnection(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None),
            total_count=page.total_count,
        )
