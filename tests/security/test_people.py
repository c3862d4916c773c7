"""Avatars, the directory API and display names: each defence, and the attack it stops.

In process (Flask's test client through the whole WSGI stack; the Socket.IO
test client for events): the defences are in the HTTP views, the services
and Pillow's use, not in a server loop. ``mutants.py`` removes each one (see
SECURITY.md, "Proving the tests").
"""
from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from PIL import Image
from sqlalchemy import update

from extensions import db, socketio
from models import User
from tests.support.app import make_app
from tests.support.clients import call

PASSWORD = "password-123"


def png(width: int, height: int, color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def bomb_png(width: int = 6000, height: int = 6000) -> bytes:
    """A valid greyscale PNG of width x height zeros: ~36 MB of pixels in ~35 KB.

    Under Pillow's own guard (89 M pixels), so only Switchboard's pixel limit
    stops it. Written by hand so making it costs no memory."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + one byte per pixel
    body = b"".join(raw.compress(row) for _ in range(height)) + raw.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def jpeg_with_exif() -> bytes:
    img = Image.new("RGB", (640, 480), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SecretCamMaker"  # Make
    exif[0x0110] = "SecretCamModel"  # Model
    exif[0x0131] = "SecretSoftware"
    gps = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 18.0)}
    exif[0x8825] = gps  # GPSInfo
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, comment=b"SecretComment")
    data = out.getvalue()
    assert b"SecretCamMaker" in data and b"SecretComment" in data
    return data


@pytest.fixture
def app():
    return make_app(MAX_AVATAR_BYTES=200_000)


def _login(app, username: str):
    from blueprints.auth.service import create_user

    with app.app_context():
        user = create_user(username, PASSWORD)
        user_id = user.id
    browser = app.test_client()
    page = browser.get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    r = browser.post("/login", data={"csrf_token": token, "username": username,
                                     "password": PASSWORD})
    assert r.status_code == 302
    chat = browser.get("/chat")
    browser.csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', chat.text).group(1)
    browser.user_id = user_id
    return browser


@pytest.fixture
def alice(app):
    _login(app, "root")  # the first account is the admin; alice is not
    return _login(app, "alice")


def upload(browser, data: bytes, filename="a.png", csrf=True, headers=None):
    hdrs = {"X-CSRFToken": browser.csrf} if csrf else {}
    hdrs.update(headers or {})
    return browser.post("/api/avatar", data={"file": (io.BytesIO(data), filename)},
                        headers=hdrs, content_type="multipart/form-data")


def fetch(client, user):
    return client.get(user["avatar_url"])


# -- what is stored and served ------------------------------------------------

def test_a_picture_becomes_a_256px_webp_served_with_nosniff_and_cache_headers(app, alice):
    r = upload(alice, png(800, 400))
    assert r.status_code == 200, r.text
    user = r.get_json()["user"]
    assert re.fullmatch(rf"/avatars/{alice.user_id}\.webp\?v=1", user["avatar_url"])
    got = fetch(alice, user)
    assert got.status_code == 200
    assert got.headers["Content-Type"] == "image/webp"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Cache-Control"] == "private, max-age=31536000, immutable"
    assert "sandbox" in got.headers["Content-Security-Policy"]
    img = Image.open(io.BytesIO(got.data))
    assert (img.format, img.size) == ("WEBP", (256, 256))
    # A new upload is a new URL; the old ?v= is no longer cached for good.
    again = upload(alice, png(300, 300, (0, 200, 0))).get_json()["user"]
    assert again["avatar_url"].endswith("?v=2")
    assert fetch(alice, user).headers["Cache-Control"] == "private, no-cache"


def test_exif_gps_and_comments_are_stripped(app, alice):
    r = upload(alice, jpeg_with_exif(), "photo.jpg")
    assert r.status_code == 200, r.text
    data = fetch(alice, r.get_json()["user"]).data
    for secret in (b"SecretCam", b"SecretSoftware", b"SecretComment", b"Exif", b"GPS"):
        assert secret not in data
    img = Image.open(io.BytesIO(data))
    assert len(img.getexif()) == 0 and "exif" not in img.info and "icc_profile" not in img.info


def test_a_polyglot_is_served_without_its_payload(app, alice):
    payload = b"<html><script>alert(document.cookie)</script></html>"
    r = upload(alice, png(64, 64) + payload, "x.html")
    assert r.status_code == 200, r.text
    got = fetch(alice, r.get_json()["user"])
    assert b"<script" not in got.data and b"<html" not in got.data
    assert got.headers["Content-Type"] == "image/webp"


@pytest.mark.parametrize("data,name", [
    (b"<html><body><script>alert(1)</script></body></html>", "x.html"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9"/></svg>', "x.svg"),
    (b"GIF89a<script>alert(1)</script>", "x.gif"),
    (b"just some text", "x.png"),
    (b"", "x.png"),
    (png(64, 64)[:60], "truncated.png"),
])
def test_what_is_not_a_picture_is_refused(app, alice, data, name):
    r = upload(alice, data, name)
    assert r.status_code == 400, r.text
    assert r.get_json()["error"]["code"] == "bad_request"
    with app.app_context():
        assert db.session.get(User, alice.user_id).avatar_version is None


def test_only_png_jpeg_gif_and_webp_decoders_are_used(app, alice):
    out = io.BytesIO()
    Image.new("RGB", (64, 64)).save(out, "BMP")  # a real image, of a format we do not take
    r = upload(alice, out.getvalue(), "x.bmp")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_request"


def test_a_decompression_bomb_is_refused_before_decoding(app, alice):
    data = bomb_png()
    assert len(data) < 200_000  # under MAX_AVATAR_BYTES: only the pixel limit stops it
    r = upload(alice, data)
    assert r.status_code == 400, r.text
    assert "pixels" in r.get_json()["error"]["message"]


def test_an_upload_over_max_avatar_bytes_is_413(app, alice):
    r = upload(alice, png(64, 64) + b"\0" * 300_000)
    assert r.status_code == 413
    assert r.get_json()["error"]["code"] == "too_large"


# -- who may --------------------------------------------------------------------

def test_anonymous_requests_get_no_avatar_and_no_directory(app, alice):
    user = upload(alice, png(64, 64)).get_json()["user"]
    stranger = app.test_client()
    assert stranger.get(user["avatar_url"]).status_code == 401
    assert stranger.get("/api/users").status_code == 401
    r = stranger.post("/api/avatar", data={"file": (io.BytesIO(png(8, 8)), "a.png")},
                      content_type="multipart/form-data")
    assert r.status_code in (400, 401)
    bob = _login(app, "bob")
    assert bob.get(user["avatar_url"]).status_code == 200  # any logged-in user


def test_the_api_wants_the_csrf_header_with_a_cookie(app, alice):
    assert upload(alice, png(64, 64), csrf=False).status_code == 401
    assert alice.get("/api/users").status_code == 401
    assert alice.get("/api/users", headers={"X-CSRFToken": "forged"}).status_code == 401
    r = alice.get("/api/users", headers={"X-CSRFToken": alice.csrf})
    assert r.status_code == 200
    assert {u["username"] for u in r.get_json()["users"]} >= {"root", "alice"}


def test_a_bearer_token_works_without_cookie_or_csrf(app, alice):
    from blueprints.auth.service import issue_token

    with app.app_context():
        token, _ = issue_token(db.session.get(User, alice.user_id))
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    r = client.get("/api/users?q=ali", headers=auth)
    assert r.status_code == 200
    (user,) = r.get_json()["users"]
    assert user["username"] == "alice" and user["online"] is False
    r = client.post("/api/avatar", data={"file": (io.BytesIO(png(32, 32)), "a.png")},
                    headers=auth, content_type="multipart/form-data")
    assert r.status_code == 200
    assert client.get("/api/users", headers={"Authorization": "Bearer nonsense"}).status_code \
        == 401


def test_a_disabled_accounts_avatar_and_entry_are_gone(app, alice):
    user = upload(alice, png(64, 64)).get_json()["user"]
    bob = _login(app, "bob")
    with app.app_context():
        db.session.execute(update(User).where(User.username == "alice").values(active=False))
        db.session.commit()
    assert bob.get(user["avatar_url"]).status_code == 404
    names = {u["username"] for u in bob.get("/api/users", headers={"X-CSRFToken": bob.csrf})
             .get_json()["users"]}
    assert "alice" not in names


# -- display names ---------------------------------------------------------------

HTML_NAME = '<img src=x onerror="alert(1)">&amp;'


def test_an_html_display_name_is_stored_as_text_and_escaped_in_pages(app, alice):
    from blueprints.auth.service import issue_token

    with app.app_context():
        token, _ = issue_token(db.session.get(User, alice.user_id))
    sock = socketio.test_client(app, namespace="/chat", auth={"token": token})
    reply = call(sock, "profile:update", {"display_name": HTML_NAME})
    assert reply["ok"] and reply["user"]["display_name"] == HTML_NAME  # as typed, not mangled
    page = alice.get("/chat").text
    assert HTML_NAME not in page and "<img src=x" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&amp;amp;" in page
    r = alice.get("/api/users", headers={"X-CSRFToken": alice.csrf})
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    sock.disconnect("/chat")


def test_a_display_name_cannot_pass_for_another_accounts_username(app, alice):
    from blueprints.auth.service import issue_token

    with app.app_context():
        token, _ = issue_token(db.session.get(User, alice.user_id))
    sock = socketio.test_client(app, namespace="/chat", auth={"token": token})
    for name in ("root", "Root", "ＲＯＯＴ", "ro\u200bot", " root "):
        reply = call(sock, "profile:update", {"display_name": name})
        assert reply["ok"] is False and reply["error"]["code"] == "conflict", (name, reply)
    sock.disconnect("/chat")
