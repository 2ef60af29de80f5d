"""What a file is, read from its content and never from its name: the attachment types a request may carry.

libmagic (the `file` command's library, Debian's libmagic1) reads the magic numbers. An XLSX or a DOCX is a ZIP
archive: it is told apart from any other ZIP by its own table of contents, the `[Content_Types].xml` that every
Office Open XML package starts from (ECMA-376 part 2), which names its main part's type. CSV and plain text have
no magic number: they are UTF-8 (ASCII included) without NUL or other control characters.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from xml.etree import ElementTree

import magic


@dataclass(frozen=True)
class FileType:
    """An accepted type: its media type, the extensions a name of it may end in (the first is added to a name
    that ends in none of them), and whether a browser may show it in the page (images and PDF)."""

    mime: str
    extensions: tuple[str, ...]
    inline: bool = False


PDF = FileType("application/pdf", (".pdf",), inline=True)
PNG = FileType("image/png", (".png",), inline=True)
JPEG = FileType("image/jpeg", (".jpg", ".jpeg"), inline=True)
WEBP = FileType("image/webp", (".webp",), inline=True)
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",))
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",))
CSV = FileType("text/csv", (".csv",))
TEXT = FileType("text/plain", (".txt",))
TYPES = (PDF, PNG, JPEG, WEBP, XLSX, DOCX, CSV, TEXT)
# What the accepted types are called in a refusal.
NAMES = "PDF, PNG, JPEG, WebP, XLSX, DOCX, CSV or plain text"

_BY_MAGIC = {t.mime: t for t in (PDF, PNG, JPEG, WEBP)}
# What libmagic calls a ZIP archive, whether or not it guessed the Office package inside.
_ZIP = {"application/zip", XLSX.mime, DOCX.mime}
# The main part of each accepted Office package, as its [Content_Types].xml names it. A macro-enabled workbook or
# document names another type (…macroEnabled.main+xml), so it is not accepted.
_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
}
_CONTENT_TYPES_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_CONTENT_TYPES_MAX = 1024 * 1024  # a real one is a few KiB
_TEXT_LIKE = ("application/csv", "application/json", "application/octet-stream")
# Control characters other than tab, line feed and carriage return (C0, DEL and C1).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")
_UNSAFE_IN_NAME = re.compile(r'[<>:"/\\|?*]')
NAME_MAX = 255


def sniff(data: bytes, filename: str) -> FileType | None:
    """The accepted type of this content, or None. The name only chooses between CSV and plain text (both text)."""
    found = magic.from_buffer(data, mime=True)
    if found in _BY_MAGIC:
        return _BY_MAGIC[found]
    if found in _ZIP:
        return _office_package(data)
    # Text as libmagic names it, or content it has no name for (it calls one character "octet-stream"):
    # either way our rule decides. Content it knows as something else (PostScript, an executable) is not text.
    if found.startswith("text/") or found in _TEXT_LIKE:
        if _is_text(data):
            return CSV if filename.lower().endswith(".csv") else TEXT
    return None


def _office_package(data: bytes) -> FileType | None:
    """XLSX or DOCX when the archive's [Content_Types].xml names exactly one of their main parts, and the part is
    in the archive; None for any other ZIP, or one that cannot be read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > _CONTENT_TYPES_MAX:
                return None
            root = ElementTree.fromstring(archive.read(info))
            names = set(archive.namelist())
    except (KeyError, ValueError, RuntimeError, NotImplementedError, EOFError, zipfile.BadZipFile, zlib.error,
            ElementTree.ParseError):
        return None
    found = {_OOXML_MAIN[part.get("ContentType", "")] for part in root.iter(f"{_CONTENT_TYPES_NS}Override")
             if part.get("ContentType") in _OOXML_MAIN and part.get("PartName", "").lstrip("/") in names}
    return found.pop() if len(found) == 1 else None


def _is_text(data: bytes) -> bool:
    """UTF-8 (a BOM allowed) with no control character but tab and line ends."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _CONTROL.search(text) is None


def clean_name(name: str, kind: FileType) -> str:
    """The name to store and show: no folders, no control or invisible formatting characters (a right-to-left
    override can disguise `exe.pdf`), none that some systems refuse in a name, and an extension that fits the
    content (`invoice.bat` holding text is stored as `invoice.bat.txt`)."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE_IN_NAME.sub("_", name).strip().lstrip(".").strip() or "file"
    if not name.lower().endswith(kind.extensions):
        name += kind.extensions[0]
    stem, dot, extension = name.rpartition(".")
    return name if len(name) <= NAME_MAX else f"{stem[:NAME_MAX - len(extension) - 1]}{dot}{extension}"
