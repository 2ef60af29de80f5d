"""The server entry point, and the only module that knows about eventlet or gevent.

    gunicorn -c gunicorn.conf.py wsgi:app                  (ASYNC_MODE=eventlet, the default)
    ASYNC_MODE=gevent gunicorn -c gunicorn.conf.py wsgi:app

gunicorn.conf.py picks the worker class from ASYNC_MODE, so the two always match
(docs/deploy.md). gunicorn's eventlet and gevent workers monkey-patch the standard library before
they import this module (so never run them with --preload); `python wsgi.py` patches here. The
flask CLI (`flask --app wsgi db upgrade`) imports this module unpatched, as a plain blocking program.
"""

import os
import sys

ASYNC_MODE = os.environ.get("ASYNC_MODE", "eventlet")

if __name__ == "__main__":
    if ASYNC_MODE == "eventlet":
        import eventlet

        eventlet.monkey_patch()  # Includes psycopg2: eventlet makes it cooperative.
    elif ASYNC_MODE == "gevent":
        from gevent import monkey

        monkey.patch_all()

if ASYNC_MODE == "gevent":
    # gevent does not patch psycopg2 by itself; without this a query blocks every socket.
    import psycogreen.gevent

    psycogreen.gevent.patch_psycopg()


def _green() -> bool:
    """True when this process runs on green threads (a gunicorn worker, or `python wsgi.py`)."""
    if ASYNC_MODE not in sys.modules:  # the worker imports its library before this module
        return False
    if ASYNC_MODE == "eventlet":
        from eventlet import patcher

        return patcher.is_monkey_patched("socket")
    if ASYNC_MODE == "gevent":
        from gevent import monkey

        return monkey.is_module_patched("socket")
    return False


def _require_green_postgres() -> None:
    """Refuse to serve with a PostgreSQL driver that would block every socket during a query."""
    if not _green():
        return
    try:
        import psycopg2.extensions
    except ImportError:  # no PostgreSQL driver: SQLite only
        return
    if psycopg2.extensions.get_wait_callback() is None:
        raise RuntimeError(f"psycopg2 is not cooperative under {ASYNC_MODE}; queries would stall every socket")


_require_green_postgres()

from assetflow import create_app
from assetflow.extensions import socketio

app = create_app()

if __name__ == "__main__":
    from assetflow import tasks

    tasks.start(app)  # gunicorn.conf.py's post_worker_init does this for gunicorn workers
    socketio.run(app, host=app.config["HOST"], port=app.config["PORT"])
