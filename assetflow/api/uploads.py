"""Reading a multipart/form-data body within the attachment limits, before any of it is kept in memory.

The app refuses any body over 1 MiB (MAX_CONTENT_LENGTH); a view that takes files lifts that for its own
request to what its files may add up to, so a body announced larger is refused (413) before it is read. Each
file part is written to a spooled file (memory up to 500 KiB, then disk) that refuses its first byte past
ATTACHMENT_MAX_BYTES (413 naming the file): nothing reads a too-large file to its end. A JSON body travels in
the part named `data`; BodyParser (api/base.py) reads it from there for a view that `accepts_files`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from flask import current_app, request
from werkzeug.formparser import FormDataParser

from ..errors import BadRequest, PayloadTooLarge, ValidationFailed
from ..services import attachments
from ..services.attachments import Upload

MULTIPART = "multipart/form-data"
FILE_FIELD = "file"
DATA_FIELD = "data"
# Part headers and boundaries around each file, far above what a client sends.
PART_OVERHEAD = 16 * 1024
SPOOL_BYTES = 500 * 1024
# Where a request keeps what `accepts_files` read from it: its `data` part and its files.
_READ = "assetflow.multipart"  # werkzeug's own threshold: a part larger than this goes to a temporary file


class _CappedFile(SpooledTemporaryFile):
    """A file part's container that refuses to grow past the largest file a request may carry."""

    def __init__(self, filename: str, cap: int) -> None:
        super().__init__(max_size=SPOOL_BYTES, mode="w+b")
        self.filename, self.cap, self.written = filename, cap, 0

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.written += len(data)
        if self.written > self.cap:
            raise attachments.too_large(self.filename)
        return super().write(data)


def _container(cap: int) -> Callable[..., IO[bytes]]:
    def factory(total_content_length: Any, content_type: Any, filename: str | None,
                content_length: Any = None) -> IO[bytes]:
        return _CappedFile(filename or "file", cap)  # type: ignore[return-value]
    return factory


def read_multipart(max_files: int) -> tuple[str | None, list[Upload]]:
    """The `data` part (or None) and the `file` parts of this request's multipart body, within the limits."""
    cap = attachments.max_bytes()
    json_limit = current_app.config["MAX_CONTENT_LENGTH"]
    limit = max_files * (cap + PART_OVERHEAD) + json_limit
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"The body is larger than {limit:,} bytes: at most {max_files} files of "
                              f"{cap:,} bytes each may be sent at once")
    request.max_content_length = limit  # also bounds a body sent without a length (chunked)
    parser = FormDataParser(stream_factory=_container(cap), max_form_memory_size=json_limit,
                            max_form_parts=max_files + 8, silent=False)
    try:
        _, form, files = parser.parse(request.stream, request.mimetype, request.content_length,
                                      request.mimetype_params)
    except ValueError:
        raise BadRequest("The multipart body is malformed") from None
    if FILE_FIELD in form:
        raise ValidationFailed("Each `file` part must be a file (with a filename)",
                               {"fields": {FILE_FIELD: ["Not a file"]}})
    uploads = [Upload(part.filename or "file", part.stream) for part in files.getlist(FILE_FIELD)]
    return form.get(DATA_FIELD), uploads


def accepts_files(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let a JSON view also take multipart/form-data: its JSON body in the part `data`, files in parts `file`
    (read here, before the view's arguments are parsed; `uploaded()` hands the files to the view)."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.mimetype == MULTIPART:
            request.environ[_READ] = read_multipart(attachments.max_files())
        return view(*args, **kwargs)
    return wrapper


def json_part() -> str | None:
    """The JSON body a multipart request carried in its `data` part, when its view accepts files; else None."""
    return request.environ.get(_READ, (None, []))[0]


def uploaded() -> list[Upload]:
    """The files an `accepts_files` view was sent (none for a JSON body)."""
    return request.environ.get(_READ, (None, []))[1]


def multipart_doc(with_data: bool) -> dict[str, Any]:
    """The OpenAPI requestBody of a multipart/form-data body: files in `file` (and JSON in `data`)."""
    properties: dict[str, Any] = {FILE_FIELD: {"type": "array", "items": {"type": "string", "format": "binary"}}}
    if with_data:
        properties[DATA_FIELD] = {"type": "string", "description": "The JSON body, as text"}
    schema = {"type": "object", "properties": properties, "required": [DATA_FIELD] if with_data else [FILE_FIELD]}
    return {"content": {MULTIPART: {"schema": schema}}}
