"""Money arithmetic: Decimal with 2 places everywhere, in Python and in the database."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text

from blueprints.market import service
from blueprints.market.quotes import Quote
from extensions import db
from models import Account
from money import money, parse_money, percent

D = Decimal


@pytest.mark.parametrize("raw,want", [
    ("101.25", "101.25"), ("101.2", "101.20"), ("101", "101.00"), ("0.01", "0.01"),
    ("1000000", "1000000.00"), (D("3.5"), "3.50"),
])
def test_parse_money_accepts_decimal_strings_with_up_to_two_places(raw, want):
    value = parse_money(raw, "price")
    assert isinstance(value, Decimal) and str(value) == want


@pytest.mark.parametrize("raw", [
    "101.255", "1e2", "1E+2", "-1.00", "0", "0.00", "+1", " 1", "1 ", "", "1,000.00",
    "0x10", "NaN", "Infinity", "1000000.01", "00.10", "١٢٣",  # non-ASCII digits
])
def test_parse_money_refuses_anything_else(raw):
    with pytest.raises(ValueError) as err:
        parse_money(raw, "limit_price")
    assert str(err.value).startswith("limit_price:")


@pytest.mark.parametrize("raw", [101.25, 5, True, None, [1]])
def test_parse_money_refuses_floats_and_other_types(raw):
    with pytest.raises(ValueError, match="decimal string"):
        parse_money(raw, "price")


def test_money_formats_two_places_with_bankers_rounding():
    assert money(D("1")) == "1.00"
    assert money(D("-0.5")) == "-0.50"
    assert money(D("2.345")) == "2.34" and money(D("2.355")) == "2.36"  # half to even


def test_percent_is_rounded_half_even_to_two_places():
    assert percent(D("1.00"), D("3.00")) == D("33.33")
    assert percent(D("-2.00"), D("3.00")) == D("-66.67")
    assert percent(D("0.01"), D("800.00")) == D("0.00")  # 0.00125 -> 0.00
    assert percent(D("0.03"), D("800.00")) == D("0.00")  # 0.00375 -> 0.00
    assert percent(D("1.00"), D("0")) == D("0.00")


def test_no_float_arithmetic_error_in_sums():
    # The classic: 0.1 + 0.2 != 0.3 in floats; every amount here is Decimal.
    total = sum((parse_money(p, "p") for p in ["0.10", "0.20"]), D("0"))
    assert total == D("0.30") and money(total) == "0.30"
    assert D("0.10") * 3 == D("0.30")


def test_the_quote_wire_shape():
    q = Quote("ACME", D("101.25"), D("100.00"), 1200,
              datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC))
    assert q.to_dict() == {"symbol": "ACME", "price": "101.25", "change": "1.25",
                           "change_pct": "1.25", "volume": 1200, "ts": "2026-01-02T03:04:05.678Z"}
    down = Quote("ACME", D("99.00"), D("100.00"), 0, q.ts).to_dict()
    assert (down["change"], down["change_pct"]) == ("-1.00", "-1.00")
    assert Quote.from_json(q.to_json()) == q


@pytest.mark.parametrize("cost,held,sold,want", [
    ("100.00", 3, 1, "33.33"),  # 33.333... -> 33.33
    ("100.00", 3, 2, "66.67"),
    ("100.00", 3, 3, "100.00"),  # all of it: no cent left behind
    ("0.05", 2, 1, "0.02"),  # 0.025 -> 0.02 (half to even)
    ("0.15", 2, 1, "0.08"),  # 0.075 -> 0.08 (half to even)
])
def test_cost_basis_share_of_a_partial_sale(cost, held, sold, want):
    assert service.cost_share(D(cost), held, sold) == D(want)


def test_three_partial_sales_take_exactly_the_whole_cost(app, users):
    # 100.00 over 3 shares: 33.33 + 33.34 (of the remaining 66.67 over 2) + 33.33.
    cost, held, taken = D("100.00"), 3, []
    for _ in range(3):
        share = service.cost_share(cost, held, 1)
        taken.append(share)
        cost -= share
        held -= 1
    assert sum(taken) == D("100.00") and cost == D("0.00")


def test_the_money_column_round_trips_exactly_and_refuses_floats(app, users):
    uid = users[0].id
    for amount in ["0.01", "0.10", "1.10", "99999999999.99", "999999999999.99", "123456789012.34"]:
        db.session.merge(Account(user_id=uid, cash=D(amount), realized_pnl=D("-0.01")))
        db.session.commit()
        db.session.expire_all()
        account = db.session.get(Account, uid)
        assert account.cash == D(amount) and str(account.cash) == amount
        assert str(account.realized_pnl) == "-0.01"
    with pytest.raises(Exception, match="Decimal, not float"):
        db.session.merge(Account(user_id=uid, cash=0.1, realized_pnl=D("0")))
        db.session.commit()
    db.session.rollback()
    with pytest.raises(Exception, match="more than 2 decimal places"):
        db.session.merge(Account(user_id=uid, cash=D("0.001"), realized_pnl=D("0")))
        db.session.commit()
    db.session.rollback()


def test_the_column_is_numeric_14_2_in_the_schema(app):
    ddl = db.session.execute(text(
        "SELECT sql FROM sqlite_master WHERE name = 'market_accounts'")).scalar_one()
    assert "NUMERIC(14, 2)" in ddl


def test_money_and_a_round_trip_of_trades_on_postgresql():
    """The same rules on PostgreSQL's exact NUMERIC (the migration runs there too)."""
    from blueprints.market.quotes import MemoryBook
    from models import Position, User
    from tests.support.app import make_app
    from tests.support.services import postgres_database

    with postgres_database() as url:
        app = make_app(DATABASE_URL=url)
        with app.app_context():
            user = User(username="pgtrader", username_key="pgtrader", password_hash="-")
            db.session.add(user)
            db.session.commit()
            book = MemoryBook()
            book.put(Quote("ACME", D("33.33"), D("33.33"), 0, datetime.now(UTC)))
            buy = service.validate_order("ACME", "BUY", 3, "market", None, "b", ("ACME",))
            assert service.place_order(user.id, buy, book).trade.price == D("33.33")
            book.put(Quote("ACME", D("40.01"), D("33.33"), 0, datetime.now(UTC)))
            sell = service.validate_order("ACME", "SELL", 1, "market", None, "s", ("ACME",))
            assert service.place_order(user.id, sell, book).trade.status == "filled"
            db.session.expire_all()
            account = db.session.get(Account, user.id)
            position = db.session.get(Position, (user.id, "ACME"))
            assert account.cash == D("100000.00") - D("99.99") + D("40.01")
            assert account.realized_pnl == D("6.68")  # 40.01 - 33.33
            assert (position.quantity, position.cost) == (2, D("66.66"))
            assert account.cash + position.cost - account.realized_pnl == D("100000.00")
            assert type(account.cash) is Decimal
            db.session.remove()
            db.engine.dispose()
