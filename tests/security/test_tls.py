"""TLS (man-in-the-middle).

Defence: serving.serve() wraps the listening socket with TLS_CERT/TLS_KEY
(eventlet.wrap_ssl, or gevent's WSGIServer ssl args): ``python app.py``
serves HTTPS and WSS only; the session cookie becomes Secure
(Settings.secure_cookies), the default origin allow-list uses https://, and
every response carries HSTS (``app._init_http_extras``) so that a browser
never tries plain HTTP to this host again.
TLS at nginx for deployments is docs/deploy.md. The certificate here is
self-signed, made by the test (openssl, or the cryptography package).
"""
from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time

import pytest
import requests

from tests.conftest import require
from tests.security.helpers import (
    TLSServerProcess,
    http_request,
    raw_exchange,
    read_until_closed,
    recv_some,
    status_of,
    unique,
)
from tests.support.clients import DEFAULT_PASSWORD, csrf_token
from tests.support.node_client import finish_node, node_binary, start_node, stop

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


def make_cert(directory) -> tuple[str, str]:
    cert, key = str(directory / "cert.pem"), str(directory / "key.pem")
    try:  # the cryptography package, when the venv has it
        _cert_with_cryptography(cert, key)
        return cert, key
    except ImportError:
        pass
    openssl = shutil.which("openssl")
    require("openssl (or the cryptography package)", openssl is not None,
            "needed to make a self-signed certificate")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    return cert, key


