"""Real headless Chromium under the portal's CSP (issue 15 item 6): staff and a customer sign in and open the
main pages (fleet with its chart and an htmx swap, the customer dashboard with its chart, statements, the API docs,
the admin); every page arrives with the strict policy, the browser reports no violation, and the charts and
Swagger UI draw. A script injected into the page is blocked, which proves the browser enforces the policy we send.
Screenshots in var/screenshots/csp-*.png."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tenants import services
from tenants.models import CustomerRole, StaffRole
from tests.access.test_browser_flow import SHOTS, browser_page  # noqa: F401 (fixture)
from tests.fixtures.access import totp_device_for
from tests.portal.browser import Watch, chart_points, sign_in, staff_sign_in

pytestmark = pytest.mark.xdist_group("browser")
PASSWORD = "csp-browser-passphrase-3141"

# Runs before any page script, outside the page's CSP: every violation the browser reports reaches the test.
_LISTEN = """document.addEventListener("securitypolicyviolation", function (e) {
  window.reportCsp(e.violatedDirective + " " + (e.blockedURI || "inline") + " on " + location.pathname);
});"""




class CspWatch(Watch):
    """Watch, plus every CSP violation event and console line, and each document's policy header."""

    def __init__(self, page, host: str):
        super().__init__(page, host)
        self.violations: list[str] = []
        self.unprotected: list[str] = []
        page.expose_function("reportCsp", lambda text: self.violations.append(text))
        page.add_init_script(_LISTEN)
        page.on("console", lambda msg: self.violations.append(msg.text)
                if "Content Security Policy" in msg.text else None)
        page.on("response", self._document)
        # Django's admin has no icon link, so Chromium asks for /favicon.ico (404): not what this test is about.
        page.on("console", lambda msg: self.favicon.append(msg.text)
                if msg.location.get("url", "").endswith("/favicon.ico") else None)
        self.favicon: list[str] = []

    def _document(self, response):
        if response.request.resource_type != "document" or response.status >= 300:
            return
        policy = response.headers.get("content-security-policy", "")
        if "script-src 'self'" not in policy or "style-src 'self'" not in policy or "unsafe" in policy:
            self.unprotected.append(f"{response.url}: {policy!r}")

    def assert_clean(self):
        assert self.unprotected == [], self.unprotected
        assert self.violations == [], self.violations
        for text in self.favicon:
            self.errors.remove(text)
        self.favicon.clear()
        super().assert_clean()


def _api_docs_drawn(page, base: str, shot: str) -> None:
    page.goto(f"{base}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "Mining portal API" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() > 10  # the operations, rendered from our own schema
    page.screenshot(path=str(SHOTS / shot), full_page=False)


def test_staff_pages_run_under_the_strict_policy_without_a_violation(fleet, live_server, browser_page):  # noqa: F811
    pp, page = fleet, browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    owner = services.user_get_or_create(email="csp-owner@pool.example", password=PASSWORD)
    services.provider_membership_grant(provider=pp.provider, user=owner, role=StaffRole.OWNER)
    watch = CspWatch(page, urlsplit(live_server.url).netloc)

    staff_sign_in(page, live_server.url, "csp-owner@pool.example", PASSWORD, totp_device_for(owner))
    page.wait_for_url(f"{live_server.url}/p/{pp.provider.slug}/fleet/")  # the staff landing is the fleet console
    assert chart_points(page) == 288
    page.click("#hashrate >> text=7 days")  # htmx swaps the chart in place (no inline style, no eval) ...
    page.wait_for_selector("#hashrate [aria-current=true]:has-text('7 days')")
    assert chart_points(page) == 7 * 24  # ... and charts.js draws it again
    page.screenshot(path=str(SHOTS / "csp-01-staff-fleet.png"), full_page=True)
    page.goto(f"{live_server.url}/p/{pp.provider.slug}/billing/statements/")
    page.wait_for_selector("main h1")
    page.screenshot(path=str(SHOTS / "csp-02-staff-statements.png"), full_page=True)
    _api_docs_drawn(page, live_server.url, "csp-03-api-docs.png")
    # The platform's admin (Django's own templates) runs under the same policy.
    type(owner).objects.filter(pk=owner.pk).update(is_staff=True, is_superuser=True)
    for path in ("/admin/", "/admin/tenants/customer/", f"/admin/tenants/customer/{pp.customer.pk}/change/"):
        page.goto(live_server.url + path)
        page.wait_for_selector("#content")
    page.screenshot(path=str(SHOTS / "csp-07-admin-customer.png"), full_page=False)
    watch.assert_clean()

    # The control: a script put into the page is refused by the browser, because of the header we send.
    page.goto(f"{live_server.url}/p/{pp.provider.slug}/fleet/")
    page.evaluate("""() => { const s = document.createElement("script"); s.textContent = "window.__ran = 1";
                             document.head.append(s); }""")
    assert page.evaluate("() => window.__ran") is None
    page.wait_for_timeout(200)
    assert any(v.startswith("script-src") for v in watch.violations), watch.violations


def test_customer_pages_run_under_the_strict_policy_without_a_violation(fleet, live_server, browser_page):  # noqa: F811
    pp, page = fleet, browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    user = services.user_get_or_create(email="csp-admin@miner.example", password=PASSWORD)
    services.customer_membership_grant(customer=pp.customer, user=user, role=CustomerRole.ADMIN)
    watch = CspWatch(page, urlsplit(live_server.url).netloc)
    base = f"{live_server.url}/c/{pp.provider.slug}/miner-co/"

    sign_in(page, live_server.url, "csp-admin@miner.example", PASSWORD)
    page.wait_for_url(base + "dashboard/")  # the customer landing is the dashboard
    assert chart_points(page) == 288
    page.screenshot(path=str(SHOTS / "csp-04-customer-dashboard.png"), full_page=True)
    page.goto(base + "workers/")
    page.wait_for_selector("#workers-table tbody tr")
    page.goto(base + "statements/")
    page.wait_for_selector("main h1")
    page.screenshot(path=str(SHOTS / "csp-05-customer-statements.png"), full_page=True)
    page.goto(base + "rewards/")
    page.goto(f"{live_server.url}/account/security/")
    _api_docs_drawn(page, live_server.url, "csp-06-api-docs-customer.png")
    watch.assert_clean()
