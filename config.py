"""Every setting of Switchboard, read from the environment and checked at start.

A bad value stops start-up with one line that names the setting and says what
is expected (``ConfigError``); ``app.py`` prints that line and exits, so an
operator never has to read a traceback to find a typo in a unit file.
"""
from __future__ import annotations

import ipaddress
import math
import os
import re
import secrets
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from pathlib import Path

from limits import parse_many

BASE_DIR = Path(__file__).resolve().parent


class ConfigError(ValueError):
    """A setting has a value Switchboard cannot use."""


def _int(name: str, default: int | None, minimum: int | None = 0, maximum: int | None = None):
    def parse(env: dict[str, str]) -> int | None:
        raw = env.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a whole number") from None
        if minimum is None:
            return value
        if value < minimum or (maximum is not None and value > maximum):
            upper = f" and {maximum}" if maximum is not None else ""
            raise ConfigError(f"{name}={value} must be at least {minimum}{upper}")
        return value

    return parse


def _choice(name: str, default: str, choices: tuple[str, ...]):
    def parse(env: dict[str, str]) -> str:
        value = (env.get(name) or default).strip().lower()
        if value not in choices:
            raise ConfigError(f"{name}={value!r} must be one of {', '.join(choices)}")
        return value

    return parse


def _rate(name: str, default: str):
    def parse(env: dict[str, str]) -> str:
        value = (env.get(name) or default).strip()
        try:
            parse_many(value)
        except ValueError:
            raise ConfigError(
                f"{name}={value!r} is not a rate such as '60/minute;10/second'"
            ) from None
        return value

    return parse


def _str(name: str, default: str | None = None):
    def parse(env: dict[str, str]) -> str | None:
        value = env.get(name)
        return value if value not in (None, "") else default

    return parse


def _origins(env: dict[str, str]) -> list[str]:
    raw = env.get("CORS_ALLOWED_ORIGINS", "").strip()
    if not raw:
        return []  # filled in with the app's own origin (see origins_for)
    origins = [o.strip().rstrip("/") for o in raw.split(",") if o.strip()]
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ConfigError(
                f"CORS_ALLOWED_ORIGINS entry {origin!r} must start with http:// or https://"
            )
    return origins


def _bool(name: str, default: bool):
    def parse(env: dict[str, str]) -> bool:
        raw = (env.get(name) or "").strip().lower()
        if not raw:
            return default
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}={raw!r} must be true or false")

    return parse


def _label(name: str, pattern: str, what: str):
    """An optional name made of a fixed alphabet (NODE_NAME, DEPLOYMENT)."""
    def parse(env: dict[str, str]) -> str | None:
        value = env.get(name) or None
        if value is not None and not re.fullmatch(pattern, value):
            raise ConfigError(f"{name}={value!r} must be {what}")
        return value

    return parse


_node_name = _label("NODE_NAME", r"[A-Za-z0-9_-]{1,32}", "1-32 letters, digits, '_' or '-'")
_deployment = _label("DEPLOYMENT", r"[A-Za-z0-9_.-]{1,64}",
                     "1-64 letters, digits, '.', '_' or '-'")


def _networks(name: str, default: str):
    def parse(env: dict[str, str]) -> tuple[str, ...]:
        raw = (env.get(name) or default).strip()
        nets = []
        for item in (part.strip() for part in raw.split(",")):
            if not item:
                continue
            try:
                nets.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError:
                raise ConfigError(
                    f"{name} entry {item!r} is not an address or network such as 10.0.0.0/8"
                ) from None
        return tuple(nets)

    return parse


def _seconds(name: str, default: str, minimum: float, maximum: float):
    def parse(env: dict[str, str]) -> float:
        raw = env.get(name) or default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not a number of seconds") from None
        if not math.isfinite(value) or value < minimum or value > maximum:
            raise ConfigError(f"{name}={raw} must be between {minimum} and {maximum} seconds")
        return value

    return parse


