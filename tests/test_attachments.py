"""Attachments: real files up and back, types read from the content, the limits, who sees and who deletes, a
submit with files in one transaction, and rules that require a file. The storage cases run on SQLite and
PostgreSQL (the bytes are in the database: bytea there)."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from assetflow import create_app
from assetflow.extensions import db
from assetflow.models import Attachment, AttachmentContent, Request, RequestEvent
from assetflow.services import filetypes
from config import TestingConfig

from .actions import approve, assert_refused, count, detail, submit
from .conftest import Auth
from .factories import make_asset, make_user, set_rules

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PDF = (FIXTURES / "quote.pdf").read_bytes()
PNG = (FIXTURES / "photo.png").read_bytes()
ELF = Path("/bin/true").read_bytes()  # an executable, as any Debian machine has one
APPROVER = {"decider": "role", "role": "approver", "scope": "company"}


def upload(client, person, request_id: int, *files: tuple[str, bytes], expect: int = 201,
           code: str | None = None) -> dict:
    """POST files (name, bytes) as parts named `file`; the JSON answer after checking the status."""
    data = {"file": [(io.BytesIO(content), name) for name, content in files]}
    response = client.post(f"/api/requests/{request_id}/attachments", headers=person.headers, data=data,
                           content_type="multipart/form-data")
    body = response.get_json()
    assert response.status_code == expect, body
    if code:
        assert body["error"]["code"] == code, body
    return body


def submit_with_files(client, person, body: dict, *files: tuple[str, bytes]):
    """POST /api/requests as multipart: the JSON in `data`, the files in `file`."""
    import json

    data = {"data": json.dumps(body), "file": [(io.BytesIO(content), name) for name, content in files]}
    return client.post("/api/requests", headers=person.headers, data=data, content_type="multipart/form-data")


def ooxml(main: str, part: str) -> bytes:
    """A minimal Office Open XML package whose [Content_Types].xml names `main` for the part `part`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/{part}" ContentType="{main}"/></Types>'))
        archive.writestr(part, "<document/>")
    return out.getvalue()


DOCX = ooxml("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml", "word/document.xml")
XLSX = ooxml("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", "xl/workbook.xml")
XLSM = ooxml("application/vnd.ms-excel.sheet.macroEnabled.main+xml", "xl/workbook.xml")


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("notes.txt", "hello")
    return out.getvalue()


@pytest.fixture
def open_request(client, people) -> int:
    """Alice's pending assign request, decided by an approver (Bob or Carol)."""
    return submit(client, people["alice"])["id"]


def test_a_real_pdf_and_png_come_back_byte_for_byte(shared_app):
    """On SQLite and PostgreSQL: what is uploaded is what is served, with its type read from the content."""
    client = shared_app.test_client()
    auth = Auth(client)
    alice, bob = auth.person(make_user("employee")), auth.person(make_user("approver"))
    request_id = submit(client, alice)["id"]
    stored = upload(client, alice, request_id, ("quote.pdf", PDF), ("photo.png", PNG))["items"]
    assert [(a["filename"], a["content_type"], a["size"]) for a in stored] == [
        ("quote.pdf", "application/pdf", len(PDF)), ("photo.png", "image/png", len(PNG))]
    assert stored[0]["uploader"] == {"id": alice.id, "display_name": alice.user.display_name}
    for row, original in zip(stored, (PDF, PNG), strict=True):
        response = client.get(f"/api/attachments/{row['id']}/content", headers=bob.headers)
        assert response.status_code == 200
        assert response.data == original
        assert row["sha256"] == hashlib.sha256(original).hexdigest() == response.headers["ETag"].strip('"')
    listed = client.get(f"/api/requests/{request_id}/attachments", headers=bob.headers).get_json()["items"]
    assert [a["id"] for a in listed] == [a["id"] for a in stored]
    assert detail(client, bob, request_id)["attachments_count"] == 2
    # Another process on the same database (another app, its own engine and no shared disk) serves them too.
    other = create_app(type("Other", (TestingConfig,), {
        "SQLALCHEMY_DATABASE_URI": shared_app.config["SQLALCHEMY_DATABASE_URI"]}))
    with other.app_context():
        served = [other.test_client().get(f"/api/attachments/{row['id']}/content", headers=bob.headers).data
                  for row in stored]
        db.session.remove()
        db.engine.dispose()
    assert served == [PDF, PNG]


