"""The market page across a reload, and the optional review step, in Chromium.

A reload must show what the page showed before it: the chart keeps the
points it had (the server's last ten minutes, ``history``) and the market
activity keeps the fill (the server's last fills, ``activity``). The review
step ("Review before placing", remembered per user) shows the order with
Confirm / Back; Esc is Back; nothing is sent until Confirm.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageWatch
from tests.browser.helpers import browser_server, new_context, register, unique, wait_connected
from tests.support.server import OUTPUT


@pytest.fixture(scope="module")
def market_server():
    with browser_server("market-reload", interval="0.3", seed="11") as srv:
        yield srv


def chart(page) -> tuple[int, int]:
    """(points drawn, ms of the oldest) of the chart, from its data attributes (board.js)."""
    data = page.eval_on_selector("#chart", "c => [c.dataset.points || '0', c.dataset.from || '0']")
    return int(data[0]), int(data[1] or 0)


@pytest.mark.parametrize("transport", ["default", "polling"])
def test_a_reload_keeps_the_chart_and_the_activity_and_the_review_step(browser, market_server,
                                                                      transport):
    ctx = new_context(browser, market_server)
    page = ctx.new_page()
    watch = PageWatch(page)
    query = "?transport=polling" if transport == "polling" else ""
    qty = 7 if transport == "default" else 9  # the server (and its activity) is the module's
    try:
        register(page, unique("reload"))
        page.goto("/market" + query)
        wait_connected(page, "polling" if transport == "polling" else None)
        expect(page.locator("#chart-symbol")).to_have_text("ACME")
        # Some seconds of chart (one point per second is kept).
        page.wait_for_function("() => Number(document.querySelector('#chart').dataset.points) >= 4",
                               timeout=20_000)

        # Review on: Esc and Back return to the ticket and send nothing.
        review = page.locator("#review")
        expect(page.locator("#trade-review")).not_to_be_checked()
        page.check("#trade-review")
        page.fill("#trade-quantity", str(qty))
        page.click("#trade-submit")
        expect(review).to_be_visible()
        expect(page.locator("#trade-submit")).to_be_hidden()
        expect(page.locator("#review-side")).to_have_text("Buy")
        expect(page.locator("#review-quantity")).to_have_text(str(qty))
        expect(page.locator("#review-symbol")).to_have_text("ACME")
        expect(page.locator("#review-type [data-type=market]")).to_be_visible()
        expect(page.locator("#review-limit-row")).to_be_hidden()
        expect(page.locator("#review-estimate")).to_have_text(re.compile(r"^[0-9,]+\.[0-9]{2}$"))
        expect(page.locator("#review-confirm")).to_be_focused()
        page.keyboard.press("Escape")
        expect(review).to_be_hidden()
        expect(page.locator("#trade-submit")).to_be_focused()
        page.click("#trade-submit")
        expect(review).to_be_visible()
        page.click("#review-back")
        expect(review).to_be_hidden()
        # A limit order on review shows its limit and the exact estimate.
        page.select_option("#trade-type", "limit")
        page.fill("#trade-limit", "1.10")
        page.click("#trade-submit")
        expect(page.locator("#review-limit")).to_have_text("1.10")
        expect(page.locator("#review-estimate")).to_have_text(f"{qty * 110 // 100}.{qty * 110 % 100:02d}")
        expect(page.locator("#review-type [data-type=limit]")).to_be_visible()
        page.click("#review-back")
        page.select_option("#trade-type", "market")
        expect(page.locator("#my-trades li")).to_have_count(0)  # nothing was sent
        expect(page.locator("#trade-result")).to_be_hidden()

        # Confirm sends it.
        page.click("#trade-submit")
        page.click("#review-confirm")
        expect(page.locator("#trade-result")).to_contain_text(f"Bought {qty} ACME at ")
        price = re.search(r"at ([0-9.]+)\.$", page.text_content("#trade-result")).group(1)
        fill = page.locator("#activity li", has_text=f"{qty} ACME @ {price}")
        expect(fill).to_have_count(1)

        points, oldest = chart(page)
        reloaded_at = page.evaluate("Date.now()")
        page.reload()
        wait_connected(page, "polling" if transport == "polling" else None)

        # After the reload: the chart has the points from before it, the fill is listed once.
        page.wait_for_function(
            "([n, t]) => { const c = document.querySelector('#chart').dataset;"
            " return Number(c.points) >= n && Number(c.from) <= t; }",
            arg=[points, oldest + 1000])
        assert chart(page)[1] < reloaded_at
        expect(page.locator("#chart-empty")).to_be_hidden()
        expect(page.locator("#activity li", has_text=f"{qty} ACME @ {price}")).to_have_count(1)
        expect(page.locator("#activity-empty")).to_be_hidden()
        # The review choice is remembered for this user.
        expect(page.locator("#trade-review")).to_be_checked()
        if transport == "default":
            OUTPUT.mkdir(exist_ok=True)
            page.click("#trade-submit")
            expect(page.locator("#review")).to_be_visible()
            page.screenshot(path=str(OUTPUT / "market-review.png"))
            page.keyboard.press("Escape")
        assert watch.csp == [], watch.csp
        assert watch.errors == [], watch.errors
    finally:
        ctx.close()
