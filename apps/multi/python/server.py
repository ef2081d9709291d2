"""The back container of the two-container sample: a JSON answer on port 5000, stdlib only."""
import json
import os
import signal
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(os.environ.get("PORT", "5000"))


class Handler(BaseHTTPRequestHandler):
    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0]
        if path == "/health":
            self._send(200, {"status": "ok"})
        elif path == "/":
            self._send(200, {"service": "python", "message": "hello from the python container",
                             "hostname": socket.gethostname(), "client": self.client_address[0]})
        else:
            self._send(404, {"error": f"no route {path}"})

    def log_message(self, format: str, *args) -> None:  # one line per request, on stdout
        print(f"{self.address_string()} {format % args}", flush=True)


def main() -> None:
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"python sample listening on {PORT}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
