"""A search page costs the same number of SQL statements whatever its size: no N+1 queries."""

from __future__ import annotations

import gc

from persistence.models import Member
from resolvers.loaders import Loaders
from schema.context import Context
from schema.execution import PlainFieldExecutor
from tests.conftest import counted_statements
from tests.factories import active_member
from tests.search_data import add_member

# Every nested field of a search result that reads another table. Add new
# nested User fields here, so this test keeps proving they are batched.
SEARCH_PAGE = """
query SearchPage($first: Int) {
  search(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id firstName lastName email role subjects isProfileComplete
        organisation { name kind countryCode city website }
        activityProfile {
          countryCode stemTopics activityLengths ageGroups formats languages description
          availability { from until }
        }
        contactRequest { id status }
      }
    }
  }
}
"""


async def test_search_page_statements_do_not_grow(client, services):
    viewer = await active_member(client, services, "claire@school.example", kind="SCHOOL")
    for index in range(100):
        await add_member(
            services,
            f"Member M{index}",
            organisation=f"Company {index}",
            joined_days=index,
            profile={"topics": ["PHYSICS"], "lengths": ["HALF_DAY"], "ages": ["AGES_10_12"], "languages": ["fr"]},
        )

    with counted_statements(services) as small_statements:
        small = await client.execute(SEARCH_PAGE, {"first": 5}, token=viewer.token)
    with counted_statements(services) as large_statements:
        large = await client.execute(SEARCH_PAGE, {"first": 100}, token=viewer.token)

    assert len(small["search"]["edges"]) == 5
    assert len(large["search"]["edges"]) == 100
    assert all(edge["node"]["organisation"] and edge["node"]["activityProfile"] for edge in large["search"]["edges"])
    assert len(large_statements) == len(small_statements), "\n".join(large_statements)


async def test_search_page_leaves_no_reference_cycles(client, services):
    """The request's executor, context, loaders and rows are freed by reference counting when it ends.

    Objects in a reference cycle wait for the cyclic garbage collector, which
    then walks them all while every request waits.
    """
    viewer = await active_member(client, services, "claire@school.example", kind="SCHOOL")
    for index in range(5):
        await add_member(services, f"Member M{index}", organisation=f"Company {index}", joined_days=index,
                         profile={"topics": ["PHYSICS"], "lengths": ["HALF_DAY"], "ages": ["AGES_10_12"]})
    await client.execute(SEARCH_PAGE, {"first": 5}, token=viewer.token)

    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        page = await client.execute(SEARCH_PAGE, {"first": 5}, token=viewer.token)
        gc.collect()
        request_objects = [item for item in gc.garbage if type(item) in (PlainFieldExecutor, Context, Loaders, Member)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()

    assert len(page["search"]["edges"]) == 5
    assert request_objects == []
