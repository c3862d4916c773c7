"""Accounts in Chromium: invite-only registration through a link (and 410 for
a used one), the kicked page's message and retry, the account page's
personal access tokens (shown once, copied, revoked), its profile (display
name, status, avatar) and language, and its screenshots."""
from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import PageWatch
from tests.browser.helpers import (
    DESKTOP,
    PASSWORD,
    PHONE,
    TIMEOUT_MS,
    close_contexts,
    console_problems,
    login,
    open_chat,
    overflow,
    shot,
    unique,
    wait_connected,
)
from tests.conftest import require_binary
from tests.support.server import ROOT, ServerProcess

KICK_BLOCK = 4  # seconds: long enough to see the message, short enough to see the retry
ADMIN = "root"


@pytest.fixture(scope="module")
def server():
    require_binary("chromium")
    env = {"REGISTRATION": "invite", "KICK_BLOCK_SECONDS": str(KICK_BLOCK)}
    with ServerProcess(async_mode="eventlet", env=env, name="accounts-browser") as srv:
        # REGISTRATION=invite: the first (admin) account comes from the CLI,
        # as docs/deploy.md says.
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "app", "users", "create", ADMIN, "--admin",
             "--password", PASSWORD], cwd=ROOT, env=srv.env(), capture_output=True, text=True,
            timeout=60)
        assert done.returncode == 0, done.stderr
        yield srv


def context(browser, server, viewport=DESKTOP, **kwargs):
    ctx = browser.new_context(base_url=server.url, viewport=viewport, reduced_motion="reduce",
                              **kwargs)
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx


def create_invite_link(page, uses: int = 1) -> str:
    page.goto("/admin")
    wait_connected(page)
    page.fill("#invite-uses", str(uses))
    page.fill("#invite-days", "1")
    page.click("#invite-create")
    expect(page.locator("#invite-new")).to_be_visible()
    link = page.input_value("#invite-link")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/join/[A-Za-z0-9_-]{22}", link), link
    # The QR code, an SVG served by the site, is drawn.
    page.wait_for_function("() => document.getElementById('invite-qr').naturalWidth > 0")
    code = link.rsplit("/", 1)[1]
    expect(page.locator(f"#invites-table tr[data-code='{code}']")).to_contain_text("0/1")
    return link


def register_through(page, link: str, username: str) -> None:
    response = page.goto(link)
    assert response.status == 200
    expect(page.locator("#invite-note")).to_contain_text(f"invited by {ADMIN}")
    page.fill("#register-form #username", username)
    page.fill("#register-form #password", PASSWORD)
    page.fill("#register-form #confirm", PASSWORD)
    page.click("#register-form button[type=submit]")
    page.wait_for_url(re.compile(r"/chat$"))


def invited(admin_ctx, ctx, prefix: str):
    """A newcomer registered through a link the admin just made (invite-only registration):
    their page in ``ctx``, watched, and their username."""
    admin = admin_ctx.new_page()
    login(admin, ADMIN)
    link = create_invite_link(admin)
    page = ctx.new_page()
    watch = PageWatch(page)
    username = unique(prefix)
    register_through(page, link, username)
    return page, watch, username


def test_invite_only_registration_through_a_link_and_410_for_a_used_one(browser, server):
    admin_ctx, new_ctx, late_ctx = (context(browser, server) for _ in range(3))
    try:
        admin = admin_ctx.new_page()
        watch = PageWatch(admin)
        login(admin, ADMIN)
        link = create_invite_link(admin)
        assert console_problems(watch) == [] and watch.csp == []

        newcomer = new_ctx.new_page()
        closed = newcomer.goto("/register")
        assert closed.status == 403
        expect(newcomer.locator("#error-text")).to_contain_text("by invitation")
        register_through(newcomer, link, unique("invited"))
        wait_connected(newcomer)

        late = late_ctx.new_page()
        gone = late.goto(link)
        assert gone.status == 410
        expect(late.locator("#error-title")).to_have_text("This invite link no longer works")
        expect(late.locator("#register-form")).to_have_count(0)

        code = link.rsplit("/", 1)[1]
        admin.reload()
        wait_connected(admin)
        expect(admin.locator(f"#invites-table tr[data-code='{code}']")).to_contain_text("used")
    finally:
        close_contexts(admin_ctx, new_ctx, late_ctx)


