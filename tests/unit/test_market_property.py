"""Property: over any sequence of orders at any prices the books balance.

Invariants checked after every step, against the real service and SQLite:
- cash never goes negative; positions never go negative;
- conservation: cash + cost basis of all positions - realised P/L equals the
  starting cash exactly. (Without the realised P/L term this could not hold:
  buying at 100 and selling at 110 adds 10 to cash that no cost basis ever
  carried. Cost basis is what was paid for the shares still held.)
- the service agrees, cent for cent and status for status, with an
  independent model of the rules written here in integer cents and Fractions.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from blueprints.market import service
from blueprints.market.quotes import MemoryBook, Quote
from extensions import db
from models import Account, Position, User, utcnow

SYMBOLS = ("AAA", "BBB")
START = 10_000_000  # cents
_users = itertools.count(1)

prices = st.one_of(st.integers(1, 20_000), st.integers(1, 2_000_000))  # cents
quantities = st.one_of(st.integers(1, 5), st.integers(1, 60), st.integers(1, 10_000))
symbols = st.sampled_from(SYMBOLS)
sides = st.sampled_from(("BUY", "SELL"))
steps = st.lists(st.one_of(
    st.tuples(st.just("market"), sides, symbols, quantities, prices),
    st.tuples(st.just("limit"), sides, symbols, quantities, prices),
    st.tuples(st.just("match"), symbols, prices),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
), min_size=1, max_size=25)


@dataclass
class Model:
    """The rules of docs/market.md, in integer cents."""

    cash: int = START
    realized: int = 0
    qty: dict = field(default_factory=lambda: {s: 0 for s in SYMBOLS})
    cost: dict = field(default_factory=lambda: {s: 0 for s in SYMBOLS})
    open: list = field(default_factory=list)  # [id, side, symbol, quantity, limit]

    def fill(self, side, symbol, quantity, price) -> str:
        amount = price * quantity
        if side == "BUY":
            if amount > self.cash:
                return "rejected"
            self.cash -= amount
            self.qty[symbol] += quantity
            self.cost[symbol] += amount
        else:
            held = self.qty[symbol]
            if held < quantity:
                return "rejected"
            share = self.cost[symbol] if quantity == held else round(
                Fraction(self.cost[symbol] * quantity, held))  # round(): half to even
            self.cash += amount
            self.realized += amount - share
            self.qty[symbol] -= quantity
            self.cost[symbol] -= share
        return "filled"


def cents(value: Decimal) -> int:
    assert value == value.quantize(Decimal("0.01"))
    return int(value * 100)


def money(c: int) -> Decimal:
    return Decimal(c) / 100


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=steps)
# Partial sales whose cost share is not a whole cent: 301/3 and 5/2 (a tie).
@example(steps=[("market", "BUY", "AAA", 1, 99), ("market", "BUY", "AAA", 2, 101),
                ("market", "SELL", "AAA", 1, 150), ("market", "SELL", "AAA", 2, 90)])
@example(steps=[("market", "BUY", "BBB", 1, 2), ("market", "BUY", "BBB", 1, 3),
                ("limit", "SELL", "BBB", 1, 7), ("match", "BBB", 8), ("cancel", 0)])
def test_books_balance_over_any_sequence_of_orders(app, steps):
    n_user = next(_users)
    # A plain row: hashing a password per example would dominate the run time.
    user = User(username=f"prop{n_user}", username_key=f"prop{n_user}", password_hash="-")
    db.session.add(user)
    db.session.commit()
    # Every example trades its own symbols: the database (one per test) keeps
    # earlier examples' open orders, which matching would otherwise see.
    real = {s: f"{s}{n_user}" for s in SYMBOLS}
    known = tuple(real.values())
    service.ensure_account(user.id)
    book = MemoryBook()
    model = Model()
    ids: list[int] = []
    for n, step in enumerate(steps):
        kind = step[0]
        if kind == "market":
            _, side, symbol, quantity, price = step
            book.put(Quote(real[symbol], money(price), money(price), 0, utcnow()))
            o = service.validate_order(real[symbol], side, quantity, "market", None, f"m{n}", known)
            trade = service.place_order(user.id, o, book).trade
            assert trade.status == model.fill(side, symbol, quantity, price), step
            if trade.status == "filled":
                assert cents(trade.price) == price
        elif kind == "limit":
            _, side, symbol, quantity, limit = step
            o = service.validate_order(real[symbol], side, quantity, "limit", str(money(limit)),
                                       f"l{n}", known)
            trade = service.place_order(user.id, o, book).trade
            if side == "BUY":
                expected = "rejected" if limit * quantity > model.cash else "open"
            else:
                expected = "rejected" if model.qty[symbol] < quantity else "open"
            assert trade.status == expected, step
            if expected == "open":
                model.open.append([trade.id, side, symbol, quantity, limit])
                ids.append(trade.id)
        elif kind == "match":
            _, symbol, price = step
            changed = service.match_limit_orders(real[symbol], money(price))
            expected = []
            for entry in list(model.open):
                tid, side, sym, quantity, limit = entry
                if sym != symbol or not (price <= limit if side == "BUY" else price >= limit):
                    continue
                model.open.remove(entry)
                expected.append((tid, model.fill(side, sym, quantity, price)))
            assert [(t.id, t.status) for t in changed] == expected, step
        else:
            _, k = step
            if not ids:
                continue
            tid = ids[k % len(ids)]
            entry = next((e for e in model.open if e[0] == tid), None)
            try:
                service.cancel(user.id, tid)
                assert entry is not None, "cancelled an order that was not open"
                model.open.remove(entry)
            except service.Conflict:
                assert entry is None, "refused to cancel an open order"

        account = db.session.get(Account, user.id, populate_existing=True)
        positions = list(db.session.scalars(
            select(Position).where(Position.user_id == user.id).execution_options(
                populate_existing=True)))
        cost = sum((p.cost for p in positions), Decimal("0.00"))
        # The invariants.
        assert account.cash >= 0
        assert all(p.quantity > 0 and p.cost >= 0 for p in positions)
        assert account.cash + cost - account.realized_pnl == Decimal("100000.00")
        # The independent model agrees to the cent.
        assert cents(account.cash) == model.cash
        assert cents(account.realized_pnl) == model.realized
        assert {p.symbol: (p.quantity, cents(p.cost)) for p in positions} == {
            real[s]: (model.qty[s], model.cost[s]) for s in SYMBOLS if model.qty[s]}