def test_an_executable_named_pdf_is_refused_and_nothing_is_stored(client, people, open_request):
    error = assert_refused(client.post(
        f"/api/requests/{open_request}/attachments", headers=people["alice"].headers,
        data={"file": [(io.BytesIO(ELF), "invoice.pdf")]}, content_type="multipart/form-data"),
        415, "unsupported_media_type")
    assert "invoice.pdf" in error["message"]
    assert error["details"]["files"] == [{"filename": "invoice.pdf", "reason": "type", "message": error["message"]}]
    assert count(Attachment) == count(AttachmentContent) == 0


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("spec.docx", DOCX, filetypes.DOCX.mime),
    ("budget.xlsx", XLSX, filetypes.XLSX.mime),
    ("costs.csv", "item,price\nLaptop,1200.00\nÉcran,300\n".encode(), "text/csv"),
    ("notes.txt", b"Deliver to floor 3.\r\n\tThanks", "text/plain"),
    ("scan.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64,
     "image/jpeg"),
    ("scan.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + b"\x00" * 24, "image/webp"),
])
def test_each_accepted_type_is_read_from_the_content(client, people, open_request, name, content, expected):
    [row] = upload(client, people["alice"], open_request, (name, content))["items"]
    assert (row["filename"], row["content_type"]) == (name, expected)


@pytest.mark.parametrize(("name", "content"), [
    ("archive.zip", plain_zip()),  # a ZIP that is no Office package
    ("macros.xlsx", XLSM),  # a macro-enabled workbook names another main part
    ("binary.txt", b"abc\x00def"),  # NUL: not text
    ("escape.txt", b"colour \x1b[31mred"),  # a control character
    ("latin1.csv", "café".encode("latin-1")),  # not UTF-8
    ("page.ps", b"%!PS-Adobe-3.0\n%%Title: x\n"),  # text-like, but libmagic knows it is PostScript
    ("program.exe", ELF),
])
def test_other_content_is_refused_with_415_naming_the_file(client, people, open_request, name, content):
    error = upload(client, people["alice"], open_request, (name, content), expect=415,
                   code="unsupported_media_type")["error"]
    assert name in error["message"] and error["details"]["files"][0]["filename"] == name


def test_names_are_cleaned_and_fit_the_content(client, people, open_request):
    sent = [("../../etc/passwd.txt", b"root"), ("run.bat", b"echo hi"),
            ("quote\u202efdp.exe", PDF), ("a<b>:c|?*.csv", b"a,b"), ("\x07.hidden.png", PNG), ("", b"x")]
    rows = upload(client, people["alice"], open_request, *sent)["items"]
    # No folders, controls or invisible overrides; a type's extension added when the name has another.
    assert [r["filename"] for r in rows] == ["passwd.txt", "run.bat.txt", "quotefdp.exe.pdf", "a_b__c___.csv",
                                             "hidden.png", "file.txt"]


def test_a_windows_path_leaves_its_last_part():
    assert filetypes.clean_name("C:\\Users\\ada\\Quote 7.PDF", filetypes.PDF) == "Quote 7.PDF"
    assert filetypes.clean_name("x" * 300 + ".png", filetypes.PNG) == "x" * 251 + ".png"