def test_the_kicked_page_says_so_and_comes_back_after_the_block(browser, server):
    admin_ctx, victim_ctx = context(browser, server), context(browser, server)
    try:
        admin = admin_ctx.new_page()
        login(admin, ADMIN)
        link = create_invite_link(admin)
        victim_name = unique("kicked")
        chat = victim_ctx.new_page()
        register_through(chat, link, victim_name)
        open_chat(chat)
        market = victim_ctx.new_page()
        market.goto("/market")
        wait_connected(market)

        admin.goto("/admin")
        wait_connected(admin)
        admin.on("dialog", lambda dialog: dialog.accept())
        admin.locator(f"button.kick[data-username='{victim_name}']").first.click()

        pattern = re.compile(r"An administrator disconnected you; retrying at \d\d:\d\d:\d\d")
        for page in (chat, market):
            expect(page.locator("#kicked-notice")).to_have_text(pattern, timeout=10_000)
            expect(page.locator("#conn-badge")).to_have_attribute("data-state", "offline")
        # When the block ends, the pages connect again by themselves and the line goes.
        for page in (chat, market):
            wait_connected(page, timeout=(KICK_BLOCK + 15) * 1000)
            expect(page.locator("#kicked-notice")).to_have_count(0)
    finally:
        close_contexts(admin_ctx, victim_ctx)


def test_account_page_creates_a_token_shown_once_and_revokes_it(browser, server):
    admin_ctx = context(browser, server)
    ctx = context(browser, server, permissions=["clipboard-read", "clipboard-write"])
    try:
        page, watch, _ = invited(admin_ctx, ctx, "tokens")
        page.click("#account-link") if page.locator("#account-link").is_visible() \
            else page.goto("/account")
        page.wait_for_url(re.compile(r"/account$"))
        expect(page.locator("#tokens-empty")).to_be_visible()

        page.fill("#token-name", "deploy bot")
        page.select_option("#token-expiry", str(90 * 86400))
        page.click("#token-create")
        expect(page.locator("#token-secret")).to_be_visible()
        secret = page.input_value("#token-secret-value")
        assert secret.startswith("sbp_") and len(secret) > 40
        row = page.locator("#tokens-table tbody tr", has_text="deploy bot")
        expect(row).to_have_count(1)
        expect(row.locator("td").nth(2)).to_have_text("never")
        page.click("#token-copy")
        expect(page.locator("#token-copy-status")).to_have_text("Copied.")
        assert page.evaluate("() => navigator.clipboard.readText()") == secret

        me = page.request.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.status == 200

        # Shown once: after a reload the secret is nowhere on the page.
        page.reload()
        expect(row).to_have_count(1)
        expect(page.locator("#token-secret")).to_be_hidden()
        assert secret not in page.content()
        expect(row.locator("td").nth(2)).not_to_have_text("never")  # used just now

        page.once("dialog", lambda dialog: dialog.accept())
        row.locator("button.token-revoke").click()
        expect(row).to_have_count(0)
        expect(page.locator("#tokens-empty")).to_be_visible()
        gone = page.request.get("/api/me", headers={"Authorization": f"Bearer {secret}"})
        assert gone.status == 401
        assert console_problems(watch) == [] and watch.csp == []
    finally:
        close_contexts(admin_ctx, ctx)


