//! The `pprof` parser: gperftools' CPU profiles (`cpu.prof`, from libprofiler's `CPUPROFILE`)
//! and heap profiles (`heap.NNNN.heap`, from tcmalloc's `HEAPPROFILE`), symbolized by
//! `google-pprof --text` and read into a [`Profile`].
//!
//! pprof needs the profiled program's path. Both formats carry the process's
//! `/proc/self/maps`, whose first mapped file is the program itself (maps are sorted by
//! address, and the executable is mapped below its libraries), so that is where the path
//! comes from: the wrapper's argv may start with `env` or a launcher.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::profile::{self, Profile};
use super::tool;

/// How long pprof may take on one profile (a 200 MB debug binary takes about 5 s).
const PPROF_LIMIT: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum PprofError {
    #[error("{0} names no program in its memory map (not a gperftools profile?)")]
    NoProgram(String),
    #[error(
        "neither google-pprof nor pprof is on PATH (install: apt-get install -y google-perftools)"
    )]
    NoPprof,
    #[error(transparent)]
    Tool(#[from] tool::ToolError),
    #[error("pprof printed no profile table for {0}")]
    NoTable(String),
    #[error("reading {0}: {1}")]
    Read(String, std::io::Error),
}

/// Which profile a file holds, from its name.
pub fn kind_of(name: &str) -> Option<&'static str> {
    if name == "cpu.prof" || name.starts_with("cpu.prof_") || name.starts_with("cpu.prof.") {
        Some("gperf_cpu")
    } else if name.starts_with("heap") && name.ends_with(".heap") {
        Some("gperf_heap")
    } else {
        None
    }
}

/// The profiles to read in `dir`: every CPU profile, and the last heap dump (tcmalloc
/// numbers them; the last one is written at exit).
pub fn profile_files(dir: &Path) -> Vec<PathBuf> {
    let mut cpu = Vec::new();
    let mut heap = Vec::new();
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            match kind_of(&name) {
                Some("gperf_cpu") => cpu.push(e.path()),
                Some(_) => heap.push(e.path()),
                None => {}
            }
        }
    }
    cpu.sort();
    heap.sort();
    cpu.extend(heap.pop());
    cpu
}

/// The program a profile was taken of: the first absolute path in its memory map.
pub fn program_of(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    text.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        let range = it.next()?;
        let perms = it.next()?;
        let (lo, hi) = range.split_once('-')?;
        if !(lo.bytes().all(|b| b.is_ascii_hexdigit()) && hi.bytes().all(|b| b.is_ascii_hexdigit()))
            || perms.len() != 4
        {
            return None;
        }
        let path = it.nth(3)?;
        path.starts_with('/').then(|| path.to_string())
    })
}

fn pprof_binary() -> Option<PathBuf> {
    which::which("google-pprof")
        .or_else(|_| which::which("pprof"))
        .ok()
}

/// Reads one profile file into a [`Profile`] through pprof.
pub fn read_profile(file: &Path) -> Result<Profile, PprofError> {
    let shown = file.display().to_string();
    let bytes = fs::read(file).map_err(|e| PprofError::Read(shown.clone(), e))?;
    let program = program_of(&bytes).ok_or_else(|| PprofError::NoProgram(shown.clone()))?;
    let pprof = pprof_binary().ok_or(PprofError::NoPprof)?;
    let kind = file
        .file_name()
        .and_then(|n| kind_of(&n.to_string_lossy()))
        .unwrap_or("gperf_cpu");
    let mut argv = vec![
        pprof.display().to_string(),
        "--text".into(),
        "--nodecount=1000000".into(),
    ];
    if kind == "gperf_heap" {
        argv.push("--show_bytes".into());
        argv.push("--inuse_space".into());
    }
    argv.push(program);
    argv.push(shown.clone());
    let out = tool::stdout_of(&argv, PPROF_LIMIT)?;
    profile::parse_pprof_text(&out, kind, &shown).ok_or(PprofError::NoTable(shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_program() {
        assert_eq!(kind_of("cpu.prof"), Some("gperf_cpu"));
        assert_eq!(kind_of("heap.0003.heap"), Some("gperf_heap"));
        assert_eq!(kind_of("strace.log"), None);
        let maps = b"\x00\x00binary words\nheap profile: 1: 2 [ 3: 4] @ heapprofile\nMAPPED_LIBRARIES:\n555555554000-555555600000 r--p 00000000 00:1f 123 /work/target/debug/panther\n7ffff7c00000-7ffff7c28000 r--p 00000000 00:1f 99 /usr/lib/x86_64-linux-gnu/libc.so.6\n";
        assert_eq!(
            program_of(maps).as_deref(),
            Some("/work/target/debug/panther")
        );
        assert_eq!(program_of(b"no maps"), None);
    }
}
