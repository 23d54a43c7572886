"""A small QUIC server and client on aioquic's public API, for panther.

The server serves files from a folder over HTTP/3 (h3) and HTTP/0.9 (hq-interop), whichever
ALPN the client offers. The client fetches one path and checks what it got: a body of
exactly --size bytes of the pattern every panther peer serves (0: any non-empty body).
qlog goes to --qlog-dir (one JSON-SEQ .sqlog per connection, written as it runs), TLS
secrets to SSLKEYLOGFILE. Exit codes: 0 done, 1 failed, 127 unsupported (quic-interop-runner's).
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from urllib.parse import urlparse

from aioquic.asyncio import QuicConnectionProtocol, connect, serve
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ProtocolNegotiated, StreamDataReceived
from aioquic.quic.logger import QuicLogger, QuicLoggerTrace

PATTERN = b"panther\n"
ALPNS = {"h3": H3_ALPN, "hq-interop": ["hq-interop"]}


def pattern(n):
    return (PATTERN * (n // len(PATTERN) + 1))[:n]


def log(*a):
    print(*a, flush=True)


class StreamingTrace(QuicLoggerTrace):
    """A connection's qlog written event by event as JSON-SEQ (RFC 7464), so it grows while
    the connection runs and nothing is left to encode when it ends. aioquic's QuicFileLogger
    encodes a whole trace with the pure-Python json.dump when the connection ends: after a
    10 MiB transfer that held the event loop for seconds on a loaded machine, and the next
    connections' handshakes timed out."""

    def __init__(self, *, is_client, odcid, folder):
        super().__init__(is_client=is_client, odcid=odcid)
        path = os.path.join(folder, odcid.hex() + ".sqlog")
        self._fp = open(path, "w", buffering=1 << 16)
        self._write(
            {
                "qlog_format": "JSON-SEQ",
                "qlog_version": "0.3",
                "trace": {
                    "vantage_point": self._vantage_point,
                    "common_fields": {"ODCID": odcid.hex()},
                },
            }
        )

    def log_event(self, *, category, event, data):
        self._write(
            {
                "time": self.encode_time(time.time()),
                "name": category + ":" + event,
                "data": data,
            }
        )

    def _write(self, record):
        self._fp.write("\x1e" + json.dumps(record) + "\n")

    def close(self):
        self._fp.close()


class StreamingLogger(QuicLogger):
    """One StreamingTrace per connection, in --qlog-dir."""

    def __init__(self, folder):
        super().__init__()
        if not os.path.isdir(folder):
            raise ValueError(f"qlog folder '{folder}' does not exist")
        self.folder = folder

    def start_trace(self, is_client, odcid):
        trace = StreamingTrace(is_client=is_client, odcid=odcid, folder=self.folder)
        self._traces.append(trace)
        return trace

    def end_trace(self, trace):
        trace.close()
        self._traces.remove(trace)

    def end_all(self):
        for trace in list(self._traces):
            self.end_trace(trace)


def keylog():
    path = os.environ.get("SSLKEYLOGFILE")
    return open(path, "a") if path else None


def read_file(root, path):
    """The file under root that path names, or None (never outside root)."""
    rel = os.path.normpath(path.lstrip("/")) or "index.html"
    if rel.startswith("..") or os.path.isabs(rel):
        return None
    full = os.path.join(root, rel)
    try:
        with open(full, "rb") as f:
            return f.read()
    except OSError:
        return None


class ServerProtocol(QuicConnectionProtocol):
    root = "."

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.h3 = None
        self.hq = {}

    def quic_event_received(self, event):
        if isinstance(event, ProtocolNegotiated):
            log(f"alpn {event.alpn_protocol}")
            if event.alpn_protocol in H3_ALPN:
                self.h3 = H3Connection(self._quic)
        if self.h3 is not None:
            for e in self.h3.handle_event(event):
                self.h3_event(e)
        elif isinstance(event, StreamDataReceived):
            buf = self.hq.get(event.stream_id, b"") + event.data
            self.hq[event.stream_id] = buf
            if event.end_stream:
                self.hq_request(event.stream_id, buf)

    def h3_event(self, e):
        if isinstance(e, HeadersReceived):
            path = dict(e.headers).get(b":path", b"/").decode(errors="replace")
            body = read_file(self.root, path)
            status = b"200" if body is not None else b"404"
            body = body or b""
            log(f"GET {path} {status.decode()} {len(body)} bytes (h3)")
            self.h3.send_headers(
                e.stream_id,
                [(b":status", status), (b"content-length", str(len(body)).encode())],
            )
            self.h3.send_data(e.stream_id, body, end_stream=True)
            self.transmit()

    def hq_request(self, sid, buf):
        line = buf.decode(errors="replace").strip()
        path = line[4:] if line.startswith("GET ") else "/"
        body = read_file(self.root, path) or b""
        log(f"GET {path} {len(body)} bytes (hq-interop)")
        self._quic.send_stream_data(sid, body, end_stream=True)
        self.transmit()


