"""The /market namespace: a thin adapter from events to the market service.

Sockets sit in ``user:<id>`` (every tab of a user: ``trade:update``) and in
``symbol:<SYMBOL>`` for each subscribed symbol (``quote``, pushed by the
feed loop with conflation, see feed.py); ``market:activity`` goes to the
whole namespace. ``history`` and ``activity`` give a page that (re)loads the
chart's last ten minutes and the last fills, kept in the quote book (quotes.py).
"""
from __future__ import annotations

from blueprints.market import schemas as s
from blueprints.market import service
from blueprints.market.feed import MarketFeed, init_feed
from errors import BadRequest
from i18n import _l
from realtime.namespace import AppNamespace, event
from realtime.rooms import symbol_room, user_room
from realtime.state import Connection


class MarketNamespace(AppNamespace):
    def __init__(self, namespace: str, app) -> None:
        super().__init__(namespace, app)
        from extensions import socketio

        self.feed: MarketFeed = app.extensions.get("switchboard.market") or init_feed(app, socketio)

    # -- connection lifecycle -------------------------------------------
    def connected(self, conn: Connection, first: bool) -> None:
        self.feed.ensure_started()

    def disconnected(self, conn: Connection, last: bool) -> None:
        self.feed.forget(conn.sid)

    def _known(self, symbols: list[str]) -> list[str]:
        known = set(self.feed.symbols)
        for symbol in symbols:
            if symbol not in known:
                raise BadRequest(_l("symbols: unknown symbol %(symbol)r; ask 'symbols' for the list",
                                    symbol=symbol))
        return list(dict.fromkeys(symbols))  # de-duplicated, in the order asked

    # -- quotes -------------------------------------------------------------
    @event("symbols", s.Empty)
    def symbols(self, conn: Connection, data: s.Empty):
        return {"symbols": list(self.feed.symbols), "source": self.feed.source}

    @event("subscribe", s.SymbolList)
    def subscribe(self, conn: Connection, data: s.SymbolList):
        symbols = self._known(data.symbols)
        book = self.feed.book.all()
        snapshot = {sym: book[sym] for sym in symbols if sym in book}
        # Recorded before joining, so the feed does not push these same quotes again.
        self.feed.delivered(conn.sid, snapshot)
        for symbol in symbols:
            self.join(conn, symbol_room(symbol))
        return {"quotes": [snapshot[sym].quote.to_dict() for sym in symbols if sym in snapshot]}

    @event("history", s.SymbolList)
    def history(self, conn: Connection, data: s.SymbolList):
        """The chart's last ten minutes per symbol, so a reloaded page draws what it drew.

        A separate event, not part of the ``subscribe`` ack: the ack stays
        small for clients that draw no chart, and a page asks after
        subscribing, so no quote falls between the history and the live
        ones (the page merges both by ``ts``).
        """
        symbols = self._known(data.symbols)
        return {"quotes": self.feed.book.history(symbols)}

    @event("activity", s.Empty)
    def activity(self, conn: Connection, data: s.Empty):
        """The last fills (``market:activity`` payloads with ``seq``), newest first."""
        return {"fills": self.feed.book.fills()}

    @event("unsubscribe", s.SymbolList)
    def unsubscribe(self, conn: Connection, data: s.SymbolList):
        symbols = self._known(data.symbols)
        for symbol in symbols:
            self.leave(conn, symbol_room(symbol))
        self.feed.unsubscribed(conn.sid, symbols)
        return {}

    # -- paper trading ----------------------------------------------------
    @event("trade", s.TradeRequest)
    def trade(self, conn: Connection, data: s.TradeRequest):
        order = service.validate_order(data.symbol, data.side, data.quantity, data.type,
                                       data.limit_price, data.client_id, self.feed.symbols)
        placed = service.place_order(conn.user_id, order, self.feed.book)
        trade = placed.trade.to_dict()
        if placed.duplicate:
            return {"trade": trade, "duplicate": True}
        # Stored and committed: now the ack (returned) and the pushes.
        self.emit("trade:update", trade, to=user_room(conn.user_id))
        if placed.filled:
            self.emit("market:activity", self.feed.record_fill(placed.trade))
        return {"trade": trade}

    @event("cancel", s.TradeRef)
    def cancel(self, conn: Connection, data: s.TradeRef):
        trade = service.cancel(conn.user_id, data.id).to_dict()
        self.emit("trade:update", trade, to=user_room(conn.user_id))
        return {"trade": trade}

    @event("portfolio", s.Empty)
    def portfolio(self, conn: Connection, data: s.Empty):
        return service.portfolio(conn.user_id)
