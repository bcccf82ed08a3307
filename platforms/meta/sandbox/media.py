"""Recognising image and video bytes by their magic numbers, and reading image sizes.

Ad images must be real images (Ad Image reference: JPG, PNG, GIF, BMP, WebP, ...); the sandbox
checks the file signature only, never decodes pixels.
"""

from __future__ import annotations

import struct


def image_format(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:2] == b"BM" and len(data) >= 26:
        return "bmp"
    return None


def image_size(data: bytes, fmt: str) -> tuple[int, int]:
    """(width, height) when the header says so, else (0, 0)."""
    try:
        if fmt == "png" and len(data) >= 24:
            width, height = struct.unpack(">II", data[16:24])
            return width, height
        if fmt == "gif" and len(data) >= 10:
            width, height = struct.unpack("<HH", data[6:10])
            return width, height
        if fmt == "bmp" and len(data) >= 26:
            width, height = struct.unpack("<ii", data[18:26])
            return abs(width), abs(height)
        if fmt == "webp":
            return _webp_size(data)
        if fmt == "jpeg":
            return _jpeg_size(data)
    except struct.error:
        pass
    return 0, 0


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return 0, 0


def _jpeg_size(data: bytes) -> tuple[int, int]:
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            index += 1
            continue
        marker = data[index + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            index += 2
            continue
        length = struct.unpack(">H", data[index + 2 : index + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return 0, 0


def is_video(data: bytes) -> bool:
    """MP4/MOV/3GP (ISO BMFF "ftyp"), WebM/MKV (EBML), AVI, MPEG-PS/TS, FLV, ASF/WMV."""
    if len(data) >= 12 and data[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        return True
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return True
    if data[:4] == b"RIFF" and data[8:12] in (b"AVI ", b"AVIX"):
        return True
    if data.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3", b"FLV")):
        return True
    if data.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return True
    return len(data) >= 189 and data[0] == 0x47 and data[188] == 0x47
