"""Canaries for realtime/compat.py: each checks one internal a hook relies on.

After an upgrade of python-engineio, python-socketio, Flask-SocketIO or gevent, the
failing test names the hook to re-check (and realtime/compat.py says why it
exists). Source text is read from the installed files, so a hook already
installed in this process does not hide a change underneath it.
"""
from __future__ import annotations

import inspect
from importlib import import_module
from importlib.metadata import version
from pathlib import Path

import pytest

from realtime import compat


def source(module: str) -> str:
    return Path(import_module(module).__file__).read_text()


def assert_in_source(module: str, *snippets: str) -> None:
    """Every snippet stands in ``module``'s source; the failure names the ones that do not."""
    src = source(module)
    missing = [snippet for snippet in snippets if snippet not in src]
    assert not missing, f"{module} no longer has: {missing}"


def params(fn) -> list[str]:
    return list(inspect.signature(fn).parameters)


@pytest.mark.parametrize("package", ["python-engineio", "python-socketio", "Flask-SocketIO",
                                     "simple-websocket", "eventlet", "gevent"])
def test_pinned_versions_are_the_ones_the_hooks_were_written_against(package):
    assert version(package) == compat.PINNED[package], (
        f"{package} is {version(package)}, realtime/compat.py was written against "
        f"{compat.PINNED[package]}: re-check every hook there, then update PINNED")


def test_engineio_socket_receive_is_called_per_packet_of_both_transports():
    """compat: Socket.receive wrapper (packet budget, packet types)."""
    assert_in_source("engineio.socket",
                     "    def receive(self, pkt):",
                     "for pkt in p.packets:\n                self.receive(pkt)",  # polling POST
                     "pkt = packet.Packet(encoded_packet=p)",  # websocket loop
                     "self.receive(pkt)\n            except exceptions.UnknownPacketError:",
                     "except exceptions.SocketIsClosedError:")  # ends the websocket loop


def test_engineio_post_errors_drop_the_session():
    """compat: a refusal in receive raises SocketIsClosedError; the POST is answered 400."""
    from engineio import exceptions

    assert issubclass(exceptions.SocketIsClosedError, exceptions.EngineIOError)
    assert_in_source("engineio.server",
                     "socket.handle_post_request(environ)",
                     "except exceptions.EngineIOError:\n                        if sid in self.sockets:")


def test_engineio_websocket_handler_reads_with_ws_wait():
    """compat: Socket._websocket_handler wrapper hands it a checked ws (wait -> None ends it)."""
    assert_in_source("engineio.socket",
                     "    def _websocket_handler(self, ws):",
                     "data = ws.wait()",
                     "if p is None:\n                # connection closed by client\n                break",
                     "self.upgrading = True")


def test_engineio_socket_close_and_state_attributes():
    """compat: TransportLimits.refuse closes with close(wait=False, abort=False, reason=...)."""
    from engineio.socket import Socket

    assert params(Socket.close) == ["self", "wait", "abort", "reason"]
    init = source("engineio.base_socket")
    for attr in ("self.upgrading", "self.closing", "self.closed", "self.sid", "self.server"):
        assert f"{attr} = " in init, attr
    import engineio

    assert hasattr(engineio.Server.reason, "SERVER_DISCONNECT")


def test_engineio_handlers_are_a_dict_by_event_name():
    """compat.install chains eio.handlers['connect'/'message'/'disconnect']."""
    src = source("engineio.base_server")
    assert "self.handlers = {}" in src
    assert "self.handlers[event] = handler" in src
    assert "ret = self._trigger_event('connect', sid, environ, run_async=False)" in source(
        "engineio.server")


def test_socketio_registers_its_engineio_handlers_at_init():
    """compat.install wraps the handlers python-socketio registered (BaseServer.__init__)."""
    src = source("socketio.base_server")
    for event in ("connect", "message", "disconnect"):
        assert f"self.eio.on('{event}', self._handle_eio_{event})" in src, event
    assert "engineio_options['async_handlers'] = False" in src


def test_socketio_handle_event_and_async_handlers():
    """compat._bound_handlers: _handle_event(eio_sid, namespace, id, data), inline when
    async_handlers is False, called as self._handle_event from _handle_eio_message."""
    import socketio

    assert params(socketio.Server._handle_event) == ["self", "eio_sid", "namespace", "id", "data"]
    src = source("socketio.server")
    assert "self._handle_event(eio_sid, pkt.namespace, pkt.id, pkt.data)" in src
    assert ("        if self.async_handlers:\n            self.start_background_task("
            "self._handle_event_internal") in src
    assert "self._handle_event_internal(self, sid, eio_sid, data, namespace,\n" in src


def test_socketio_namespaces_option_and_connect_refusal():
    """app.py passes namespaces=...; compat.TransportLimits.accepts mirrors this test."""
    src = source("socketio.server")
    assert ("if namespace in self.handlers or namespace in self.namespace_handlers \\\n"
            "                or self.namespaces == '*' or namespace in self.namespaces:") in src
    assert "data='Unable to connect'" in src
    assert "self.namespaces = namespaces or ['/']" in source("socketio.base_server")


def test_socketio_send_packet_reaches_a_session_without_a_namespace():
    """compat.refuse_namespace: Server._send_packet(eio_sid, pkt) encodes and sends."""
    import socketio

    assert params(socketio.Server._send_packet) == ["self", "eio_sid", "pkt"]
    assert "encoded_packet = pkt.encode()" in source("socketio.server")


