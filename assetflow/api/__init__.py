"""The HTTP API: thin blueprints that parse, call one service, and serialise."""

from flask import Flask
from flask_smorest import Api

from ..errors import http_error


class JsonErrorApi(Api):
    """flask-smorest, with its errors in our one JSON error shape."""

    def handle_http_exception(self, error):
        return http_error(error)


api = JsonErrorApi()


def init_app(app: Flask) -> None:
    """Register the API blueprints and the OpenAPI document."""
    from . import assets, auth, meta, notifications, requests, users

    api.init_app(app)
    for module in (auth, users, assets, requests, notifications, meta):
        api.register_blueprint(module.blp)
