from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from decimal import Decimal

import pytest

import money
from config import DEFAULT_MARKET_SYMBOLS, ConfigError, Settings, load_secret_key
from tests.support.server import ROOT


def test_defaults_match_the_protocol():
    s = Settings.from_env({})
    assert (s.HOST, s.PORT, s.ASYNC_MODE, s.REGISTRATION) == ("127.0.0.1", 5000, "eventlet", "open")
    assert s.RATE_LIMIT_MESSAGES == "60/minute;10/second"
    assert s.RATE_LIMIT_EVENTS == "300/minute" and s.RATE_LIMIT_LOGIN == "10/minute"
    assert (s.MAX_MESSAGE_CHARS, s.MAX_PACKET_BYTES) == (4000, 65536)
    assert (s.MAX_CONNECTIONS, s.MAX_CONNECTIONS_PER_USER) == (10000, 20)
    assert (s.MAX_CONNECTION_AGE, s.MAX_ROOMS_PER_USER, s.TOKEN_TTL) == (7200, 50, 300)
    assert s.allowed_origins() == ["http://127.0.0.1:5000", "http://localhost:5000"]
    assert (s.SOCKETIO_ADMIN_UI, s.SOCKETIO_ADMIN_UI_MODE) == ("off", "production")


@pytest.mark.parametrize("env,fragment", [
    ({"PORT": "abc"}, "PORT='abc' is not a whole number"),
    ({"PORT": "70000"}, "PORT=70000 must be at least 1 and 65535"),
    ({"ASYNC_MODE": "asyncio"}, "ASYNC_MODE='asyncio' must be one of"),
    ({"RATE_LIMIT_MESSAGES": "lots"}, "RATE_LIMIT_MESSAGES='lots' is not a rate"),
    ({"CORS_ALLOWED_ORIGINS": "example.com"}, "must start with http"),
    ({"SOCKETIO_ADMIN_UI": "on"}, "SOCKETIO_ADMIN_UI='on' must be one of off, read-only, read-write"),
    ({"TLS_CERT": "/nonexistent.pem"}, "TLS_CERT='/nonexistent.pem': no such file"),
    ({"MARKET_SYMBOLS": " , "}, "MARKET_SYMBOLS is empty"),
    ({"MARKET_SYMBOLS": "ACME,acme"}, "lists ACME twice"),
    ({"MARKET_SYMBOLS": "AC ME"}, "a symbol is 1-10"),
    ({"MARKET_SYMBOLS": "1ACME"}, "a symbol is 1-10"),
    ({"MARKET_SYMBOLS": "ACME\nX"}, "a symbol is 1-10"),
    ({"MARKET_SYMBOLS": "ACME:-1"}, "start price"),
    ({"MARKET_SYMBOLS": "ACME:1.001"}, "start price"),
    ({"MARKET_SYMBOLS": "ACME:abc"}, "start price"),
    ({"MARKET_SYMBOLS": "ACME:NaN"}, "start price"),
    ({"MARKET_SYMBOLS": ",".join(f"S{i}" for i in range(51))}, "at most 50"),
    ({"MARKET_INTERVAL": "fast"}, "MARKET_INTERVAL='fast' is not a number"),
    ({"MARKET_INTERVAL": "0.01"}, "MARKET_INTERVAL=0.01 must be between 0.05 and 60 seconds"),
    ({"MARKET_INTERVAL": "61"}, "between 0.05 and 60"),
    ({"MARKET_INTERVAL": "nan"}, "between 0.05 and 60"),
    ({"MARKET_SOURCE": "bloomberg"}, "MARKET_SOURCE='bloomberg' must be one of simulator, publisher"),
    ({"MARKET_SEED": "x"}, "MARKET_SEED='x' is not a whole number"),
    # accounts: registration, the public URL, the kick block, the per-person limits
    ({"REGISTRATION": "invites"}, "REGISTRATION='invites' must be one of open, closed, invite"),
    ({"PUBLIC_URL": "chat.example.com"}, "PUBLIC_URL='chat.example.com' must be like"),
    ({"PUBLIC_URL": "ftp://chat.example.com"}, "PUBLIC_URL="),
    ({"PUBLIC_URL": "https://u:p@chat.example.com"}, "PUBLIC_URL="),
    ({"PUBLIC_URL": "https://chat.example.com/?x=1"}, "PUBLIC_URL="),
    ({"KICK_BLOCK_SECONDS": "-1"}, "KICK_BLOCK_SECONDS=-1 must be at least 0"),
    ({"KICK_BLOCK_SECONDS": "soon"}, "KICK_BLOCK_SECONDS='soon' is not a whole number"),
    ({"MAX_INVITES_PER_ADMIN": "0"}, "MAX_INVITES_PER_ADMIN=0 must be at least 1"),
    ({"MAX_TOKENS_PER_USER": "0"}, "MAX_TOKENS_PER_USER=0 must be at least 1"),
])
def test_bad_values_name_the_setting(env, fragment):
    with pytest.raises(ConfigError, match=re.escape(fragment)) as err:
        Settings.from_env(env)
    assert str(err.value).startswith(next(iter(env)))  # the one line starts with its name


