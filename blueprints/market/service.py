"""Paper trading: accounts, orders, fills, cancels and the portfolio.

Plain Python and the database; nothing here knows about Socket.IO. The
namespace (events.py) and the feed loop (feed.py) call these functions and
decide whom to tell about the result.

Money rules (docs/market.md):
- every amount is a ``Decimal`` with 2 places; a price times a whole
  quantity is exact, so the only rounding anywhere is the cost basis taken
  off a position on a partial sale (banker's rounding, to the cent);
- arithmetic happens in Python, never in SQL, and the account's cash, the
  position and the trade change in one transaction;
- every transaction that changes an account starts by bumping the account's
  ``version`` (``_lock_account``): PostgreSQL's row lock and SQLite's write
  lock then serialise all trades of one user, including fills of limit
  orders by the feed racing a cancel from a browser tab;
- ``(user_id, client_id)`` is unique: a retried order returns the stored
  trade (``duplicate``) and changes nothing a second time;
- a BUY that needs more cash than the account has, or a SELL of shares not
  held, is stored as ``rejected`` with a reason and changes nothing else.
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from errors import BadRequest, Conflict, NotFound
from extensions import db
from i18n import _l
from models import Account, Position, Trade, utcnow
from money import MAX_AMOUNT, ZERO, money, parse_money, round_cents

STARTING_CASH = Decimal("100000.00")
TRADES_IN_PORTFOLIO = 50


class PriceSource(Protocol):
    """Where the service learns the current price (the quote book)."""

    def last_price(self, symbol: str) -> Decimal | None: ...


@dataclass(frozen=True)
class Order:
    """A validated order request."""

    symbol: str
    side: str
    quantity: int
    type: str
    limit_price: Decimal | None
    client_id: str


@dataclass
class Placed:
    trade: Trade
    duplicate: bool = False

    @property
    def filled(self) -> bool:
        return self.trade.status == "filled"


def validate_order(symbol: str, side: str, quantity: int, type_: str, limit_price: str | None,
                   client_id: str, symbols: Collection[str]) -> Order:
    """Check what the payload schema cannot: known symbol, price format, combinations.

    Raises ``BadRequest`` naming the field. Types, ``side``, ``type``, the
    range of ``quantity`` and the length of ``client_id`` are the schema's
    (schemas.TradeRequest, strict pydantic): they are not checked again here.
    """
    if symbol not in symbols:
        raise BadRequest(_l("symbol: unknown symbol %(symbol)r; ask 'symbols' for the list",
                            symbol=symbol))
    price = None
    if type_ == "limit":
        if limit_price is None:
            raise BadRequest(_l('limit_price: required for a limit order, like "101.25"'))
        try:
            price = parse_money(limit_price, "limit_price")
        except ValueError as exc:
            raise BadRequest(exc.args[0]) from None  # lazy: translated where it is sent
    elif limit_price is not None:
        raise BadRequest(_l('limit_price: only for limit orders (type "limit")'))
    return Order(symbol, side, quantity, type_, price, client_id)


# -- accounts ---------------------------------------------------------------------

def ensure_account(user_id: int) -> Account:
    """The user's account, opened with STARTING_CASH on first use."""
    account = db.session.get(Account, user_id)
    if account is not None:
        return account
    db.session.add(Account(user_id=user_id, cash=STARTING_CASH, realized_pnl=ZERO))
    try:
        db.session.commit()
    except IntegrityError:  # opened at the same moment from another tab or process
        db.session.rollback()
    return db.session.get_one(Account, user_id)


def _lock_account(user_id: int) -> Account:
    """Start a write transaction on the account; return it as of now.

    The UPDATE comes first so the transaction waits for its turn instead of
    failing on a stale snapshot (SQLite) and holds the row (PostgreSQL).
    """
    db.session.commit()  # end any read transaction: the write below starts a fresh one
    db.session.execute(
        update(Account).where(Account.user_id == user_id).values(version=Account.version + 1)
    )
    return db.session.get_one(Account, user_id, populate_existing=True)


def _position(user_id: int, symbol: str) -> Position | None:
    return db.session.get(Position, (user_id, symbol), populate_existing=True)


