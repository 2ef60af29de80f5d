"""Health checks and the single-page app's files."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path, PurePosixPath

import redis
import sqlalchemy as sa
from flask import Blueprint, Flask, Response, abort, current_app, request, send_from_directory
from werkzeug.security import safe_join

from .cli import DEMO_PASSWORD, DEMO_USERS, demo_data_loaded
from .errors import error_response
from .extensions import db

bp = Blueprint("web", __name__)

# Vite names every file under assets/ by a hash of its content: a new build gets new names.
IMMUTABLE = "public, max-age=31536000, immutable"
# Preferred first; the build writes both next to each file (frontend/vite.config.js).
PRECOMPRESSED = (("br", ".br"), ("gzip", ".gz"))

NOT_BUILT = """<!doctype html><title>AssetFlow</title>
<p>The frontend is not built yet. Run <code>make run</code>, or <code>npm --prefix frontend run build</code>.</p>"""


@bp.get("/healthz")
def healthz():
    """The process is up; `demo` tells the login page whether the demo users exist, and then who they are."""
    if not demo_data_loaded():
        return {"status": "ok", "demo": False}
    # The login page names them from here, so seed-demo's list is the only one (issue 20).
    users = [{"username": username, "display_name": name, "role": role} for username, name, role, _ in DEMO_USERS]
    return {"status": "ok", "demo": True, "demo_users": users, "demo_password": DEMO_PASSWORD}


@bp.get("/readyz")
def readyz():
    """The database and, when configured, the message queue answer."""
    checks = {}
    try:
        db.session.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except sa.exc.SQLAlchemyError as error:
        checks["database"] = f"error: {type(error).__name__}"
    queue_url = current_app.config["SOCKETIO_MESSAGE_QUEUE"]
    if queue_url:
        try:
            redis.Redis.from_url(queue_url, socket_timeout=2, socket_connect_timeout=2).ping()
            checks["message_queue"] = "ok"
        except redis.RedisError as error:
            checks["message_queue"] = f"error: {type(error).__name__}"
    if any(value != "ok" for value in checks.values()):
        return error_response(503, "not_ready", "A dependency is unavailable", {"checks": checks})
    return {"status": "ok", "checks": checks}


@bp.get("/", defaults={"path": ""})
@bp.get("/<path:path>")
def spa(path: str):
    """Built files as they are; any other path is a client route, so index.html."""
    dist = current_app.config["FRONTEND_DIST"]
    # safe_join refuses traversal and absolute paths before the file system is asked anything,
    # so the answer for a path outside dist never depends on what exists there.
    file = safe_join(str(dist), path) if path else None
    if file is not None and os.path.isfile(file):
        return built_file(dist, path)
    if path and (file is None or _not_a_client_route(path)):
        abort(404)
    if not (dist / "index.html").is_file():
        return NOT_BUILT
    return built_file(dist, "index.html")


def built_file(dist: Path, path: str) -> Response:
    """A built file: hashed assets precompressed and cached for a year, the rest revalidated."""
    if not path.startswith("assets/"):
        # index.html names the current hashes, so the browser must ask for it every time.
        response = send_from_directory(dist, path)
        response.headers["Cache-Control"] = "no-cache"
        return response
    for encoding, suffix in PRECOMPRESSED:
        if request.accept_encodings[encoding] and (dist / f"{path}{suffix}").is_file():
            mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
            response = send_from_directory(dist, f"{path}{suffix}", mimetype=mimetype)
            response.headers["Content-Encoding"] = encoding
            break
    else:
        response = send_from_directory(dist, path)
    response.headers["Cache-Control"] = IMMUTABLE
    response.vary.add("Accept-Encoding")
    return response


def _not_a_client_route(path: str) -> bool:
    # Client routes have no file extension; a missing script or image is a 404, not the page.
    return path.startswith(("api/", "socket.io")) or bool(PurePosixPath(path).suffix)


def init_app(app: Flask) -> None:
    """Register the health checks and the SPA."""
    app.register_blueprint(bp)
