"""CSV exports stay inert in a spreadsheet however it splits cells: comma, semicolon, tab, pipe, space."""

import csv
import io
from decimal import Decimal

import pytest

from assetflow.extensions import db
from assetflow.services.export import safe_cell

from .actions import submit
from .factories import make_asset

# Formula texts, alone and after each separator a spreadsheet may split on.
ATTACKS = ("ok;=1+2;", "a,=cmd|' /C calc'!A0", "x\t=1", "@SUM(1)", "+1", "-1", "=1", "a|=1", "a b=1",
           "a;@SUM(1)", "a;+1", "a;-1", "a;=1", "a;\t=1", 'a;"=1"', "line\n=1", "line\r\n-1")
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
DELIMITERS = (",", ";", "\t", "|", " ")


def cells(raw: bytes, delimiter: str) -> list[str]:
    """Every cell of the file as Python's csv module reads it with `delimiter`."""
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) for cell in row]


def test_no_cell_starts_a_formula_under_any_separator(client, people):
    alice = people["alice"]
    alice_h, bob_h = alice.headers, people["bob"].headers
    alice.user.display_name = "=HYPERLINK(\"http://x\")"  # a name is text someone typed too
    db.session.commit()
    requests = [submit(client, alice, kind="acquire", name=f"n{attack}", category="Office", value="5",
                       reason=attack) for attack in ATTACKS]
    trail_of = submit(client, alice, kind="assign", asset_id=make_asset().id, reason="needed")
    for attack in ATTACKS:
        response = client.post(f"/api/requests/{trail_of['id']}/comments", headers=bob_h, json={"body": attack})
        assert response.status_code == 201, response.get_json()

    export = client.get("/api/requests/export.csv", headers=alice_h)
    assert export.status_code == 200
    export = export.get_data()  # streamed: read it whole before the next request
    trail = client.get(f"/api/requests/{trail_of['id']}/trail.csv", headers=alice_h)
    assert trail.status_code == 200
    trail = trail.get_data()
    for raw in (export, trail):
        for delimiter in DELIMITERS:
            # Nor after the blanks a spreadsheet may trim.
            found = [cell for cell in cells(raw, delimiter)
                     if cell.startswith(DANGEROUS) or cell.lstrip(" \t\r\n").startswith(DANGEROUS)]
            assert found == [], (delimiter, found)

    # Read with the separator it was written with, each text comes back whole and readable.
    rows = list(csv.reader(io.StringIO(export.decode("utf-8-sig"), newline="")))
    reasons = {row[0]: row[8] for row in rows[1:]}
    assert reasons[str(requests[0]["id"])] == "ok;'=1+2;"
    assert reasons[str(requests[1]["id"])] == "a,'=cmd|' /C calc'!A0"
    assert reasons[str(requests[6]["id"])] == "'=1"
    assert {row[7] for row in rows[1:]} == {"'=HYPERLINK(\"http://x\")"}
    assert {row[9] for row in rows[1:]} == {"5.00", "1000.00"}  # money as written, a number
    comments = [row[6] for row in csv.reader(io.StringIO(trail.decode("utf-8-sig"), newline=""))
                if row[2] == "comment"]
    assert comments[:3] == ["ok;'=1+2;", "a,'=cmd|' /C calc'!A0", "x\t'=1"]


def test_every_field_is_quoted(client, people):
    alice_h = people["alice"].headers
    req = submit(client, people["alice"], kind="acquire", name="Pen", category="Office", value="5", reason="ok;=1+2;")
    lines = client.get("/api/requests/export.csv", headers=alice_h).get_data().decode("utf-8-sig").splitlines()
    assert lines[0].startswith('"id","kind","state",')
    assert lines[1].startswith(f'"{req["id"]}","acquire","pending","1","1","","Pen",')
    assert lines[1].endswith('","ok;\'=1+2;","5.00","CNY","",' f'"{req["created_at"]}",""')


@pytest.mark.parametrize("value, written", [
    (Decimal("-5.00"), "-5.00"),  # a number the app writes: a spreadsheet reads a number, never a formula
    (-3, "-3"),
    ("-5.00", "'-5.00"),  # the same characters typed by someone: text, guarded
    ("Laptop - 14 inch", "Laptop '- 14 inch"),  # a space may be the separator (Excel's and LibreOffice's dialogs)
    ("it's fine", "it's fine"),
    ("\0=1", "'\0=1"),  # NUL starts a formula (ASVS 1.2.10) but splits no cell
    (None, ""),
])
def test_safe_cell(value, written):
    assert safe_cell(value) == written
