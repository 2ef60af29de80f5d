"""Prometheus metrics, exposed at /metrics."""

from flask import Flask, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

SOCKETS_CONNECTED = Gauge("assetflow_sockets_connected", "Socket.IO connections held by this process")
SOCKET_EVENTS_DROPPED = Counter("assetflow_socket_events_dropped_total",
                                "Packets from clients dropped for going over their socket's event budget")
SOCKET_CONNECTS_PACED = Counter("assetflow_socket_connects_paced_total",
                                "Socket connects refused with a time to come back (a reconnect burst)")
QUEUE_EMITS_NOT_HERE = Counter("assetflow_queue_emits_not_here_total",
                               "Emits from the message queue to rooms without a socket in this process, dropped "
                               "before they were encoded", ["event"])
SOCKETS_CUT_OFF = Counter("assetflow_sockets_cut_off_total", "Sockets disconnected for flooding events")
EVENTS_EMITTED = Counter("assetflow_events_emitted_total", "Socket.IO events emitted", ["event"])
DECISIONS = Counter("assetflow_decisions_total", "Workflow actions committed", ["outcome"])
COMMIT_TO_EMIT = Histogram(
    "assetflow_commit_to_emit_seconds",
    "Time from a transaction's commit to its events being handed to Socket.IO",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)


def init_app(app: Flask) -> None:
    """Serve the metrics of this process."""
    app.add_url_rule(
        "/metrics", "metrics", lambda: Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
    )
