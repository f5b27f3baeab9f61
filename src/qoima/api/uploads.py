"""File uploads: the files the CLI reads (entries, prices, statements, a case, a balance
snapshot), sent as the raw body (``text/csv``, ``application/yaml``, an XLSX workbook) or as
JSON ``{"filename": ..., "content": ...}`` (a workbook's bytes in base64, with
``"encoding": "base64"``).

A raw body is turned into that JSON form before validation, so both arrive as one model and
the OpenAPI document states both. The file is then parsed by the same adapter the CLI uses,
from a private temporary folder; its errors name the uploaded file's name, line and field.
Nothing is stored before the whole file has parsed.
"""

from __future__ import annotations

import base64
import binascii
import re
import tempfile
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from pydantic import Field

from qoima.api import idempotency
from qoima.api.json_body import is_json
from qoima.api.models import Strict
from qoima.api.problems import ApiProblem
from qoima.api.routing import ApiRoute, StrictRequest
from qoima.domain.errors import InvalidInput, Origin, QoimaError

T = TypeVar("T")
MAX_FILE_CHARS = 900_000  # under the body cap, so a JSON-wrapped file fits as well
CSV = {"text/csv": ".csv"}
YAML = {"application/yaml": ".yaml", "application/x-yaml": ".yaml", "text/yaml": ".yaml"}
XLSX = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx"}
_BINARY = {".xlsx"}  # suffixes of files sent as bytes, not text
_PREFIX = "qoima-upload-"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class FileIn(Strict):
    """A file's text and its name (the suffix says its format, e.g. ``.csv``)."""

    filename: Annotated[str, Field(min_length=1, max_length=100, pattern=_SAFE_NAME.pattern)]
    content: Annotated[str, Field(min_length=1, max_length=MAX_FILE_CHARS)]
    encoding: Annotated[Literal["utf-8", "base64"], Field(
        description="utf-8: content is the file's text; base64: its bytes (a workbook)")
    ] = "utf-8"

    def data(self) -> bytes:
        """The file's bytes, as the CLI would read them from disk."""
        if self.encoding == "utf-8":
            return self.content.encode("utf-8")
        try:
            return base64.b64decode(self.content, validate=True)
        except (binascii.Error, ValueError):  # ValueError: characters outside ASCII
            raise InvalidInput("content is not valid base64", field="content") from None

    def text(self) -> str:
        """The file's text (a base64 body must hold UTF-8 text here)."""
        return utf8_text(self.data())


def utf8_text(raw: bytes) -> str:
    """A text file's bytes as text (a byte-order mark dropped), or 422 on ``content``."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"the file is not UTF-8 text (byte {error.start})",
                           field="content") from None


def raw_body(media: Mapping[str, str]) -> dict[str, Any]:
    """``openapi_extra`` that documents the raw media types next to the JSON form."""
    return {"requestBody": {"content": {
        name: {"schema": _raw_schema(suffix)} for name, suffix in media.items()}},
        "parameters": [{"name": "X-Filename", "in": "header", "required": False,
                        "description": "The file's name, for a raw body (errors name it; "
                        "default upload.<suffix>)",
                        "schema": {"type": "string", "maxLength": 100,
                                   "pattern": _SAFE_NAME.pattern}}]}


def _raw_schema(suffix: str) -> dict[str, Any]:
    if suffix in _BINARY:  # base64 in the JSON form: three bytes for four characters
        return {"type": "string", "format": "binary", "maxLength": MAX_FILE_CHARS * 3 // 4}
    return {"type": "string", "maxLength": MAX_FILE_CHARS}


def _media(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


class UploadRoute(ApiRoute):
    """An API route whose body is JSON or one of ``media`` (a file's raw text)."""

    media: Mapping[str, str] = {}

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = APIRoute.get_route_handler(self)
        media = self.media

        async def handler(request: Request) -> Response:
            strict = StrictRequest(request.scope, request.receive)
            raw = await strict.body()
            kind = _media(strict.headers.get("content-type"))
            if raw and kind in media:
                strict = _as_json(strict, raw, media[kind])
            elif raw and not is_json(kind):
                raise ApiProblem("unsupported-media-type", "send the file as "
                                 f"{' or '.join(media)}, or as application/json "
                                 f"{{filename, content}} (got {kind or 'none'})")
            elif raw:
                await strict.json()
            try:
                if strict.method == "POST":
                    return await idempotency.once(strict, original)
                return await original(strict)
            except QoimaError as error:  # a record read from the file failed later on
                raise relocated(error) from None

        return handler


def _as_json(request: StrictRequest, raw: bytes, suffix: str) -> StrictRequest:
    name = request.headers.get("x-filename") or f"upload{suffix}"
    if suffix in _BINARY:
        form = {"filename": name, "content": base64.b64encode(raw).decode("ascii"),
                "encoding": "base64"}
    else:
        form = {"filename": name, "content": utf8_text(raw)}
    headers = [(k, v) for k, v in request.scope["headers"] if k != b"content-type"]
    scope = {**request.scope, "headers": [*headers, (b"content-type", b"application/json")]}
    converted = StrictRequest(scope, request.receive)
    converted._body = raw  # the idempotency hash covers the bytes as sent
    converted._strict_json = form
    return converted


def upload_post(router: APIRouter, path: str, media: Mapping[str, str],
                **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``@router.post(path, ...)`` for a route that also takes the file as ``media``."""
    route = type("UploadRoute", (UploadRoute,), {"media": dict(media)})

    def decorator(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        router.add_api_route(path, endpoint, methods=["POST"], route_class_override=route,
                             openapi_extra=raw_body(media), **kwargs)
        return endpoint
    return decorator


def parse_file(upload: FileIn, suffixes: tuple[str, ...], read: Callable[[Path], T], *,
               lines: bool = True) -> T:
    """``read`` the uploaded file (by the adapter the CLI uses); errors name its name, and
    its line unless ``lines`` is False (a file made from a JSON body: the field says it)."""
    if not upload.filename.lower().endswith(suffixes):
        raise InvalidInput(f"{upload.filename!r} must end with {' or '.join(suffixes)}",
                           field="filename")
    with tempfile.TemporaryDirectory(prefix=_PREFIX) as folder:
        path = Path(folder) / upload.filename
        data = upload.data()
        if path.suffix.lower() not in _BINARY:  # text readers expect UTF-8: 422 here, not 500
            data = utf8_text(data).encode("utf-8")
        path.write_bytes(data)
        try:
            return read(path)
        except QoimaError as error:
            relocated(error)
            if not lines:
                error.origin = None
                error.args = (str(error),)
            raise


def relocated(error: QoimaError) -> QoimaError:
    """``error`` located in the uploaded file by its name, never the temporary path."""
    origin = error.origin
    if origin is not None and _PREFIX in origin.file:
        error.origin = Origin(Path(origin.file).name, origin.line)
        error.message = error.message.replace(origin.file, error.origin.file)
        error.args = (str(error),)
    for key, value in error.details.items():  # e.g. a statement's rejection names its file
        if isinstance(value, str) and _PREFIX in value:
            error.details[key] = Path(value).name
    return error
