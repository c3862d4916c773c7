"""Prometheus metrics every namespace reports through the event wrapper."""
from prometheus_client import Counter, Gauge, Histogram

CONNECTIONS = Gauge(
    "switchboard_connections", "Open Socket.IO connections", ["namespace", "transport"]
)
EVENTS = Counter("switchboard_events_total", "Client events handled", ["event"])
ERRORS = Counter("switchboard_errors_total", "Error replies sent", ["code"])
LATENCY = Histogram(
    "switchboard_event_seconds",
    "Time from receiving an event to its ack",
    ["event"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
MESSAGES_STORED = Counter("switchboard_messages_stored_total", "Chat messages stored")
RATE_LIMITED = Counter("switchboard_rate_limited_total", "Rate-limit refusals", ["rule"])
