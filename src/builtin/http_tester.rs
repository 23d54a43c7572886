//! `panther builtin http-tester`: an HTTP/1.0 and HTTP/1.1 conformance tester over raw TCP.
//! Each check (in `http_checks`) opens its own connection, sends raw bytes (well-formed or
//! deliberately broken) and judges the response against RFC 9110 / RFC 9112. Every wait is
//! bounded by `--timeout-ms`. One `verdict` record per check, then the summary record.
//! Exit code: 0 all pass, 1 a check failed or was inconclusive, 2 the server could not be
//! reached or bad arguments.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use regex::Regex;
use serde_json::{Map, Value, json};

use super::http_checks::{self, CHECKS, Spec};
use super::{Summary, check_record};
use crate::events::Level;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The server, `HOST:PORT` (`[::1]:8080` and `::1:8080` both work for IPv6).
    #[arg(long)]
    pub target: String,
    /// HTTP version of the requests: 1.0 or 1.1 (1.1-only checks are skipped on 1.0).
    #[arg(long, default_value = "1.1", value_parser = ["1.0", "1.1"])]
    pub version: String,
    /// The checks to run, comma separated (default: all of them).
    #[arg(long, value_delimiter = ',')]
    pub checks: Vec<String>,
    /// A path the server serves with 200 to GET and HEAD.
    #[arg(long, default_value = "/")]
    pub path: String,
    /// How long to wait for each response (and for a close), in milliseconds.
    #[arg(long = "timeout-ms", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout_ms: u64,
}

/// What every check knows: where the server is and how to address it.
pub struct Ctx {
    pub addr: SocketAddr,
    /// The Host header value / absolute-form authority: `127.0.0.1:8080`, `[::1]:8080`.
    pub authority: String,
    pub version: &'static str,
    pub path: String,
    pub timeout: Duration,
    /// The response to a plain `GET path` (status and header fields), taken first.
    pub baseline: Option<Response>,
}

impl Ctx {
    pub fn v11(&self) -> bool {
        self.version == "1.1"
    }

    /// `METHOD TARGET HTTP/x.y`
    pub fn line(&self, method: &str, target: &str) -> String {
        format!("{method} {target} HTTP/{}", self.version)
    }

    /// A request: the request line, `Host` (when `host`), a User-Agent, `headers` (whole
    /// field lines), the empty line, then `body`.
    pub fn req(&self, line: &str, host: bool, headers: &[&str], body: &[u8]) -> Vec<u8> {
        let mut s = format!("{line}\r\n");
        if host {
            s.push_str(&format!("Host: {}\r\n", self.authority));
        }
        s.push_str("User-Agent: panther-http-tester\r\n");
        for h in headers {
            s.push_str(h);
            s.push_str("\r\n");
        }
        s.push_str("\r\n");
        let mut out = s.into_bytes();
        out.extend_from_slice(body);
        out
    }

    /// A well-formed `GET path` with `headers`.
    pub fn get(&self, target: &str, headers: &[&str]) -> Vec<u8> {
        self.req(&self.line("GET", target), true, headers, b"")
    }

    pub fn connect(&self) -> Result<Conn, String> {
        Conn::open(self.addr, self.timeout)
    }

    pub fn baseline_code(&self) -> u16 {
        self.baseline.as_ref().map_or(200, |r| r.code)
    }
}

/// Why a read stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    Timeout,
    Eof,
    Reset,
    Io(String),
    /// The bytes are not an HTTP response.
    Malformed(String),
}

/// A response that did not come; `got` holds whatever bytes did.
#[derive(Debug, Clone)]
pub struct NoResponse {
    pub stop: Stop,
    pub got: Vec<u8>,
    pub timeout: Duration,
}

impl NoResponse {
    pub fn describe(&self) -> String {
        let what = match &self.stop {
            Stop::Timeout => format!(
                "no complete response within {} ms",
                self.timeout.as_millis()
            ),
            Stop::Eof => "the server closed the connection without a response".to_string(),
            Stop::Reset => "the server reset the connection without a response".to_string(),
            Stop::Io(e) => format!("read failed: {e}"),
            Stop::Malformed(e) => format!("not an HTTP response (no status line): {e}"),
        };
        if self.got.is_empty() {
            what
        } else {
            format!("{what} ({} bytes: {})", self.got.len(), show(&self.got, 60))
        }
    }
}

/// A TCP connection with a read buffer and a deadline (reset by each send).
pub struct Conn {
    stream: TcpStream,
    pub buf: Vec<u8>,
    deadline: Instant,
    timeout: Duration,
    eof: Option<Stop>,
}

