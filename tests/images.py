"""Test images built by hand (no Pillow), and a small HTTP server on loopback to serve them.

No Django here: bench/ imports this module too (bench/_common.py puts the repository root on
sys.path).
"""

from __future__ import annotations

import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def make_png(width: int = 1, height: int = 1, rgb: bytes = b"\xff\x00\x00") -> bytes:
    """A valid 8-bit RGB PNG of one colour (red unless told)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    rows = b"".join(b"\x00" + rgb * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def make_jpeg(comment: bytes) -> bytes:
    """JPEG framing (SOI, JFIF APP0, COM, EOI): enough for the fetcher's and Meta's sniffing,
    which judge the signature only."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", len(app0) + 2)
        + app0
        + b"\xff\xfe"
        + struct.pack(">H", len(comment) + 2)
        + comment
        + b"\xff\xd9"
    )


class LoopbackServer:
    """A ThreadingHTTPServer on 127.0.0.1 (a free port), serving from a daemon thread.

    Subclasses build their handler class (usually a closure over their own state) and pass it
    to ``__init__``; what the handler answers is theirs alone.
    """

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str = "", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class PngServer(LoopbackServer):
    """Serves `/img0.png` .. `/img3.png` (distinct PNGs, so distinct Meta image hashes) and
    answers 404 for anything else."""

    def __init__(self) -> None:
        images = {f"/img{i}.png": make_png(2 + i, 2) for i in range(4)}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = images.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)