MARKET_SYMBOL_RE = re.compile(r"[A-Z][A-Z0-9.]{0,9}")  # used with fullmatch (see auth.service)
DEFAULT_MARKET_SYMBOLS = (
    "ACME:101.25,GLOBX:48.10,INITK:23.40,UMBRL:312.75,WAYNE:187.30,STARK:742.00"
)
MAX_MARKET_SYMBOLS = 50
# The largest start price and the cent: as in money.py, repeated because config.py
# imports nothing of the app (tests/unit/test_config.py checks the two agree).
MAX_START_PRICE = Decimal("1000000.00")
_CENT = Decimal("0.01")


def _start_price(entry: str, raw: str) -> Decimal:
    try:
        price = Decimal(raw)
    except InvalidOperation:
        price = None
    if (price is None or not price.is_finite() or price <= 0
            or price != price.quantize(_CENT) or price > MAX_START_PRICE):
        raise ConfigError(
            f"MARKET_SYMBOLS entry {entry!r}: the start price must be like 101.25 "
            "(more than 0, at most 1000000, 2 decimal places)"
        )
    return price.quantize(_CENT)


def _market_symbols(env: dict[str, str]) -> tuple[tuple[str, Decimal | None], ...]:
    """``ACME:101.25,GLOBX`` -> (("ACME", Decimal("101.25")), ("GLOBX", None)), in order."""
    raw = env.get("MARKET_SYMBOLS") or DEFAULT_MARKET_SYMBOLS
    entries = [e.strip() for e in raw.split(",") if e.strip()]
    if not entries:
        raise ConfigError("MARKET_SYMBOLS is empty; list symbols like 'ACME:101.25,GLOBX'")
    if len(entries) > MAX_MARKET_SYMBOLS:
        raise ConfigError(
            f"MARKET_SYMBOLS has {len(entries)} symbols; at most {MAX_MARKET_SYMBOLS}"
        )
    out: dict[str, Decimal | None] = {}
    for entry in entries:
        symbol, _, price_raw = entry.partition(":")
        symbol = symbol.strip().upper()
        if not MARKET_SYMBOL_RE.fullmatch(symbol):
            raise ConfigError(
                f"MARKET_SYMBOLS entry {entry!r}: a symbol is 1-10 of A-Z, 0-9 and '.', "
                "starting with a letter"
            )
        if symbol in out:
            raise ConfigError(f"MARKET_SYMBOLS lists {symbol} twice")
        out[symbol] = _start_price(entry, price_raw.strip()) if price_raw.strip() else None
    return tuple(out.items())


def _public_url(env: dict[str, str]) -> str | None:
    """``PUBLIC_URL``: scheme and host (and port, and a path prefix), no query.
    Invite links are built from it, so a typo would hand out dead links."""
    from urllib.parse import urlsplit

    raw = (env.get("PUBLIC_URL") or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"PUBLIC_URL={raw!r} must be like https://chat.example.com "
                          "(http or https, a host, no query or credentials)")
    return raw.rstrip("/")


def _file(name: str):
    def parse(env: dict[str, str]) -> str | None:
        value = env.get(name)
        if not value:
            return None
        if not Path(value).is_file():
            raise ConfigError(f"{name}={value!r}: no such file")
        return value

    return parse