def test_socketio_binary_packets_and_decoding():
    """compat: on_eio_message refuses types 5/6 (binary) and anything that raises."""
    from socketio import packet

    assert (packet.BINARY_EVENT, packet.BINARY_ACK, packet.CONNECT) == (5, 6, 0)
    src = source("socketio.server")
    assert "self._binary_packet[eio_sid] = pkt" in src
    assert "raise ValueError('Unknown packet type.')" in src
    p = packet.Packet(encoded_packet="0/chat,{}")
    assert p.namespace == "/chat"


def test_socketio_manager_and_environ():
    """compat: sid_from_eio_sid (admitted?), server.environ (the client address)."""
    import socketio

    assert params(socketio.Manager.sid_from_eio_sid) == ["self", "eio_sid", "namespace"]
    assert "self.environ[eio_sid] = environ" in source("socketio.server")


def test_flask_socketio_passes_server_options_through():
    """app.py: namespaces= and async_handlers= reach socketio.Server via init_app."""
    assert_in_source("flask_socketio",
                     "self.server = socketio.Server(**self.server_options)",
                     "self.server_options.update(kwargs)")


def test_simple_websocket_reader_buffers_in_handle_events():
    """compat._install_simple_websocket_hook: the reader's loop assigns
    _handle_events' result to self.connected and appends to input_buffer."""
    assert_in_source("simple_websocket.ws",
                     "self.connected = self._handle_events()",
                     "in_data = self.sock.recv(self.receive_bytes)",
                     "self.input_buffer.append(self.incoming_message)",
                     "    def _handle_events(self):")


def test_socketio_handle_event_internal_sees_the_ack_id():
    """compat.around_each_event (realtime/namespace.py's ack tracking and reserved
    names): _handle_event_internal(server, sid, eio_sid, data, namespace, id)."""
    import socketio

    assert params(socketio.Server._handle_event_internal) == [
        "self", "server", "sid", "eio_sid", "data", "namespace", "id"]
    src = source("socketio.server")
    assert "            self._handle_event_internal(self, sid, eio_sid, data, namespace,\n" in src
    # data[0] is the event name (the reserved-name rename relies on it); an ack
    # is sent when there is an id.
    assert "r = server._trigger_event(data[0], namespace, sid, *data[1:])" in src
    assert "if r != self.not_handled and id is not None:" in src


def test_engineio_get_socket_and_sockets_dict():
    """compat.close_session_now, open_session_count, session_drained: Server.sockets
    (sid -> Socket), _get_socket(sid) raising KeyError, Socket.queue."""
    import engineio

    assert params(engineio.Server._get_socket) == ["self", "sid"]
    base = source("engineio.base_server")
    assert "        self.sockets = {}" in base
    assert "            raise KeyError('Session not found')" in base
    assert "self.queue = self.server.create_queue()" in source("engineio.base_socket")
    assert "self.queue.put(pkt)" in source("engineio.socket")  # what a send queues


def test_socketio_manager_pre_connect_and_participants():
    """compat.hold_broadcasts_until_admitted: pre_connect(eio_sid, namespace) lists the
    sid in pending_connect[namespace]; get_participants(namespace, room) yields
    (sid, eio_sid)."""
    from socketio.base_manager import BaseManager

    assert params(BaseManager.pre_connect) == ["self", "eio_sid", "namespace"]
    assert params(BaseManager.get_participants) == ["self", "namespace", "room"]
    assert_in_source("socketio.base_manager",
                     "self.pending_connect = {}",
                     "self.pending_connect[namespace].append(sid)",
                     "yield from participants.items()")


def test_socketio_admin_instrumentation_hooks():
    """compat.admin_ui_instrumentation, take_plain_handler and
    list_class_namespaces_for_admin_ui (blueprints/admin/socketio_ui.py)."""
    from socketio.admin import InstrumentedServer

    assert params(InstrumentedServer.serialize_socket) == ["self", "sid", "namespace", "eio_sid"]
    admin = source("socketio.admin")
    assert "self.sio.on('connect', self.admin_connect,\n" in admin
    assert "namespaces = list(self.sio.handlers.keys())" in admin  # server_stats
    assert "self.serialize_socket(" in admin
    base = source("socketio.base_server")
    assert "self.handlers[namespace][event] = handler" in base
    # A plain handler of an event wins over the namespace class.
    assert "        if namespace in self.handlers:\n            if event in self.handlers[namespace]:" in base


def test_gevent_input_discards_the_unread_body_by_position():
    """compat.gevent_skip_unread_body (serving.py's gevent handler):
    pywsgi.Input reads and discards the body while position < content_length."""
    from gevent.pywsgi import Input, WSGIHandler

    src = source("gevent.pywsgi")
    assert "        if self.position < (self.content_length or 0) or self.chunked_input:" in src
    assert "self.wsgi_input = Input(self.rfile, self.content_length" in src
    assert "self.position = 0" in src
    assert params(Input.__init__)[:3] == ["self", "rfile", "content_length"]
    assert hasattr(WSGIHandler, "wsgi_input") and hasattr(WSGIHandler, "close_connection")


def test_packet_budget_allows_a_burst_then_the_rate():
    """The token buckets: 50/second lets 50 through at once, not the 51st."""
    budget = compat.PacketBudget(compat.PacketBudget.rates("50/second"))
    assert sum(budget.spend() for _ in range(51)) == 50
    both = compat.PacketBudget(compat.PacketBudget.rates("100/minute;5/second"))
    assert sum(both.spend() for _ in range(10)) == 5

