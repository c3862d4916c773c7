"""Error codes of the wire contract (PROTOCOL section 3).

Plain Python: services raise these without knowing about Socket.IO, and the
event wrapper turns them into the ``{"ok": false, "error": {...}}`` envelope.
"""
from __future__ import annotations


class AppError(Exception):
    code = "internal"
    default_message = "Something went wrong on the server."

    def __init__(self, message: str | None = None, **extra):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.extra = extra

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, **self.extra}


class BadRequest(AppError):
    code = "bad_request"
    default_message = "The request is not valid."


class Unauthorized(AppError):
    code = "unauthorized"
    default_message = "Log in first."


class Forbidden(AppError):
    code = "forbidden"
    default_message = "You are not allowed to do that."


class NotFound(AppError):
    code = "not_found"
    default_message = "No such thing."


class RateLimited(AppError):
    code = "rate_limited"
    default_message = "Too many requests; slow down."


class TooLarge(AppError):
    code = "too_large"
    default_message = "Too large."


class Conflict(AppError):
    code = "conflict"
    default_message = "That conflicts with what exists."


class TooManyConnections(AppError):
    code = "too_many_connections"
    default_message = "Too many connections."


class Internal(AppError):
    code = "internal"
