//! Whole-file replacement that a crash or a full disk never leaves half-written: the bytes go
//! to a fresh temporary file beside the target (unique name, so two writers never share it),
//! are synced to disk, and the file is renamed over the target.

use std::io::Write;
use std::path::Path;

/// Replaces `path` with `bytes` atomically (its folder must exist).
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".panther-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("progress.json");
        super::write(&f, b"old").unwrap();
        super::write(&f, b"new contents").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"new contents");
        let names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["progress.json"]);
        // A target whose folder is missing is an error, not a stray file elsewhere.
        assert!(super::write(&d.path().join("no/such/file"), b"x").is_err());
    }
}
