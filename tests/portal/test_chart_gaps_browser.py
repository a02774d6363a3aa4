"""Real headless Chromium draws a chart with a gap (issue 16): a customer whose 5-minute series misses an hour signs
in, the dashboard's chart is drawn on a canvas, its line stops over the missing hour and a band shades it, and
the caption says since when the portal holds the series in the customer's zone. No JavaScript error, no request
to another host. Screenshot in var/screenshots/chart-gap-dashboard.png."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from mining.models import Interval
from tenants.models import UserPreference
from tests.access.test_browser_flow import SHOTS, browser_page  # noqa: F401 (fixture)
from tests.billing.factories import account_make
from tests.fixtures.tenancy import PASSWORD
from tests.mining.test_chart_gaps import LAST, MISSING, hourly_points
from tests.portal.browser import Watch, chart_points, sign_in

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.django_db(transaction=True)]
FIVE = timedelta(minutes=5)
MISSING_5M = {MISSING + i * FIVE for i in range(12)}  # 05:00–06:00 UTC on 15 Nov

# Reads a row of canvas pixels inside the plot at height `frac`: the share of shaded pixels (the band's grey,
# partly transparent) over [a, b] in unix seconds, and the share of pixels of the line's own colour.
PIXELS = """([a, b, frac]) => {
  const u = window.portalCharts[window.portalCharts.length - 1];
  const ctx = u.ctx, x0 = Math.ceil(u.valToPos(a, "x", true)) + 2, x1 = Math.floor(u.valToPos(b, "x", true)) - 2;
  const y = Math.round(u.bbox.top + u.bbox.height * frac);
  const px = ctx.getImageData(x0, y, x1 - x0, 1).data;
  let shaded = 0, n = 0;
  for (let i = 0; i < px.length; i += 4, n++) {
    const [r, g, bl, al] = [px[i], px[i + 1], px[i + 2], px[i + 3]];
    if (al > 20 && al < 80 && Math.abs(r - g) < 20 && Math.abs(g - bl) < 20) shaded++;
  }
  return n ? shaded / n : -1;
}"""
LINE_AT = """([a, b]) => {
  const u = window.portalCharts[window.portalCharts.length - 1];
  const ctx = u.ctx, y = Math.round(u.valToPos(u.data[1].find(v => v != null), "y", true));
  const x0 = Math.ceil(u.valToPos(a, "x", true)) + 3, x1 = Math.floor(u.valToPos(b, "x", true)) - 3;
  const px = ctx.getImageData(x0, y - 1, x1 - x0, 3).data;
  let blue = 0;
  for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 200 && px[i + 2] > 150 && px[i] < 80) blue++;
  return blue / (px.length / 4);
}"""


def test_a_chart_with_a_gap_is_drawn_broken_and_shaded_with_its_history(world, live_server, browser_page):  # noqa: F811
    page = browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    account = account_make(world.provider_a, world.customer_a1)
    hourly_points(account)
    hourly_points(account, first=LAST - timedelta(days=2) + FIVE, missing=MISSING_5M, interval=Interval.M5, step=FIVE)
    UserPreference.objects.create(user=world.carol, timezone="Asia/Tokyo")
    watch = Watch(page, urlsplit(live_server.url).netloc)

    sign_in(page, live_server.url, "carol@carol.example", PASSWORD)
    page.goto(f"{live_server.url}/c/alpha/carol-mining/dashboard/")
    assert chart_points(page) == 288  # drawn on a canvas: 24 hours of 5-minute slots, the missing hour included
    assert page.get_attribute("[data-chart]", "data-gaps") == "1"
    caption = page.inner_text(".chart-history")
    assert "history since 14 Nov 02:05 JST" in caption and "1 gap in the range" in caption

    gap = (int((MISSING - FIVE).timestamp()), int((MISSING + 12 * FIVE).timestamp()))
    before = (gap[0] - 3 * 3600, gap[0] - 2 * 3600)
    assert page.evaluate(PIXELS, [*gap, 0.2]) > 0.8  # the band covers the missing hour
    assert page.evaluate(PIXELS, [*before, 0.2]) < 0.2  # and nothing else
    assert page.evaluate(LINE_AT, list(before)) > 0.2  # the line runs where the data is
    assert page.evaluate(LINE_AT, list(gap)) == 0  # and stops over the gap: nothing drawn at zero or across
    page.screenshot(path=str(SHOTS / "chart-gap-dashboard.png"), full_page=True)

    page.click("#hashrate >> text=30 days")  # htmx swaps the chart: the hourly history is 42 hours long
    page.wait_for_selector("#hashrate [aria-current=true]:has-text('30 days')")
    assert chart_points(page) == 42
    assert "Showing 42 hours: the portal holds hourly history since 14 Nov 2026 09:00 JST" in page.inner_text(
        "#hashrate .chart-short")
    page.screenshot(path=str(SHOTS / "chart-gap-dashboard-30d.png"), full_page=True)
    watch.assert_clean()
