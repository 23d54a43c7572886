//! The HTTP conformance checks: one function per property of the `http` protocol plugin
//! (plus four more, see `CHECKS`), each citing the RFC 9110 / RFC 9112 section it tests.
//! Each check opens fresh connections, so one broken answer cannot spoil the next check.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::http_tester::{Conn, Ctx, NoResponse, Response, Stop, show};
use crate::verdict::Verdict;

/// One check: its property name, the RFC section, what it checks, whether it only applies
/// to HTTP/1.1, and the function.
pub struct Spec {
    pub name: &'static str,
    pub reference: &'static str,
    pub description: &'static str,
    pub http11_only: bool,
    pub run: fn(&Ctx) -> Outcome,
}

pub const CHECKS: &[Spec] = &[
    Spec {
        name: "status_line_well_formed",
        reference: "RFC 9112 §4",
        description: "Every response starts with a status line `HTTP/x.y SP 3-digit-code SP [reason]` ending in CRLF.",
        http11_only: false,
        run: status_line_well_formed,
    },
    Spec {
        name: "date_header",
        reference: "RFC 9110 §6.6.1",
        description: "Every 2xx, 3xx and 4xx response carries a Date header field in IMF-fixdate form.",
        http11_only: false,
        run: date_header,
    },
    Spec {
        name: "content_length_matches",
        reference: "RFC 9112 §6.2; RFC 9110 §8.6",
        description: "When a response has Content-Length, the body that follows has exactly that many bytes.",
        http11_only: false,
        run: content_length_matches,
    },
    Spec {
        name: "head_no_body",
        reference: "RFC 9110 §9.3.2",
        description: "A response to HEAD has no content, and its header fields match those of the same GET.",
        http11_only: false,
        run: head_no_body,
    },
    Spec {
        name: "not_found_404",
        reference: "RFC 9110 §15.5.5",
        description: "A GET for a resource the server does not have gets 404 (Not Found).",
        http11_only: false,
        run: not_found_404,
    },
    Spec {
        name: "unknown_method_501",
        reference: "RFC 9110 §9.1",
        description: "A request with a method the server does not recognise gets 501 (Not Implemented).",
        http11_only: false,
        run: unknown_method_501,
    },
    Spec {
        name: "bad_request_line_400",
        reference: "RFC 9112 §3",
        description: "An invalid request line gets 400 (Bad Request) (or a 301 redirect), not a success and not a silent close.",
        http11_only: false,
        run: bad_request_line_400,
    },
    Spec {
        name: "host_required",
        reference: "RFC 9112 §3.2",
        description: "An HTTP/1.1 request without a Host header field, or with two, gets 400 (Bad Request).",
        http11_only: true,
        run: host_required,
    },
    Spec {
        name: "no_whitespace_before_colon",
        reference: "RFC 9112 §5.1",
        description: "A request with whitespace between a header field name and its colon gets 400 (Bad Request).",
        http11_only: false,
        run: no_whitespace_before_colon,
    },
    Spec {
        name: "persistent_connections",
        reference: "RFC 9112 §9.3",
        description: "An HTTP/1.1 connection stays open for a second request unless the server sent `Connection: close`.",
        http11_only: true,
        run: persistent_connections,
    },
    Spec {
        name: "connection_close_honoured",
        reference: "RFC 9112 §9.6",
        description: "After the response to a request carrying `Connection: close`, the server closes the connection.",
        http11_only: false,
        run: connection_close_honoured,
    },
    Spec {
        name: "absolute_form_accepted",
        reference: "RFC 9112 §3.2.2",
        description: "A request whose target is in absolute form (`GET http://host/path`) is served like its origin form (a server MUST accept the absolute form).",
        http11_only: false,
        run: absolute_form_accepted,
    },
    Spec {
        name: "conflicting_content_length_400",
        reference: "RFC 9112 §6.3; RFC 9110 §8.6",
        description: "A request with two Content-Length fields of different values gets 400 (Bad Request) and the connection is closed.",
        http11_only: false,
        run: conflicting_content_length_400,
    },
    Spec {
        name: "unknown_transfer_coding_501",
        reference: "RFC 9112 §6.1",
        description: "A request with a transfer coding the server does not understand (`Transfer-Encoding: x-panther, chunked`) gets 501 (Not Implemented). HTTP/1.1 only.",
        http11_only: true,
        run: unknown_transfer_coding_501,
    },
    Spec {
        name: "chunked_request_body",
        reference: "RFC 9112 §7.1; RFC 9112 §6.3",
        description: "A request with a chunked body is read to its last chunk, so a request pipelined after it is answered as a request (no desynchronisation). HTTP/1.1 only.",
        http11_only: true,
        run: chunked_request_body,
    },
];

