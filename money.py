"""Money: ``Decimal`` amounts with exactly 2 places, end to end.

The one module that knows what an amount is: the database column type
(models.Money), the quotes (blueprints/market/quotes.py) and the trading
rules (blueprints/market/service.py) all use it, so "2 places", "banker's
rounding" and "no floats" are decided here once. Core level: it imports
nothing of the app (a model and a service may both use it).

A price times a whole quantity is exact and is never rounded. The only
stored amount that is rounded is the cost basis taken off a position on a
partial sale (docs/market.md); figures derived by division for display
(average price, change in percent) are rounded the same way, half to even.
"""
from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

# The library's, not i18n.py's: this module imports nothing of the app. The
# message is lazy: it is written in the reader's language where it is sent.
from flask_babel import lazy_gettext as _l

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_PRICE = Decimal("1000000.00")  # one share; also the simulator's ceiling
MAX_AMOUNT = Decimal("999999999999.99")  # the largest NUMERIC(14,2): cash, cost basis
# fullmatch: with ``^...$`` and ``match``, "101.25\n" passed ($ matches before a final newline).
_MONEY_RE = re.compile(r"(0|[1-9][0-9]{0,9})(\.[0-9]{1,2})?")


def parse_money(raw, field: str, *, maximum: Decimal = MAX_PRICE) -> Decimal:
    """A positive amount from a decimal string with at most 2 places.

    Raises ``ValueError`` with a message that names ``field`` (``args[0]``,
    a lazy translation); floats are refused outright (``0.1 + 0.2`` is how
    money goes wrong).
    """
    if isinstance(raw, bool) or not isinstance(raw, (str, Decimal)):
        raise ValueError(_l('%(field)s: must be a decimal string like "101.25", not %(type)s',
                            field=field, type=type(raw).__name__))
    text = str(raw)
    if not _MONEY_RE.fullmatch(text):
        raise ValueError(_l('%(field)s: must be a decimal string with at most 2 decimal places, '
                            'like "101.25"', field=field))
    value = Decimal(text).quantize(CENT)
    if value <= 0:
        raise ValueError(_l("%(field)s: must be more than 0", field=field))
    if value > maximum:
        raise ValueError(_l("%(field)s: must be at most %(maximum)s", field=field,
                            maximum=str(maximum)))
    return value


def round_cents(value: Decimal) -> Decimal:
    """``value`` to the cent, banker's rounding (half to even: no drift either way)."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def has_cents_only(value: Decimal) -> bool:
    """Whether ``value`` has no digit past the cent (so storing it loses nothing)."""
    return value == value.quantize(CENT)


def money(value: Decimal) -> str:
    """The wire form of an amount: a string with exactly 2 places."""
    return str(round_cents(value))


def percent(part: Decimal, whole: Decimal) -> Decimal:
    """``part`` as a percentage of ``whole``, 2 places, banker's rounding."""
    if whole == 0:
        return ZERO
    return round_cents(part * 100 / whole)


def from_cents(cents: int) -> Decimal:
    """A whole number of cents as an amount (the simulator walks in cents)."""
    return Decimal(cents) * CENT


def to_cents(value: Decimal) -> int:
    """An amount with 2 places as a whole number of cents (exact)."""
    return int(value * 100)
