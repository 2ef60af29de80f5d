"""gunicorn settings for every deployment: `make run`, the tests' live servers and docs/deploy.md.

    gunicorn -c gunicorn.conf.py wsgi:app

The worker class follows ASYNC_MODE (eventlet by default, gevent one setting away), so the two
can never disagree. Command-line flags (-b, -w, ...) still override what is set here.
"""

import gc
import os
import resource
import signal

from config import config_from_env

_config = config_from_env()
ASYNC_MODE = _config.ASYNC_MODE
WORKERS = {"eventlet": "eventlet", "gevent": "gevent", "threading": "gthread"}
if ASYNC_MODE not in WORKERS:
    raise RuntimeError(f"ASYNC_MODE must be one of {', '.join(WORKERS)}, not {ASYNC_MODE!r}")

bind = [f"{_config.HOST}:{_config.PORT}"]
worker_class = WORKERS[ASYNC_MODE]
if ASYNC_MODE == "gevent":
    # gevent reads this in the worker, after this file has run: without it every greenlet keeps a record of
    # where it was spawned (its stack, its spawner, tree locals), which only gevent.util's debug
    # tree reads. 3-5 KiB less per socket (docs/benchmarks.md). GEVENT_TRACK_GREENLET_TREE=1 keeps them.
    os.environ.setdefault("GEVENT_TRACK_GREENLET_TREE", "0")
# Every open socket holds one of the worker's connections, and at the cap the worker stops
# accepting anything, /healthz included (gunicorn's default is 1000). 12,000 is 10,000 sockets
# plus room for the HTTP requests that come with them.
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", 12000))
threads = 64 if ASYNC_MODE == "threading" else 1
# WebSockets never end by themselves: do not wait gunicorn's default 30 s for them at a restart.
# A SIGTERM'd worker tells its sockets to reconnect elsewhere at once (on_sigterm below) and exits
# as soon as they are gone, well within this; clients get what they missed by replay.
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", 5))
# The sockets' own Engine.IO heartbeats detect dead peers; gunicorn's keep-alive is for HTTP. A stopping
# worker waits for its idle keep-alive connections to time out, so short: a long-polling client polls
# again at once anyway, and behind nginx (deploy/nginx.conf) every request has a connection of its own.
keepalive = 2
# gunicorn 25.1's control socket (gunicornc) lives at one path per user, $XDG_RUNTIME_DIR/gunicorn.ctl,
# so the N processes of a deployment would take it from each other, and stopping it costs every stop up
# to 2 s. AssetFlow is managed by signals (deploy/, docs/deploy.md): off.
control_socket_disable = True
backlog = 4096  # bursts of reconnects after a restart; the kernel caps it at net.core.somaxconn
# One line per request at 10,000 sockets is noise; errors still go to stderr.
accesslog = os.environ.get("ACCESS_LOG") or None

# CPython's cyclic GC, tuned in each worker (0: as CPython sets it; bench/tail_latency.py compares the two).
GC_TUNING = os.environ.get("GC_TUNING", "1") != "0"
# Objects allocated (net) between two collections of the youngest generation; CPython's default is 700.
GC_YOUNG_THRESHOLD = 10_000

# A socket, a database connection, a log file: each needs a file descriptor.
FDS_PER_WORKER = worker_connections + 256


def on_starting(server):
    """Raise the open-file limit toward what the worker needs, and warn when it cannot."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = FDS_PER_WORKER if hard == resource.RLIM_INFINITY else min(FDS_PER_WORKER, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    if soft != resource.RLIM_INFINITY and soft < FDS_PER_WORKER:
        server.log.warning(
            "ulimit -n is %s but worker_connections=%s needs %s open files: this process will "
            "hold fewer sockets than configured. Raise the limit (ulimit -n, systemd LimitNOFILE) "
            "or lower WORKER_CONNECTIONS.", soft, worker_connections, FDS_PER_WORKER)


def post_worker_init(worker):
    """Tune the GC, then start the worker's background work (socket sweep, timers, outbox): servers
    only, never a CLI command.

    The background work is AssetFlow's app only: the benchmarks serve their bare Flask-SocketIO app
    with this file too (and its worker gets the same GC).
    """
    if GC_TUNING:
        tune_gc()
    if getattr(worker.wsgi, "import_name", None) != "assetflow":
        return
    from assetflow import tasks

    tasks.start(worker.wsgi)
    signal.signal(signal.SIGTERM, lambda signum, frame: on_sigterm(worker))


def on_sigterm(worker):
    """A graceful stop (assetflow/realtime/drain.py): refuse new work and tell every socket to reconnect
    elsewhere at once, instead of holding them until the graceful timeout cuts them off; a moment later,
    what gunicorn's own handler does at once (leave the serving loop: close the listening socket, finish
    the requests in flight, exit)."""
    from assetflow.realtime import drain

    def leave():
        worker.alive = False

    drain.start(worker.wsgi, then=leave)


def tune_gc():
    """Keep the cyclic GC from stalling a worker that holds thousands of sockets.

    Every 700 allocations CPython collects its youngest objects and promotes the survivors; under green
    threads every request in flight survives, so requests' short-lived objects reach the oldest generation
    and soon trigger a full collection, which walks every object of every open socket with the whole
    process stopped (561 ms at 5,000 sockets; docs/benchmarks.md, bench/tail_latency.py). A larger young
    generation lets those objects die young; the app as loaded lives as long as the process, so it is
    frozen out of every later collection.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