async def run_server(a):
    cfg = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN + ["hq-interop"])
    cfg.load_cert_chain(a.cert, a.key)
    cfg.secrets_log_file = keylog()
    logger = StreamingLogger(a.qlog_dir) if a.qlog_dir else None
    cfg.quic_logger = logger
    ServerProtocol.root = a.root
    # Session tickets kept in memory, as aioquic's own example server does: without a store
    # aioquic issues no tickets, so no client can resume or send 0-RTT.
    tickets = {}
    server = await serve(
        a.host,
        a.port,
        configuration=cfg,
        create_protocol=ServerProtocol,
        session_ticket_fetcher=tickets.pop,
        session_ticket_handler=lambda t: tickets.__setitem__(t.ticket, t),
        retry=a.retry == "yes",
    )
    log(f"listening on {a.host}:{a.port}")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(s, stop.set)
    await stop.wait()
    server.close()
    # Connections still open end here, so their qlog files are flushed whole.
    if logger is not None:
        logger.end_all()
    log("stopped")


class ClientProtocol(QuicConnectionProtocol):
    # HTTP/3 from the first packet on: the server's control and QPACK streams may arrive
    # before the request is sent.
    use_h3 = False

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.h3 = H3Connection(self._quic) if self.use_h3 else None
        self.body = bytearray()
        self.status = None
        self.done = asyncio.Event()

    def quic_event_received(self, event):
        if self.h3 is not None:
            for e in self.h3.handle_event(event):
                if isinstance(e, HeadersReceived):
                    self.status = dict(e.headers).get(b":status", b"").decode()
                    if e.stream_ended:
                        self.done.set()
                elif isinstance(e, DataReceived):
                    self.body += e.data
                    if e.stream_ended:
                        self.done.set()
        elif isinstance(event, StreamDataReceived):
            self.body += event.data
            if event.end_stream:
                self.done.set()


async def run_client(a):
    cfg = QuicConfiguration(is_client=True, alpn_protocols=ALPNS[a.alpn])
    cfg.server_name = a.sni
    if a.ca:
        cfg.load_verify_locations(a.ca)
    else:
        import ssl

        cfg.verify_mode = ssl.CERT_NONE
    cfg.secrets_log_file = keylog()
    if a.qlog_dir:
        cfg.quic_logger = StreamingLogger(a.qlog_dir)
    ClientProtocol.use_h3 = a.alpn == "h3"
    async with connect(a.host, a.port, configuration=cfg, create_protocol=ClientProtocol) as p:
        log(f"handshake done, alpn {p._quic.tls.alpn_negotiated}")
        sid = p._quic.get_next_available_stream_id()
        if a.alpn == "h3":
            p.h3.send_headers(
                sid,
                [
                    (b":method", b"GET"),
                    (b":scheme", b"https"),
                    (b":authority", a.sni.encode()),
                    (b":path", a.path.encode()),
                ],
                end_stream=True,
            )
        else:
            p._quic.send_stream_data(sid, f"GET {a.path}\r\n".encode(), end_stream=True)
        p.transmit()
        try:
            await asyncio.wait_for(p.done.wait(), a.timeout)
        except asyncio.TimeoutError:
            log(f"transfer failed: no complete response after {a.timeout} s")
            return 1
        p.close()
        await p.wait_closed()
    body = bytes(p.body)
    if a.output:
        os.makedirs(os.path.dirname(a.output) or ".", exist_ok=True)
        with open(a.output, "wb") as f:
            f.write(body)
    return check(body, p.status, a)


def check(body, status, a):
    if status is not None and status != "200":
        log(f"transfer failed: status {status}")
        return 1
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
    s.add_argument("--host", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--root", required=True)
    s.add_argument("--qlog-dir")
    s.add_argument("--retry", choices=["yes", "no"], default="no")
    c = sub.add_parser("client")
    c.add_argument("--host", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--sni", required=True)
    c.add_argument("--path", default="/index.html")
    c.add_argument("--alpn", default="h3")
    c.add_argument("--size", type=int, default=0)
    c.add_argument("--ca")
    c.add_argument("--output")
    c.add_argument("--qlog-dir")
    c.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    if a.role == "server":
        asyncio.run(run_server(a))
        return 0
    if a.alpn not in ALPNS:
        log(f"unsupported ALPN {a.alpn}")
        return 127
    try:
        return asyncio.run(run_client(a))
    except (ConnectionError, asyncio.TimeoutError) as e:
        log(f"transfer failed: {type(e).__name__} {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