def test_served_inline_only_for_images_and_pdf_under_a_sandbox(client, people, open_request):
    rows = upload(client, people["alice"], open_request, ("photo.png", PNG), ("quote.pdf", PDF),
                  ("costs.csv", b"a,b\n1,2\n"), ("Überweisung.txt", b"paid"))["items"]
    dispositions = []
    for row in rows:
        response = client.get(f"/api/attachments/{row['id']}/content", headers=people["bob"].headers)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        policy = response.headers["Content-Security-Policy"]
        assert policy.startswith("sandbox;") and "default-src 'none'" in policy and "script-src" not in policy
        dispositions.append(response.headers["Content-Disposition"])
    assert dispositions[:3] == ['inline; filename=photo.png', 'inline; filename=quote.pdf',
                                'attachment; filename=costs.csv']
    assert dispositions[3] == "attachment; filename=Uberweisung.txt; filename*=UTF-8''%C3%9Cberweisung.txt"
    text = client.get(f"/api/attachments/{rows[2]['id']}/content", headers=people["bob"].headers)
    assert text.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_a_copy_the_client_has_is_not_sent_again(client, people, open_request):
    [row] = upload(client, people["alice"], open_request, ("quote.pdf", PDF))["items"]
    url = f"/api/attachments/{row['id']}/content"
    again = client.get(url, headers={**people["alice"].headers, "If-None-Match": f'"{row["sha256"]}"'})
    assert again.status_code == 304 and again.data == b""
    assert "private" in again.headers["Cache-Control"]


def test_the_app_keeps_its_own_policy_elsewhere(client):
    policy = client.get("/api/meta").headers["Content-Security-Policy"]
    assert "sandbox" not in policy and "img-src 'self' data: blob:" in policy and "frame-src blob:" in policy


def test_a_file_over_the_limit_is_refused_naming_it_and_nothing_is_stored(app, client, people, open_request):
    app.config["ATTACHMENT_MAX_BYTES"] = 1000
    error = upload(client, people["alice"], open_request, ("ok.txt", b"a" * 1000), ("big.txt", b"b" * 1001),
                   expect=413, code="payload_too_large")["error"]
    assert "big.txt" in error["message"] and "1,000 bytes" in error["message"]
    assert error["details"]["files"][0]["reason"] == "size"
    assert count(Attachment) == 0
    upload(client, people["alice"], open_request, ("ok.txt", b"a" * 1000))


def test_a_body_larger_than_any_allowed_is_refused_before_it_is_read(app, client, people, open_request):
    app.config.update(ATTACHMENT_MAX_BYTES=1000, ATTACHMENTS_PER_REQUEST=2)
    read = []

    class Body(io.BytesIO):
        def read(self, *args):
            read.append(args)
            return super().read(*args)

    body = Body(b"x" * 10)
    response = client.post(f"/api/requests/{open_request}/attachments", headers=people["alice"].headers,
                           content_type="multipart/form-data; boundary=b", input_stream=body,
                           environ_overrides={"CONTENT_LENGTH": "5000000"})
    error = assert_refused(response, 413, "payload_too_large")
    assert "at most 2 files of 1,000 bytes" in error["message"]
    assert read == []


def test_more_files_than_a_request_may_carry_are_refused(app, client, people, open_request):
    app.config["ATTACHMENTS_PER_REQUEST"] = 3
    upload(client, people["alice"], open_request, ("a.txt", b"a"), ("b.txt", b"b"))
    error = upload(client, people["alice"], open_request, ("c.txt", b"c"), ("d.txt", b"d"), expect=422,
                   code="validation_error")["error"]
    assert error["details"]["limit"] == 3 and "at most 3 files" in error["message"]
    upload(client, people["alice"], open_request, ("c.txt", b"c"))
    assert count(Attachment) == 3


def test_an_empty_file_or_no_file_is_refused(client, people, open_request):
    error = upload(client, people["alice"], open_request, ("empty.pdf", b""), expect=422)["error"]
    assert error["details"]["files"][0] == {"filename": "empty.pdf", "reason": "empty",
                                            "message": "empty.pdf is empty"}
    response = client.post(f"/api/requests/{open_request}/attachments", headers=people["alice"].headers, json={})
    assert assert_refused(response, 422, "validation_error")["details"]["fields"] == {"file": ["Required"]}


