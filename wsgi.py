"""The server entry point, and the only module that knows about eventlet or gevent.

gunicorn -k eventlet -w 1 wsgi:app   (ASYNC_MODE=eventlet, the default)
gunicorn -k gevent   -w 1 wsgi:app   (ASYNC_MODE=gevent)
"""

import os

ASYNC_MODE = os.environ.get("ASYNC_MODE", "eventlet")

# Patch the standard library before anything else imports it, and make psycopg2 cooperative:
# a blocking driver would stall every socket of the process while a query runs.
if ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
elif ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()
    import psycogreen.gevent

    psycogreen.gevent.patch_psycopg()

from assetflow import create_app
from assetflow.extensions import socketio

app = create_app()

if __name__ == "__main__":
    socketio.run(app, host=app.config["HOST"], port=app.config["PORT"])
