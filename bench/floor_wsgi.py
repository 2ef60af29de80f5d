"""bench/decision_floor.py's floor app as a server, for bench/capacity.py: the least an approve can do, live.

    ASYNC_MODE=eventlet DATABASE_URL=... JWT_SECRET_KEY=... gunicorn -k eventlet --pythonpath bench floor_wsgi:app

Its approve (the same route as AssetFlow's) pushes `approval_update` to the applicant's room; a socket that
connects with a valid token joins its user's room. Served with the same gunicorn.conf.py as AssetFlow.
"""

from __future__ import annotations

import os

from decision_floor import floor_app

from config import database_url

if os.environ["ASYNC_MODE"] == "gevent":  # as wsgi.py does: gevent leaves psycopg2 blocking by itself
    import psycogreen.gevent

    psycogreen.gevent.patch_psycopg()

app = floor_app(database_url(os.environ["DATABASE_URL"]), os.environ["JWT_SECRET_KEY"], os.environ["ASYNC_MODE"])
