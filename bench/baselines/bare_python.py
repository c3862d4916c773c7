"""Baseline: a bare python-socketio server on eventlet doing Switchboard's broadcast.

No Flask, no auth, no validation, no storage: what is left is the cost of
python-socketio + python-engineio + eventlet themselves, so the ratio of
Switchboard to this server is the price of everything Switchboard adds.

Same namespace (/chat), event names and ack shapes as Switchboard
(PROTOCOL.md section 4), so the one load generator drives every server:
    room:create {name, kind}             -> {ok, room}
    room:join   {room}                   -> {ok, room, online: []}
    message:send {room, text, client_id} -> {ok, message}; ``message`` to the room
The broadcast payload has Switchboard's Message shape (same frame size).

Served like ``serving.py`` serves Switchboard, so the comparison is fair:
TCP_NODELAY on the listening socket (Linux passes it to accepted sockets),
a greenlet pool sized for the idle-connection scenario, a 2048 backlog, no
SO_REUSEPORT. GET /healthz answers 200 for the harness's readiness check.

Usage: python bench/baselines/bare_python.py --port 5002 [--host 127.0.0.1]
"""
from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import itertools  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import eventlet.wsgi  # noqa: E402
import socketio  # noqa: E402

NAMESPACE = "/chat"
AUTHOR = {"id": 0, "username": "anonymous"}

sio = socketio.Server(async_mode="eventlet", cors_allowed_origins="*", logger=False,
                      engineio_logger=False)
_room_ids = itertools.count(1)
_message_ids = itertools.count(1)
_last_seq: dict[int, int] = {}


def _room_view(room_id, name=None) -> dict:
    return {"id": room_id, "name": name or f"room {room_id}", "kind": "public",
            "last_seq": _last_seq.get(room_id, 0), "unread": 0}


@sio.on("connect", namespace=NAMESPACE)
def connect(sid, environ, auth=None):
    return True  # no authentication: that is the point of the baseline


@sio.on("room:create", namespace=NAMESPACE)
def room_create(sid, data):
    room_id = next(_room_ids)
    _last_seq[room_id] = 0
    sio.enter_room(sid, f"room:{room_id}", namespace=NAMESPACE)
    return {"ok": True, "room": _room_view(room_id, (data or {}).get("name"))}


@sio.on("room:join", namespace=NAMESPACE)
def room_join(sid, data):
    room_id = (data or {}).get("room")
    sio.enter_room(sid, f"room:{room_id}", namespace=NAMESPACE)
    return {"ok": True, "room": _room_view(room_id), "online": []}


@sio.on("message:send", namespace=NAMESPACE)
def message_send(sid, data):
    room_id = data.get("room")
    seq = _last_seq.get(room_id, 0) + 1
    _last_seq[room_id] = seq
    message = {
        "id": next(_message_ids),
        "room": room_id,
        "seq": seq,
        "rev": seq,
        "author": AUTHOR,
        "text": data.get("text"),
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "client_id": data.get("client_id"),
        "edited_ts": None,
        "deleted": False,
    }
    # Broadcast first, then ack (the return value): the order Switchboard uses.
    sio.emit("message", message, to=f"room:{room_id}", namespace=NAMESPACE)
    return {"ok": True, "message": message}


def health(environ, start_response):
    if environ.get("PATH_INFO") == "/healthz":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"status":"ok"}']
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5002)
    parser.add_argument("--max-connections", type=int, default=20000)
    args = parser.parse_args()

    sock = eventlet.listen((args.host, args.port), backlog=2048, reuse_port=False)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    print(f"bare_python: python-socketio {socketio.__version__ if hasattr(socketio, '__version__') else ''}"
          f" on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    app = socketio.WSGIApp(sio, health)
    eventlet.wsgi.server(sock, app, log_output=False, debug=False,
                         max_size=args.max_connections + 100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
