"""Pool errors are mapped to pages once (portal/errors.py): a page that does not handle one shows its words on the
page instead of a 500 — after a POST on the page the user was on, for a GET with 503 (waiting helps) or 502."""

from __future__ import annotations

from html import escape

import pytest

from tests.fixtures.access import login_verified

pytestmark = pytest.mark.urls("tests.portal.upstream_error_urls")

DOWN = escape("WhiteBIT's mining pool API is not reachable right now; the portal will try again shortly.")
KEY = "WhiteBIT rejected the API key"


def test_a_get_page_whose_pool_call_fails_says_so_in_words(world, client):
    login_verified(client, world.alice)
    down = client.get("/test-pool-down/")
    assert down.status_code == 503 and DOWN in down.content.decode() and 'role="alert"' in down.content.decode()
    refused = client.get("/test-key-refused/")
    assert refused.status_code == 502 and KEY in refused.content.decode()


def test_a_post_whose_pool_call_fails_goes_back_to_the_page_with_the_words(world, client):
    login_verified(client, world.alice)
    back = f"http://testserver/p/{world.provider_a.slug}/fleet/"
    response = client.post("/test-pool-down/", HTTP_REFERER=back)
    assert response.status_code == 302 and response["Location"] == back
    page = client.get(response["Location"])
    assert DOWN in page.content.decode()
    elsewhere = client.post("/test-pool-down/", HTTP_REFERER="https://evil.example/")
    assert elsewhere["Location"] == "/test-pool-down/"  # never off the site

