"""Error codes of the wire contract (PROTOCOL section 3).

Plain Python: services raise these without knowing about Socket.IO, and the
event wrapper turns them into the ``{"ok": false, "error": {...}}`` envelope.

A ``message`` is meant for people, so it is a ``lazy_gettext`` string: it
becomes text in the reader's language only when ``to_dict()`` runs, at the
point the error is sent (the request's language over HTTP, the connection's
over Socket.IO, i18n.py). Outside an app context it stays English. The
``code`` is the contract and never changes with the language.
"""
from __future__ import annotations

from typing import ClassVar

from flask_babel import LazyString, force_locale
from flask_babel import lazy_gettext as _l


class AppError(Exception):
    """The base of the domain errors: a wire ``code`` and a default ``message``.

    Each error is a subclass that names both in its class line,
    ``class X(AppError, code="...", message=_l("...")): ...``, so the list below
    reads as the table it is while staying real classes that ``except`` and mypy
    know. A subclass without ``message`` keeps its parent's.
    """

    code: ClassVar[str] = "internal"
    default_message: ClassVar[str | LazyString] = _l("Something went wrong on the server.")

    def __init_subclass__(cls, code: str | None = None, message: str | LazyString | None = None,
                          **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if message is not None:
            cls.default_message = message

    def __init__(self, message=None, **extra):
        """``message``: a ``lazy_gettext`` string (or plain text, shown as is)."""
        message = message if message is not None else self.default_message
        super().__init__(message)
        self.message = message
        self.extra = extra

    def to_dict(self) -> dict:
        """The wire form, ``message`` in the language in force here."""
        return {"code": self.code, "message": str(self.message), **self.extra}

    @property
    def english(self) -> str:
        """The message in English, for logs and the audit trail (one language there)."""
        with force_locale("en"):
            return str(self.message)


class BadRequest(AppError, code="bad_request", message=_l("The request is not valid.")): ...
class Unauthorized(AppError, code="unauthorized", message=_l("Log in first.")): ...
class Forbidden(AppError, code="forbidden", message=_l("You are not allowed to do that.")): ...
class NotFound(AppError, code="not_found", message=_l("No such thing.")): ...
class RateLimited(AppError, code="rate_limited", message=_l("Too many requests; slow down.")): ...
class TooLarge(AppError, code="too_large", message=_l("Too large.")): ...
class Conflict(AppError, code="conflict", message=_l("That conflicts with what exists.")): ...
class TooManyConnections(AppError, code="too_many_connections", message=_l("Too many connections.")): ...
class Internal(AppError, code="internal"): ...
