"""Headers (issue 15 items 6 and 7): a strict CSP on every page, no-store on everything personal and every download,
a Permissions-Policy, and API docs that reference no other host. The browser half (no CSP violation, the charts
draw) is tests/portal/test_security_headers_browser.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.api.conftest import token_make
from tests.fixtures.access import login_verified

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def _csp(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def _assert_strict(response) -> None:
    csp = _csp(response)
    assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert "unsafe" not in response["Content-Security-Policy"] and "nonce" not in response["Content-Security-Policy"]
    policy = dict(p.strip().split("=") for p in response["Permissions-Policy"].split(","))
    assert {policy[f] for f in ("camera", "microphone", "geolocation", "payment", "usb")} == {"()"}


def test_a_signed_in_customers_pages_are_strict_and_never_stored(world, client):
    client.force_login(world.carol)
    for url in ("/c/alpha/carol-mining/dashboard/", "/c/alpha/carol-mining/rewards/",
                "/c/alpha/carol-mining/statements/", "/account/security/"):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_strict(response)
        assert response["Cache-Control"] == "no-store", url
    rewards = client.get("/c/alpha/carol-mining/rewards.csv")
    assert rewards.status_code == 200 and rewards["Cache-Control"] == "no-store"


def test_staff_pages_and_an_api_token_answer_are_never_stored(world, client):
    login_verified(client, world.alice)
    fleet = client.get("/p/alpha/fleet/")
    assert fleet.status_code == 200
    _assert_strict(fleet)
    assert fleet["Cache-Control"] == "no-store"
    token = token_make(world.provider_a, scopes="read", name="monitoring")
    api = client.__class__().get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.status_code == 200 and api["Cache-Control"] == "no-store"


def test_anonymous_pages_have_the_policy_too(client):
    login = client.get("/login/")
    assert login.status_code == 200
    _assert_strict(login)
    assert "camera=()" in client.get("/healthz")["Permissions-Policy"]


def test_no_template_has_inline_script_or_style():
    """The CSP allows scripts and styles from files only: an inline one would be blocked in every browser.
    (statement_document.html is the PDF's document, rendered by WeasyPrint, never served as a page.)"""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        if path.name in ("statement_document.html", "invoice_document.html"):  # PDFs (WeasyPrint), never pages
            continue
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and 'type="application/json"' not in tag:
                offenders.append((path.name, tag))
        offenders += [(path.name, m) for m in re.findall(r"<style\b|\sstyle=|\son[a-z]+=", text)]
    assert offenders == []


def _references(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["']([^"']+)["']""", html) + re.findall(r"url\(([^)]+)\)", html)


def test_the_api_docs_load_only_our_own_files(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    _assert_strict(page)
    html = page.content.decode()
    refs = _references(html)
    assert refs and all(r.startswith("/") and not r.startswith("//") for r in refs), refs
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in refs
    assert "<script>" not in html and "<style" not in html  # the start-up script is a file: ?script
    script = client.get(next(r for r in refs if "script" in r and "static" not in r))
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in script.content.decode() and "validatorUrl" in script.content.decode()
    for host in ("googleapis", "gstatic", "redoc.ly", "cdn.", "unpkg", "jsdelivr"):
        assert host not in html and host not in script.content.decode(), host


def test_redoc_is_gone_and_its_address_leads_to_the_docs(client):
    response = client.get("/api/redoc/")
    assert response.status_code == 302 and response["Location"] == "/api/docs/"