impl Conn {
    pub fn open(addr: SocketAddr, timeout: Duration) -> Result<Conn, String> {
        let stream = TcpStream::connect_timeout(&addr, timeout)
            .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
        let _ = stream.set_nodelay(true);
        let _ = stream.set_write_timeout(Some(timeout));
        Ok(Conn {
            stream,
            buf: Vec::new(),
            deadline: Instant::now() + timeout,
            timeout,
            eof: None,
        })
    }

    pub fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.deadline = Instant::now() + self.timeout;
        self.stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush())
            .map_err(|e| format!("sending the request failed: {e}"))
    }

    /// Restarts the deadline (before a wait that is not preceded by a send).
    pub fn rearm(&mut self) {
        self.deadline = Instant::now() + self.timeout;
    }

    /// Reads more bytes into `buf`.
    fn fill(&mut self) -> Result<usize, Stop> {
        if let Some(s) = &self.eof {
            return Err(s.clone());
        }
        let mut chunk = [0u8; 16_384];
        loop {
            let now = Instant::now();
            if now >= self.deadline {
                return Err(Stop::Timeout);
            }
            let _ = self.stream.set_read_timeout(Some(self.deadline - now));
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    self.eof = Some(Stop::Eof);
                    return Err(Stop::Eof);
                }
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(Stop::Timeout);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
                    ) =>
                {
                    self.eof = Some(Stop::Reset);
                    return Err(Stop::Reset);
                }
                Err(e) => {
                    let s = Stop::Io(e.to_string());
                    self.eof = Some(s.clone());
                    return Err(s);
                }
            }
        }
    }

    fn no_response(&self, stop: Stop) -> NoResponse {
        NoResponse {
            stop,
            got: self.buf.clone(),
            timeout: self.timeout,
        }
    }

    /// The status line and header fields of the next final response (1xx are skipped);
    /// the body stays in `buf`.
    pub fn read_head(&mut self) -> Result<Response, NoResponse> {
        loop {
            if let Some(end) = head_end(&self.buf) {
                let head: Vec<u8> = self.buf.drain(..end).collect();
                let resp = Response::parse_head(&head)
                    .map_err(|e| self.no_response(Stop::Malformed(e)))?;
                if (100..200).contains(&resp.code) && resp.code != 101 {
                    continue;
                }
                return Ok(resp);
            }
            if !self.buf.is_empty() && !self.buf.starts_with(&b"HTTP/"[..self.buf.len().min(5)]) {
                let line = self.buf.split(|b| *b == b'\n').next().unwrap_or(&[]);
                return Err(self.no_response(Stop::Malformed(format!(
                    "it starts with `{}`",
                    show(line, 60).trim_end_matches("\\r")
                ))));
            }
            if let Err(stop) = self.fill() {
                return Err(self.no_response(stop));
            }
        }
    }

    /// Reads the body of `resp` as its framing says (RFC 9112 §6.3).
    pub fn read_body(&mut self, resp: &mut Response, head_request: bool) {
        resp.framing = resp.framing_for(head_request);
        match resp.framing {
            Framing::None => resp.complete = true,
            Framing::Length(n) => {
                while self.buf.len() < n {
                    if self.fill().is_err() {
                        break;
                    }
                }
                let take = n.min(self.buf.len());
                resp.body = self.buf.drain(..take).collect();
                resp.complete = take == n;
            }
            Framing::Chunked => {
                let (body, complete) = self.read_chunked();
                resp.body = body;
                resp.complete = complete;
            }
            Framing::Close => {
                let (bytes, end) = self.read_to_close();
                resp.body = bytes;
                resp.complete = end == Stop::Eof || end == Stop::Reset;
            }
        }
    }

    /// A whole response (head and body).
    pub fn read_response(&mut self, head_request: bool) -> Result<Response, NoResponse> {
        let mut r = self.read_head()?;
        self.read_body(&mut r, head_request);
        Ok(r)
    }

    fn read_line(&mut self) -> Option<String> {
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Some(String::from_utf8_lossy(&line).trim_end().to_string());
            }
            self.fill().ok()?;
        }
    }

    fn read_chunked(&mut self) -> (Vec<u8>, bool) {
        let mut body = Vec::new();
        loop {
            let Some(line) = self.read_line() else {
                return (body, false);
            };
            let size_text = line.split(';').next().unwrap_or("").trim();
            let Ok(size) = usize::from_str_radix(size_text, 16) else {
                return (body, false);
            };
            if size == 0 {
                // Trailer section, up to the empty line.
                loop {
                    match self.read_line() {
                        Some(l) if l.is_empty() => return (body, true),
                        Some(_) => continue,
                        None => return (body, false),
                    }
                }
            }
            while self.buf.len() < size + 2 {
                if self.fill().is_err() {
                    let take = size.min(self.buf.len());
                    body.extend(self.buf.drain(..take));
                    return (body, false);
                }
            }
            body.extend(self.buf.drain(..size));
            self.buf.drain(..2);
        }
    }

    /// Everything until the server closes (or the deadline): the bytes and why it stopped.
    pub fn read_to_close(&mut self) -> (Vec<u8>, Stop) {
        let stop = loop {
            if let Err(s) = self.fill() {
                break s;
            }
        };
        (std::mem::take(&mut self.buf), stop)
    }
}