/// A check's verdict, its one-line reason and evidence fields.
pub struct Outcome {
    pub verdict: Verdict,
    pub text: String,
    pub evidence: Map<String, Value>,
}

impl Outcome {
    fn new(verdict: Verdict, text: impl Into<String>) -> Outcome {
        Outcome {
            verdict,
            text: text.into(),
            evidence: Map::new(),
        }
    }
    fn pass(text: impl Into<String>) -> Outcome {
        Outcome::new(Verdict::Pass, text)
    }
    fn fail(text: impl Into<String>) -> Outcome {
        Outcome::new(Verdict::Fail, text)
    }
    fn inconclusive(text: impl Into<String>) -> Outcome {
        Outcome::new(Verdict::Inconclusive, text)
    }
    fn error(text: impl Into<String>) -> Outcome {
        Outcome::new(Verdict::Error, text)
    }
    fn with(mut self, key: &str, v: impl Into<Value>) -> Outcome {
        self.evidence.insert(key.to_string(), v.into());
        self
    }
    /// `evidence`: the one line a human reads first.
    fn evidence(self, v: impl Into<String>) -> Outcome {
        self.with("evidence", v.into())
    }
}

/// Something went wrong before a response could be judged.
enum Trouble {
    /// Could not connect or send: the check cannot run (error).
    Connect(String),
    /// No (complete, parseable) response: usually the server's fault.
    NoResponse(NoResponse),
}

impl Trouble {
    /// The outcome when no response is a failure of the property.
    fn outcome(self, request: &[u8]) -> Outcome {
        match self {
            Trouble::Connect(e) => Outcome::error(e).with("request", show(request, 200)),
            Trouble::NoResponse(n) => Outcome::fail(n.describe())
                .evidence(n.describe())
                .with("request", show(request, 200)),
        }
    }
}

/// Opens a connection, sends `request`, reads the whole response.
fn exchange(ctx: &Ctx, request: &[u8], head: bool) -> Result<(Response, Conn), Trouble> {
    let mut conn = ctx.connect().map_err(Trouble::Connect)?;
    conn.send(request).map_err(Trouble::Connect)?;
    let r = conn.read_response(head).map_err(Trouble::NoResponse)?;
    Ok((r, conn))
}

/// Opens a connection, sends `request`, reads only the response's head (the caller reads
/// what follows itself).
fn exchange_head(ctx: &Ctx, request: &[u8]) -> Result<(Response, Conn), Trouble> {
    let mut conn = ctx.connect().map_err(Trouble::Connect)?;
    conn.send(request).map_err(Trouble::Connect)?;
    let r = conn.read_head().map_err(Trouble::NoResponse)?;
    Ok((r, conn))
}

/// A path no server has.
fn missing_path() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("/panther-no-such-resource-{}-{nanos}", std::process::id())
}

/// The first line of a request, for evidence.
fn first_line(request: &[u8]) -> String {
    let line = request.split(|b| *b == b'\n').next().unwrap_or(&[]);
    show(line, 120).trim_end_matches("\\r").to_string()
}

/// `request line → status line`, the usual evidence.
fn said(request: &[u8], r: &Response) -> String {
    format!("{} → {}", first_line(request), r.status_line)
}

fn status_line_well_formed(ctx: &Ctx) -> Outcome {
    let mut lines = Vec::new();
    let mut bad = Vec::new();
    for target in [ctx.path.clone(), missing_path()] {
        let req = ctx.get(&target, &["Connection: close"]);
        let (r, _) = match exchange(ctx, &req, false) {
            Ok(x) => x,
            Err(t) => return t.outcome(&req),
        };
        lines.push(show(r.status_line.as_bytes(), 120));
        if !r.status_line_strict {
            bad.push(format!(
                "`{}` is not `HTTP-version SP status-code SP [reason-phrase]`",
                show(r.status_line.as_bytes(), 120)
            ));
        } else if r.major != 1 {
            bad.push(format!(
                "`{}` answers an HTTP/{} request with major version {}",
                r.status_line, ctx.version, r.major
            ));
        }
        if !r.crlf {
            bad.push(format!(
                "the head of `{}` has lines ending in a bare LF, not CRLF",
                r.status_line
            ));
        }
    }
    if bad.is_empty() {
        Outcome::pass(format!("well formed: {}", lines.join(" / "))).evidence(lines.join(" / "))
    } else {
        Outcome::fail(bad.join("; ")).evidence(lines.join(" / "))
    }
}

