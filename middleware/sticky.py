"""Sticky-session cookie for several processes behind nginx.

Long-polling sends every request of a session separately, and all of them
must reach the process holding that session. With NODE_NAME set, every
response carries ``sbnode=<NODE_NAME>`` when the request did not already,
and nginx routes on it (deploy/nginx/switchboard.conf.in).
"""
from __future__ import annotations

from http.cookies import SimpleCookie


class StickyNodeCookie:
    def __init__(self, app, node_name: str, secure: bool) -> None:
        self.app = app
        self.node = node_name
        self.cookie = f"sbnode={node_name}; Path=/; HttpOnly; SameSite=Lax" + (
            "; Secure" if secure else "")

    def __call__(self, environ, start_response):
        jar = SimpleCookie()
        try:
            jar.load(environ.get("HTTP_COOKIE", ""))
        except Exception:  # a malformed Cookie header is the client's problem
            pass
        if "sbnode" in jar and jar["sbnode"].value == self.node:
            return self.app(environ, start_response)

        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, ("Set-Cookie", self.cookie)], exc_info)

        return self.app(environ, start)