# -- fills -----------------------------------------------------------------------

def cost_share(cost: Decimal, held: int, sold: int) -> Decimal:
    """The part of a position's cost basis that ``sold`` of ``held`` shares carry.

    All of it when the whole position goes (so no cent is ever left behind),
    else the proportional share rounded to the cent (banker's rounding).
    """
    if sold >= held:
        return cost
    return round_cents(cost * sold / held)


def _reject(trade: Trade, reason: str, now: datetime) -> None:
    trade.status = "rejected"
    trade.reason = reason
    trade.updated_at = now


def _fill(account: Account, trade: Trade, price: Decimal, now: datetime) -> None:
    """Fill ``trade`` at ``price`` against the locked ``account``, or reject it."""
    amount = price * trade.quantity  # exact: 2 places times a whole number
    position = _position(account.user_id, trade.symbol)
    if trade.side == "BUY":
        if amount > account.cash:
            return _reject(trade, f"Not enough cash: {trade.quantity} {trade.symbol} at "
                                  f"{money(price)} cost {money(amount)}, you have "
                                  f"{money(account.cash)}.", now)
        if (position.cost if position is not None else 0) + amount > MAX_AMOUNT:
            return _reject(trade, "That position would exceed the account's limits.", now)
        if position is None:
            position = Position(user_id=account.user_id, symbol=trade.symbol, quantity=0,
                                cost=ZERO)
            db.session.add(position)
        account.cash -= amount
        position.quantity += trade.quantity
        position.cost += amount
    else:
        held = position.quantity if position is not None else 0
        if held < trade.quantity:
            return _reject(trade, f"You hold {held} {trade.symbol}; you cannot sell "
                                  f"{trade.quantity}.", now)
        if account.cash + amount > MAX_AMOUNT:
            return _reject(trade, "That sale would exceed the account's limits.", now)
        assert position is not None  # held >= trade.quantity >= 1
        basis = cost_share(position.cost, held, trade.quantity)
        account.cash += amount
        account.realized_pnl += amount - basis
        position.quantity -= trade.quantity
        position.cost -= basis
        if position.quantity == 0:
            db.session.delete(position)
    trade.status = "filled"
    trade.price = price
    trade.reason = None
    trade.updated_at = now


def _affordable_reason(account: Account, order: Order) -> str | None:
    """Why a limit order could not fill at its limit right now (None if it could)."""
    if order.side == "BUY":
        assert order.limit_price is not None  # validate_order: a limit order has one
        need = order.limit_price * order.quantity
        if need > account.cash:
            return (f"Not enough cash: {order.quantity} {order.symbol} at {money(order.limit_price)} "
                    f"cost {money(need)}, you have {money(account.cash)}.")
        return None
    position = _position(account.user_id, order.symbol)
    held = position.quantity if position is not None else 0
    if held < order.quantity:
        return f"You hold {held} {order.symbol}; you cannot sell {order.quantity}."
    return None


# -- orders ----------------------------------------------------------------------

def _by_client_id(user_id: int, client_id: str) -> Trade | None:
    return db.session.scalar(
        select(Trade).where(Trade.user_id == user_id, Trade.client_id == client_id)
    )


def _duplicate_of(trade: Trade, order: Order) -> Placed:
    same = (trade.symbol, trade.side, trade.quantity, trade.type, trade.limit_price) == (
        order.symbol, order.side, order.quantity, order.type, order.limit_price)
    if not same:
        raise Conflict(_l("client_id: already used for a different order"))
    return Placed(trade, duplicate=True)


