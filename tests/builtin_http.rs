//! The built-in HTTP conformance tester (`panther builtin http-tester`) as a real process,
//! against a small conformant server written here (everything passes), Python's
//! http.server and nginx (their known violations), a server that never answers (bounded
//! time) and nothing at all (exit 2). Every child process is killed on drop.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_panther");

/// A child process killed (and reaped) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_tcp(port: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

struct Run {
    code: i32,
    verdicts: BTreeMap<String, String>,
    records: Vec<Value>,
    stdout: String,
    elapsed: Duration,
}

impl Run {
    fn check(&self, property: &str) -> &Value {
        self.records
            .iter()
            .find(|r| r["data"]["property"] == property)
            .unwrap_or_else(|| panic!("no verdict for {property}:\n{}", self.stdout))
    }

    fn overall(&self) -> &Value {
        self.records
            .iter()
            .rev()
            .find(|r| r["data"]["overall"].is_string())
            .unwrap_or_else(|| panic!("no summary:\n{}", self.stdout))
    }

    /// Verdicts as a table, for failure messages and the report.
    fn table(&self) -> String {
        self.records
            .iter()
            .filter(|r| r["data"]["property"].is_string())
            .map(|r| format!("{:<32} {}", r["data"]["property"], r["text"]))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn http_tester(target: &str, extra: &[&str]) -> Run {
    let state = tempfile::tempdir().unwrap();
    let mut args = vec!["builtin", "http-tester", "--target", target];
    if !extra.contains(&"--timeout-ms") {
        args.extend(["--timeout-ms", "1500"]);
    }
    args.extend_from_slice(extra);
    let started = Instant::now();
    let mut child = Proc(
        Command::new(BIN)
            .args(&args)
            .env("PANTHER_LOG_FILE", state.path().join("panther.log"))
            .env("HOME", state.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut out = child.0.stdout.take().unwrap();
    let mut err = child.0.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "http-tester did not finish");
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    let stdout = reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    assert!(!stderr.contains("panicked"), "tester panicked:\n{stderr}");
    let records: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a record: {l}: {e}")))
        .collect();
    let verdicts = records
        .iter()
        .filter(|r| r["kind"] == "verdict" && r["data"]["property"].is_string())
        .map(|r| {
            (
                r["data"]["property"].as_str().unwrap().to_string(),
                r["data"]["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    Run {
        code: status.code().unwrap_or(-1),
        verdicts,
        records,
        stdout,
        elapsed,
    }
}

const ALL: [&str; 15] = [
    "status_line_well_formed",
    "date_header",
    "content_length_matches",
    "head_no_body",
    "not_found_404",
    "unknown_method_501",
    "bad_request_line_400",
    "host_required",
    "no_whitespace_before_colon",
    "persistent_connections",
    "connection_close_honoured",
    "absolute_form_accepted",
    "conflicting_content_length_400",
    "unknown_transfer_coding_501",
    "chunked_request_body",
];

const HTTP11_ONLY: [&str; 4] = [
    "host_required",
    "persistent_connections",
    "unknown_transfer_coding_501",
    "chunked_request_body",
];

fn expected(version: &str, failing: &[&str]) -> BTreeMap<String, String> {
    ALL.iter()
        .filter(|p| version == "1.1" || !HTTP11_ONLY.contains(p))
        .map(|p| {
            let v = if failing.contains(p) { "fail" } else { "pass" };
            (p.to_string(), v.to_string())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// A small HTTP/1.1 origin server that follows RFC 9110 / RFC 9112 on every point checked.

const PAGE: &[u8] = b"<p>hello</p>\n";

fn imf_fixdate(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).unwrap().as_secs();
    let u = panther::results::utc_from_secs(secs as i64);
    let wd = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        [u.weekday().number_days_from_monday() as usize];
    let mn = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][u8::from(u.month()) as usize - 1];
    format!(
        "{wd}, {:02} {mn} {} {:02}:{:02}:{:02} GMT",
        u.day(),
        u.year(),
        u.hour(),
        u.minute(),
        u.second()
    )
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

struct Req {
    method: String,
    target: String,
    minor: u8,
    headers: Vec<(String, String)>,
}

impl Req {
    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn tokens(&self, name: &str) -> Vec<String> {
        self.all(name)
            .iter()
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect()
    }
}

fn respond(w: &mut TcpStream, code: u16, reason: &str, head: bool, close: bool, extra: &str) {
    let body: &[u8] = if code == 200 { PAGE } else { reason.as_bytes() };
    let mut r = format!(
        "HTTP/1.1 {code} {reason}\r\nDate: {}\r\nContent-Type: text/html\r\nContent-Length: {}\r\n{extra}",
        imf_fixdate(SystemTime::now()),
        body.len()
    );
    if close {
        r.push_str("Connection: close\r\n");
    }
    r.push_str("\r\n");
    let mut bytes = r.into_bytes();
    if !head {
        bytes.extend_from_slice(body);
    }
    let _ = w.write_all(&bytes);
}

/// Closes politely: FIN first, then drain what the client still sends, so the response is
/// not lost to a reset.
fn close(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(300)));
    let mut sink = [0u8; 4096];
    let mut s = stream;
    while let Ok(n) = s.read(&mut sink) {
        if n == 0 {
            break;
        }
    }
}

fn read_chunked(r: &mut BufReader<TcpStream>) -> Option<()> {
    loop {
        let mut line = String::new();
        r.read_line(&mut line).ok()?;
        let size = usize::from_str_radix(line.trim().split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            loop {
                let mut t = String::new();
                r.read_line(&mut t).ok()?;
                if t.trim().is_empty() {
                    return Some(());
                }
            }
        }
        let mut data = vec![0u8; size + 2];
        r.read_exact(&mut data).ok()?;
    }
}

/// One connection: requests until close. Returns when the connection should end.
fn serve_connection(stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut w = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    loop {
        let mut line = String::new();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut head = Vec::new();
        loop {
            let mut l = String::new();
            match r.read_line(&mut l) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if l == "\r\n" || l == "\n" {
                break;
            }
            head.push(l.trim_end_matches(['\r', '\n']).to_string());
        }
        let bad = |w: &mut TcpStream, r: &BufReader<TcpStream>| {
            respond(w, 400, "Bad Request", false, true, "");
            close(r.get_ref());
        };
        // request-line = method SP request-target SP HTTP-version (RFC 9112 §3)
        let rl = line.trim_end_matches(['\r', '\n']);
        let parts: Vec<&str> = rl.split(' ').collect();
        let ok_line = parts.len() == 3
            && !parts[0].is_empty()
            && parts[0].chars().all(is_tchar)
            && !parts[1].is_empty()
            && parts[1].chars().all(|c| c.is_ascii_graphic());
        let minor = match parts.get(2).map(|v| v.as_bytes()) {
            Some([b'H', b'T', b'T', b'P', b'/', b'1', b'.', m]) if m.is_ascii_digit() => m - b'0',
            _ => {
                bad(&mut w, &r);
                return;
            }
        };
        if !ok_line {
            bad(&mut w, &r);
            return;
        }
        // field-line = field-name ":" OWS field-value OWS; no whitespace before ':' (§5.1)
        let mut headers = Vec::new();
        for h in &head {
            match h.split_once(':') {
                Some((n, v)) if !n.is_empty() && n.chars().all(is_tchar) => {
                    headers.push((n.to_string(), v.trim().to_string()))
                }
                _ => {
                    bad(&mut w, &r);
                    return;
                }
            }
        }
        let req = Req {
            method: parts[0].to_string(),
            target: parts[1].to_string(),
            minor,
            headers,
        };
        if req.minor >= 1 && req.all("host").len() != 1 {
            bad(&mut w, &r);
            return;
        }
        // Message body framing (RFC 9112 §6.1, §6.3).
        let te = req.tokens("transfer-encoding");
        if !te.is_empty() {
            if req.minor == 0 || te.last().map(String::as_str) != Some("chunked") {
                bad(&mut w, &r);
                return;
            }
            if te.iter().any(|c| c != "chunked") {
                respond(&mut w, 501, "Not Implemented", false, true, "");
                close(r.get_ref());
                return;
            }
            if read_chunked(&mut r).is_none() {
                bad(&mut w, &r);
                return;
            }
        } else {
            let cls: Vec<String> = req.tokens("content-length");
            if let Some(first) = cls.first() {
                if cls.iter().any(|c| c != first) {
                    bad(&mut w, &r);
                    return;
                }
                let Ok(n) = first.parse::<usize>() else {
                    bad(&mut w, &r);
                    return;
                };
                let mut body = vec![0u8; n];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
            }
        }
        let conn = req.tokens("connection");
        let closing = conn.iter().any(|t| t == "close")
            || (req.minor == 0 && !conn.iter().any(|t| t == "keep-alive"));
        let path = match req.target.strip_prefix("http://") {
            Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]).to_string(),
            None => req.target.clone(),
        };
        let head_req = req.method == "HEAD";
        match req.method.as_str() {
            "GET" | "HEAD" => {
                if path == "/" || path == "/index.html" {
                    respond(&mut w, 200, "OK", head_req, closing, "");
                } else {
                    respond(&mut w, 404, "Not Found", head_req, closing, "");
                }
            }
            "POST" | "PUT" | "DELETE" | "OPTIONS" | "PATCH" | "CONNECT" | "TRACE" => respond(
                &mut w,
                405,
                "Method Not Allowed",
                false,
                closing,
                "Allow: GET, HEAD\r\n",
            ),
            _ => respond(&mut w, 501, "Not Implemented", false, closing, ""),
        }
        if closing {
            close(r.get_ref());
            return;
        }
    }
}

/// Starts the conformant server on a thread; returns its port. It lives as long as the
/// test process (threads, no child process).
fn conformant_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().map_while(Result::ok) {
            std::thread::spawn(move || serve_connection(s));
        }
    });
    port
}

#[test]
fn the_date_helper_is_right() {
    assert_eq!(
        imf_fixdate(UNIX_EPOCH + Duration::from_secs(784_111_777)),
        "Sun, 06 Nov 1994 08:49:37 GMT"
    );
}

#[test]
fn a_conformant_server_passes_every_check() {
    let port = conformant_server();
    for version in ["1.1", "1.0"] {
        let run = http_tester(&format!("127.0.0.1:{port}"), &["--version", version]);
        assert_eq!(
            run.verdicts,
            expected(version, &[]),
            "HTTP/{version}:\n{}",
            run.table()
        );
        assert_eq!(run.code, 0);
        assert_eq!(run.overall()["data"]["overall"], "pass");
        let n = if version == "1.1" { 15 } else { 11 };
        assert_eq!(run.overall()["data"]["checks"], n);
        for p in run.verdicts.keys() {
            let c = run.check(p);
            assert!(
                c["data"]["reference"]
                    .as_str()
                    .unwrap()
                    .starts_with("RFC 911"),
                "{c}"
            );
        }
        if version == "1.0" {
            assert!(run.stdout.contains("host_required: skipped"));
        }
    }
}

#[test]
fn the_manifest_default_checks_and_ipv6_targets() {
    // What the http_conformance manifest passes by default (its `checks` parameter).
    let checks = "status_line_well_formed,date_header,content_length_matches,head_no_body,\
not_found_404,unknown_method_501,bad_request_line_400,host_required,no_whitespace_before_colon,\
persistent_connections,connection_close_honoured";
    let port = conformant_server();
    let run = http_tester(
        &format!("127.0.0.1:{port}"),
        &[
            "--version",
            "1.1",
            "--checks",
            checks,
            "--path",
            "/index.html",
        ],
    );
    assert_eq!(run.verdicts.len(), 11, "{}", run.table());
    assert!(
        run.verdicts.values().all(|v| v == "pass"),
        "{}",
        run.table()
    );
    assert_eq!(run.code, 0);

    if let Ok(l) = TcpListener::bind("[::1]:0") {
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in l.incoming().map_while(Result::ok) {
                std::thread::spawn(move || serve_connection(s));
            }
        });
        for target in [format!("[::1]:{port}"), format!("::1:{port}")] {
            let run = http_tester(
                &target,
                &["--checks", "status_line_well_formed,absolute_form_accepted"],
            );
            assert_eq!(run.code, 0, "{target}:\n{}", run.table());
            assert!(
                run.check("absolute_form_accepted")["text"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("http://[::1]:{port}/")),
                "{}",
                run.table()
            );
        }
    }
}

