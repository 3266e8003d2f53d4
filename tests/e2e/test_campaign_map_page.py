"""The public campaign map page (/map) in headless Chromium, against a real `pgbs serve`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from domain.services import Services
from tests.e2e.browser_fixtures import (
    PAGE_TIMEOUT,
    ServerProcess,
    api,  # noqa: F401 (fixture)
    browser,  # noqa: F401 (fixture)
    console_errors,
    requested_urls,
    save_screenshot,
    server,  # noqa: F401 (fixture)
    web_build,  # noqa: F401 (fixture)
)
from tests.factories import active_member
from tests.graphql_client import GraphQLClient

pytestmark = pytest.mark.e2e

NEEDS_MAP_API = "needs campaignMap and mapUpdates"

SEND_CONTACT_REQUEST = """
mutation Send($recipientId: ID!, $message: String!) {
  sendContactRequest(recipientId: $recipientId, message: $message) {
    contactRequest { id } userErrors { field code message }
  }
}
"""
ACCEPT_CONTACT_REQUEST = """
mutation Accept($id: ID!) {
  acceptContactRequest(id: $id) { contactRequest { id status } userErrors { field code message } }
}
"""
CREATE_ACTIVITY = """
mutation Create($contactRequestId: ID!, $input: ActivityInput!) {
  createActivity(contactRequestId: $contactRequestId, input: $input) {
    activity { id title } userErrors { field code message }
  }
}
"""


@pytest.fixture
def embedding_site(server: ServerProcess) -> Iterator[str]:
    """Another origin (a second port on 127.0.0.1) whose page embeds /map?country=fr in an iframe."""
    page = (
        "<!doctype html><meta name='viewport' content='width=device-width'>"
        "<body style='margin:0'><iframe id='widget' title='Campaign map' "
        f"style='border:0;width:100%;height:600px' src='{server.base_url}/map?country=fr'></iframe></body>"
    ).encode()

    class EmbeddingPage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), EmbeddingPage)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{site.server_address[1]}/"
    site.shutdown()
    site.server_close()
    thread.join(timeout=5)


def wait_for(driver, predicate, message: str):
    return WebDriverWait(driver, PAGE_TIMEOUT).until(lambda _: predicate(), message=message)


def map_data(driver, name: str) -> str | None:
    """A `data-` attribute of the page's root element, which records the page's state."""
    return driver.execute_script(f"return document.getElementById('campaign-map')?.dataset.{name} ?? null")


def country_names(driver, selector: str = "path.country") -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map((path) => path.dataset.name)", selector
    )


async def accepted_contact_request(api: GraphQLClient, services: Services) -> tuple[str, str]:
    """Return the school member's token and the id of its contact request, accepted by a company."""
    school = await active_member(
        api, services, "teacher@school.example", kind="SCHOOL", city="Lyon", organisation="Lycée Ampère"
    )
    company = await active_member(
        api, services, "engineer@company.example", kind="COMPANY", city="Toulouse", organisation="Aero Works"
    )
    sent = (await api.execute(SEND_CONTACT_REQUEST, {"recipientId": company.id, "message": "Visit us?"}, school.token))
    assert sent["sendContactRequest"]["userErrors"] == []
    request_id = sent["sendContactRequest"]["contactRequest"]["id"]
    accepted = await api.execute(ACCEPT_CONTACT_REQUEST, {"id": request_id}, company.token)
    assert accepted["acceptContactRequest"]["userErrors"] == []
    return school.token, request_id


async def create_activity(api: GraphQLClient, token: str, request_id: str, title: str, city: str, coordinates) -> str:
    latitude, longitude = coordinates
    activity = {
        "title": title,
        "startsOn": "2027-03-12",
        "length": "HALF_DAY",
        "format": "IN_PERSON",
        "stemTopics": ["ROBOTICS"],
        "ageGroups": ["AGES_13_15"],
        "location": {"city": city, "countryCode": "FR", "latitude": latitude, "longitude": longitude},
    }
    data = await api.execute(CREATE_ACTIVITY, {"contactRequestId": request_id, "input": activity}, token)
    assert data["createActivity"]["userErrors"] == []
    return data["createActivity"]["activity"]["id"]


def test_map_draws_europe_without_errors(server: ServerProcess, browser) -> None:
    browser.get_log("performance")  # drop the events of the browser's start page

    browser.get(f"{server.base_url}/map")
    wait_for(browser, lambda: map_data(browser, "outlines") == "ready", "country outlines were not drawn")

    names = country_names(browser)
    assert len(names) > 100
    for country in ("France", "Germany", "Poland", "Iceland", "Malta"):
        assert country in names
    save_screenshot(browser, "map-europe")

    for url in requested_urls(browser):
        assert urlsplit(url).netloc == f"127.0.0.1:{server.port}", f"request to another host: {url}"
    assert console_errors(browser) == []


