//! `events.jsonl`, written as events arrive: one JSON object per line, flushed at least every
//! 50 ms so a crash loses at most the last moments. The store keeps a compact index (byte
//! offset and time per event, 16 bytes each) so a view can jump anywhere in a long run, and
//! reading tolerates a torn last line (a run killed mid-write).

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use std::path::{Path, PathBuf};

use super::model::Event;

pub const FILE_NAME: &str = "events.jsonl";

/// Why an event could not be written to or read back from `events.jsonl`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Io(#[from] io::Error),
    /// An event that does not encode, or a stored line that does not decode.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// A pre-serialized event without the `seq` placeholder it must start with.
    #[error("event JSON does not start with seq")]
    Unframed,
    /// The collector task ended without handing the store back (it panicked).
    #[error(transparent)]
    Collector(#[from] tokio::task::JoinError),
}

pub struct Store {
    path: PathBuf,
    out: BufWriter<File>,
    offset: u64,
    /// (byte offset, t) of each event, by seq.
    index: Vec<(u64, u64)>,
    line: Vec<u8>,
}

impl Store {
    pub fn create(path: &Path) -> io::Result<Store> {
        let f = File::create(path)?;
        Ok(Store {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(256 * 1024, f),
            offset: 0,
            index: Vec::new(),
            line: Vec::with_capacity(512),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event (its `seq` must be the next one).
    pub fn append(&mut self, e: &Event) -> Result<(), StoreError> {
        debug_assert_eq!(e.seq as usize, self.index.len());
        self.line.clear();
        serde_json::to_writer(&mut self.line, e)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.index.push((self.offset, e.t));
        self.offset += self.line.len() as u64;
        Ok(())
    }

    /// Appends an event already serialized with `seq` 0 (see `tx::Envelope`): the real
    /// number is spliced in without serializing again.
    pub fn append_serialized(&mut self, seq: u64, t: u64, json: &[u8]) -> Result<(), StoreError> {
        debug_assert_eq!(seq as usize, self.index.len());
        let rest = json
            .strip_prefix(super::tx::SEQ_PLACEHOLDER)
            .ok_or(StoreError::Unframed)?;
        let mut num = itoa_buf(seq);
        let head_len = 7 + num.len() + 1;
        self.out.write_all(b"{\"seq\":")?;
        self.out.write_all(num.as_bytes())?;
        self.out.write_all(b",")?;
        self.out.write_all(rest)?;
        num.clear();
        self.index.push((self.offset, t));
        self.offset += (head_len + rest.len()) as u64;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Reads event `seq` back from the file (after a flush).
    pub fn get(&mut self, seq: u64) -> Result<Option<Event>, StoreError> {
        self.out.flush()?;
        let Some(&(off, _)) = self.index.get(seq as usize) else {
            return Ok(None);
        };
        let end = self
            .index
            .get(seq as usize + 1)
            .map(|x| x.0)
            .unwrap_or(self.offset);
        let mut f = File::open(&self.path)?;
        f.seek(SeekFrom::Start(off))?;
        let mut buf = vec![0; (end - off) as usize];
        f.read_exact(&mut buf)?;
        Ok(serde_json::from_slice(&buf).map(Some)?)
    }

    /// The first event at or after time `t` (µs), by binary search over the index.
    pub fn seek_time(&self, t: u64) -> usize {
        self.index.partition_point(|&(_, et)| et < t)
    }
}

fn itoa_buf(n: u64) -> String {
    n.to_string()
}

/// The longest line read back as an event. A longer one (a corrupt file, a sparse 1 GiB
/// file of zeros) is skipped and counted like a torn line, without ever being held whole.
pub const MAX_EVENT_LINE: usize = 16 << 20;

/// `events.jsonl` read incrementally, one line at a time into one reused buffer, so reading
/// a run of any length costs the memory of its longest line (at most `MAX_EVENT_LINE`), not
/// of its events. A torn, corrupt or too long line is skipped and counted (`bad`), so a run
/// that crashed half-way still opens. `T` is what each line becomes: the whole `Event`, or a
/// lighter view that skips what its reader does not need.
pub struct Reader<T = Event> {
    r: BufReader<File>,
    line: Vec<u8>,
    bad: usize,
    read: u64,
    _t: std::marker::PhantomData<fn() -> T>,
}

/// One line, read or skipped.
enum Line {
    Whole,
    TooLong,
    End,
}

impl<T: serde::de::DeserializeOwned> Reader<T> {
    /// Opens `path`; only a regular file (a FIFO would block, a device never end).
    pub fn open(path: &Path) -> io::Result<Reader<T>> {
        // Checked before opening: opening a FIFO for reading blocks until a writer comes.
        if !std::fs::metadata(path)?.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{}: not a regular file (a FIFO, a device or a socket)",
                    path.display()
                ),
            ));
        }
        let f = File::open(path)?;
        Ok(Reader {
            r: BufReader::with_capacity(256 * 1024, f),
            line: Vec::with_capacity(1024),
            bad: 0,
            read: 0,
            _t: std::marker::PhantomData,
        })
    }

