"""The market page in Chromium: live prices, the chart, a trade that shows up in positions.

Runs the page twice: with the default transports (polling, then the upgrade
to websocket) and forced onto long-polling (``?transport=polling``). Any
console error or Content-Security-Policy violation fails the test.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageWatch
from tests.browser.helpers import browser_server, new_context, register, unique
from tests.support.server import OUTPUT

ROW = "#quote-rows tr[data-symbol='{}']"


@pytest.fixture(scope="module")
def market_server():
    with browser_server("market-browser", interval="0.3") as srv:
        yield srv


def price_of(page, symbol: str) -> str:
    return page.text_content(ROW.format(symbol) + " .mk-price")


@pytest.mark.parametrize("transport", ["default", "polling"])
def test_the_market_page_streams_prices_and_shows_a_filled_trade(browser, market_server,
                                                                 transport):
    ctx = new_context(browser, market_server)
    page = ctx.new_page()
    page.set_viewport_size({"width": 1440, "height": 900})
    # Violations are also reported as console errors; this listener makes
    # sure none is missed (Playwright injects it outside the page's CSP).
    page.add_init_script("document.addEventListener('securitypolicyviolation', e => "
                         "console.error('Content Security Policy violation: ' + e.violatedDirective))")
    watch = PageWatch(page)
    try:
        register(page, unique("trader"))
        page.goto("/market" + ("?transport=polling" if transport == "polling" else ""))
        badge = "#conn-badge[data-state=connected]"
        page.wait_for_selector(badge + ("[data-transport=polling]" if transport == "polling" else ""))
        expect(page.locator("#sim-label")).to_have_text("Simulated prices")
        expect(page.locator("#sim-label")).to_be_visible()
        expect(page.locator("#mk-notice")).to_contain_text("Simulated prices.")

        # Prices change, and the changed cell flashes up or down.
        page.wait_for_function("s => { const c = document.querySelector(s); "
                               "return c && /^[0-9,]+\\.[0-9]{2}$/.test(c.textContent); }",
                               arg=ROW.format("ACME") + " .mk-price")
        first = price_of(page, "ACME")
        page.wait_for_function("([s, f]) => document.querySelector(s).textContent !== f",
                               arg=[ROW.format("ACME") + " .mk-price", first])
        page.wait_for_selector("#quote-rows td.mk-price.flash-up, #quote-rows td.mk-price.flash-down")
        expect(page.locator("#chart-empty")).to_be_hidden()  # the chart has points to draw
        expect(page.locator("#chart-symbol")).to_have_text("ACME")

        # Clear validation messages, and nothing is sent for a bad quantity.
        page.fill("#trade-quantity", "2.5")
        page.click("#trade-submit")
        expect(page.locator("#quantity-error")).to_have_text(
            "Quantity must be a whole number of shares, like 10.")
        page.select_option("#trade-type", "limit")
        page.fill("#trade-quantity", "3")
        page.fill("#trade-limit", "1.005")
        page.click("#trade-submit")
        expect(page.locator("#limit-error")).to_have_text(
            "The limit price is a number with at most 2 decimals, like 101.25.")
        expect(page.locator("#my-trades li")).to_have_count(0)

        # A limit order far below the market stays open and can be cancelled.
        page.fill("#trade-limit", "1.00")
        page.click("#trade-submit")
        expect(page.locator("#trade-result")).to_contain_text("Order placed: buy 3 ACME at 1.00")
        open_row = page.locator("#order-rows tr")
        expect(open_row).to_have_count(1)
        expect(open_row.first).to_contain_text("ACME")

        # A market buy fills at once and shows up in the positions table.
        page.select_option("#trade-type", "market")
        page.fill("#trade-quantity", "25")
        page.click("#trade-submit")
        expect(page.locator("#trade-result")).to_contain_text("Bought 25 ACME at ")
        position = page.locator("#position-rows tr[data-symbol='ACME']")
        expect(position).to_have_count(1)
        expect(position.locator("td").nth(1)).to_have_text("25")
        expect(position.locator("td.mk-pnl")).to_have_text(
            re.compile(r"^[+-]?[0-9,]+\.[0-9]{2} \([+-]?[0-9]+\.[0-9]{2}%\)$"))
        expect(page.locator("#activity li").first).to_contain_text("25 ACME @ ")
        expect(page.locator("#cash")).not_to_have_text("100,000.00")

        # The position's value follows the live price.
        value = position.locator("td").nth(4)
        before = value.text_content()
        expect(value).not_to_have_text(before, timeout=15_000)

        page.locator("#order-rows button.mk-cancel").first.click()
        expect(page.locator("#order-rows tr")).to_have_count(0)
        expect(page.locator("#trade-result")).to_contain_text("Cancelled")

        if transport == "default":
            page.wait_for_timeout(3000)  # some chart history for the picture
        OUTPUT.mkdir(exist_ok=True)
        shot = OUTPUT / ("market.png" if transport == "default" else "market-polling.png")
        page.screenshot(path=str(shot))  # the README's copy is docs/screenshots/market.png

        assert watch.csp == [], watch.csp
        assert watch.errors == [], watch.errors
    finally:
        ctx.close()