# -- the market board (MARKET_*) ---------------------------------------------------------

def test_default_market_settings():
    s = Settings.from_env({})
    assert tuple(sym for sym, _ in s.MARKET_SYMBOLS) == tuple(
        e.split(":")[0] for e in DEFAULT_MARKET_SYMBOLS.split(","))
    assert s.MARKET_SYMBOLS[0] == ("ACME", Decimal("101.25"))
    assert (s.MARKET_INTERVAL, s.MARKET_SOURCE, s.MARKET_SEED) == (1.0, "simulator", None)


def test_market_settings_are_typed_fields():
    s = Settings.from_env({"MARKET_SYMBOLS": "abc:1.5, XYZ", "MARKET_INTERVAL": "0.25",
                           "MARKET_SOURCE": "Publisher", "MARKET_SEED": "42"})
    assert s.MARKET_SYMBOLS == (("ABC", Decimal("1.50")), ("XYZ", None))
    assert (s.MARKET_INTERVAL, s.MARKET_SOURCE, s.MARKET_SEED) == (0.25, "publisher", 42)


def test_settings_given_are_the_only_source_of_market_settings(monkeypatch):
    """An explicit env is the whole truth: the process environment is not consulted."""
    monkeypatch.setenv("MARKET_SYMBOLS", "FROMENV")
    monkeypatch.setenv("MARKET_SOURCE", "bloomberg")  # would stop start-up if it were read
    assert Settings.from_env({"MARKET_SYMBOLS": "AAA"}).MARKET_SYMBOLS == (("AAA", None),)


def test_start_prices_are_bounded_like_every_other_price():
    """config.py cannot import money.py (it imports nothing of the app): same bounds, checked."""
    top = str(money.MAX_PRICE)
    assert Settings.from_env({"MARKET_SYMBOLS": f"ACME:{top}"}).MARKET_SYMBOLS == (
        ("ACME", money.parse_money(top, "price")),)
    over = str(money.MAX_PRICE + money.CENT)
    with pytest.raises(ValueError):
        money.parse_money(over, "price")
    with pytest.raises(ConfigError, match="start price"):
        Settings.from_env({"MARKET_SYMBOLS": f"ACME:{over}"})


def test_bad_port_stops_start_up_with_one_line(tmp_path):
    env = {**os.environ, "PORT": "abc", "INSTANCE_PATH": str(tmp_path)}
    proc = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "switchboard: configuration error: PORT='abc' is not a whole number"


def test_secret_key_is_generated_once_with_mode_0600(tmp_path):
    settings = Settings.from_env({"INSTANCE_PATH": str(tmp_path)})
    first = load_secret_key(settings)
    assert len(first) >= 64
    assert load_secret_key(settings) == first
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600
    assert load_secret_key(Settings.from_env({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})) == "x"


# -- accounts: invites, kicks, tokens ------------------------------------------------------

def test_account_settings_defaults():
    s = Settings.from_env({})
    assert (s.KICK_BLOCK_SECONDS, s.MAX_INVITES_PER_ADMIN, s.MAX_TOKENS_PER_USER) == (60, 20, 20)
    assert s.PUBLIC_URL is None and s.public_url == "http://127.0.0.1:5000"
    assert Settings.from_env({"REGISTRATION": "invite"}).REGISTRATION == "invite"
    assert Settings.from_env({"PUBLIC_URL": "https://chat.example.com/"}).public_url == \
        "https://chat.example.com"
    assert Settings.from_env({"PUBLIC_URL": "https://example.com/chat"}).public_url == \
        "https://example.com/chat"