static IMF_FIXDATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT$",
    )
    .expect("regex")
});

fn date_header(ctx: &Ctx) -> Outcome {
    let mut seen = Vec::new();
    let mut bad = Vec::new();
    for target in [ctx.path.clone(), missing_path()] {
        let req = ctx.get(&target, &["Connection: close"]);
        let (r, _) = match exchange(ctx, &req, false) {
            Ok(x) => x,
            Err(t) => return t.outcome(&req),
        };
        if !(200..500).contains(&r.code) {
            seen.push(format!("{} (not 2xx-4xx, not judged)", r.status_line));
            continue;
        }
        match r.header("date") {
            None => bad.push(format!("{} has no Date", said(&req, &r))),
            Some(d) if !IMF_FIXDATE.is_match(d) => bad.push(format!(
                "{}: Date `{d}` is not IMF-fixdate (RFC 9110 §5.6.7)",
                said(&req, &r)
            )),
            Some(d) => seen.push(format!("{} with Date: {d}", r.status_line)),
        }
    }
    if !bad.is_empty() {
        Outcome::fail(bad.join("; ")).evidence(bad.join("; "))
    } else if seen.iter().all(|s| s.ends_with("not judged)")) {
        Outcome::inconclusive("no 2xx, 3xx or 4xx response to judge").evidence(seen.join("; "))
    } else {
        Outcome::pass(seen.join("; ")).evidence(seen.join("; "))
    }
}

/// Reads a response to `request` as raw bytes until the server closes (the request says
/// `Connection: close`), then compares the body after the head with Content-Length.
fn content_length_matches(ctx: &Ctx) -> Outcome {
    let mut judged = Vec::new();
    let mut bad = Vec::new();
    let mut unframed = Vec::new();
    for target in [ctx.path.clone(), missing_path()] {
        let req = ctx.get(&target, &["Connection: close"]);
        let (r, mut conn) = match exchange_head(ctx, &req) {
            Ok(x) => x,
            Err(t) => return t.outcome(&req),
        };
        let Some(cl) = r.content_length() else {
            let te = r.header("transfer-encoding").unwrap_or("none");
            unframed.push(format!(
                "{} has no (valid) Content-Length (Transfer-Encoding: {te})",
                said(&req, &r)
            ));
            continue;
        };
        let (body, stop) = conn.read_to_close();
        let how = match stop {
            Stop::Eof | Stop::Reset => "then the server closed",
            Stop::Timeout => "and the server kept the connection open (timed out)",
            _ => "then the read failed",
        };
        if body.len() == cl {
            judged.push(format!(
                "{}: Content-Length {cl}, {} bytes",
                r.status_line,
                body.len()
            ));
        } else {
            bad.push(format!(
                "{}: Content-Length {cl} but {} bytes followed {how}",
                said(&req, &r),
                body.len()
            ));
        }
    }
    if !bad.is_empty() {
        Outcome::fail(bad.join("; ")).evidence(bad.join("; "))
    } else if judged.is_empty() {
        Outcome::inconclusive(format!(
            "no response carried a Content-Length: {}",
            unframed.join("; ")
        ))
        .evidence(unframed.join("; "))
    } else {
        Outcome::pass(judged.join("; ")).evidence(judged.join("; "))
    }
}

/// Header fields whose values must agree between HEAD and GET when both carry them.
const SAME_AS_GET: [&str; 4] = ["content-type", "content-length", "last-modified", "etag"];

