"""English and Simplified Chinese (PROTOCOL section 16): the account's choice,
else Accept-Language, else English, for pages, HTTP errors, form errors and
Socket.IO error messages; error codes never change."""
from __future__ import annotations

import re

import pytest
from flask_socketio import SocketIOTestClient

from blueprints.auth import service
from errors import BadRequest
from extensions import db, socketio
from models import User
from tests.support.clients import call

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
EN = {"Accept-Language": "en-US,en;q=0.9"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def lang_of(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def login(app, username: str, headers=None):
    with app.app_context():
        if service.find_user(username) is None:
            service.create_user(username, "password-123")
    client = app.test_client()
    page = client.get("/login", headers=headers)
    r = client.post("/login", headers=headers, data={
        "csrf_token": csrf(page.text), "username": username, "password": "password-123"})
    assert r.status_code == 302, r.text
    return client


def set_stored_locale(app, username: str, locale: str | None) -> None:
    with app.app_context():
        service.set_locale(service.find_user(username), locale)


def stored_locale(app, username: str) -> str | None:
    with app.app_context():
        return db.session.execute(db.select(User.locale).filter_by(username=username)).scalar_one()


# -- the choice --------------------------------------------------------------

@pytest.mark.parametrize("header, expected", [
    (None, "en"),
    ("", "en"),
    ("zh-CN", "zh-CN"),
    ("zh", "zh-CN"),
    ("zh-Hans", "zh-CN"),
    ("zh-cn;q=0.8, de;q=0.9", "zh-CN"),
    ("de-DE,zh-CN;q=0.5,en;q=0.3", "zh-CN"),  # the best one we have, by quality
    ("en-GB,zh-CN;q=0.9", "en"),
    ("zh-CN;q=0.4,en;q=0.8", "en"),
    ("zh-TW,zh-HK;q=0.9", "en"),  # Traditional readers: English, not Simplified
    ("zh-CN;q=0", "en"),  # q=0: "not this"
    ("fr, de", "en"),
    ("*", "en"),
    ("zh-CN" + ",x" * 2000, "zh-CN"),  # a huge header is cut, not a crash
    ("x," * 600 + "zh-CN", "en"),  # ... at 1000 characters: what follows is not read
])
def test_accept_language_best_match(header, expected):
    from i18n import from_accept_language

    assert from_accept_language(header) == expected


def test_english_by_default(app):
    page = app.test_client().get("/login")
    assert lang_of(page.text) == "en"
    assert "Welcome back" in page.text or "no accounts yet" in page.text


def test_accept_language_gives_chinese_pages(app):
    client = login(app, "alice", ZH)
    for path, words in [("/chat", ["房间", "私信", "发送", "退出登录"]),
                        ("/market", ["模拟价格", "买入", "持仓", "未成交订单"]),
                        ("/account/password", ["修改密码", "当前密码"])]:
        page = client.get(path, headers=ZH)
        assert page.status_code == 200
        assert lang_of(page.text) == "zh-CN", path
        text = visible_text(page.text)
        for word in words:
            assert word in text, (path, word)
        assert "Log out" not in text and "Direct messages" not in text
    # The same account and header, English asked for: English.
    assert lang_of(client.get("/chat", headers=EN).text) == "en"


def test_logged_out_pages_follow_the_header(app):
    client = app.test_client()
    page = client.get("/register", headers=ZH)
    assert lang_of(page.text) == "zh-CN" and "创建账号" in page.text
    page = client.get("/login", headers={"Accept-Language": "zh-TW"})
    assert lang_of(page.text) == "en"


def test_the_account_setting_overrides_the_header(app):
    client = login(app, "alice", ZH)
    set_stored_locale(app, "alice", "en")
    page = client.get("/chat", headers=ZH)
    assert lang_of(page.text) == "en" and "Direct messages" in page.text
    set_stored_locale(app, "alice", "zh-CN")
    page = client.get("/chat", headers=EN)
    assert lang_of(page.text) == "zh-CN" and "私信" in page.text
    set_stored_locale(app, "alice", None)  # follow the browser again
    assert lang_of(client.get("/chat", headers=EN).text) == "en"
    assert lang_of(client.get("/chat", headers=ZH).text) == "zh-CN"


# -- POST /account/language ----------------------------------------------------

def test_the_language_form_stores_the_choice_and_goes_back(app):
    client = login(app, "alice", EN)
    page = client.get("/market?symbol=ACME", headers=EN)
    assert re.search(r'id="language-auto"\s+aria-pressed="true"', page.text)
    r = client.post("/account/language", headers=EN, data={
        "csrf_token": csrf(page.text), "locale": "zh-CN", "next": "/market?symbol=ACME"})
    assert r.status_code == 302 and r.headers["Location"] == "/market?symbol=ACME"
    assert stored_locale(app, "alice") == "zh-CN"
    again = client.get("/market", headers=EN).text
    assert lang_of(again) == "zh-CN"
    assert re.search(r'id="language-zh-CN"\s+lang="zh-CN"[^>]*aria-pressed="true"', again)
    r = client.post("/account/language", headers=EN, data={
        "csrf_token": csrf(again), "locale": "auto", "next": "/chat"})
    assert r.status_code == 302 and stored_locale(app, "alice") is None
    assert lang_of(client.get("/chat", headers=EN).text) == "en"


@pytest.mark.parametrize("bad", ["", "zh", "zh_CN", "ZH-CN", "fr", "en ", "x" * 100])
def test_a_bad_language_is_refused_in_the_pages_language(app, bad):
    client = login(app, "alice", ZH)
    page = client.get("/chat", headers=ZH)
    r = client.post("/account/language", headers=ZH,
                    data={"csrf_token": csrf(page.text), "locale": bad})
    assert r.status_code == 400
    assert "locale：" in r.text and '<h1 id="error-title">请求无效</h1>' in r.text
    assert stored_locale(app, "alice") is None


def test_the_language_form_needs_csrf_and_a_login(app):
    client = login(app, "alice")
    assert client.post("/account/language", data={"locale": "zh-CN"}).status_code == 400
    assert stored_locale(app, "alice") is None
    r = app.test_client().post("/account/language", data={"locale": "zh-CN"})
    assert r.status_code in (302, 400, 401)


def test_the_service_refuses_other_values(app):
    with app.app_context():
        user = service.create_user("bob", "password-123")
        for bad in ("fr", "zh", "", "auto"):
            with pytest.raises(BadRequest):
                service.set_locale(user, bad)
        assert service.set_locale(user, "zh-CN") == "zh-CN"
        assert service.set_locale(user, None) is None


# -- HTTP errors: message translated, code unchanged ----------------------------

def test_json_errors_are_translated_and_keep_their_codes(app):
    client = app.test_client()
    for headers, expect_cjk in ((ZH, True), (EN, False), (None, False)):
        r = client.post("/api/token", json={"username": "nobody", "password": "x"},
                        headers=headers)
        assert r.status_code == 401
        error = r.get_json()["error"]
        assert error["code"] == "unauthorized"
        assert bool(CJK.search(error["message"])) is expect_cjk, error
        r = client.get("/api/no-such-thing", headers=headers)
        error = r.get_json()["error"]
        assert r.status_code == 404 and error["code"] == "not_found"
        assert bool(CJK.search(error["message"])) is expect_cjk, error
    r = client.post("/api/token", data="not json", headers=ZH)
    assert r.get_json()["error"] == {"code": "bad_request",
                                     "message": '请发送 JSON {"username", "password"}。'}


def test_error_pages_and_form_errors_in_chinese(app):
    client = app.test_client()
    page = client.get("/login", headers=ZH)
    r = client.post("/login", headers=ZH, data={"username": "x", "password": "y"})  # no CSRF token
    assert r.status_code == 400 and "表单已过期或来自其他页面" in r.text
    r = client.get("/no-such-page", headers=ZH)
    assert r.status_code == 404 and "页面不存在" in r.text and "错误 404" in r.text
    page = client.get("/register", headers=ZH)
    r = client.post("/register", headers=ZH, data={
        "csrf_token": csrf(page.text), "username": "ab", "password": "short", "confirm": "other"})
    text = visible_text(r.text)
    assert "至少 8 个字符" in text and "两次输入的密码不一致" in text and "3–32 个字母" in text
    page = client.get("/login", headers=ZH)
    r = client.post("/login", headers=ZH, data={
        "csrf_token": csrf(page.text), "username": "nobody", "password": "password-123"})
    assert "用户名或密码错误。" in r.text


def test_the_welcome_flash_is_in_the_pages_language(app):
    client = app.test_client()
    page = client.get("/register", headers=ZH)
    r = client.post("/register", headers=ZH, follow_redirects=True, data={
        "csrf_token": csrf(page.text), "username": "carol", "password": "password-123",
        "confirm": "password-123"})
    assert "欢迎你，carol！你是第一个账号，因此成为了管理员。" in r.text


# -- Socket.IO: the connection's language, picked at connect ----------------------

def connect(app, username: str, headers=None, namespace="/chat") -> SocketIOTestClient:
    with app.app_context():
        user = service.find_user(username) or service.create_user(username, "password-123")
        token, _ = service.issue_token(user)
    client = socketio.test_client(app, namespace=namespace, auth={"token": token},
                                  headers=headers or {})
    assert client.is_connected(namespace)
    return client


def test_socket_ack_errors_follow_the_handshake_language(app):
    zh = connect(app, "alice", ZH)
    en = connect(app, "bob", EN)
    try:
        for client, cjk in ((zh, True), (en, False)):
            cases = [
                (("message:send", {"room": 999999, "text": "hi", "client_id": "c1"}), "not_found"),
                (("room:create", {"name": "x" * 65}), "bad_request"),   # pydantic's, translated
                (("room:create", {"name": "dm:x"}), "bad_request"),     # the service's
                (("no:such:event", {}), "bad_request"),                 # the wrapper's
                (("message:send", {"room": 1, "text": "hi", "client_id": "c2", "x": 1}),
                 "bad_request"),
            ]
            for args, code in cases:
                reply = call(client, *args)
                assert reply["ok"] is False and reply["error"]["code"] == code, reply
                assert bool(CJK.search(reply["error"]["message"])) is cjk, reply
        reply = call(zh, "room:create", {"name": "dm:x"})
        assert reply["error"]["message"] == "name：不能以 'dm:' 开头"
        reply = call(zh, "message:send", {"room": 999999, "text": "hi", "client_id": "c3"})
        assert reply["error"]["message"] == "没有编号为 999999 的房间。"
        reply = call(zh, "room:create", {"name": "x" * 65})
        assert reply["error"]["message"] == "name：最多 64 个字符"
        # Without an ack the error event carries the same translated message.
        error = call(zh, "room:create", {"name": "dm:y"}, ack=False)["error"]
        assert error["code"] == "bad_request" and CJK.search(error["message"])
    finally:
        zh.disconnect("/chat")
        en.disconnect("/chat")


def test_socket_language_comes_from_the_account_setting_first(app):
    with app.app_context():
        service.create_user("alice", "password-123")
    set_stored_locale(app, "alice", "zh-CN")
    client = connect(app, "alice", EN)  # the header says English; the account says Chinese
    try:
        reply = call(client, "message:send", {"room": 999999, "text": "hi", "client_id": "c1"})
        assert reply["error"] == {"code": "not_found", "message": "没有编号为 999999 的房间。"}
    finally:
        client.disconnect("/chat")


def test_market_errors_in_chinese(app):
    client = connect(app, "alice", ZH, namespace="/market")
    try:
        reply = call(client, "trade", {"symbol": "NOPE", "side": "BUY", "quantity": 1,
                                       "client_id": "t1"}, namespace="/market")
        assert reply["error"]["code"] == "bad_request"
        assert reply["error"]["message"].startswith("symbol：未知代码 'NOPE'")
        reply = call(client, "trade", {"symbol": "NOPE", "side": "BUY", "quantity": 1,
                                       "type": "limit", "limit_price": "1.234",
                                       "client_id": "t2"}, namespace="/market")
        assert CJK.search(reply["error"]["message"])
        reply = call(client, "trade", {"symbol": "ACME", "side": "HOLD", "quantity": 1,
                                       "client_id": "t3"}, namespace="/market")
        assert reply["error"] == {"code": "bad_request",
                                  "message": "side：必须是以下之一：'BUY', 'SELL'"}
    finally:
        client.disconnect("/market")


def test_connect_refusal_in_the_handshake_language(app, monkeypatch):
    """An admin-only namespace refused to a member: connect_error in the
    handshake's language, code unchanged."""
    from socketio import packet

    with app.app_context():
        service.create_user("root", "password-123")  # the first account is the admin
        member = service.create_user("alice", "password-123")
        token, _ = service.issue_token(member)
    client = socketio.test_client(app, namespace="/chat", auth={"token": token})
    # The test client keeps no connect_error data: record the packets it is sent.
    refusals = []
    send = socketio.server._send_packet

    def record(eio_sid, pkt):
        if pkt.packet_type == packet.CONNECT_ERROR:
            refusals.append(pkt.data)
        return send(eio_sid, pkt)

    monkeypatch.setattr(socketio.server, "_send_packet", record)
    try:
        for headers, message in ((ZH, "此命名空间仅供管理员使用。"),
                                 (EN, "This namespace is for admins only.")):
            client.connect("/admin", auth={"token": token}, headers=headers)
            assert not client.is_connected("/admin")
            assert refusals[-1] == {"message": message,
                                    "data": {"code": "forbidden", "message": message}}
    finally:
        client.disconnect("/chat")


def test_the_audit_keeps_english(app, caplog):
    with app.app_context():
        service.create_user("root", "password-123")
        member = service.create_user("alice", "password-123")
        token, _ = service.issue_token(member)
    with caplog.at_level("INFO", logger="switchboard.audit"):
        socketio.test_client(app, namespace="/admin", auth={"token": token}, headers=ZH)
    details = [getattr(r, "audit", {}).get("detail") for r in caplog.records
               if getattr(r, "audit", {}).get("action") == "connect_refused"]
    assert details == ["This namespace is for admins only."]


def test_the_database_refuses_other_languages_too(any_db_app):
    """Migration 0005's CHECK constraint, past the service."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    service.create_user("dave", "password-123")
    for bad in ("fr", "zh", "zh_CN", ""):
        with pytest.raises(IntegrityError):
            db.session.execute(text("UPDATE users SET locale = :v WHERE username = 'dave'"),
                               {"v": bad})
            db.session.commit()
        db.session.rollback()


def test_the_rate_limit_page_and_json_are_translated():
    from tests.support.app import make_app

    app = make_app(RATE_LIMIT_LOGIN="1/minute")
    client = app.test_client()
    client.post("/api/token", json={"username": "x", "password": "y"}, headers=ZH)
    r = client.post("/api/token", json={"username": "x", "password": "y"}, headers=ZH)
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "rate_limited"
    assert r.get_json()["error"]["message"].startswith("请求过多（上限：")
    token = csrf(client.get("/login", headers=ZH).text)
    r = client.post("/login", headers=ZH, data={"csrf_token": token, "username": "x", "password": "y"})
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert "请求过多" in r.text and lang_of(r.text) == "zh-CN"
