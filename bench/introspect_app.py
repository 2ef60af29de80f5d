"""wsgi:app with the /_bench/ introspection routes, for bench/socket_memory.py only."""

from introspect import install

from wsgi import app

install(app)