fn head_no_body(ctx: &Ctx) -> Outcome {
    let req = ctx.req(
        &ctx.line("HEAD", &ctx.path),
        true,
        &["Connection: close"],
        b"",
    );
    let (r, mut conn) = match exchange_head(ctx, &req) {
        Ok(x) => x,
        Err(t) => return t.outcome(&req),
    };
    let (after, _) = conn.read_to_close();
    let mut bad = Vec::new();
    if !after.is_empty() {
        bad.push(format!(
            "{} was followed by {} bytes of content: {}",
            said(&req, &r),
            after.len(),
            show(&after, 60)
        ));
    }
    let mut compared = Vec::new();
    match &ctx.baseline {
        Some(get) => {
            if get.code != r.code {
                bad.push(format!(
                    "HEAD got {} but GET got {}",
                    r.status_line, get.status_line
                ));
            }
            for name in SAME_AS_GET {
                if let (Some(h), Some(g)) = (r.header(name), get.header(name)) {
                    if h == g {
                        compared.push(name);
                    } else {
                        bad.push(format!("{name} differs: HEAD `{h}`, GET `{g}`"));
                    }
                }
            }
        }
        None => bad.push("no GET response to compare with".to_string()),
    }
    if bad.is_empty() {
        Outcome::pass(format!(
            "{}, no content; {} as for GET",
            said(&req, &r),
            if compared.is_empty() {
                "no field to compare".to_string()
            } else {
                format!("{} the same", compared.join(", "))
            }
        ))
        .evidence(said(&req, &r))
    } else {
        Outcome::fail(bad.join("; ")).evidence(bad.join("; "))
    }
}

fn not_found_404(ctx: &Ctx) -> Outcome {
    let req = ctx.get(&missing_path(), &["Connection: close"]);
    let (r, _) = match exchange(ctx, &req, false) {
        Ok(x) => x,
        Err(t) => return t.outcome(&req),
    };
    let ev = said(&req, &r);
    match r.code {
        404 => Outcome::pass(ev.clone()).evidence(ev),
        410 => Outcome::pass(format!("{ev} (410 Gone is allowed too)")).evidence(ev),
        _ => Outcome::fail(format!("{ev}, not 404")).evidence(ev),
    }
}

fn unknown_method_501(ctx: &Ctx) -> Outcome {
    let req = ctx.req(
        &ctx.line("PANTHERPROBE", &ctx.path),
        true,
        &["Connection: close"],
        b"",
    );
    let (r, _) = match exchange(ctx, &req, false) {
        Ok(x) => x,
        Err(t) => return t.outcome(&req),
    };
    let ev = said(&req, &r);
    match r.code {
        501 => Outcome::pass(ev.clone()).evidence(ev),
        405 => Outcome::fail(format!(
            "{ev}: 405 says the method is known but not allowed here; an unrecognised method gets 501 (RFC 9110 §15.6.2)"
        ))
        .evidence(ev)
        .with("allow", r.header("allow").unwrap_or("")),
        _ => Outcome::fail(format!("{ev}, not 501")).evidence(ev),
    }
}

/// A request whose line is broken: 400 (or a 301 redirect) expected.
fn expect_400(ctx: &Ctx, req: &[u8], what: &str, also_ok: &[u16]) -> Result<String, String> {
    match exchange(ctx, req, false) {
        Ok((r, _)) if r.code == 400 || also_ok.contains(&r.code) => {
            Ok(format!("{what}: {}", said(req, &r)))
        }
        Ok((r, _)) => Err(format!("{what}: {}, not 400", said(req, &r))),
        Err(Trouble::Connect(e)) => Err(format!("{what}: {e}")),
        Err(Trouble::NoResponse(n)) => {
            Err(format!("{what}: {} → {}", first_line(req), n.describe()))
        }
    }
}

fn judge_all(results: Vec<Result<String, String>>) -> Outcome {
    let ok: Vec<String> = results.iter().filter_map(|r| r.clone().ok()).collect();
    let bad: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    if bad.is_empty() {
        Outcome::pass(ok.join("; ")).evidence(ok.join("; "))
    } else {
        Outcome::fail(bad.join("; ")).evidence(bad.join("; "))
    }
}

fn bad_request_line_400(ctx: &Ctx) -> Outcome {
    let v = ctx.version;
    let variants = [
        (
            "a space inside the request-target",
            format!("GET /panther bad HTTP/{v}"),
        ),
        ("an invalid HTTP-version", "GET / HTPT/1.1".to_string()),
    ];
    let results = variants
        .iter()
        .map(|(what, line)| {
            let req = ctx.req(line, true, &["Connection: close"], b"");
            expect_400(ctx, &req, what, &[301])
        })
        .collect();
    judge_all(results)
}