def test_whoever_cannot_see_the_request_gets_404_for_it_and_its_files(client, people, open_request):
    [row] = upload(client, people["alice"], open_request, ("quote.pdf", PDF))["items"]
    erin = people["erin"]  # another employee: not the applicant, not named, never decided
    for response in (
        client.get(f"/api/requests/{open_request}/attachments", headers=erin.headers),
        client.post(f"/api/requests/{open_request}/attachments", headers=erin.headers,
                    data={"file": [(io.BytesIO(PNG), "p.png")]}, content_type="multipart/form-data"),
        client.get(f"/api/attachments/{row['id']}/content", headers=erin.headers),
        client.delete(f"/api/attachments/{row['id']}", headers=erin.headers),
        client.get("/api/attachments/999999/content", headers=erin.headers),
    ):
        assert_refused(response, 404, "not_found")
    assert count(Attachment) == 1
    # The admin sees every request, and so its files.
    assert client.get(f"/api/attachments/{row['id']}/content", headers=people["admin"].headers).data == PDF


def test_only_the_uploader_deletes_and_only_while_the_request_is_open(client, people, open_request):
    alice, bob = people["alice"], people["bob"]
    mine, bobs = (upload(client, who, open_request, (name, PNG))["items"][0]
                  for who, name in ((alice, "a.png"), (bob, "b.png")))
    assert_refused(client.delete(f"/api/attachments/{bobs['id']}", headers=alice.headers), 403, "forbidden")
    assert client.delete(f"/api/attachments/{mine['id']}", headers=alice.headers).status_code == 204
    assert_refused(client.get(f"/api/attachments/{mine['id']}/content", headers=alice.headers), 404, "not_found")
    assert count(AttachmentContent) == 1  # its bytes went with it
    approve(client, people["carol"], open_request)
    assert_refused(client.delete(f"/api/attachments/{bobs['id']}", headers=bob.headers), 409, "conflict")
    upload(client, alice, open_request, ("late.png", PNG), expect=409, code="conflict")
    # The trail says who attached and removed what.
    trail = [(e["action"], e["actor"]["id"] if e["actor"] else None, e["comment"])
             for e in detail(client, alice, open_request)["events"]]
    assert trail[1:4] == [("attach", alice.id, "a.png"), ("attach", bob.id, "b.png"), ("detach", alice.id, "a.png")]


def test_lists_count_each_requests_files(client, people):
    alice = people["alice"]
    with_files = submit(client, alice)["id"]
    without = submit(client, alice)["id"]
    upload(client, alice, with_files, ("a.png", PNG), ("b.pdf", PDF))
    items = client.get("/api/requests?scope=mine", headers=alice.headers).get_json()["items"]
    assert {r["id"]: r["attachments_count"] for r in items} == {with_files: 2, without: 0}
    answer = approve(client, people["bob"], with_files)
    assert answer["attachments_count"] == 2


def test_a_submit_with_files_stores_them_with_the_request(client, people):
    alice = people["alice"]
    body = {"kind": "assign", "asset_id": make_asset().id, "reason": "quote attached"}
    response = submit_with_files(client, alice, body, ("quote.pdf", PDF), ("photo.png", PNG))
    created = response.get_json()
    assert response.status_code == 201, created
    assert created["attachments_count"] == 2
    files = client.get(f"/api/requests/{created['id']}/attachments", headers=alice.headers).get_json()["items"]
    assert [f["filename"] for f in files] == ["quote.pdf", "photo.png"]
    assert client.get(f"/api/attachments/{files[0]['id']}/content", headers=alice.headers).data == PDF
    assert [e["action"] for e in detail(client, alice, created["id"])["events"]] == ["submit", "attach", "attach"]


def test_a_submit_with_a_bad_file_stores_nothing(shared_app):
    """A refused file refuses the request with it: no request row, no file, no audit (SQLite and PostgreSQL)."""
    client = shared_app.test_client()
    alice = Auth(client).person(make_user("employee"))
    make_user("approver")
    body = {"kind": "assign", "asset_id": make_asset().id, "reason": "one bad file"}
    response = submit_with_files(client, alice, body, ("photo.png", PNG), ("quote.pdf", ELF))
    error = assert_refused(response, 415, "unsupported_media_type")
    assert error["details"]["files"][0]["filename"] == "quote.pdf"
    assert count(Request) == count(Attachment) == count(AttachmentContent) == count(RequestEvent) == 0


