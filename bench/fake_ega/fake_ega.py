"""Fallback fake eGA gateway (bench/run uses the Rust one, examples/fake_ega, when built):
answers every POST with HTTP 200 {"error":false,...}; prints `requests N` on SIGTERM."""
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNT = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global COUNT
        self.rfile.read(int(self.headers.get("content-length", 0)))
        COUNT += 1
        body = b'{"error":false,"message":"Message Submitted Successfully","data":[]}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def stop(*_):
    print("requests %d" % COUNT, flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 18099
server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
print("listening 127.0.0.1:%d" % port, flush=True)
server.serve_forever()
