"""A small hq-interop server and client on picoquic, through aiopquic 0.6.1 (Python >= 3.12).

The server serves files of --root (`GET /path` per bidirectional stream); the client fetches
one path and checks it (--size: exactly that many bytes of the pattern every panther peer
serves). picoquic writes its qlog (draft-00 JSON, one file per connection) into --qlog-dir
and TLS secrets to SSLKEYLOGFILE. Exit codes: 0 done, 1 failed, 127 unsupported.
"""

import argparse
import asyncio
import os
import signal
import ssl
import sys

from aiopquic.asyncio import QuicConnectionProtocol, connect, serve
from aiopquic.quic.configuration import QuicConfiguration
from aiopquic.quic.events import HandshakeCompleted, StreamDataReceived

PATTERN = b"panther\n"
ALPN = "hq-interop"


def pattern(n):
    return (PATTERN * (n // len(PATTERN) + 1))[:n]


def log(*a):
    print(*a, flush=True)


def read_file(root, path):
    rel = os.path.normpath(path.lstrip("/")) or "index.html"
    if rel.startswith("..") or os.path.isabs(rel):
        return None
    try:
        with open(os.path.join(root, rel), "rb") as f:
            return f.read()
    except OSError:
        return None


class ServerProtocol(QuicConnectionProtocol):
    root = "."

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.reqs = {}

    def quic_event_received(self, event):
        if isinstance(event, HandshakeCompleted):
            log(f"handshake done, alpn {ALPN}")
        elif isinstance(event, StreamDataReceived):
            buf = self.reqs.get(event.stream_id, b"") + event.data
            self.reqs[event.stream_id] = buf
            if event.end_stream:
                asyncio.ensure_future(self.answer(event.stream_id, buf))

    async def answer(self, sid, buf):
        line = buf.decode(errors="replace").strip()
        path = line[4:].strip() if line.startswith("GET ") else "/"
        body = read_file(self.root, path) or b""
        log(f"GET {path} {len(body)} bytes (hq-interop)")
        await self._quic.send_stream_data_drained(sid, body, end_stream=True)


async def run_server(a):
    cfg = QuicConfiguration(is_client=False, alpn_protocols=[ALPN])
    cfg.load_cert_chain(a.cert, a.key)
    cfg.secrets_log_file = os.environ.get("SSLKEYLOGFILE")
    cfg.qlog_dir = a.qlog_dir
    ServerProtocol.root = a.root
    server = await serve(a.host, a.port, configuration=cfg, create_protocol=ServerProtocol)
    log(f"listening on {a.host}:{a.port}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    # Closing the engine ends every connection, and picoquic closes their qlog files.
    server.close()
    log("stopped")


class ClientProtocol(QuicConnectionProtocol):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.body = bytearray()
        self.done = asyncio.Event()

    def quic_event_received(self, event):
        if isinstance(event, StreamDataReceived):
            self.body += event.data
            if event.end_stream:
                self.done.set()


async def run_client(a):
    cfg = QuicConfiguration(is_client=True, alpn_protocols=[ALPN])
    cfg.server_name = a.sni
    if a.ca:
        cfg.load_verify_locations(a.ca)
    else:
        cfg.verify_mode = ssl.CERT_NONE
    cfg.secrets_log_file = os.environ.get("SSLKEYLOGFILE")
    cfg.qlog_dir = a.qlog_dir
    async with connect(a.host, a.port, configuration=cfg, create_protocol=ClientProtocol) as p:
        log(f"handshake done, alpn {ALPN}")
        sid = p._quic.get_next_available_stream_id()
        await p._quic.send_stream_data_drained(sid, f"GET {a.path}\r\n".encode(), end_stream=True)
        try:
            await asyncio.wait_for(p.done.wait(), a.timeout)
        except asyncio.TimeoutError:
            log(f"transfer failed: no complete response after {a.timeout} s")
            return 1
        await p.aclose()
    body = bytes(p.body)
    if a.output:
        os.makedirs(os.path.dirname(a.output) or ".", exist_ok=True)
        with open(a.output, "wb") as f:
            f.write(body)
    if a.size and body != pattern(a.size):
        log(f"transfer failed: {len(body)} bytes, expected {a.size} bytes of the pattern")
        return 1
    if not body:
        log("transfer failed: empty body")
        return 1
    log(f"transfer complete: {len(body)} bytes")
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="role", required=True)
    s = sub.add_parser("server")
    for k in ("--host", "--cert", "--key", "--root"):
        s.add_argument(k, required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--qlog-dir")
    c = sub.add_parser("client")
    c.add_argument("--host", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--sni", required=True)
    c.add_argument("--path", default="/index.html")
    c.add_argument("--alpn", default=ALPN)
    c.add_argument("--size", type=int, default=0)
    c.add_argument("--ca")
    c.add_argument("--output")
    c.add_argument("--qlog-dir")
    c.add_argument("--timeout", type=float, default=20)
    a = ap.parse_args()
    if a.role == "server":
        asyncio.run(run_server(a))
        return 0
    if a.alpn != ALPN:
        log(f"unsupported ALPN {a.alpn}")
        return 127
    try:
        return asyncio.run(run_client(a))
    except (ConnectionError, OSError, asyncio.TimeoutError) as e:
        log(f"transfer failed: {type(e).__name__} {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
