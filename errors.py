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

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l


class AppError(Exception):
    code = "internal"
    default_message = _l("Something went wrong on the server.")

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


class BadRequest(AppError):
    code = "bad_request"
    default_message = _l("The request is not valid.")


class Unauthorized(AppError):
    code = "unauthorized"
    default_message = _l("Log in first.")


class Forbidden(AppError):
    code = "forbidden"
    default_message = _l("You are not allowed to do that.")


class NotFound(AppError):
    code = "not_found"
    default_message = _l("No such thing.")


class RateLimited(AppError):
    code = "rate_limited"
    default_message = _l("Too many requests; slow down.")


class TooLarge(AppError):
    code = "too_large"
    default_message = _l("Too large.")


class Conflict(AppError):
    code = "conflict"
    default_message = _l("That conflicts with what exists.")


class TooManyConnections(AppError):
    code = "too_many_connections"
    default_message = _l("Too many connections.")


class Internal(AppError):
    code = "internal"
