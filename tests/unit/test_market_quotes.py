"""Quote sources and the quote book: the simulator and published lines."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest

from blueprints.market.quotes import (
    ACTIVITY_SIZE,
    HISTORY_SECONDS,
    MemoryBook,
    PublishError,
    Quote,
    RandomWalk,
    parse_published,
)
from tests.support.services import market_redis_book

D = Decimal
T0 = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)


class StepClock:
    """A clock that moves one second per reading."""

    def __init__(self, start=T0):
        self.now = start

    def __call__(self):
        self.now += timedelta(seconds=1)
        return self.now


WALK_SYMBOLS = (("ACME", D("101.25")), ("GLOBX", D("48.10")))


def walk(seed=7, symbols=WALK_SYMBOLS):
    return RandomWalk(symbols, random.Random(seed), StepClock())


def run(sim, ticks):
    book = MemoryBook()
    out = []
    for _ in range(ticks):
        quotes = sim.next_quotes(book.all())
        book.put_many(quotes)
        out.append(quotes)
    return out


# -- the simulator ---------------------------------------------------------------------

def test_the_walk_is_reproducible_from_its_seed_and_clock():
    a, b = run(walk(7), 50), run(walk(7), 50)
    assert a == b
    assert run(walk(8), 50) != a


def test_the_walk_starts_at_the_configured_prices_and_moves_in_cents():
    ticks = run(walk(3), 300)
    first = {q.symbol: q for q in ticks[0]}
    assert first["ACME"].price == D("101.25") and first["ACME"].open == D("101.25")
    assert first["GLOBX"].volume == 0
    prices = [q.price for quotes in ticks for q in quotes]
    assert all(p == p.quantize(D("0.01")) and p >= D("0.01") for p in prices)
    assert len(set(prices)) > 100  # it moves
    acme = [quotes[0] for quotes in ticks]
    assert all(q.open == D("101.25") for q in acme)  # change is measured from the open
    steps = [b.volume - a.volume for a, b in pairwise(acme)]
    assert all(s > 0 and s % 100 == 0 for s in steps)  # round lots, always some trading
    assert [q.ts for q in acme] == sorted({q.ts for q in acme})  # the injected clock


def test_a_symbol_without_a_start_price_gets_one_from_the_seed():
    sim = walk(5, symbols=(("NEW", None),))
    price = sim.first("NEW").price
    assert D("10.00") <= price <= D("500.00")
    assert walk(5, symbols=(("NEW", None),)).first("NEW").price == price


def test_the_walk_continues_from_the_books_quote():
    sim = walk(1)
    current = Quote("ACME", D("250.00"), D("200.00"), 5000, T0)
    book = MemoryBook()
    book.put(current)
    nxt = {q.symbol: q for q in sim.next_quotes(book.all())}
    assert abs(nxt["ACME"].price - D("250.00")) < D("10.00")
    assert nxt["ACME"].open == D("200.00") and nxt["ACME"].volume > 5000
    assert nxt["GLOBX"].price == D("48.10")  # no quote yet: its start price


def test_the_walk_stays_sane_over_a_long_run():
    sim = walk(11, symbols=(("LOW", D("0.05")),))
    last = run(sim, 3000)[-1][0]
    assert D("0.01") <= last.price < D("1000000")


# -- published lines --------------------------------------------------------------------

SYMS = ("ACME", "GLOBX")


def test_a_published_line_becomes_a_quote():
    q = parse_published('{"symbol": "ACME", "price": "101.25"}', SYMS, clock=lambda: T0)
    assert q == Quote("ACME", D("101.25"), D("101.25"), 0, T0)
    full = parse_published('{"symbol": "ACME", "price": 99.5, "open": "100", "volume": 1200, '
                           '"ts": "2026-01-02T03:04:05Z"}', SYMS)
    assert (full.price, full.open, full.volume) == (D("99.50"), D("100.00"), 1200)
    assert full.ts == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert full.to_dict()["change"] == "-0.50"


def test_a_published_line_carries_open_and_volume_forward():
    prev = Quote("ACME", D("100.00"), D("90.00"), 700, T0)
    q = parse_published('{"symbol": "ACME", "price": "101.00"}', SYMS,
                        previous=lambda s: prev if s == "ACME" else None)
    assert (q.open, q.volume) == (D("90.00"), 700)


@pytest.mark.parametrize("line,needle", [
    ("not json", "not JSON"),
    ("[1, 2]", "JSON object"),
    ('{"symbol": "NOPE", "price": "1.00"}', "symbol"),
    ('{"symbol": 5, "price": "1.00"}', "symbol"),
    ('{"symbol": "ACME"}', "price"),
    ('{"symbol": "ACME", "price": "1.005"}', "price"),
    ('{"symbol": "ACME", "price": 1.005}', "price"),
    ('{"symbol": "ACME", "price": "-1.00"}', "price"),
    ('{"symbol": "ACME", "price": "0"}', "price"),
    ('{"symbol": "ACME", "price": true}', "price"),
    ('{"symbol": "ACME", "price": "1.00", "volume": -1}', "volume"),
    ('{"symbol": "ACME", "price": "1.00", "volume": 1.5}', "volume"),
    ('{"symbol": "ACME", "price": "1.00", "volume": "12"}', "volume"),
    ('{"symbol": "ACME", "price": "1.00", "ts": "yesterday"}', "ts"),
    ('{"symbol": "ACME", "price": "1.00", "ts": "2026-01-02T03:04:05"}', "time zone"),
    ('{"symbol": "ACME", "price": "1.00", "who": "me"}', "unknown field"),
])
def test_bad_published_lines_say_what_is_wrong(line, needle):
    with pytest.raises(PublishError) as err:
        parse_published(line, SYMS)
    assert needle in str(err.value)


# -- the book -------------------------------------------------------------------------------



@pytest.fixture(params=["memory", "redis"])
def book(request):
    return MemoryBook() if request.param == "memory" else market_redis_book()


def test_the_book_keeps_the_newest_quote_per_symbol_with_growing_versions(book):
    assert book.all() == {} and book.get("ACME") is None and book.last_price("ACME") is None
    v1 = book.put(Quote("ACME", D("1.00"), D("1.00"), 0, T0))
    v2 = book.put_many([Quote("ACME", D("2.00"), D("1.00"), 100, T0),
                        Quote("GLOBX", D("3.00"), D("3.00"), 0, T0)])
    assert v2 > v1
    everything = book.all()
    assert set(everything) == {"ACME", "GLOBX"}
    assert everything["ACME"].quote == Quote("ACME", D("2.00"), D("1.00"), 100, T0)
    assert everything["ACME"].version < everything["GLOBX"].version == v2
    assert book.get("GLOBX") == everything["GLOBX"]
    assert book.last_price("ACME") == D("2.00")
    book.clear()
    assert book.all() == {}


# -- the history and the last fills -----------------------------------------------------------

def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ms(seconds: float) -> int:
    return (at(seconds) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def test_the_history_keeps_one_point_per_second_the_newest(book):
    for i, price in enumerate(["1.00", "1.01", "1.02", "1.03"]):
        book.put(Quote("ACME", D(price), D("1.00"), 0, at(i * 0.3)))  # 0, 0.3, 0.6 | 0.9
    book.put(Quote("ACME", D("1.10"), D("1.00"), 0, at(1.2)))
    book.put(Quote("GLOBX", D("5.00"), D("5.00"), 0, at(0)))
    assert book.history(["ACME", "GLOBX", "INITK"]) == {
        "ACME": [[ms(0.9), "1.03"], [ms(1.2), "1.10"]],
        "GLOBX": [[ms(0), "5.00"]],
        "INITK": [],
    }


def test_the_history_is_bounded_to_the_window_before_the_newest_point(book):
    # Published at 50 quotes per second for 11 minutes of quote time: without the
    # bound that is 33,000 points; with it, one per second of the last 600.
    quotes = [Quote("ACME", D("1.00") + D(i % 100) / 100, D("1.00"), 0, at(i / 50))
              for i in range(0, 660 * 50, 7)]
    for start in range(0, len(quotes), 500):
        book.put_many(quotes[start:start + 500])
    points = book.history(["ACME"])["ACME"]
    assert len(points) == HISTORY_SECONDS
    newest = quotes[-1].point()[0]
    seconds = [p[0] // 1000 for p in points]
    assert seconds == list(range(newest - HISTORY_SECONDS + 1, newest + 1))
    assert points[-1] == [quotes[-1].point()[1], f"{quotes[-1].price:.2f}"]


def test_an_older_published_quote_goes_into_its_place_or_out_of_the_window(book):
    book.put(Quote("ACME", D("2.00"), D("1.00"), 0, at(700)))
    book.put(Quote("ACME", D("1.50"), D("1.00"), 0, at(650)))  # late, inside the window
    book.put(Quote("ACME", D("1.00"), D("1.00"), 0, at(50)))  # older than the window
    book.put(Quote("ACME", D("1.60"), D("1.00"), 0, at(650.5)))  # same second: replaces
    assert book.history(["ACME"])["ACME"] == [[ms(650.5), "1.60"], [ms(700), "2.00"]]


def test_the_last_fills_are_kept_newest_first_with_a_growing_seq(book):
    kept = [book.add_fill({"symbol": "ACME", "side": "BUY", "quantity": n, "price": "1.00",
                           "ts": "2026-01-02T09:30:00.000Z"}) for n in range(1, ACTIVITY_SIZE + 6)]
    seqs = [k["seq"] for k in kept]
    assert seqs == sorted(set(seqs))
    fills = book.fills()
    assert len(fills) == ACTIVITY_SIZE
    assert fills == kept[::-1][:ACTIVITY_SIZE]
    assert fills[0]["quantity"] == ACTIVITY_SIZE + 5 and set(fills[0]) == {
        "symbol", "side", "quantity", "price", "ts", "seq"}


def test_clear_forgets_the_history_and_the_fills(book):
    book.put(Quote("ACME", D("1.00"), D("1.00"), 0, T0))
    book.add_fill({"symbol": "ACME", "side": "BUY", "quantity": 1, "price": "1.00", "ts": "x"})
    book.clear()
    assert book.history(["ACME"]) == {"ACME": []} and book.fills() == []


def test_a_history_point_is_the_quote_s_exact_millisecond():
    # The page matches live quotes to history points by ms, and buckets them by second.
    for micro in (0, 1000, 123000, 999000, 999999):
        ts = datetime(2026, 1, 2, 9, 30, 5, micro, tzinfo=UTC)
        sec, ms_, _ = Quote("ACME", D("1.00"), D("1.00"), 0, ts).point()
        assert (sec, ms_ % 1000) == (int(ts.replace(microsecond=0).timestamp()), micro // 1000)
