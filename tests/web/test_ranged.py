"""ranged.py: byte ranges, conditional requests, HEAD, and chunked streaming under WSGI and ASGI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.http import Http404
from django.test import AsyncRequestFactory, RequestFactory

from adstudio import ranged
from adstudio.ranged import RangeNotSatisfiable, parse_range, ranged_file_response

DATA = bytes(range(256)) * 4096  # 1 MiB: several chunks


@pytest.fixture
def media_file(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(DATA)
    return path


def get(path: Path, **headers: str):
    request = RequestFactory().get("/clip.mp4", headers=headers)
    return ranged_file_response(request, path, "video/mp4")


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    "header,span",
    [
        ("bytes=0-0", (0, 0)),
        ("bytes=10-19", (10, 19)),
        ("bytes=10-", (10, 99)),
        ("bytes=-10", (90, 99)),
        ("bytes=-1000", (0, 99)),
        ("bytes=90-5000", (90, 99)),
        (" bytes = 5 - 6 ", (5, 6)),
        ("items=0-5", None),  # another unit: ignored, the whole file is sent
        ("bytes=0-1,5-6", None),  # several ranges: ignored
    ],
)
def test_parse_range(header: str, span: tuple[int, int] | None) -> None:
    assert parse_range(header, 100) == span


@pytest.mark.parametrize(
    "header", ["bytes=100-", "bytes=100-200", "bytes=5-2", "bytes=-0", "bytes=x-y", "bytes=-"]
)
def test_parse_range_refuses(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 100)


def test_whole_file(media_file: Path) -> None:
    response = get(media_file)
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(len(DATA))
    assert response["Content-Type"] == "video/mp4"
    assert body(response) == DATA


def test_streams_in_bounded_chunks(media_file: Path) -> None:
    chunks = list(get(media_file, Range="bytes=1-").streaming_content)
    assert len(chunks) > 1 and max(len(c) for c in chunks) <= ranged.CHUNK
    assert b"".join(chunks) == DATA[1:]


def test_partial_content(media_file: Path) -> None:
    response = get(media_file, Range="bytes=1000-299999")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 1000-299999/{len(DATA)}"
    assert response["Content-Length"] == "299000"
    assert body(response) == DATA[1000:300000]


def test_suffix_range(media_file: Path) -> None:
    response = get(media_file, Range="bytes=-500")
    assert response.status_code == 206 and body(response) == DATA[-500:]


@pytest.mark.parametrize("header", [f"bytes={len(DATA)}-", "bytes=50-10", "bytes=abc"])
def test_unsatisfiable_is_416(media_file: Path, header: str) -> None:
    response = get(media_file, Range=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(DATA)}"


def test_head_has_headers_and_no_body(media_file: Path) -> None:
    request = RequestFactory().head("/clip.mp4", headers={"Range": "bytes=0-9"})
    response = ranged_file_response(request, media_file, "video/mp4")
    assert response.status_code == 206
    assert response["Content-Length"] == "10" and response.content == b""


def test_if_range_with_a_stale_etag_sends_everything(media_file: Path) -> None:
    etag = get(media_file)["ETag"]
    assert get(media_file, Range="bytes=0-9", **{"If-Range": etag}).status_code == 206
    stale = get(media_file, Range="bytes=0-9", **{"If-Range": '"old"'})
    assert stale.status_code == 200 and body(stale) == DATA


def test_if_none_match_is_304(media_file: Path) -> None:
    etag = get(media_file)["ETag"]
    assert get(media_file, **{"If-None-Match": etag}).status_code == 304


def test_download_name(media_file: Path) -> None:
    request = RequestFactory().get("/")
    response = ranged_file_response(request, media_file, "video/mp4", download_name="my-ad.mp4")
    assert response["Content-Disposition"] == 'attachment; filename="my-ad.mp4"'


def test_missing_file_is_404(tmp_path: Path) -> None:
    with pytest.raises(Http404):
        get(tmp_path / "gone.mp4")


def test_asgi_requests_get_an_async_stream(media_file: Path) -> None:
    """Under Daphne a sync iterator would be collected into one list; the async one is read chunk by chunk."""
    request = AsyncRequestFactory().get("/clip.mp4", headers={"Range": "bytes=10-"})
    response = ranged_file_response(request, media_file, "video/mp4")
    assert response.is_async

    async def collect() -> list[bytes]:
        return [chunk async for chunk in response.streaming_content]

    chunks = async_to_sync(collect)()
    assert len(chunks) > 1 and b"".join(chunks) == DATA[10:]
    response.close()


def test_closing_early_releases_the_file(media_file: Path) -> None:
    open_files = len(os.listdir("/proc/self/fd"))
    response = get(media_file)
    next(iter(response.streaming_content))  # a player that reads a little and hangs up
    response.close()
    assert len(os.listdir("/proc/self/fd")) == open_files
