"""Builders for hostile files: made here, byte by byte, so the suite needs nothing downloaded."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from tests.security.conftest import image_bytes


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_of_zeros(width: int, height: int, bit_depth: int = 8, colour: int = 2) -> bytes:
    """A real, fully decodable PNG of black pixels, compressed row by row (small file, huge picture)."""
    channels = {0: 1, 2: 3}[colour]
    row = b"\x00" * (1 + (width * channels * bit_depth + 7) // 8)
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", body) + png_chunk(b"IEND", b"")


def png_with_text(total: int) -> bytes:
    small = image_bytes("PNG")
    count = total // 500_000 + 1
    chunks = b"".join(png_chunk(b"tEXt", b"Comment%d\x00" % i + b"A" * 500_000) for i in range(count))
    return small[:33] + chunks + small[33:]  # after the signature and IHDR


def jpeg_with_exif(segments: int, size: int = 60_000) -> bytes:
    """A JPEG whose APP1 (EXIF) segments add up to segments * size bytes of metadata."""
    jpeg = image_bytes("JPEG")
    app1 = b"Exif\x00\x00" + b"MM\x00\x2a\x00\x00\x00\x08" + b"\x00" * (size - 14)
    segment = b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1
    return jpeg[:2] + segment * segments + jpeg[2:]


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("index.html", "<script>alert(document.cookie)</script>")
        archive.writestr("../../evil.sh", "#!/bin/sh\nrm -rf /\n")
    return out.getvalue()


def iso_header(brand: bytes) -> bytes:
    return struct.pack(">I", 24) + b"ftyp" + brand + b"\x00\x00\x00\x00" + b"mif1" + brand + b"\x00" * 400


def garble(jpeg: bytes) -> bytes:
    """Keep the headers, cut the picture data off after a few hundred bytes and add no end marker."""
    start = jpeg.index(b"\xff\xda")  # start of scan
    return jpeg[: start + 300]
