"""Simplified Chinese in Chromium (locale="zh-CN": Accept-Language and
navigator.language both say so): the server's words (templates), the scripts'
words (static/js/lib/i18n.js with the embedded catalogue), the server's error
messages over Socket.IO, and the language setting switching back to English."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.conftest import PageWatch
from tests.browser.helpers import close_contexts, console_problems, open_chat, unique, wait_connected

PASSWORD = "correct-horse-battery"


def zh_context(browser, server):
    ctx = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800},
                              locale="zh-CN", timezone_id="Asia/Shanghai")
    ctx.set_default_timeout(15_000)
    return ctx


def register(page, username: str) -> None:
    page.goto("/register")
    expect(page.locator("#register-title")).to_have_text("创建账号")
    page.fill("#register-form #username", username)
    page.fill("#register-form #password", PASSWORD)
    page.fill("#register-form #confirm", PASSWORD)
    page.click("#register-form button[type=submit]")
    page.wait_for_url(re.compile(r"/chat$"))


def test_chat_and_market_in_chinese_then_english_from_the_setting(browser, live_server, screenshot):
    ctx = zh_context(browser, live_server)
    page = ctx.new_page()
    watch = PageWatch(page)
    try:
        register(page, unique("zh"))
        assert page.get_attribute("html", "lang") == "zh-CN"

        # The chat page: the template's words, then the scripts' once connected.
        open_chat(page)
        expect(page.locator("#send")).to_have_text("发送")
        expect(page.locator("#sidebar .sidebar-title").first).to_have_text("房间")
        expect(page.locator("#conn-badge")).to_have_text(re.compile(r"^● 已连接"))
        expect(page.locator("#room-meta")).to_have_text(re.compile(r"^公开房间"))
        expect(page.locator("#composer")).to_have_attribute("placeholder", "发消息到 #general")
        expect(page.locator("#logout")).to_have_text("退出登录")

        # A message goes out and shows its time; a refused room name shows the
        # server's message in Chinese (the connection's language, picked at connect).
        page.fill("#composer", "你好")
        page.press("#composer", "Enter")
        mine = page.locator("#message-list .message", has_text="你好")
        expect(mine).to_have_count(1)
        # Its time: in the browser's time zone (the context's Asia/Shanghai, not
        # the server's UTC) and the page's language (zh-CN: 24-hour "HH:MM").
        stamp = mine.locator("time.message-time").first
        expect(stamp).not_to_have_text("")
        sent = datetime.fromisoformat(stamp.get_attribute("datetime").replace("Z", "+00:00"))
        assert stamp.inner_text().strip() == sent.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
        page.fill("#new-room-name", "dm:nope")
        page.click("#new-room-create")
        expect(page.locator("#new-room-error")).to_have_text("name：不能以 'dm:' 开头")
        page.fill("#new-room-name", " ")
        page.click("#new-room-create")
        expect(page.locator("#new-room-error")).to_have_text("请为房间起个名字。")
        screenshot(page, "i18n-chat-zh-CN")

        # The market page: template, scripts (ticket, validation), time of the last quote.
        page.click("#market-link")
        page.wait_for_url(re.compile(r"/market$"))
        wait_connected(page)
        assert page.get_attribute("html", "lang") == "zh-CN"
        expect(page.locator("#sim-label")).to_have_text("模拟价格")
        expect(page.locator("#ticket-title")).to_have_text("交易")
        expect(page.locator("#conn-badge")).to_have_text(re.compile(r"^● 实时"))
        expect(page.locator("#trade-submit")).to_have_text(re.compile(r"^买入 \S+"))
        expect(page.locator("#board-meta")).to_have_text(re.compile(r"^更新于 \d"))
        page.fill("#trade-quantity", "")
        page.click("#trade-submit")
        expect(page.locator("#quantity-error")).to_have_text("请输入股数。")
        page.fill("#trade-quantity", "1")
        page.click("#trade-submit")
        expect(page.locator("#trade-result")).to_have_text(re.compile(r"^已按 .+ 买入 1 股 "))
        screenshot(page, "i18n-market-zh-CN")

        # The language setting: English overrides the browser's Chinese, on every page.
        expect(page.locator("#language-auto")).to_have_attribute("aria-pressed", "true")
        page.click("#language-en")
        page.wait_for_url(re.compile(r"/market$"))
        assert page.get_attribute("html", "lang") == "en"
        wait_connected(page)
        expect(page.locator("#sim-label")).to_have_text("Simulated prices")
        expect(page.locator("#conn-badge")).to_have_text(re.compile(r"^● live"))
        expect(page.locator("#trade-submit")).to_have_text(re.compile(r"^Buy \S+"))
        expect(page.locator("#language-en")).to_have_attribute("aria-pressed", "true")
        page.goto("/chat")
        open_chat(page)
        expect(page.locator("#send")).to_have_text("Send")
        expect(page.locator("#room-meta")).to_have_text(re.compile(r"^public room"))
        page.fill("#new-room-name", "dm:nope")
        page.click("#new-room-create")
        expect(page.locator("#new-room-error")).to_have_text("name: may not start with 'dm:'")

        # "Auto" follows the browser again.
        page.click("#language-auto")
        page.wait_for_url(re.compile(r"/chat$"))
        assert page.get_attribute("html", "lang") == "zh-CN"
        expect(page.locator("#send")).to_have_text("发送")
        assert console_problems(watch) == [] and watch.csp == []
    finally:
        close_contexts(ctx)


def test_logged_out_pages_and_errors_in_chinese(browser, live_server):
    ctx = zh_context(browser, live_server)
    page = ctx.new_page()
    watch = PageWatch(page)
    try:
        page.goto("/login")
        assert page.get_attribute("html", "lang") == "zh-CN"
        expect(page.locator("#login-title")).to_have_text("登录")
        page.fill("#login-form #username", "nobody-here")
        page.fill("#login-form #password", "wrong-password")
        page.click("#login-form button[type=submit]")
        expect(page.locator("#form-error")).to_have_text("用户名或密码错误。")
        page.goto("/no-such-page")
        expect(page.locator("#error-title")).to_have_text("页面不存在")
        expect(page.locator("#error-back")).to_have_text("前往登录页")
        assert watch.csp == []
    finally:
        close_contexts(ctx)


def test_chinese_pages_pass_axe(browser, live_server):
    """axe-core on the pages in Chinese: lang attributes valid, nothing the
    longer or shorter words break (contrast, names, overlaps)."""
    from tests.browser.test_accessibility_browser import AXE, BLOCKING, describe
    from tests.conftest import require

    require("axe-core (node_modules/axe-core)", AXE.exists(), "run `npm ci`")
    ctx = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800},
                              locale="zh-CN", bypass_csp=True)  # axe is added as an inline script
    ctx.set_default_timeout(15_000)
    page = ctx.new_page()
    try:
        register(page, unique("zhaxe"))
        for path, ready in (("/chat", "#messages[data-state=ready]"),
                            ("/market", "#quote-rows tr[data-symbol] .mk-price"),
                            ("/account/password", "form")):
            page.goto(path)
            page.wait_for_selector(ready, state="attached")
            assert page.get_attribute("html", "lang") == "zh-CN"
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
            blocking = [v for v in result["violations"] if v["impact"] in BLOCKING]
            assert not blocking, f"axe on {path} (zh-CN):\n" + describe(blocking)
    finally:
        close_contexts(ctx)
