"""REQUEST_CONCURRENCY: at most that many API requests at once per process; the rest wait, then 503."""

from __future__ import annotations

import threading

from flask import Response

from .conftest import build_app

WAIT = 5


def _app_with_a_held_route(limit: int, patience: float = 0.3):
    """An app whose /api/_held answers only when `release` is set; `entered` is set once it is inside."""
    app = build_app(REQUEST_CONCURRENCY=limit, DATABASE_POOL_TIMEOUT=patience)
    entered, release = threading.Event(), threading.Event()

    def held():
        entered.set()
        release.wait(WAIT)
        return {"ok": True}

    def streamed():
        def body():
            yield "a,b\n"
            release.wait(WAIT)  # the download is still going on
            yield "1,2\n"
        return Response(body(), mimetype="text/csv")

    def failing():
        raise RuntimeError("boom")

    app.add_url_rule("/api/_held", view_func=held)
    app.add_url_rule("/api/_streamed", view_func=streamed)
    app.add_url_rule("/api/_failing", view_func=failing)
    return app, entered, release


def _in_background(app, path: str) -> tuple[threading.Thread, list]:
    answers: list = []
    thread = threading.Thread(target=lambda: answers.append(app.test_client().get(path)))
    thread.start()
    return thread, answers


def test_a_request_past_the_limit_waits_its_turn_then_is_refused_with_503():
    app, entered, release = _app_with_a_held_route(limit=1)
    thread, answers = _in_background(app, "/api/_held")
    assert entered.wait(WAIT)
    refused = app.test_client().get("/api/meta")
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    assert refused.get_json()["error"]["code"] == "unavailable"
    assert app.test_client().get("/healthz").status_code == 200  # not an API request: never waits
    release.set()
    thread.join(WAIT)
    assert answers[0].status_code == 200
    assert app.test_client().get("/api/meta").status_code == 200  # the slot came back


def test_a_waiting_request_goes_in_when_a_slot_frees():
    app, entered, release = _app_with_a_held_route(limit=1, patience=WAIT)
    first, first_answers = _in_background(app, "/api/_held")
    assert entered.wait(WAIT)
    second, second_answers = _in_background(app, "/api/meta")
    second.join(0.3)
    assert second.is_alive()  # waiting for the slot, not refused
    release.set()
    first.join(WAIT)
    second.join(WAIT)
    assert [first_answers[0].status_code, second_answers[0].status_code] == [200, 200]


def test_a_streamed_download_gives_its_slot_back_before_its_body():
    app, _, release = _app_with_a_held_route(limit=1)
    download = app.test_client().get("/api/_streamed", buffered=False)
    chunks = download.iter_encoded()
    assert next(chunks) == b"a,b\n"
    assert app.test_client().get("/api/meta").status_code == 200
    release.set()
    assert b"".join(chunks) == b"1,2\n"
    download.close()


def test_a_view_that_fails_gives_its_slot_back():
    app, _, _ = _app_with_a_held_route(limit=1)
    assert app.test_client().get("/api/_failing").status_code == 500
    assert app.test_client().get("/api/meta").status_code == 200


def test_zero_lets_every_request_in():
    app, entered, release = _app_with_a_held_route(limit=0)
    thread, _ = _in_background(app, "/api/_held")
    assert entered.wait(WAIT)
    assert app.test_client().get("/api/meta").status_code == 200
    release.set()
    thread.join(WAIT)
