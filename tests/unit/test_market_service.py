"""Paper trading rules against a real SQLite database: fills, limits, cancels, rejections."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from itertools import count

import pytest
from sqlalchemy import func, select

from blueprints.market import service
from blueprints.market.quotes import MemoryBook, Quote
from errors import BadRequest, Conflict, NotFound
from extensions import db
from models import Account, Position, Trade

SYMBOLS = ("ACME", "GLOBX")
T0 = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)
D = Decimal


@pytest.fixture
def book():
    return MemoryBook()


def quote(book, symbol, price):
    book.put(Quote(symbol, D(price), D(price), 0, T0))


_order_numbers = count(1)


def order(symbol="ACME", side="BUY", quantity=10, type_="market", limit_price=None,
          client_id=None):
    n = next(_order_numbers)
    return service.validate_order(symbol, side, quantity, type_, limit_price,
                                  client_id or f"c{n}", SYMBOLS)


def account(user):
    return db.session.get(Account, user.id, populate_existing=True)


def position(user, symbol="ACME"):
    return db.session.get(Position, (user.id, symbol), populate_existing=True)


def counts():
    return (db.session.scalar(select(func.count(Trade.id))),
            db.session.scalar(select(func.count()).select_from(Position)))


# -- market orders --------------------------------------------------------------

def test_a_new_account_starts_with_100000(users):
    assert service.portfolio(users[0].id)["cash"] == "100000.00"
    assert account(users[0]).cash == D("100000.00")


def test_a_market_buy_fills_at_the_current_price(users, book):
    quote(book, "ACME", "101.25")
    placed = service.place_order(users[0].id, order(quantity=10), book, now=T0)
    trade = placed.trade.to_dict()
    assert trade["status"] == "filled" and trade["price"] == "101.25" and trade["reason"] is None
    assert account(users[0]).cash == D("100000.00") - D("1012.50")
    assert (position(users[0]).quantity, position(users[0]).cost) == (10, D("1012.50"))


def test_a_market_sell_fills_and_books_the_realised_pnl(users, book):
    quote(book, "ACME", "100.00")
    service.place_order(users[0].id, order(quantity=10), book)
    quote(book, "ACME", "110.50")
    placed = service.place_order(users[0].id, order(side="SELL", quantity=4), book)
    assert placed.trade.status == "filled" and placed.trade.price == D("110.50")
    acc = account(users[0])
    assert acc.cash == D("100000.00") - D("1000.00") + D("442.00")
    assert acc.realized_pnl == D("42.00")  # 4 x (110.50 - 100.00)
    assert (position(users[0]).quantity, position(users[0]).cost) == (6, D("600.00"))


def test_selling_the_whole_position_removes_it(users, book):
    quote(book, "ACME", "33.33")
    service.place_order(users[0].id, order(quantity=3), book)
    service.place_order(users[0].id, order(side="SELL", quantity=3), book)
    assert position(users[0]) is None
    assert service.portfolio(users[0].id)["positions"] == []


def test_a_market_order_without_any_quote_is_rejected(users, book):
    placed = service.place_order(users[0].id, order(), book)
    assert placed.trade.status == "rejected"
    assert "No price for ACME yet" in placed.trade.reason
    assert account(users[0]).cash == D("100000.00") and position(users[0]) is None


def test_a_buy_beyond_the_cash_is_rejected_and_changes_nothing(users, book):
    quote(book, "ACME", "10000.01")
    placed = service.place_order(users[0].id, order(quantity=10), book)
    assert placed.trade.status == "rejected"
    assert placed.trade.reason.startswith("Not enough cash")
    assert account(users[0]).cash == D("100000.00")
    assert position(users[0]) is None


def test_spending_exactly_all_the_cash_is_allowed(users, book):
    quote(book, "ACME", "10000.00")
    placed = service.place_order(users[0].id, order(quantity=10), book)
    assert placed.trade.status == "filled"
    assert account(users[0]).cash == D("0.00")


def test_selling_shares_not_held_is_rejected_and_changes_nothing(users, book):
    quote(book, "ACME", "50.00")
    service.place_order(users[0].id, order(quantity=5), book)
    before = account(users[0]).cash
    placed = service.place_order(users[0].id, order(side="SELL", quantity=6), book)
    assert placed.trade.status == "rejected" and placed.trade.reason == (
        "You hold 5 ACME; you cannot sell 6.")
    assert account(users[0]).cash == before and position(users[0]).quantity == 5
    other = service.place_order(users[0].id, order(symbol="GLOBX", side="SELL", quantity=1), book)
    assert other.trade.status == "rejected"  # no quote and no shares: nothing to sell


# -- idempotency ------------------------------------------------------------------

def test_the_same_client_id_returns_the_stored_trade_and_changes_nothing_twice(users, book):
    quote(book, "ACME", "20.00")
    first = service.place_order(users[0].id, order(quantity=7, client_id="same"), book)
    quote(book, "ACME", "25.00")
    again = service.place_order(users[0].id, order(quantity=7, client_id="same"), book)
    assert again.duplicate and again.trade.id == first.trade.id
    assert again.trade.price == D("20.00")
    assert account(users[0]).cash == D("100000.00") - D("140.00")
    assert position(users[0]).quantity == 7
    assert counts()[0] == 1


def test_a_client_id_reused_for_a_different_order_is_a_conflict(users, book):
    quote(book, "ACME", "20.00")
    service.place_order(users[0].id, order(quantity=7, client_id="k"), book)
    with pytest.raises(Conflict):
        service.place_order(users[0].id, order(quantity=8, client_id="k"), book)


def test_client_ids_are_per_user(users, book):
    quote(book, "ACME", "20.00")
    a = service.place_order(users[0].id, order(client_id="shared"), book)
    b = service.place_order(users[1].id, order(client_id="shared"), book)
    assert not b.duplicate and a.trade.id != b.trade.id


# -- limit orders -------------------------------------------------------------------

def test_a_limit_buy_stays_open_until_the_price_falls_to_the_limit(users, book):
    quote(book, "ACME", "105.00")
    placed = service.place_order(users[0].id, order(type_="limit", limit_price="100.00"), book)
    assert placed.trade.status == "open" and placed.trade.price is None
    assert account(users[0]).cash == D("100000.00")  # nothing paid while open
    assert service.match_limit_orders("ACME", D("100.01")) == []
    filled = service.match_limit_orders("ACME", D("99.50"), now=T0)
    assert [t.id for t in filled] == [placed.trade.id]
    trade = db.session.get(Trade, placed.trade.id)
    # Filled at the crossing quote's price (no worse than the limit).
    assert (trade.status, trade.price) == ("filled", D("99.50"))
    assert account(users[0]).cash == D("100000.00") - D("995.00")
    assert position(users[0]).quantity == 10


def test_a_limit_buy_fills_at_exactly_its_limit(users, book):
    placed = service.place_order(users[0].id, order(type_="limit", limit_price="100.00"), book)
    assert [t.id for t in service.match_limit_orders("ACME", D("100.00"))] == [placed.trade.id]


def test_a_limit_sell_fills_when_the_price_rises_to_the_limit(users, book):
    quote(book, "ACME", "90.00")
    service.place_order(users[0].id, order(quantity=10), book)
    sell = service.place_order(users[0].id, order(side="SELL", quantity=10, type_="limit",
                                                  limit_price="95.00"), book)
    assert sell.trade.status == "open"
    assert service.match_limit_orders("ACME", D("94.99")) == []
    assert [t.id for t in service.match_limit_orders("ACME", D("96.10"))] == [sell.trade.id]
    acc = account(users[0])
    assert acc.cash == D("100000.00") - D("900.00") + D("961.00")
    assert acc.realized_pnl == D("61.00") and position(users[0]) is None


def test_matching_only_touches_the_quoted_symbol(users, book):
    service.place_order(users[0].id, order(symbol="GLOBX", type_="limit", limit_price="50.00"), book)
    assert service.match_limit_orders("ACME", D("1.00")) == []


def test_matching_fills_oldest_first_and_rejects_what_can_no_longer_be_paid(users, book):
    # Two limit buys that each fit the cash at placement, but not both.
    a = service.place_order(users[0].id, order(quantity=10000, type_="limit", limit_price="6.00"), book)
    b = service.place_order(users[0].id, order(quantity=10000, type_="limit", limit_price="6.00"), book)
    assert a.trade.status == b.trade.status == "open"
    changed = service.match_limit_orders("ACME", D("6.00"))
    assert [(t.id, t.status) for t in changed] == [(a.trade.id, "filled"), (b.trade.id, "rejected")]
    assert changed[1].reason.startswith("Not enough cash")
    assert account(users[0]).cash == D("40000.00")


def test_a_limit_order_the_account_cannot_cover_is_rejected_at_once(users, book):
    placed = service.place_order(users[0].id, order(quantity=10000, type_="limit",
                                                    limit_price="10.01"), book)
    assert placed.trade.status == "rejected" and placed.trade.reason.startswith("Not enough cash")
    sell = service.place_order(users[0].id, order(side="SELL", type_="limit", limit_price="1.00"),
                               book)
    assert sell.trade.status == "rejected" and "You hold 0 ACME" in sell.trade.reason
    assert service.match_limit_orders("ACME", D("0.01")) == []


# -- cancel ----------------------------------------------------------------------------

def test_cancel_an_open_order(users, book):
    placed = service.place_order(users[0].id, order(type_="limit", limit_price="10.00"), book)
    trade = service.cancel(users[0].id, placed.trade.id)
    assert trade.status == "cancelled"
    assert service.match_limit_orders("ACME", D("1.00")) == []  # no longer matched
    assert account(users[0]).cash == D("100000.00")


def test_cancel_of_a_filled_order_is_a_conflict(users, book):
    quote(book, "ACME", "10.00")
    placed = service.place_order(users[0].id, order(), book)
    with pytest.raises(Conflict, match="is filled"):
        service.cancel(users[0].id, placed.trade.id)


def test_cancel_twice_is_a_conflict(users, book):
    placed = service.place_order(users[0].id, order(type_="limit", limit_price="10.00"), book)
    service.cancel(users[0].id, placed.trade.id)
    with pytest.raises(Conflict, match="is cancelled"):
        service.cancel(users[0].id, placed.trade.id)


def test_cancel_of_someone_elses_or_a_missing_order_is_not_found(users, book):
    placed = service.place_order(users[0].id, order(type_="limit", limit_price="10.00"), book)
    with pytest.raises(NotFound):
        service.cancel(users[1].id, placed.trade.id)
    with pytest.raises(NotFound):
        service.cancel(users[0].id, 999_999)
    assert db.session.get(Trade, placed.trade.id).status == "open"


# -- validation ----------------------------------------------------------------------------
# What the service checks; types, side, type, the quantity range and client_id
# are the strict schema's (integration/test_market_events.py, INVALID_TRADES).

@pytest.mark.parametrize("args,field", [
    (dict(symbol="NOPE"), "symbol"),
    (dict(symbol="acme"), "symbol"),
    (dict(type_="limit"), "limit_price"),
    (dict(type_="limit", limit_price="0"), "limit_price"),
    (dict(type_="limit", limit_price="0.00"), "limit_price"),
    (dict(type_="limit", limit_price="-1.00"), "limit_price"),
    (dict(type_="limit", limit_price="1.001"), "limit_price"),
    (dict(type_="limit", limit_price="1e3"), "limit_price"),
    (dict(type_="limit", limit_price="01.00"), "limit_price"),
    (dict(type_="limit", limit_price=" 1.00"), "limit_price"),
    (dict(type_="limit", limit_price="NaN"), "limit_price"),
    (dict(type_="limit", limit_price="1000000.01"), "limit_price"),
    (dict(type_="market", limit_price="10.00"), "limit_price"),
])
def test_invalid_orders_are_bad_requests_naming_the_field(args, field):
    kwargs = dict(symbol="ACME", side="BUY", quantity=1, type_="market", limit_price=None,
                  client_id="c")
    kwargs.update(args)
    with pytest.raises(BadRequest) as err:
        service.validate_order(kwargs["symbol"], kwargs["side"], kwargs["quantity"],
                               kwargs["type_"], kwargs["limit_price"], kwargs["client_id"], SYMBOLS)
    assert err.value.message.startswith(field + ":"), err.value.message


def test_valid_limit_prices_are_decimals_with_two_places():
    for raw, want in [("1", "1.00"), ("1.5", "1.50"), ("0.01", "0.01"), ("1000000.00", "1000000.00")]:
        o = service.validate_order("ACME", "BUY", 1, "limit", raw, "c", SYMBOLS)
        assert o.limit_price == D(want) and str(o.limit_price) == want


# -- portfolio ---------------------------------------------------------------------------------

def test_the_portfolio_has_cash_positions_and_the_latest_50_trades(users, book):
    quote(book, "ACME", "3.00")
    quote(book, "GLOBX", "7.00")
    service.place_order(users[0].id, order(quantity=2), book)
    service.place_order(users[0].id, order(quantity=1), book)
    quote(book, "ACME", "4.00")
    service.place_order(users[0].id, order(quantity=1), book)
    service.place_order(users[0].id, order(symbol="GLOBX", quantity=3), book)
    for _ in range(50):
        service.place_order(users[0].id, order(side="SELL", symbol="GLOBX", quantity=100), book)
    p = service.portfolio(users[0].id)
    assert p["cash"] == "99966.00"  # 100000 - 6 - 3 - 4 - 21
    assert p["positions"] == [
        {"symbol": "ACME", "quantity": 4, "avg_price": "3.25", "cost": "13.00"},
        {"symbol": "GLOBX", "quantity": 3, "avg_price": "7.00", "cost": "21.00"},
    ]
    assert len(p["trades"]) == 50
    ids = [t["id"] for t in p["trades"]]
    assert ids == sorted(ids, reverse=True)  # newest first
    assert set(p["trades"][0]) >= {"id", "symbol", "side", "quantity", "type", "limit_price",
                                   "status", "price", "ts", "reason"}
    assert service.portfolio(users[1].id)["trades"] == []  # nobody else's


def test_activity_carries_no_identity(users, book):
    quote(book, "ACME", "3.00")
    placed = service.place_order(users[0].id, order(quantity=2), book)
    assert service.activity(placed.trade) == {"symbol": "ACME", "side": "BUY", "quantity": 2,
                                              "price": "3.00", "ts": placed.trade.to_dict()["ts"]}