fn head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// HEAD, 1xx, 204, 304: no content.
    None,
    Length(usize),
    Chunked,
    /// Delimited by the server closing the connection.
    Close,
}

#[derive(Debug, Clone)]
pub struct Response {
    /// The status line without its line ending.
    pub status_line: String,
    /// The status line matches `HTTP/d.d SP ddd SP [reason]`.
    pub status_line_strict: bool,
    /// Every line of the head ends with CRLF (not a bare LF).
    pub crlf: bool,
    pub major: u8,
    pub minor: u8,
    pub code: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub framing: Framing,
    /// The whole body arrived as framed.
    pub complete: bool,
}

static STRICT_STATUS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^HTTP/([0-9])\.([0-9]) ([0-9]{3}) [\t\x20-\x7E\x{80}-\x{10FFFF}]*$")
        .expect("regex")
});
static LENIENT_STATUS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^HTTP/([0-9])\.([0-9])\s+([0-9]{3})").expect("regex"));

impl Response {
    pub fn parse_head(head: &[u8]) -> Result<Response, String> {
        let text = String::from_utf8_lossy(head);
        let mut lines = text.split_inclusive('\n');
        let first = lines.next().unwrap_or("");
        let mut crlf = first.ends_with("\r\n");
        let status_line = first.trim_end_matches(['\r', '\n']).to_string();
        let (strict, caps) = match STRICT_STATUS.captures(&status_line) {
            Some(c) => (true, c),
            None => (
                false,
                LENIENT_STATUS
                    .captures(&status_line)
                    .ok_or_else(|| format!("bad status line {}", show(first.as_bytes(), 80)))?,
            ),
        };
        let major = caps[1].parse().unwrap_or(0);
        let minor = caps[2].parse().unwrap_or(0);
        let code = caps[3].parse().unwrap_or(0);
        let mut headers = Vec::new();
        for l in lines {
            if !l.ends_with("\r\n") && l.ends_with('\n') {
                crlf = false;
            }
            let l = l.trim_end_matches(['\r', '\n']);
            if l.is_empty() {
                continue;
            }
            if let Some((n, v)) = l.split_once(':') {
                headers.push((n.to_string(), v.trim().to_string()));
            }
        }
        Ok(Response {
            status_line,
            status_line_strict: strict,
            crlf,
            major,
            minor,
            code,
            headers,
            body: Vec::new(),
            framing: Framing::None,
            complete: false,
        })
    }

    /// The first field named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A comma-separated field (Connection, Transfer-Encoding) lists `token`.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers_named(name)
            .iter()
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// The Content-Length, when present and valid (equal repeated values count as one).
    pub fn content_length(&self) -> Option<usize> {
        let values: Vec<&str> = self
            .headers_named("content-length")
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let first = *values.first()?;
        if values.iter().any(|v| *v != first) {
            return None;
        }
        first.parse().ok()
    }

    pub fn framing_for(&self, head_request: bool) -> Framing {
        if head_request || (100..200).contains(&self.code) || self.code == 204 || self.code == 304 {
            return Framing::None;
        }
        if let Some(te) = self.headers_named("transfer-encoding").last() {
            let last = te.rsplit(',').next().unwrap_or("").trim();
            return if last.eq_ignore_ascii_case("chunked") {
                Framing::Chunked
            } else {
                Framing::Close
            };
        }
        match self.content_length() {
            Some(n) => Framing::Length(n),
            None => Framing::Close,
        }
    }

    /// The server will close after this response (HTTP/1.0 without keep-alive, or close).
    pub fn closes(&self) -> bool {
        self.has_token("connection", "close")
            || (self.major == 1 && self.minor == 0 && !self.has_token("connection", "keep-alive"))
    }
}

/// Bytes as one printable line: CR and LF shown as `\r` `\n`, cut at `max` characters.
pub fn show(bytes: &[u8], max: usize) -> String {
    let mut s = String::new();
    for c in String::from_utf8_lossy(bytes).chars() {
        if s.chars().count() >= max {
            s.push('…');
            break;
        }
        match c {
            '\r' => s.push_str("\\r"),
            '\n' => s.push_str("\\n"),
            '\t' => s.push_str("\\t"),
            c if c.is_control() => s.push_str(&format!("\\x{:02x}", c as u32)),
            c => s.push(c),
        }
    }
    s
}