fn python_ok() -> bool {
    Command::new("python3")
        .args([
            "-c",
            "import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)",
        ])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn python_http_server_has_known_violations() {
    if !python_ok() {
        eprintln!("skipped: needs python3 >= 3.11 (scripts/install-test-deps installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), PAGE).unwrap();
    for version in ["1.1", "1.0"] {
        let port = free_port();
        let _py = Proc(
            Command::new("python3")
                .args([
                    "-m",
                    "http.server",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                ])
                .arg("--directory")
                .arg(dir.path())
                .args(["--protocol", &format!("HTTP/{version}")])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        assert!(
            wait_tcp(port, Duration::from_secs(20)),
            "python did not start"
        );
        let run = http_tester(&format!("127.0.0.1:{port}"), &["--version", version]);
        // What python's http.server (SimpleHTTPRequestHandler) gets wrong:
        let want = expected(
            version,
            &[
                // `GET / HTPT/1.1` is answered HTTP/0.9 style: an HTML body without a
                // status line.
                "bad_request_line_400",
                // No Host / two Host fields → 200.
                "host_required",
                // `X-Panther-Probe : 1` → 200.
                "no_whitespace_before_colon",
                // `GET http://host:port/` → 404: the absolute form is taken as a file path.
                "absolute_form_accepted",
                // Two different Content-Lengths → 200.
                "conflicting_content_length_400",
                // `Transfer-Encoding: x-panther, chunked` → 200.
                "unknown_transfer_coding_501",
                // A GET's chunked body is not read: `5` is parsed as the next request.
                "chunked_request_body",
            ],
        );
        assert_eq!(
            run.verdicts,
            want,
            "python HTTP/{version}:\n{}",
            run.table()
        );
        assert_eq!(run.code, 1);
        let bad = run.check("bad_request_line_400")["text"].as_str().unwrap();
        assert!(bad.contains("not an HTTP response"), "{bad}");
        println!("python http.server HTTP/{version}:\n{}\n", run.table());
    }
}

#[test]
fn nginx_has_known_violations() {
    if Command::new("nginx").arg("-v").output().is_err() {
        eprintln!("skipped: nginx is not installed (scripts/install-test-deps installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run_dir = dir.path().display().to_string();
    std::fs::create_dir_all(dir.path().join("www")).unwrap();
    std::fs::write(dir.path().join("www/index.html"), PAGE).unwrap();
    let port = free_port();
    // As plugins/services/iut/http/nginx/nginx.conf.j2 renders it.
    let conf = format!(
        r#"daemon off;
master_process off;
pid "{run_dir}/nginx.pid";
error_log stderr notice;
events {{ worker_connections 256; }}
http {{
  access_log /dev/stdout;
  client_body_temp_path "{run_dir}/client_body_temp";
  proxy_temp_path "{run_dir}/proxy_temp";
  fastcgi_temp_path "{run_dir}/fastcgi_temp";
  uwsgi_temp_path "{run_dir}/uwsgi_temp";
  scgi_temp_path "{run_dir}/scgi_temp";
  types {{ text/html html; text/plain txt; }}
  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:{port};
    server_name _;
    root "{run_dir}/www";
  }}
}}
"#
    );
    std::fs::write(dir.path().join("nginx.conf"), conf).unwrap();
    let _nginx = Proc(
        Command::new("nginx")
            .args(["-p", &format!("{run_dir}/"), "-c"])
            .arg(dir.path().join("nginx.conf"))
            .args(["-e", "stderr"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert!(
        wait_tcp(port, Duration::from_secs(30)),
        "nginx did not start"
    );
    for version in ["1.1", "1.0"] {
        let run = http_tester(&format!("127.0.0.1:{port}"), &["--version", version]);
        // nginx answers an unknown method with 405 Not Allowed, not 501.
        assert_eq!(
            run.verdicts,
            expected(version, &["unknown_method_501"]),
            "nginx HTTP/{version}:\n{}",
            run.table()
        );
        let ev = run.check("unknown_method_501")["data"]["evidence"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(ev.contains("405"), "{ev}");
        assert_eq!(run.code, 1);
        println!("nginx HTTP/{version}:\n{}\n", run.table());
    }
}

#[test]
fn a_silent_server_cannot_hang_the_tester() {
    // Accepts connections, reads, never answers, never closes.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().map_while(Result::ok) {
            held.push(s);
        }
    });
    let run = http_tester(
        &format!("127.0.0.1:{port}"),
        &["--timeout-ms", "200", "--version", "1.1"],
    );
    assert_eq!(run.code, 1, "{}", run.table());
    assert_eq!(run.verdicts.len(), 15);
    assert!(
        run.verdicts.values().all(|v| v == "fail"),
        "{}",
        run.table()
    );
    assert!(
        run.check("status_line_well_formed")["text"]
            .as_str()
            .unwrap()
            .contains("no complete response within 200 ms")
    );
    // 15 checks, each a few bounded waits of 200 ms.
    assert!(run.elapsed < Duration::from_secs(15), "{:?}", run.elapsed);
}

#[test]
fn nothing_listening_is_an_error() {
    let port = free_port();
    let run = http_tester(&format!("127.0.0.1:{port}"), &[]);
    assert_eq!(run.code, 2);
    assert_eq!(run.overall()["data"]["overall"], "error");
    assert!(run.verdicts.is_empty());
}

#[test]
fn bad_arguments_exit_2() {
    let port = conformant_server();
    let target = format!("127.0.0.1:{port}");
    let run = http_tester(&target, &["--checks", "host_requird"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stdout.contains("did you mean `host_required`"),
        "{}",
        run.stdout
    );
    let run = http_tester(&target, &["--path", "index.html"]);
    assert_eq!(run.code, 2);
    let out = Command::new(BIN)
        .args([
            "builtin",
            "http-tester",
            "--target",
            &target,
            "--version",
            "2",
        ])
        .env("PANTHER_LOG_FILE", "/dev/null")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