fn host_required(ctx: &Ctx) -> Outcome {
    let line = ctx.line("GET", &ctx.path);
    let no_host = ctx.req(&line, false, &["Connection: close"], b"");
    let two_hosts = ctx.req(
        &line,
        true,
        &["Host: other.example", "Connection: close"],
        b"",
    );
    judge_all(vec![
        expect_400(ctx, &no_host, "no Host", &[]),
        expect_400(ctx, &two_hosts, "two Host fields", &[]),
    ])
}

fn no_whitespace_before_colon(ctx: &Ctx) -> Outcome {
    let req = ctx.req(
        &ctx.line("GET", &ctx.path),
        true,
        &["X-Panther-Probe : 1", "Connection: close"],
        b"",
    );
    judge_all(vec![expect_400(ctx, &req, "`X-Panther-Probe : 1`", &[])])
}

fn persistent_connections(ctx: &Ctx) -> Outcome {
    let req = ctx.get(&ctx.path, &[]);
    let (r1, mut conn) = match exchange(ctx, &req, false) {
        Ok(x) => x,
        Err(t) => return t.outcome(&req),
    };
    if r1.major == 1 && r1.minor == 0 && !r1.has_token("connection", "keep-alive") {
        return Outcome::inconclusive(format!(
            "{}: the server answers as HTTP/1.0 (without keep-alive), so HTTP/1.1 persistence cannot be judged",
            said(&req, &r1)
        ))
        .evidence(said(&req, &r1));
    }
    if r1.has_token("connection", "close") {
        return Outcome::pass(format!(
            "{} with `Connection: close`: the server opts out of persistence, as allowed",
            said(&req, &r1)
        ))
        .evidence(said(&req, &r1));
    }
    if !r1.complete {
        return Outcome::fail(format!(
            "{}: the body is not delimited by Content-Length or chunked, so the connection cannot persist, yet no `Connection: close`",
            said(&req, &r1)
        ))
        .evidence(said(&req, &r1));
    }
    let req2 = ctx.get(&ctx.path, &["Connection: close"]);
    if let Err(e) = conn.send(&req2) {
        return Outcome::fail(format!(
            "after {}, without `Connection: close`, the second request could not be sent: {e}",
            said(&req, &r1)
        ))
        .evidence(e);
    }
    match conn.read_response(false) {
        Ok(r2) => {
            let ev = format!("{}; same connection: {}", said(&req, &r1), said(&req2, &r2));
            Outcome::pass(format!("two requests answered on one connection: {ev}")).evidence(ev)
        }
        Err(n) => {
            let ev = format!(
                "{} (no `Connection: close`); second request on the same connection: {}",
                said(&req, &r1),
                n.describe()
            );
            Outcome::fail(ev.clone()).evidence(ev)
        }
    }
}

fn connection_close_honoured(ctx: &Ctx) -> Outcome {
    let req = ctx.get(&ctx.path, &["Connection: close"]);
    let (r, mut conn) = match exchange(ctx, &req, false) {
        Ok(x) => x,
        Err(t) => return t.outcome(&req),
    };
    conn.rearm();
    let (more, stop) = conn.read_to_close();
    let ev = said(&req, &r);
    match stop {
        Stop::Eof | Stop::Reset if more.is_empty() => {
            Outcome::pass(format!("{ev}, then the server closed the connection")).evidence(ev)
        }
        Stop::Timeout if more.is_empty() => Outcome::fail(format!(
            "{ev}, but the connection was still open {} ms later",
            ctx.timeout.as_millis()
        ))
        .evidence(ev),
        _ => Outcome::fail(format!(
            "{ev}, then {} more bytes: {}",
            more.len(),
            show(&more, 60)
        ))
        .evidence(ev),
    }
}

fn absolute_form_accepted(ctx: &Ctx) -> Outcome {
    let target = format!("http://{}{}", ctx.authority, ctx.path);
    let req = ctx.get(&target, &["Connection: close"]);
    let (r, _) = match exchange(ctx, &req, false) {
        Ok(x) => x,
        Err(t) => return t.outcome(&req),
    };
    let want = ctx.baseline_code();
    let ev = said(&req, &r);
    if r.code == want {
        Outcome::pass(format!("{ev}, as GET {} in origin form", ctx.path)).evidence(ev)
    } else {
        Outcome::fail(format!(
            "{ev}, but GET {} in origin form got {want}",
            ctx.path
        ))
        .evidence(ev)
    }
}