    /// Lines skipped so far (torn, corrupt or longer than `MAX_EVENT_LINE`).
    pub fn bad(&self) -> usize {
        self.bad
    }

    /// Events read so far.
    pub fn read(&self) -> u64 {
        self.read
    }

    /// The next event, skipping bad lines; `None` at the end of the file.
    pub fn next_event(&mut self) -> io::Result<Option<T>> {
        loop {
            match self.next_line()? {
                Line::End => return Ok(None),
                Line::TooLong => self.bad += 1,
                Line::Whole => {
                    if self.line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match serde_json::from_slice::<T>(&self.line) {
                        Ok(e) => {
                            self.read += 1;
                            return Ok(Some(e));
                        }
                        Err(_) => self.bad += 1,
                    }
                }
            }
        }
    }

    /// The next line into `self.line` (without its newline), never holding more than
    /// `MAX_EVENT_LINE` bytes of it.
    fn next_line(&mut self) -> io::Result<Line> {
        self.line.clear();
        let (mut any, mut over) = (false, false);
        loop {
            let buf = self.r.fill_buf()?;
            if buf.is_empty() {
                return Ok(match (any, over) {
                    (false, _) => Line::End,
                    (true, true) => Line::TooLong,
                    (true, false) => Line::Whole,
                });
            }
            any = true;
            let (part, used, ends) = match memchr::memchr(b'\n', buf) {
                Some(i) => (&buf[..i], i + 1, true),
                None => (buf, buf.len(), false),
            };
            if !over && self.line.len() + part.len() <= MAX_EVENT_LINE {
                self.line.extend_from_slice(part);
            } else {
                over = true;
                self.line.clear();
            }
            self.r.consume(used);
            if ends {
                return Ok(if over { Line::TooLong } else { Line::Whole });
            }
        }
    }
}

impl<T: serde::de::DeserializeOwned> Iterator for Reader<T> {
    type Item = io::Result<T>;

    fn next(&mut self) -> Option<io::Result<T>> {
        self.next_event().transpose()
    }
}

/// Reads a whole `events.jsonl` into memory (about 1 KB per event): for small runs and
/// tests only; everything that may meet a long run reads with `Reader`.
pub fn read_all(path: &Path) -> io::Result<(Vec<Event>, usize)> {
    let mut r = Reader::<Event>::open(path)?;
    let mut events = Vec::new();
    while let Some(e) = r.next_event()? {
        events.push(e);
    }
    Ok((events, r.bad()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::model::Kind;

    #[test]
    fn appends_indexes_and_reads_back_even_when_torn() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE_NAME);
        let mut s = Store::create(&p).unwrap();
        for i in 0..100u64 {
            let mut e = Event::new("svc", Kind::Log, format!("line {i}"));
            e.seq = i;
            e.t = i * 10;
            s.append(&e).unwrap();
        }
        assert_eq!(s.get(42).unwrap().unwrap().text, "line 42");
        assert_eq!(s.seek_time(205), 21);
        s.flush().unwrap();
        // A crash mid-write leaves half a line.
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"{\"seq\":100,\"t\":1").unwrap();
        let (all, bad) = read_all(&p).unwrap();
        assert_eq!((all.len(), bad), (100, 1));
    }

    /// A line longer than the cap (a sparse file's run of zeros) is skipped and counted, and
    /// the events after it are still read.
    #[test]
    fn a_line_over_the_cap_is_skipped_without_being_held() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE_NAME);
        let mut f = File::create(&p).unwrap();
        let e = |i: u64| {
            format!("{{\"seq\":{i},\"t\":{i},\"source\":\"s\",\"kind\":\"log\",\"text\":\"x\"}}\n")
        };
        f.write_all(e(0).as_bytes()).unwrap();
        f.write_all(&vec![0u8; MAX_EVENT_LINE + 10]).unwrap();
        f.write_all(b"\n").unwrap();
        f.write_all(e(1).as_bytes()).unwrap();
        f.write_all(&vec![b'x'; MAX_EVENT_LINE + 1]).unwrap();
        drop(f);
        let mut r = Reader::<Event>::open(&p).unwrap();
        let seqs: Vec<u64> = r.by_ref().map(|e| e.unwrap().seq).collect();
        assert_eq!(seqs, vec![0, 1]);
        assert_eq!(r.bad(), 2, "the long line and the unterminated long tail");
        assert!(r.line.capacity() <= 2 * MAX_EVENT_LINE);
    }

    #[test]
    fn a_fifo_is_refused_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(FILE_NAME);
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::S_IRWXU).unwrap();
        // Opening a FIFO for reading blocks until a writer comes: open one first.
        let _w = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .unwrap();
        let err = Reader::<Event>::open(&p).err().expect("refused");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
