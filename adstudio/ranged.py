"""Serve one file with HTTP Range support, streamed in chunks, sync under WSGI and async under ASGI.

Video players (Safari above all) refuse to play or seek an MP4 without byte ranges. Django's FileResponse
has no ranges, and under ASGI it collects a sync iterator into one list, i.e. the whole file in memory;
this helper streams with an async iterator there instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import content_disposition_header, http_date, parse_http_date_safe, quote_etag

CHUNK = 256 * 1024
_RANGE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


class RangeNotSatisfiable(ValueError):
    """The Range header is malformed, backwards, or starts past the end of the file."""


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive byte positions, or None to send the whole file.

    None for other units and for several ranges (a server may ignore Range; browsers send one).
    """
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    if "," in spec:
        return None
    match = _RANGE.match(spec)
    if match is None:
        raise RangeNotSatisfiable(header)
    first_text, last_text = match.groups()
    if not first_text:  # suffix: the last N bytes
        if not last_text or int(last_text) == 0 or size == 0:
            raise RangeNotSatisfiable(header)
        return max(size - int(last_text), 0), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if first >= size or last < first:
        raise RangeNotSatisfiable(header)
    return first, min(last, size - 1)


class _FilePart:
    """Bytes [start, start+length) of an open file, in chunks; close() releases the file however it ends."""

    def __init__(self, fh: BinaryIO, start: int, length: int) -> None:
        self.fh, self.start, self.remaining = fh, start, length
        self.fh.seek(start)

    def _next_chunk(self) -> bytes:
        if self.remaining <= 0:
            return b""
        data = self.fh.read(min(CHUNK, self.remaining))
        self.remaining -= len(data)
        if not data:  # the file shrank under us; stop rather than loop
            self.remaining = 0
        return data

    def close(self) -> None:
        self.fh.close()


class _SyncPart(_FilePart):
    def __iter__(self) -> Iterator[bytes]:
        while chunk := self._next_chunk():
            yield chunk


class _AsyncPart(_FilePart):
    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        read = sync_to_async(self._next_chunk, thread_sensitive=False)
        while chunk := await read():
            yield chunk


def _validators(stat: os.stat_result) -> tuple[str, float]:
    return quote_etag(f"{stat.st_size:x}-{stat.st_mtime_ns:x}"), stat.st_mtime


def _if_range_allows(request: HttpRequest, etag: str, mtime: float) -> bool:
    """A Range applies only if the client's copy is still this file (If-Range), else send all of it."""
    condition = request.headers.get("If-Range")
    if not condition:
        return True
    if condition.startswith(('"', "W/")):
        return condition == etag  # strong comparison; our ETags are strong
    since = parse_http_date_safe(condition)
    return since is not None and int(mtime) <= since


def ranged_file_response(
    request: HttpRequest,
    path: Path | str,
    content_type: str,
    *,
    download_name: str = "",
    cache_control: Mapping[str, object] | None = None,
) -> HttpResponseBase:
    """200, 206, 304 or 416 for the file at `path`; Http404 if it is not there."""
    try:
        fh: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed by the response (or below)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise Http404("No such file") from None
    try:
        stat = os.fstat(fh.fileno())
        size = stat.st_size
        etag, mtime = _validators(stat)
        conditional = get_conditional_response(request, etag=etag, last_modified=int(mtime))
        if conditional is not None:
            fh.close()
            return conditional
        response: HttpResponseBase
        first, last, status = 0, size - 1, 200
        range_header = request.headers.get("Range")
        if range_header and request.method in ("GET", "HEAD") and _if_range_allows(request, etag, mtime):
            try:
                span = parse_range(range_header, size)
            except RangeNotSatisfiable:
                fh.close()
                response = HttpResponse(status=416)
                response["Content-Range"] = f"bytes */{size}"
                response["Accept-Ranges"] = "bytes"
                return response
            if span is not None:
                (first, last), status = span, 206
        length = max(last - first + 1, 0)
        if request.method == "HEAD" or length == 0:
            fh.close()
            response = HttpResponse(status=status)
        else:
            part_class = _AsyncPart if isinstance(request, ASGIRequest) else _SyncPart
            response = StreamingHttpResponse(part_class(fh, first, length), status=status)
    except BaseException:
        fh.close()
        raise
    response["Content-Type"] = content_type
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Last-Modified"] = http_date(mtime)
    if status == 206:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    if download_name:
        response["Content-Disposition"] = content_disposition_header(True, download_name)
    patch_cache_control(response, **(cache_control or {"private": True, "max_age": 0}))
    return response