fn conflicting_content_length_400(ctx: &Ctx) -> Outcome {
    let req = ctx.req(
        &ctx.line("GET", &ctx.path),
        true,
        &["Content-Length: 5", "Content-Length: 6"],
        b"hello!",
    );
    let (r, mut conn) = match exchange(ctx, &req, false) {
        Ok(x) => x,
        Err(t) => return t.outcome(&req),
    };
    let ev = said(&req, &r);
    if r.code != 400 {
        return Outcome::fail(format!(
            "{ev} for `Content-Length: 5` + `Content-Length: 6`, not 400"
        ))
        .evidence(ev);
    }
    conn.rearm();
    let (more, stop) = conn.read_to_close();
    match stop {
        Stop::Eof | Stop::Reset => {
            Outcome::pass(format!("{ev}, then the server closed")).evidence(ev)
        }
        _ => Outcome::fail(format!(
            "{ev}, but the connection stayed open (got {} more bytes); the server MUST close it",
            more.len()
        ))
        .evidence(ev),
    }
}

fn unknown_transfer_coding_501(ctx: &Ctx) -> Outcome {
    let req = ctx.req(
        &ctx.line("GET", &ctx.path),
        true,
        &["Transfer-Encoding: x-panther, chunked", "Connection: close"],
        b"5\r\nhello\r\n0\r\n\r\n",
    );
    let (r, _) = match exchange(ctx, &req, false) {
        Ok(x) => x,
        Err(t) => return t.outcome(&req),
    };
    let ev = format!(
        "{} with `Transfer-Encoding: x-panther, chunked` → {}",
        first_line(&req),
        r.status_line
    );
    if r.code == 501 {
        Outcome::pass(ev.clone()).evidence(ev)
    } else {
        Outcome::fail(format!("{ev}, not 501")).evidence(ev)
    }
}

fn chunked_request_body(ctx: &Ctx) -> Outcome {
    let mut req = ctx.req(
        &ctx.line("GET", &ctx.path),
        true,
        &["Transfer-Encoding: chunked"],
        b"5\r\nhello\r\n0\r\n\r\n",
    );
    let second = ctx.get(&ctx.path, &["Connection: close"]);
    req.extend_from_slice(&second);
    let (r1, mut conn) = match exchange(ctx, &req, false) {
        Ok(x) => x,
        Err(t) => return t.outcome(&req),
    };
    let want = ctx.baseline_code();
    let first = format!(
        "{} with a chunked body → {}",
        first_line(&req),
        r1.status_line
    );
    if r1.code == 400 {
        return Outcome::fail(format!("{first}: a valid chunked body was rejected"))
            .evidence(first);
    }
    match conn.read_response(false) {
        Ok(r2) if r2.code == want => {
            let ev = format!("{first}; pipelined {}", said(&second, &r2));
            Outcome::pass(ev.clone()).evidence(ev)
        }
        Ok(r2) => {
            let ev = format!("{first}; pipelined {}", said(&second, &r2));
            Outcome::fail(format!(
                "{ev}, not {want}: the chunked body was not read as a body, so the server lost the request framing"
            ))
            .evidence(ev)
        }
        Err(n) if r1.closes() => Outcome::inconclusive(format!(
            "{first} and the server closed the connection, so the pipelined request was not answered ({})",
            n.describe()
        ))
        .evidence(first),
        Err(n) => {
            let ev = format!("{first}; pipelined {}: {}", first_line(&second), n.describe());
            Outcome::fail(format!(
                "{ev}: the chunked body was not consumed as a body, so the server lost the request framing"
            ))
            .evidence(ev)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_referenced() {
        let mut names: Vec<&str> = CHECKS.iter().map(|c| c.name).collect();
        assert!(names.len() >= 12);
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CHECKS.len());
        assert!(CHECKS.iter().all(|c| c.reference.starts_with("RFC 911")));
    }

    #[test]
    fn imf_fixdate() {
        assert!(IMF_FIXDATE.is_match("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert!(!IMF_FIXDATE.is_match("Sunday, 06-Nov-94 08:49:37 GMT"));
    }
}