pub fn run(args: &Args) -> i32 {
    let (host, port) = match super::split_target(&args.target) {
        Ok(t) => t,
        Err(e) => return super::give_up(&format!("bad target: {e}")),
    };
    let addr = match super::resolve(&host, port) {
        Ok(a) => a,
        Err(e) => return super::give_up(&format!("bad target: {e}")),
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let authority = if bare.contains(':') {
        format!("[{bare}]:{port}")
    } else {
        format!("{bare}:{port}")
    };
    let version: &'static str = if args.version == "1.0" { "1.0" } else { "1.1" };
    if !args.path.starts_with('/') {
        return super::give_up(&format!(
            "bad --path `{}`: it must start with `/`",
            args.path
        ));
    }

    // Which checks, in the order of the table.
    let mut selected: Vec<&Spec> = Vec::new();
    let wanted: Vec<&str> = args
        .checks
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    for w in &wanted {
        if !CHECKS.iter().any(|c| c.name == *w) {
            let hint = crate::suggest::did_you_mean(w, CHECKS.iter().map(|c| c.name))
                .map(|h| format!("; {h}"))
                .unwrap_or_default();
            return super::give_up(&format!(
                "unknown check `{w}`{hint} (known: {})",
                CHECKS.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    for c in CHECKS {
        if wanted.is_empty() || wanted.contains(&c.name) {
            selected.push(c);
        }
    }

    let mut ctx = Ctx {
        addr,
        authority,
        version,
        path: args.path.clone(),
        timeout: Duration::from_millis(args.timeout_ms),
        baseline: None,
    };
    super::lifecycle(
        format!(
            "testing the HTTP/{version} server at {addr}: {} checks",
            selected.len()
        ),
        json!({
            "target": addr.to_string(),
            "version": version,
            "path": args.path,
            "timeout_ms": args.timeout_ms,
            "checks": selected.iter().map(|c| c.name).collect::<Vec<_>>(),
        }),
    );

    // First a plain GET: is anything there, and what does a normal answer look like?
    let mut conn = match ctx.connect() {
        Ok(c) => c,
        Err(e) => return super::give_up(&e),
    };
    let first = conn
        .send(&ctx.get(&ctx.path, &["Connection: close"]))
        .map_err(|e| NoResponse {
            stop: Stop::Io(e),
            got: Vec::new(),
            timeout: ctx.timeout,
        })
        .and_then(|()| conn.read_response(false));
    drop(conn);
    match first {
        Ok(r) => {
            let level = if r.code == 200 {
                Level::Info
            } else {
                Level::Warn
            };
            super::log(
                level,
                format!(
                    "GET {} → {} ({} header fields, {} body bytes)",
                    ctx.path,
                    r.status_line,
                    r.headers.len(),
                    r.body.len()
                ),
            );
            ctx.baseline = Some(r);
        }
        Err(e) => super::log(Level::Warn, format!("GET {}: {}", ctx.path, e.describe())),
    }

    let mut summary = Summary::new();
    for spec in selected {
        if spec.http11_only && !ctx.v11() {
            super::log(
                Level::Info,
                format!("{}: skipped (applies to HTTP/1.1 only)", spec.name),
            );
            continue;
        }
        let started = Instant::now();
        let o = (spec.run)(&ctx);
        let mut ev: Map<String, Value> = o.evidence;
        ev.insert(
            "elapsed_ms".into(),
            json!(started.elapsed().as_millis() as u64),
        );
        check_record(spec.name, o.verdict, spec.reference, &o.text, ev).print();
        summary.add(spec.name, o.verdict);
    }
    summary.finish()
}

/// The names of every check, for `--checks` help and tests.
pub fn check_names() -> Vec<&'static str> {
    http_checks::CHECKS.iter().map(|c| c.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_lines() {
        let r = Response::parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n").unwrap();
        assert!(r.status_line_strict && r.crlf);
        assert_eq!((r.major, r.minor, r.code), (1, 1, 200));
        assert_eq!(r.framing_for(false), Framing::Length(3));
        assert_eq!(r.framing_for(true), Framing::None);
        let r = Response::parse_head(b"HTTP/1.1 404 \r\n\r\n").unwrap();
        assert!(r.status_line_strict);
        let r = Response::parse_head(b"HTTP/1.1 200\r\n\r\n").unwrap();
        assert!(!r.status_line_strict);
        let r = Response::parse_head(b"HTTP/1.0  200 OK\n\n").unwrap();
        assert!(!r.status_line_strict && !r.crlf);
        assert!(Response::parse_head(b"SSH-2.0-x\r\n\r\n").is_err());
        let r = Response::parse_head(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nConnection: keep-alive, Close\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.framing_for(false), Framing::Chunked);
        assert!(r.closes());
        let r = Response::parse_head(
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.content_length(), None);
    }

    #[test]
    fn shows_bytes() {
        assert_eq!(show(b"GET / HTTP/1.1\r\n", 100), "GET / HTTP/1.1\\r\\n");
        assert_eq!(show(b"abcdef", 3), "abc…");
    }
}
