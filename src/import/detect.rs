//! What each input of `panther import` is: a capture, a key log, a qlog file or a
//! quic-interop-runner log folder — by content, not by name.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::ImportError;
use crate::quic::trace::capture::looks_like_capture;

/// One input, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Capture(PathBuf),
    KeyLog(PathBuf),
    Qlog(PathBuf),
}

/// The inputs a path stands for, and the endpoint names a folder layout gives
/// (quic-interop-runner's `client`/`server`).
#[derive(Debug, Default)]
pub struct Inputs {
    pub items: Vec<Input>,
    pub roles_named: bool,
}

const KEYLOG_LABELS: [&str; 6] = [
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "SERVER_TRAFFIC_SECRET_0",
    "CLIENT_EARLY_TRAFFIC_SECRET",
    "CLIENT_RANDOM",
];

/// The first bytes of a file (to sniff it), refusing what is not a regular file.
fn head(path: &Path) -> Result<Vec<u8>, ImportError> {
    let io = |e| ImportError::Io(path.display().to_string(), e);
    let f = std::fs::File::open(path).map_err(io)?;
    if !f.metadata().map_err(io)?.is_file() {
        return Err(ImportError::Unknown(
            path.display().to_string(),
            "not a regular file (a FIFO, device or socket)".into(),
        ));
    }
    let mut buf = Vec::with_capacity(4096);
    f.take(4096).read_to_end(&mut buf).map_err(io)?;
    Ok(buf)
}

/// Classifies one file by its first bytes.
pub fn classify_file(path: &Path) -> Result<Input, ImportError> {
    let h = head(path)?;
    if looks_like_capture(&h) {
        return Ok(Input::Capture(path.to_path_buf()));
    }
    // Named like qlog: the qlog parser says what is wrong with it, if anything.
    if crate::quic::qlog::is_qlog_name(path) {
        return Ok(Input::Qlog(path.to_path_buf()));
    }
    let text = String::from_utf8_lossy(&h);
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with('[') || h.first() == Some(&0x1e) {
        return Ok(Input::Qlog(path.to_path_buf()));
    }
    if text
        .lines()
        .any(|l| KEYLOG_LABELS.iter().any(|k| l.trim_start().starts_with(k)))
    {
        return Ok(Input::KeyLog(path.to_path_buf()));
    }
    let why = if h.is_empty() {
        "the file is empty".to_string()
    } else {
        "not a pcap/pcapng capture, a qlog file or an NSS key log".to_string()
    };
    Err(ImportError::Unknown(path.display().to_string(), why))
}

/// Expands the command line's paths: files as they are, a quic-interop-runner log folder
/// into its capture, key log and qlogs. Key logs next to a capture are picked up too.
pub fn expand(paths: &[PathBuf], keylogs: &[PathBuf]) -> Result<Inputs, ImportError> {
    let mut out = Inputs::default();
    for p in paths {
        if p.is_dir() {
            interop_folder(p, &mut out)?;
        } else if p.exists() {
            let i = classify_file(p)?;
            if let Input::Capture(c) = &i {
                beside(c, &mut out.items);
            }
            push(&mut out.items, i);
        } else {
            return Err(ImportError::Io(
                p.display().to_string(),
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ));
        }
    }
    for k in keylogs {
        head(k)?;
        push(&mut out.items, Input::KeyLog(k.clone()));
    }
    Ok(out)
}

fn push(items: &mut Vec<Input>, i: Input) {
    if !items.contains(&i) {
        items.push(i);
    }
}

/// Key logs conventionally named next to a capture.
fn beside(capture: &Path, items: &mut Vec<Input>) {
    let dir = capture.parent().unwrap_or(Path::new("."));
    let stem = capture
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let names = [
        "keys.log".to_string(),
        "sslkeylog.log".into(),
        format!("{stem}.keys"),
        format!("{stem}.keylog"),
        format!("{stem}.keys.log"),
    ];
    for n in names {
        let k = dir.join(n);
        if k.is_file() && matches!(classify_file(&k), Ok(Input::KeyLog(_))) {
            push(items, Input::KeyLog(k));
        }
    }
}

/// quic-interop-runner's layout: `sim/trace_node_left.pcap` (the client's side of the
/// simulated link; `trace_node_right.pcap` holds the same packets from the server's side, so
/// only one is read), `keys.log` at the top or in `client/`/`server/`, qlogs in
/// `client/qlog`, `server/qlog`.
fn interop_folder(dir: &Path, out: &mut Inputs) -> Result<(), ImportError> {
    let sim = dir.join("sim");
    let capture = ["trace_node_left.pcap", "trace_node_right.pcap"]
        .iter()
        .map(|n| sim.join(n))
        .find(|p| p.is_file());
    let Some(capture) = capture else {
        return Err(ImportError::Unknown(
            dir.display().to_string(),
            "a folder, but not a quic-interop-runner log folder (no sim/trace_node_left.pcap)"
                .into(),
        ));
    };
    push(&mut out.items, Input::Capture(capture));
    for k in [
        dir.join("keys.log"),
        dir.join("client/keys.log"),
        dir.join("server/keys.log"),
        sim.join("keys.log"),
    ] {
        if k.is_file() {
            push(&mut out.items, Input::KeyLog(k));
        }
    }
    for side in ["client", "server"] {
        let q = dir.join(side).join("qlog");
        if let Ok(rd) = std::fs::read_dir(&q) {
            for e in rd.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "qlog" || x == "sqlog") {
                    push(&mut out.items, Input::Qlog(p));
                }
            }
        }
    }
    out.roles_named = true;
    Ok(())
}
