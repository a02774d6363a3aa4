"""What every real-browser test of the portal shares: signing in (with the second factor for staff), watching each
page for what must never happen, and reading a drawn chart."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.access.test_browser_flow import _code_for_step, _current_code


class Watch:
    """Collects what must never happen on a page: uncaught JS errors, console errors, requests off our host."""

    def __init__(self, page, host: str):
        self.errors: list[str] = []
        self.foreign: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("response", lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on("request", lambda req: None if urlsplit(req.url).netloc in (host, "") or req.url.startswith(
            ("data:", "blob:")) else self.foreign.append(req.url))

    def assert_clean(self):
        assert (self.errors, self.foreign) == ([], []), (self.errors, self.foreign)


def chart_points(page, selector: str = "[data-chart]") -> int:
    """How many points uPlot drew in the chart (it marks the container once drawn)."""
    page.wait_for_selector(f"{selector}[data-drawn]")
    assert page.locator(f"{selector} canvas").count() == 1  # uPlot drew on a canvas
    return int(page.get_attribute(selector, "data-drawn"))


def fresh_code(device) -> str:
    """A code the server has not accepted yet (a code works once): this step's, or the next step's, which django-otp
    accepts too (one step of tolerance); waits for the clock only when both were used already."""
    import time

    device.refresh_from_db()
    now_step = int((time.time() - device.t0) // device.step)
    step = max(now_step, (device.last_t if device.last_t is not None else -1) + 1)
    if step > now_step + 1:
        time.sleep(device.t0 + (step - 1) * device.step - time.time() + 0.2)
    return _code_for_step(device, step)


def sign_in(page, url: str, email: str, password: str) -> None:
    """The sign-in form, as a person fills it (no session forged)."""
    page.goto(f"{url}/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")


def staff_sign_in(page, url: str, email: str, password: str, device) -> None:
    """Staff: the password, then the code their authenticator (`device`) shows now."""
    sign_in(page, url, email, password)
    page.wait_for_url("**/account/two-factor/verify/**")
    page.fill("#id_code", _current_code(device))
    page.click("main button[type=submit]")