def test_map_embedded_on_phone_focuses_country(server: ServerProcess, embedding_site: str, browser) -> None:
    # A phone-sized viewport, 390 CSS pixels wide.
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
    )
    browser.get(embedding_site)
    browser.switch_to.frame(browser.find_element(By.ID, "widget"))
    wait_for(browser, lambda: map_data(browser, "outlines") == "ready", "country outlines were not drawn in the iframe")

    assert country_names(browser, "path.country.focused") == ["France"]
    france = browser.find_element(By.CSS_SELECTOR, "path.country.focused").rect
    svg = browser.find_element(By.CSS_SELECTOR, "svg.map-svg").rect
    assert svg["width"] == 390
    # Focused, France fills most of the width rather than a corner of Europe.
    assert france["width"] > svg["width"] / 2
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    browser.switch_to.default_content()
    save_screenshot(browser, "map-phone-iframe-france")
    assert console_errors(browser) == []


@pytest.mark.skip(reason=NEEDS_MAP_API)
async def test_map_shows_new_activity_live(server: ServerProcess, api: GraphQLClient, services: Services, browser) -> None:
    token, request_id = await accepted_contact_request(api, services)
    browser.get(f"{server.base_url}/map")
    wait_for(browser, lambda: map_data(browser, "state") == "ready", "campaignMap did not load")
    wait_for(browser, lambda: map_data(browser, "live") == "live", "mapUpdates did not connect")
    browser.execute_script("window.notReloaded = true")

    await create_activity(api, token, request_id, "Robots in the classroom", "Lyon", (45.764, 4.8357))

    marker = wait_for(
        browser, lambda: browser.find_elements(By.CSS_SELECTOR, '.marker[data-town="FR|lyon"]'), "no marker for Lyon"
    )[0]
    assert marker.get_attribute("data-count") == "1"
    assert "planned" in marker.get_attribute("class").split()
    assert browser.execute_script("return window.notReloaded") is True

    # Keyboard: Tab reaches the marker, Enter opens the details, Escape closes them.
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert browser.switch_to.active_element == marker
    marker.send_keys(Keys.ENTER)
    details = browser.find_element(By.ID, "details")
    wait_for(browser, details.is_displayed, "Enter did not open the details")
    for text in ("Robots in the classroom", "12 Mar 2027", "In person", "Robotics", "Lycée Ampère", "Aero Works", "Lyon (FR)"):
        assert text in details.text
    assert details.find_element(By.CSS_SELECTOR, ".status-badge").get_attribute("textContent") == "Planned"
    save_screenshot(browser, "map-activity-details")
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait_for(browser, lambda: not details.is_displayed(), "Escape did not close the details")
    assert browser.switch_to.active_element == marker
    assert console_errors(browser) == []


@pytest.mark.skip(reason=NEEDS_MAP_API)
async def test_map_replays_missed_update(
    server: ServerProcess, api: GraphQLClient, services: Services, browser, tmp_path: Path
) -> None:
    token, request_id = await accepted_contact_request(api, services)
    browser.get(f"{server.base_url}/map")
    wait_for(browser, lambda: map_data(browser, "live") == "live", "mapUpdates did not connect")
    await create_activity(api, token, request_id, "Robots in the classroom", "Lyon", (45.764, 4.8357))
    wait_for(browser, lambda: browser.find_elements(By.CSS_SELECTOR, '.marker[data-town="FR|lyon"]'), "no marker for Lyon")
    sequence_before = int(map_data(browser, "lastSequence"))
    browser.execute_script("window.notReloaded = true")

    # A second server on the same database records an activity while the page's server is down.
    other = ServerProcess(database_url=server.database_url, log_path=tmp_path / "other-server.log")
    other.start()
    try:
        server.kill()
        wait_for(browser, lambda: map_data(browser, "live") == "reconnecting", "the page did not notice the drop")
        async with httpx.AsyncClient(base_url=other.base_url, timeout=10) as http:
            await create_activity(
                GraphQLClient(http), token, request_id, "Bridges and beams", "Marseille", (43.2965, 5.3698)
            )
    finally:
        other.stop()

    # Back on the same port, the page resubscribes with afterSequence and gets the missed update.
    server.start()
    wait_for(
        browser,
        lambda: browser.find_elements(By.CSS_SELECTOR, '.marker[data-town="FR|marseille"]'),
        "the update made during the drop did not arrive",
    )
    assert map_data(browser, "live") == "live"
    assert int(map_data(browser, "lastSequence")) > sequence_before
    assert browser.execute_script("return window.notReloaded") is True
    save_screenshot(browser, "map-after-reconnect")
    # Chromium logs each refused WebSocket connection while the server is down; nothing else may fail.
    unexpected = [error for error in console_errors(browser) if "ERR_CONNECTION_REFUSED" not in error]
    assert unexpected == []
