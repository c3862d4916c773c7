"""Health, readiness and metrics for load balancers and Prometheus."""
from __future__ import annotations

from flask import Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from blueprints.ops import bp
from extensions import db, limiter


@bp.get("/healthz")
@limiter.exempt
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
def readyz():
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; say which
        checks["database"] = f"error: {type(exc).__name__}"
    queue = current_app.extensions["switchboard.settings"].MESSAGE_QUEUE
    if queue:
        try:
            import redis

            redis.Redis.from_url(queue, socket_timeout=1).ping()
            checks["message_queue"] = "ok"
        except Exception as exc:
            checks["message_queue"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


@bp.get("/metrics")
@limiter.exempt
def metrics():
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)