@dataclass(frozen=True)
class Settings:
    """The checked settings. Field order is the order of the README's table."""

    HOST: str = field(metadata={"parse": _str("HOST", "127.0.0.1")})
    PORT: int = field(metadata={"parse": _int("PORT", 5000, 1, 65535)})
    SECRET_KEY: str | None = field(metadata={"parse": _str("SECRET_KEY")})
    DATABASE_URL: str | None = field(metadata={"parse": _str("DATABASE_URL")})
    MESSAGE_QUEUE: str | None = field(metadata={"parse": _str("MESSAGE_QUEUE")})
    CORS_ALLOWED_ORIGINS: list[str] = field(metadata={"parse": _origins})
    REGISTRATION: str = field(
        metadata={"parse": _choice("REGISTRATION", "open", ("open", "closed", "invite"))}
    )
    # The site's address as people reach it (invite links, their QR codes).
    # None: http(s)://HOST:PORT (see ``public_url``).
    PUBLIC_URL: str | None = field(metadata={"parse": _public_url})
    ASYNC_MODE: str = field(
        metadata={"parse": _choice("ASYNC_MODE", "eventlet", ("eventlet", "gevent", "threading"))}
    )
    RATE_LIMIT_MESSAGES: str = field(
        metadata={"parse": _rate("RATE_LIMIT_MESSAGES", "60/minute;10/second")}
    )
    RATE_LIMIT_EVENTS: str = field(metadata={"parse": _rate("RATE_LIMIT_EVENTS", "300/minute")})
    RATE_LIMIT_LOGIN: str = field(metadata={"parse": _rate("RATE_LIMIT_LOGIN", "10/minute")})
    RATE_LIMIT_PACKETS: str = field(
        metadata={"parse": _rate("RATE_LIMIT_PACKETS", "50/second")}
    )
    MAX_MESSAGE_CHARS: int = field(metadata={"parse": _int("MAX_MESSAGE_CHARS", 4000, 1)})
    MAX_PACKET_BYTES: int = field(metadata={"parse": _int("MAX_PACKET_BYTES", 65536, 1024)})
    MAX_CONNECTIONS: int = field(metadata={"parse": _int("MAX_CONNECTIONS", 10000, 1)})
    MAX_CONNECTIONS_PER_USER: int = field(
        metadata={"parse": _int("MAX_CONNECTIONS_PER_USER", 20, 1)}
    )
    CONNECT_TIMEOUT: int = field(metadata={"parse": _int("CONNECT_TIMEOUT", 10, 1, 300)})
    MAX_PENDING_PER_IP: int = field(metadata={"parse": _int("MAX_PENDING_PER_IP", 50, 1)})
    HEADER_TIMEOUT: int = field(metadata={"parse": _int("HEADER_TIMEOUT", 10, 1, 300)})
    MAX_CONNECTION_AGE: int = field(metadata={"parse": _int("MAX_CONNECTION_AGE", 7200, 10)})
    MAX_ROOMS_PER_USER: int = field(metadata={"parse": _int("MAX_ROOMS_PER_USER", 50, 0)})
    MAX_ROOM_MEMBERS: int = field(metadata={"parse": _int("MAX_ROOM_MEMBERS", 1000, 2)})
    # An avatar upload, before decoding (a phone photo is 2-5 MB; it is
    # shrunk to 256 px, so there is no use for more). At most 50 MiB.
    MAX_AVATAR_BYTES: int = field(
        metadata={"parse": _int("MAX_AVATAR_BYTES", 5 * 1024 * 1024, 1024, 50 * 1024 * 1024)}
    )
    # A kicked user's connects are refused this long (every process).
    KICK_BLOCK_SECONDS: int = field(metadata={"parse": _int("KICK_BLOCK_SECONDS", 60, 0, 86400)})
    # Invite links one admin may have usable at once (not used up, expired or revoked).
    MAX_INVITES_PER_ADMIN: int = field(
        metadata={"parse": _int("MAX_INVITES_PER_ADMIN", 20, 1, 10000)}
    )
    # Personal access tokens one account may hold (not revoked, not expired).
    MAX_TOKENS_PER_USER: int = field(metadata={"parse": _int("MAX_TOKENS_PER_USER", 20, 1, 1000)})
    TOKEN_TTL: int = field(metadata={"parse": _int("TOKEN_TTL", 300, 10, 86400)})
    PING_INTERVAL: int = field(metadata={"parse": _int("PING_INTERVAL", 25, 1, 3600)})
    PING_TIMEOUT: int = field(metadata={"parse": _int("PING_TIMEOUT", 20, 1, 3600)})
    TRUSTED_PROXIES: int = field(metadata={"parse": _int("TRUSTED_PROXIES", 0, 0, 10)})
    LOG_FORMAT: str = field(metadata={"parse": _choice("LOG_FORMAT", "text", ("text", "json"))})
    LOG_LEVEL: str = field(
        metadata={
            "parse": _choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error"))
        }
    )
    TLS_CERT: str | None = field(metadata={"parse": _file("TLS_CERT")})
    TLS_KEY: str | None = field(metadata={"parse": _file("TLS_KEY")})
    COOKIE_SECURE: bool = field(metadata={"parse": _bool("COOKIE_SECURE", False)})
    NODE_NAME: str | None = field(metadata={"parse": _node_name})
    DEPLOYMENT: str | None = field(metadata={"parse": _deployment})
    METRICS_ALLOW: tuple[str, ...] = field(
        metadata={"parse": _networks("METRICS_ALLOW", "127.0.0.1/32,::1/128")}
    )
    PRESENCE_EXPIRY: int = field(metadata={"parse": _int("PRESENCE_EXPIRY", 30, 3, 600)})
    SOCKETIO_ADMIN_UI: str = field(
        metadata={"parse": _choice("SOCKETIO_ADMIN_UI", "off", ("off", "read-only", "read-write"))}
    )
    SOCKETIO_ADMIN_UI_MODE: str = field(
        metadata={"parse": _choice("SOCKETIO_ADMIN_UI_MODE", "production",
                                   ("production", "development"))}
    )
    INSTANCE_PATH: str = field(
        metadata={"parse": _str("INSTANCE_PATH", str(BASE_DIR / "instance"))}
    )
    # The market board (docs/market.md): (symbol, start price or None) in
    # display order; seconds between feed rounds; who writes quotes
    # (``simulator``: a seeded random walk in the process holding the feed
    # lease, ``publisher``: only ``flask market publish``); the simulator's
    # seed (None: a random one per start, logged).
    MARKET_SYMBOLS: tuple[tuple[str, Decimal | None], ...] = field(
        metadata={"parse": _market_symbols}
    )
    MARKET_INTERVAL: float = field(metadata={"parse": _seconds("MARKET_INTERVAL", "1", 0.05, 60)})
    MARKET_SOURCE: str = field(
        metadata={"parse": _choice("MARKET_SOURCE", "simulator", ("simulator", "publisher"))}
    )
    MARKET_SEED: int | None = field(metadata={"parse": _int("MARKET_SEED", None, minimum=None)})

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        values = {f.name: f.metadata["parse"](env) for f in fields(cls)}
        if bool(values["TLS_CERT"]) != bool(values["TLS_KEY"]):
            raise ConfigError("TLS_CERT and TLS_KEY must be set together")
        if values["SOCKETIO_ADMIN_UI"] != "off" and values["MESSAGE_QUEUE"] \
                and values["SOCKETIO_ADMIN_UI_MODE"] == "development":
            # Development reporting sends one frame per recipient of every emit
            # (message texts included) and every socket's handshake; through the
            # queue that is published to, and fanned out by, every process.
            raise ConfigError(
                "SOCKETIO_ADMIN_UI_MODE=development cannot be used with MESSAGE_QUEUE: "
                "use SOCKETIO_ADMIN_UI_MODE=production with several processes"
            )
        return cls(**values)

    @property
    def secure_cookies(self) -> bool:
        """Secure cookies when we serve TLS, or a TLS proxy is in front (COOKIE_SECURE)."""
        return bool(self.TLS_CERT) or self.COOKIE_SECURE

    @property
    def scheme(self) -> str:
        return "https" if self.TLS_CERT else "http"

    @property
    def public_url(self) -> str:
        """PUBLIC_URL, else this server's own http(s)://HOST:PORT (no trailing /)."""
        return self.PUBLIC_URL or f"{self.scheme}://{self.HOST}:{self.PORT}"

    def allowed_origins(self) -> list[str]:
        """The explicit origin allow-list: the setting, or the app's own origin.

        Never derived from request headers: a client's ``Host`` or
        ``X-Forwarded-Host`` must not widen it.
        """
        if self.CORS_ALLOWED_ORIGINS:
            return self.CORS_ALLOWED_ORIGINS
        hosts = {self.HOST}
        if self.HOST in ("127.0.0.1", "localhost", "0.0.0.0", "::"):
            hosts = {"127.0.0.1", "localhost"}
        return [f"{self.scheme}://{h}:{self.PORT}" for h in sorted(hosts)]


def load_secret_key(settings: Settings) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/."""
    if settings.SECRET_KEY:
        return settings.SECRET_KEY
    path = Path(settings.INSTANCE_PATH) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # O_EXCL: two processes starting at once must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def database_url(settings: Settings) -> str:
    if settings.DATABASE_URL:
        return settings.DATABASE_URL
    Path(settings.INSTANCE_PATH).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(settings.INSTANCE_PATH) / 'switchboard.db'}"
