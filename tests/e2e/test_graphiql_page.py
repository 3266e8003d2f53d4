"""GraphiQL at /graphql in headless Chromium: served by the service itself, with sign-in."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as condition
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
from tests.factories import PASSWORD, verified_member
from tests.graphql_client import GraphQLClient

pytestmark = pytest.mark.e2e

COORDINATOR_EMAIL = "coordinator@pgbs.example"


async def test_graphiql_sign_in_and_query(
    server: ServerProcess, api: GraphQLClient, services: Services, browser
) -> None:
    member = await verified_member(api, services, COORDINATOR_EMAIL, first_name="Camille", last_name="Roux")
    promoted = server.run_cli("create-coordinator", COORDINATOR_EMAIL)
    assert promoted.returncode == 0, promoted.stderr
    wait = WebDriverWait(browser, PAGE_TIMEOUT)
    browser.get_log("performance")  # drop the events of the browser's start page

    browser.get(f"{server.base_url}/graphql")
    email_field = wait.until(condition.element_to_be_clickable((By.ID, "signin-email")))
    email_field.send_keys(COORDINATOR_EMAIL)
    browser.find_element(By.ID, "signin-password").send_keys(PASSWORD)
    browser.find_element(By.ID, "signin-submit").click()
    signed_in = wait.until(condition.visibility_of_element_located((By.ID, "signed-in-as")))
    assert "Camille Roux" in signed_in.text
    assert "coordinator" in signed_in.text

    # The default query reads the viewer, which is null unless the token reached the server.
    wait.until(condition.element_to_be_clickable((By.CSS_SELECTOR, ".graphiql-execute-button"))).click()
    response_pane = browser.find_element(By.CSS_SELECTOR, ".graphiql-response")
    wait.until(lambda _: COORDINATOR_EMAIL in response_pane.text)
    assert '"isCoordinator": true' in response_pane.text
    save_screenshot(browser, "graphiql-signed-in")

    session = json.loads(browser.execute_script("return sessionStorage.getItem('pgbs.graphiql.session')"))
    token = session["token"]
    assert token

    urls = requested_urls(browser)
    assert any(urlsplit(url).path == "/graphql" and url.startswith("http") for url in urls), urls
    for url in urls:
        assert urlsplit(url).netloc == f"127.0.0.1:{server.port}", f"request to another host: {url}"
        assert token not in url, f"token in a URL: {url}"
    # The server's access log lists every request's path with its query string.
    assert "POST /graphql HTTP/1.1" in server.log()
    assert token not in server.log()

    assert console_errors(browser) == []
    assert member.id


async def test_graphiql_rejects_wrong_password(server: ServerProcess, api: GraphQLClient, services: Services, browser) -> None:
    await verified_member(api, services, COORDINATOR_EMAIL)
    wait = WebDriverWait(browser, PAGE_TIMEOUT)

    browser.get(f"{server.base_url}/graphql")
    wait.until(condition.element_to_be_clickable((By.ID, "signin-email"))).send_keys(COORDINATOR_EMAIL)
    browser.find_element(By.ID, "signin-password").send_keys("not the password")
    browser.find_element(By.ID, "signin-submit").click()

    error = wait.until(condition.visibility_of_element_located((By.ID, "signin-error")))
    assert error.text
    assert browser.find_elements(By.ID, "signed-in-as") == []
    assert browser.execute_script("return sessionStorage.getItem('pgbs.graphiql.session')") is None
    assert "not the password" not in " ".join(requested_urls(browser))
