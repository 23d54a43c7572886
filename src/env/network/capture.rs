//! `capture.pcap`: every frame a test's link delivers, as Wireshark and tshark read it
//! (classic pcap, Ethernet, nanosecond timestamps). Written through a buffer and flushed when
//! the capture closes, so the per-frame cost is a copy into memory.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use pcap_file::DataLink;
use pcap_file::TsResolution;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};

pub const FILE_NAME: &str = "capture.pcap";

/// A pcap file being written. Shared by the link's delivery paths; each frame takes the lock
/// for the length of one buffered write.
pub struct Capture {
    path: PathBuf,
    inner: Mutex<Option<Inner>>,
}

struct Inner {
    w: PcapWriter<BufWriter<File>>,
    frames: u64,
}

/// Why a capture file could not be started.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error(transparent)]
    Pcap(#[from] pcap_file::PcapError),
}

impl Capture {
    pub fn create(path: &Path) -> Result<Capture, CaptureError> {
        let file = BufWriter::with_capacity(1 << 20, File::create(path)?);
        let header = PcapHeader {
            datalink: DataLink::ETHERNET,
            ts_resolution: TsResolution::NanoSecond,
            ..Default::default()
        };
        let w = PcapWriter::with_header(file, header)?;
        Ok(Capture {
            path: path.to_path_buf(),
            inner: Mutex::new(Some(Inner { w, frames: 0 })),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records one frame seen at `at`; returns its frame number (1-based, as Wireshark counts).
    pub fn write(&self, at: SystemTime, frame: &[u8]) -> Option<u64> {
        let ts = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let inner = g.as_mut()?;
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        inner
            .w
            .write_packet(&PcapPacket::new(ts, len, frame))
            .ok()?;
        inner.frames += 1;
        Some(inner.frames)
    }

    /// Flushes and closes the file; returns how many frames it holds. Later writes are ignored.
    pub fn close(&self) -> io::Result<u64> {
        let Some(inner) = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return Ok(0);
        };
        let mut file = inner.w.into_writer();
        file.flush()?;
        Ok(inner.frames)
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcap::PcapReader;

    #[test]
    fn frames_read_back_in_order_with_their_times() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE_NAME);
        let c = Capture::create(&p).unwrap();
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_nanos(1_700_000_000_123_456_789);
        assert_eq!(c.write(t, &[1, 2, 3]), Some(1));
        assert_eq!(c.write(t, &[4; 60]), Some(2));
        assert_eq!(c.close().unwrap(), 2);
        assert_eq!(c.write(t, &[9]), None);
        let mut r = PcapReader::new(File::open(&p).unwrap()).unwrap();
        let a = r.next_packet().unwrap().unwrap();
        assert_eq!(&*a.data, &[1, 2, 3]);
        assert_eq!(a.timestamp.as_nanos(), 1_700_000_000_123_456_789);
        let b = r.next_packet().unwrap().unwrap();
        assert_eq!(b.data.len(), 60);
        assert!(r.next_packet().is_none());
    }
}
