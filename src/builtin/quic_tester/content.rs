//! The files a QUIC test downloads. Their bytes follow from their size alone (a fixed-seed
//! xorshift stream), so the tester can check a download without sharing a folder with the
//! server: the orchestrator writes them into the test's `www` folder that servers serve, and
//! the tester, as a server, serves the same bytes from memory.

/// Sizes the cases ask for: a small page, 1 MiB and 10 MiB.
pub const SMALL: usize = 1024;
pub const MEDIUM: usize = 1 << 20;
pub const LARGE: usize = 10 << 20;

/// The path under which a file of `size` bytes is served.
pub fn path(size: usize) -> String {
    format!("/panther-{size}.bin")
}

/// The size named by a served path, if it is one of ours.
pub fn size_of(path: &str) -> Option<usize> {
    let p = path.trim_start_matches('/');
    p.strip_prefix("panther-")?
        .strip_suffix(".bin")?
        .parse()
        .ok()
        .filter(|&n| n <= LARGE * 10)
}

/// The bytes of the file of `size` bytes.
pub fn bytes(size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 8);
    let mut x: u64 = 0x7061_6e74_6865_7221; // "panther!"
    while out.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(size);
    out
}

/// Writes every file of [`SIZES`] into `dir` (created if missing).
pub fn write_all(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for size in SIZES {
        std::fs::write(dir.join(path(size).trim_start_matches('/')), bytes(size))?;
    }
    std::fs::write(dir.join("index.html"), INDEX)?;
    Ok(())
}

pub const SIZES: [usize; 3] = [SMALL, MEDIUM, LARGE];
pub const INDEX: &str = "<!doctype html><title>panther</title><p>hello from panther\n";

/// Where two byte strings first differ, for a precise verdict.
pub fn first_difference(got: &[u8], want: &[u8]) -> Option<usize> {
    got.iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .or_else(|| (got.len() != want.len()).then(|| got.len().min(want.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_depend_only_on_size_and_paths_round_trip() {
        assert_eq!(bytes(100), bytes(100));
        assert_eq!(&bytes(1000)[..100], &bytes(100)[..]);
        assert_eq!(size_of(&path(MEDIUM)), Some(MEDIUM));
        assert_eq!(size_of("/etc/passwd"), None);
        assert_eq!(first_difference(b"abc", b"abd"), Some(2));
        assert_eq!(first_difference(b"ab", b"abc"), Some(2));
        assert_eq!(first_difference(b"abc", b"abc"), None);
    }
}
