"""``flask market publish``: JSON lines on stdin into the shared quote book."""
from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal

from tests.support.app import make_app
from tests.support.server import ROOT
from tests.support.services import MARKET_REDIS_URL, market_redis_book


def test_publish_without_a_message_queue_fails_with_a_clear_message():
    app = make_app()
    result = app.test_cli_runner().invoke(args=["market", "publish"],
                                          input='{"symbol": "ACME", "price": "1.00"}\n')
    assert result.exit_code != 0
    assert "MESSAGE_QUEUE is not set" in result.output
    assert "redis://" in result.output


def test_publish_writes_each_line_to_the_book_and_reports_bad_ones(tmp_path):
    book = market_redis_book()
    # A real process, as operators run it (an app with a message queue in this
    # process would also leave Flask-SocketIO's shared object bound to Redis).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "MARKET_"))}
    env.update(MESSAGE_QUEUE=MARKET_REDIS_URL, MARKET_SYMBOLS="ACME:100.00,GLOBX", ASYNC_MODE="threading",
               INSTANCE_PATH=str(tmp_path), SECRET_KEY="cli-test", FLASK_APP="app")
    lines = "\n".join([
        '{"symbol": "ACME", "price": "101.25", "volume": 500}',
        '{"symbol": "NOPE", "price": "1.00"}',
        "",
        '{"symbol": "GLOBX", "price": "7.10"}',
        '{"symbol": "ACME", "price": "99.00"}',
        '{"symbol": "ACME", "price": "1.234"}',
    ]) + "\n"
    result = subprocess.run([sys.executable, "-m", "flask", "market", "publish"], input=lines,
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout + result.stderr
    assert "line 2: symbol: 'NOPE' is not one of MARKET_SYMBOLS" in out
    assert "line 6: price:" in out
    assert "published 3 quote(s), 2 bad line(s)" in out
    assert "ACME 101.25 (0.00, 0.00%)" in out
    quotes = {s: st.quote for s, st in book.all().items()}
    assert set(quotes) == {"ACME", "GLOBX"}
    # The second ACME line carried the first one's open and volume forward.
    assert (quotes["ACME"].price, quotes["ACME"].open, quotes["ACME"].volume) == (
        Decimal("99.00"), Decimal("101.25"), 500)
    assert quotes["ACME"].to_dict()["change"] == "-2.25"
    book.redis.flushdb()

