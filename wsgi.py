"""The server entry point, and the only module that knows about eventlet or gevent.

gunicorn -k eventlet -w 1 wsgi:app   (ASYNC_MODE=eventlet, the default)
gunicorn -k gevent   -w 1 wsgi:app   (ASYNC_MODE=gevent)

ASYNC_MODE must match the worker class. See docs/deploy.md.
"""

import os

ASYNC_MODE = os.environ.get("ASYNC_MODE", "eventlet")

# Patch the standard library before anything else imports it, and make psycopg2 cooperative:
# a blocking driver would stall every socket of the process while a query runs.
if ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()  # includes psycopg=True: psycopg2's wait callback yields to the hub
elif ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
    import psycogreen.gevent

    psycogreen.gevent.patch_psycopg()


def _require_green_postgres() -> None:
    """Refuse to start with a PostgreSQL driver that would block the whole process."""
    if ASYNC_MODE not in ("eventlet", "gevent"):
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
    socketio.run(app, host=app.config["HOST"], port=app.config["PORT"])