def _cert_with_cryptography(cert_path: str, key_path: str) -> None:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    with open(key_path, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.TraditionalOpenSSL,
                                   serialization.NoEncryption()))
    with open(cert_path, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    return make_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def tls_server(request, module_servers, cert):
    return module_servers(env={"TLS_CERT": cert[0], "TLS_KEY": cert[1]}, mode=request.param,
                          name="tls", cls=TLSServerProcess)


HEADER_TIMEOUT = 2
SLACK = 3  # scheduling on a loaded machine; without the deadline it is 55 s, or for ever


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def tls_head_server(request, module_servers, cert):
    return module_servers(env={"TLS_CERT": cert[0], "TLS_KEY": cert[1],
                               "HEADER_TIMEOUT": HEADER_TIMEOUT},
                          mode=request.param, name="tls-head", cls=TLSServerProcess)


def register_https(base: str, name: str) -> requests.Session:
    http = requests.Session()
    http.verify = False
    http.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override verify
    page = http.get(base + "/register", timeout=10)
    r = http.post(base + "/register", data={"csrf_token": csrf_token(page.text), "username": name,
                                            "password": DEFAULT_PASSWORD,
                                            "confirm": DEFAULT_PASSWORD},
                  # Flask-WTF checks the Referer over HTTPS, as a browser sends it
                  headers={"Referer": base + "/register"},
                  allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.status_code
    return http


def test_https_is_served_with_the_given_certificate(tls_server, cert):
    """Verified against the test's own certificate: the server presents it."""
    r = requests.get(tls_server.url + "/healthz", verify=cert[0], timeout=10)
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_plain_http_is_not_served_on_the_tls_port(tls_server):
    """No downgrade: a plaintext request gets no HTTP answer."""
    response, _closed, _ = raw_exchange(tls_server.port, http_request("GET", "/healthz",
                                                                      tls_server.port),
                                        timeout=3)
    assert status_of(response) != 200, response[:100]
    assert requests.get(tls_server.url + "/healthz", verify=False, timeout=10).status_code == 200


def test_session_cookie_is_secure_over_https(tls_server):
    r = requests.get(tls_server.url + "/login", verify=False, timeout=10)
    lines = r.raw.headers.getlist("Set-Cookie")
    session = [c for c in lines if c.startswith("session=")]
    assert session, lines
    attrs = {a.strip().lower() for a in session[0].split(";")[1:]}
    assert {"secure", "httponly", "samesite=lax"} <= attrs, session[0]


def test_hsts_over_https(tls_server, cert):
    """Strict-Transport-Security: max-age=31536000 (a year; no includeSubDomains,
    no preload: see app._init_http_extras) on pages, JSON, errors and static
    files served over TLS. Before, none: a user typing the bare host name
    could be sent to plain HTTP by an attacker on the path (sslstrip)."""
    responses = {path: requests.get(tls_server.url + path, allow_redirects=False,
                                    verify=cert[0], timeout=10)
                 for path in ("/login", "/chat", "/healthz", "/nope", "/static/js/chat/main.js")}
    wrong = {path: r.headers.get("Strict-Transport-Security") for path, r in responses.items()
             if r.headers.get("Strict-Transport-Security") != "max-age=31536000"}
    assert not wrong, f"[{tls_server.async_mode}] {wrong}"


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_socketio_over_wss_and_https_exchanges_messages(tls_server, transport):
    """socket.io-client, the browsers' library, under Node (accepting the
    self-signed certificate) connects over WSS or HTTPS long-polling with a
    token, sends a message and receives its broadcast; the default allow-list
    is the https:// origin (http:// of the same host and port is a different
    origin).

    Not python-socketio's sync client: its reader and writer threads share one
    TLS socket, which Python's ssl does not allow, and about 1 connect in 25
    over WSS never completed, against either server (python-engineio #461,
    python-socketio #1568). Node's client connected 400 times out of 400.
    """
    node = node_binary()
    name = unique("tls")
    http = register_https(tls_server.url, name)
    token = http.post(tls_server.url + "/api/token", json={"username": name,
                                                            "password": DEFAULT_PASSWORD},
                      timeout=10).json()["token"]
    text = unique("over-tls")
    proc = start_node(node, {"url": tls_server.url, "token": token, "transports": [transport],
                             "insecure_tls": True, "room": "general", "text": text,
                             "client_id": text, "expect_text": text, "expect_author": name})
    try:
        result = finish_node(proc)
    finally:
        stop(proc)
    assert result["transport"] == transport
    assert result["joined"]["ok"] and result["sent"]["ok"], result
    assert result["received"]["text"] == text, result
    plain_origin = tls_server.url.replace("https://", "http://")
    r = requests.get(tls_server.url + "/socket.io/?EIO=4&transport=polling",
                     headers={"Origin": plain_origin}, verify=False, timeout=10)
    assert r.status_code == 400, f"Origin {plain_origin} over TLS: {r.status_code}"


# -- slow clients over TLS ----------------------------------------------------

@pytest.mark.parametrize("sent", [b"", b"\x16\x03\x01\x02\x00\x01"], ids=["nothing", "half hello"])
def test_a_stalled_tls_handshake_is_cut_at_the_header_deadline(tls_head_server, sent):
    """A TCP connection that sends nothing, or half a ClientHello, and waits.
    The handshake must end within HEADER_TIMEOUT of accept. Before: gevent
    handshook before setting any timeout and held such a connection for ever;
    eventlet held it for the socket timeout (55 s by default)."""
    sock = socket.create_connection(("127.0.0.1", tls_head_server.port), timeout=5)
    try:
        started = time.monotonic()
        sock.sendall(sent)
        data, closed = read_until_closed(sock, HEADER_TIMEOUT + SLACK)
        took = time.monotonic() - started
    finally:
        sock.close()
    assert closed, (f"[{tls_head_server.async_mode}] a stalled TLS handshake was still held "
                    f"after {took:.1f}s (HEADER_TIMEOUT={HEADER_TIMEOUT})")


def test_a_request_head_trickling_over_tls_is_cut_at_the_header_deadline(tls_head_server):
    """After a real handshake, a request head sent one byte per 0.4 s: cut (408
    or closed) within HEADER_TIMEOUT + slack of its first byte."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", tls_head_server.port), timeout=5)
    sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    head = http_request("GET", "/healthz", tls_head_server.port,
                        headers={f"X-Pad-{i}": "p" * 20 for i in range(20)})
    received, closed = b"", False
    started = time.monotonic()
    try:
        for i in range(len(head) - 1):  # never the last byte
            if time.monotonic() - started > HEADER_TIMEOUT + SLACK:
                break
            try:
                sock.sendall(head[i:i + 1])
            except OSError:
                closed = True
                break
            chunk, closed = recv_some(sock, 0.4)
            received += chunk
            if closed:
                break
        took = time.monotonic() - started
    finally:
        sock.close()
    assert closed or status_of(received) == 408, (
        f"[{tls_head_server.async_mode}] a request head trickling over TLS was still held "
        f"after {took:.1f}s (HEADER_TIMEOUT={HEADER_TIMEOUT})")
    assert took <= HEADER_TIMEOUT + SLACK, took
    assert requests.get(tls_head_server.url + "/healthz", verify=False, timeout=10).ok