def small_png() -> bytes:
    """A 96x64 picture in two colours, made here (the server crops it square)."""
    picture = Image.new("RGB", (96, 64), (30, 110, 200))
    picture.paste((240, 180, 20), (0, 0, 48, 64))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def test_account_page_edits_the_profile_and_uploads_an_avatar(browser, server):
    admin_ctx = context(browser, server)
    ctx = context(browser, server)
    try:
        page, watch, username = invited(admin_ctx, ctx, "prof")
        page.goto("/account")
        expect(page.locator("#profile-display-name")).to_have_text(username)
        expect(page.locator("#profile-avatar")).to_be_hidden()

        # A refused name says why, at its field, and keeps what was typed.
        page.fill("#display-name", ADMIN.upper())
        page.click("#profile-save")
        expect(page.locator("#profile-error")).to_contain_text("looks like the username")
        expect(page.locator("#display-name")).to_have_value(ADMIN.upper())
        expect(page.locator("#display-name")).to_have_attribute("aria-invalid", "true")

        page.fill("#display-name", "Ada Lovelace")
        page.fill("#status-text", "Writing the notes")
        page.click("#profile-save")
        page.wait_for_url(re.compile(r"/account#profile-section$"))
        expect(page.locator("#flashes")).to_contain_text("Profile saved.")
        expect(page.locator("#profile-display-name")).to_have_text("Ada Lovelace")
        expect(page.locator("#profile-status")).to_have_text("Writing the notes")
        expect(page.locator("#current-user")).to_have_text("Ada Lovelace")
        expect(page.locator("#profile-error")).to_have_count(0)

        page.set_input_files("#avatar-file", files=[
            {"name": "me.png", "mimeType": "image/png", "buffer": small_png()}])
        page.click("#avatar-upload")
        expect(page.locator("#avatar-status")).to_have_text("Avatar updated.")
        avatar = page.locator("#profile-avatar")
        expect(avatar).to_be_visible()
        expect(avatar).to_have_attribute("src", re.compile(r"^/avatars/\d+\.webp\?v=\d+$"))
        page.wait_for_function("() => document.getElementById('profile-avatar').naturalWidth > 0")
        # Kept: after a reload the page shows the stored picture and profile.
        page.reload()
        expect(avatar).to_be_visible()
        page.wait_for_function("() => document.getElementById('profile-avatar').naturalWidth > 0")
        expect(page.locator("#display-name")).to_have_value("Ada Lovelace")

        # The language, from the account page: the page comes back in Chinese.
        page.click("#account-language-zh-CN")
        page.wait_for_url(re.compile(r"/account$"))
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("#profile-title")).to_have_text("个人资料")
        expect(page.locator("#account-language-zh-CN")).to_have_attribute("aria-pressed", "true")
        page.click("#account-language-auto")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        # The refused form's page came with status 400 (on purpose): Chromium
        # logs that one load; anything else is a problem.
        problems = console_problems(watch)
        assert [p for p in problems if "status of 400" not in p] == [] and len(problems) <= 1
        assert watch.csp == []
    finally:
        close_contexts(admin_ctx, ctx)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_account_page_fits_and_screenshots(browser, server, size):
    viewport = PHONE if size == "phone" else DESKTOP
    ctx = context(browser, server, viewport, color_scheme="light")
    try:
        page = ctx.new_page()
        watch = PageWatch(page)
        login(page, ADMIN)
        page.goto("/account")
        if size == "desktop":  # two tokens to show in the table (the phone shot sees them too)
            for name, expiry in (("ci deploys", str(90 * 86400)), ("status bot", "0")):
                page.fill("#token-name", name)
                page.select_option("#token-expiry", expiry)
                page.click("#token-create")
                expect(page.locator("#tokens-table tbody tr", has_text=name)).to_have_count(1)
            page.reload()
        page.wait_for_function("() => document.getElementById('tokens-table').tBodies[0].rows.length"
                               " > 0 || !document.getElementById('tokens-empty').hidden")
        scroll_width, inner_width = overflow(page)
        assert scroll_width <= inner_width, f"/account scrolls sideways at {viewport['width']}px"
        page.evaluate("() => window.scrollTo(0, 0)")  # a reload keeps the scroll position
        shot(page, "account-phone" if size == "phone" else "account")
        assert console_problems(watch) == [] and watch.csp == []
    finally:
        close_contexts(ctx)