def place_order(user_id: int, order: Order, prices: PriceSource,
                now: datetime | None = None) -> Placed:
    """Store the order and, for a market order, fill it now at the current price.

    A limit order is stored ``open`` (or ``rejected`` when the account could
    not pay for it, or sell it, at its limit); the feed fills it later.
    """
    existing = _by_client_id(user_id, order.client_id)
    if existing is not None:
        return _duplicate_of(existing, order)
    ensure_account(user_id)
    now = now or utcnow()
    try:
        account = _lock_account(user_id)
        trade = Trade(user_id=user_id, client_id=order.client_id, symbol=order.symbol,
                      side=order.side, quantity=order.quantity, type=order.type,
                      limit_price=order.limit_price, status="open", created_at=now,
                      updated_at=now)
        if order.type == "market":
            price = prices.last_price(order.symbol)
            if price is None:
                _reject(trade, f"No price for {order.symbol} yet; try again in a moment.", now)
            else:
                _fill(account, trade, price, now)
        else:
            reason = _affordable_reason(account, order)
            if reason:
                _reject(trade, reason, now)
        db.session.add(trade)
        db.session.commit()
    except IntegrityError:
        # The same client_id raced in from another tab or process.
        db.session.rollback()
        existing = _by_client_id(user_id, order.client_id)
        if existing is None:
            raise
        return _duplicate_of(existing, order)
    return Placed(trade)


def cancel(user_id: int, trade_id: int, now: datetime | None = None) -> Trade:
    """Cancel an open order of the user; anything else is not_found or conflict."""
    trade = db.session.get(Trade, trade_id)
    if trade is None or trade.user_id != user_id:
        raise NotFound(_l("No order %(id)s.", id=trade_id))
    _lock_account(user_id)
    trade = db.session.get_one(Trade, trade_id, populate_existing=True)
    if trade.status != "open":
        status = trade.status
        db.session.rollback()
        raise Conflict(_l("Order %(id)s is %(status)s; only open orders can be cancelled.",
                          id=trade_id, status=status))
    trade.status = "cancelled"
    trade.updated_at = now or utcnow()
    db.session.commit()
    return trade


def crosses(trade: Trade, price: Decimal) -> bool:
    """Whether ``price`` reaches the limit: at or below a BUY's, at or above a SELL's."""
    assert trade.limit_price is not None  # only limit orders are matched
    if trade.side == "BUY":
        return price <= trade.limit_price
    return price >= trade.limit_price


def match_limit_orders(symbol: str, price: Decimal, now: datetime | None = None) -> list[Trade]:
    """Fill every open limit order of ``symbol`` that ``price`` crosses, oldest first.

    Each fill is its own transaction (with the trader's cash and position);
    an order the trader can no longer pay for (or whose shares are gone) is
    rejected with a reason. Returns the trades that changed.
    """
    now = now or utcnow()
    candidates = list(db.session.scalars(
        select(Trade).where(Trade.status == "open", Trade.symbol == symbol, Trade.type == "limit")
        .order_by(Trade.id)
    ))
    # Compared in Python: Decimal against Decimal, exactly, on every database.
    crossing = [(t.id, t.user_id) for t in candidates if crosses(t, price)]
    changed: list[Trade] = []
    for trade_id, user_id in crossing:
        account = _lock_account(user_id)
        trade = db.session.get_one(Trade, trade_id, populate_existing=True)
        if trade.status != "open":  # cancelled (or filled) meanwhile
            db.session.rollback()
            continue
        _fill(account, trade, price, now)
        db.session.commit()
        changed.append(trade)
    return changed


# -- reading ------------------------------------------------------------------------

def position_dict(position: Position) -> dict:
    return {
        "symbol": position.symbol,
        "quantity": position.quantity,
        "avg_price": money(position.cost / position.quantity),
        "cost": money(position.cost),
    }


def portfolio(user_id: int) -> dict:
    """Cash, positions and the latest 50 trades (newest first)."""
    account = ensure_account(user_id)
    positions = db.session.scalars(
        select(Position).where(Position.user_id == user_id, Position.quantity > 0)
        .order_by(Position.symbol)
    )
    trades = db.session.scalars(
        select(Trade).where(Trade.user_id == user_id).order_by(Trade.id.desc())
        .limit(TRADES_IN_PORTFOLIO)
    )
    return {
        "cash": money(account.cash),
        "realized_pnl": money(account.realized_pnl),
        "positions": [position_dict(p) for p in positions],
        "trades": [t.to_dict() for t in trades],
    }


def activity(trade: Trade) -> dict:
    """What everyone on /market may learn of a fill: no user identity."""
    assert trade.price is not None  # a filled trade has its price
    return {"symbol": trade.symbol, "side": trade.side, "quantity": trade.quantity,
            "price": money(trade.price), "ts": trade.to_dict()["ts"]}