def test_a_submit_refused_after_its_files_were_written_stores_nothing(client, people):
    """The asset is locked by another request: the 409 comes after the checks, and the files roll back too."""
    asset = make_asset()
    submit(client, people["erin"], asset_id=asset.id)
    response = submit_with_files(client, people["alice"], {"kind": "assign", "asset_id": asset.id, "reason": "x"},
                                 ("photo.png", PNG))
    assert_refused(response, 409, "conflict")
    assert count(Request) == 1 and count(Attachment) == count(AttachmentContent) == 0


def test_a_multipart_submit_is_read_as_the_json_one(client, people):
    """The `data` part goes through the same schema: a missing field and bad JSON are refused the same way."""
    alice = people["alice"]
    response = submit_with_files(client, alice, {"kind": "assign"}, ("a.png", PNG))
    assert "reason" in assert_refused(response, 422, "validation_error")["details"]["fields"]
    response = client.post("/api/requests", headers=alice.headers, data={"data": "{nope"},
                           content_type="multipart/form-data")
    assert_refused(response, 400, "bad_request")
    # A route that takes no files reads no JSON from a multipart body.
    response = client.post(f"/api/requests/{submit(client, alice)['id']}/comments", headers=alice.headers,
                           data={"data": '{"body": "hi"}'}, content_type="multipart/form-data")
    assert_refused(response, 422, "validation_error")
    assert count(Request) == 1


def test_a_rule_may_require_a_file(client, people):
    set_rules([{"match": {"kinds": ["assign"]}, "steps": [APPROVER], "attachments": "required"},
               {"match": {}, "steps": [APPROVER]}])
    alice = people["alice"]
    asset = make_asset()
    error = submit(client, alice, asset_id=asset.id, expect=422, code="validation_error")
    assert list(error["error"]["details"]["fields"]) == ["attachments"]
    assert count(Request) == 0
    body = {"kind": "assign", "asset_id": asset.id, "reason": "with the quote"}
    assert submit_with_files(client, alice, body, ("quote.pdf", PDF)).status_code == 201
    # Another kind, routed by the other rule, needs none.
    submit(client, alice, "acquire", name="Desk", category="Furniture", value="300.00")

    def required(**query):
        response = client.get("/api/attachments/required", headers=alice.headers, query_string=query)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["required"]

    assert required(kind="assign", asset_id=make_asset().id) is True
    assert required(kind="acquire", category="Furniture", value="300.00") is False
    assert_refused(client.get("/api/attachments/required", headers=alice.headers), 422, "validation_error")


def test_the_rules_editor_saves_and_shows_the_requirement(client, people):
    rules = [{"match": {"min_value": "5000"}, "steps": [APPROVER], "attachments": "required"},
             {"match": {}, "steps": [APPROVER], "attachments": None}]
    response = client.put("/api/approval-rules", headers=people["admin"].headers, json={"items": rules})
    assert response.status_code == 200, response.get_json()
    items = client.get("/api/approval-rules", headers=people["admin"].headers).get_json()["items"]
    assert [r.get("attachments") for r in items] == ["required", None]
    response = client.put("/api/approval-rules", headers=people["admin"].headers,
                          json={"items": [{"match": {}, "steps": [APPROVER], "attachments": "optional"}]})
    assert "items.0.attachments" in assert_refused(response, 422, "validation_error")["details"]["fields"]


@pytest.mark.timeout(60)
def test_concurrent_uploads_never_pass_the_limit(shared_app):
    """Six uploads at once to a request with room for two: two are stored (SQLite and PostgreSQL)."""
    shared_app.config["ATTACHMENTS_PER_REQUEST"] = 2
    client = shared_app.test_client()
    alice = Auth(client).person(make_user("employee"))
    make_user("approver")
    request_id = submit(client, alice)["id"]
    db.session.remove()
    start, statuses = threading.Barrier(6), []

    def one(n: int) -> None:
        with shared_app.app_context():
            start.wait()
            response = shared_app.test_client().post(
                f"/api/requests/{request_id}/attachments", headers=alice.headers,
                data={"file": [(io.BytesIO(PNG), f"p{n}.png")]}, content_type="multipart/form-data")
            statuses.append(response.status_code)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 201, 422, 422, 422, 422]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attachment)) == 2
