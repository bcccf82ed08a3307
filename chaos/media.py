"""The images a chaos run's creatives point at, served on loopback."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from tests.images import LoopbackServer, make_png

PNG = make_png(3, 2, rgb=b"\x10\x80\x40")
THUMB = make_png(4, 4, rgb=b"\x00\x80\xff")


class MediaServer(LoopbackServer):
    """Images for the creatives: /img/<anything>.png answers a PNG, /thumb.png a thumbnail."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                body = THUMB if self.path.startswith("/thumb") else PNG
                if not self.path.startswith(("/img/", "/thumb")):
                    body = b"not found"
                    self.send_response(404)
                else:
                    self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(Handler)
