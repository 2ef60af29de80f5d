"""The server entry point, and the only module that knows about eventlet or gevent.

    gunicorn -k eventlet -w 1 wsgi:app   (ASYNC_MODE=eventlet, the default)
    gunicorn -k gevent   -w 1 wsgi:app   (ASYNC_MODE=gevent)

gunicorn's eventlet and gevent workers monkey-patch the standard library before they import
this module (so never run them with --preload); `python wsgi.py` patches here. The flask CLI
(`flask --app wsgi db upgrade`) imports this module unpatched, as a plain blocking program.
"""

import os

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

from assetflow import create_app
from assetflow.extensions import socketio

app = create_app()

if __name__ == "__main__":
    socketio.run(app, host=app.config["HOST"], port=app.config["PORT"])
