"""Settings of the market board, read from the environment and checked at start.

They live here rather than in config.py for now (see docs/market.md); a bad
value raises ``config.ConfigError`` with one line naming the setting, like
every other setting. When config.py's ``Settings`` grows fields of the same
names, those win (``from_settings``).
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from config import ConfigError

SYMBOL_RE = re.compile(r"[A-Z][A-Z0-9.]{0,9}")  # used with fullmatch (see auth.service)
DEFAULT_SYMBOLS = "ACME:101.25,GLOBX:48.10,INITK:23.40,UMBRL:312.75,WAYNE:187.30,STARK:742.00"
SOURCES = ("simulator", "publisher")
MAX_SYMBOLS = 50


@dataclass(frozen=True)
class MarketSettings:
    """What the market board needs to know.

    - ``symbols``: (symbol, start price or None) in display order.
    - ``interval``: seconds between feed ticks (quotes, matching, pushes).
    - ``source``: ``simulator`` (a seeded random walk in the process holding
      the feed lease) or ``publisher`` (only ``flask market publish`` writes
      quotes; the server still matches and pushes them).
    - ``seed``: the simulator's seed; None picks one at random per start.
    """

    symbols: tuple[tuple[str, Decimal | None], ...]
    interval: float
    source: str
    seed: int | None

    @property
    def symbol_names(self) -> tuple[str, ...]:
        return tuple(s for s, _ in self.symbols)

    @property
    def lease_ttl(self) -> float:
        """The feed lease outlives three missed renewals, and at least a second."""
        return max(3 * self.interval, 1.0)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "MarketSettings":
        env = dict(os.environ if env is None else env)
        return cls(
            symbols=parse_symbols(env.get("MARKET_SYMBOLS") or DEFAULT_SYMBOLS),
            interval=parse_interval(env.get("MARKET_INTERVAL") or "1"),
            source=parse_source(env.get("MARKET_SOURCE") or "simulator"),
            seed=parse_seed(env.get("MARKET_SEED")),
        )

    @classmethod
    def from_settings(cls, settings, env: dict[str, str] | None = None) -> "MarketSettings":
        """Prefer fields of config.Settings when it has them, else the environment."""
        env = dict(os.environ if env is None else env)
        for name in ("MARKET_SYMBOLS", "MARKET_INTERVAL", "MARKET_SOURCE", "MARKET_SEED"):
            value = getattr(settings, name, None)
            if value is not None:
                env[name] = ",".join(value) if isinstance(value, (list, tuple)) else str(value)
        return cls.from_env(env)


def parse_symbols(raw: str) -> tuple[tuple[str, Decimal | None], ...]:
    entries = [e.strip() for e in raw.split(",") if e.strip()]
    if not entries:
        raise ConfigError("MARKET_SYMBOLS is empty; list symbols like 'ACME:101.25,GLOBX'")
    if len(entries) > MAX_SYMBOLS:
        raise ConfigError(f"MARKET_SYMBOLS has {len(entries)} symbols; at most {MAX_SYMBOLS}")
    seen: set[str] = set()
    out: list[tuple[str, Decimal | None]] = []
    for entry in entries:
        symbol, _, price_raw = entry.partition(":")
        symbol = symbol.strip().upper()
        if not SYMBOL_RE.fullmatch(symbol):
            raise ConfigError(
                f"MARKET_SYMBOLS entry {entry!r}: a symbol is 1-10 of A-Z, 0-9 and '.', "
                "starting with a letter"
            )
        if symbol in seen:
            raise ConfigError(f"MARKET_SYMBOLS lists {symbol} twice")
        seen.add(symbol)
        price = None
        if price_raw.strip():
            try:
                price = Decimal(price_raw.strip())
            except InvalidOperation:
                price = None
            if (price is None or not price.is_finite() or price <= 0
                    or price != price.quantize(Decimal("0.01")) or price > Decimal("1000000")):
                raise ConfigError(
                    f"MARKET_SYMBOLS entry {entry!r}: the start price must be like 101.25 "
                    "(more than 0, at most 1000000, 2 decimal places)"
                )
            price = price.quantize(Decimal("0.01"))
        out.append((symbol, price))
    return tuple(out)


def parse_interval(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"MARKET_INTERVAL={raw!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0.05 or value > 60:
        raise ConfigError(f"MARKET_INTERVAL={raw} must be between 0.05 and 60 seconds")
    return value


def parse_source(raw: str) -> str:
    value = raw.strip().lower()
    if value not in SOURCES:
        raise ConfigError(f"MARKET_SOURCE={raw!r} must be one of {', '.join(SOURCES)}")
    return value


def parse_seed(raw: str | None) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"MARKET_SEED={raw!r} is not a whole number") from None
