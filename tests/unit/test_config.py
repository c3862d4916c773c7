from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from config import ConfigError, Settings, load_secret_key
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
])
def test_bad_values_name_the_setting(env, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env(env)


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
