//! `events.jsonl`, written as events arrive: one JSON object per line, flushed at least every
//! 50 ms so a crash loses at most the last moments. The store keeps a compact index (byte
//! offset and time per event, 16 bytes each) so a view can jump anywhere in a long run, and
//! reading tolerates a torn last line (a run killed mid-write).

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::model::Event;

pub const FILE_NAME: &str = "events.jsonl";

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
    pub fn append(&mut self, e: &Event) -> io::Result<()> {
        debug_assert_eq!(e.seq as usize, self.index.len());
        self.line.clear();
        serde_json::to_writer(&mut self.line, e).map_err(io::Error::other)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        self.index.push((self.offset, e.t));
        self.offset += self.line.len() as u64;
        Ok(())
    }

    /// Appends an event already serialized with `seq` 0 (see `tx::Envelope`): the real
    /// number is spliced in without serializing again.
    pub fn append_serialized(&mut self, seq: u64, t: u64, json: &[u8]) -> io::Result<()> {
        debug_assert_eq!(seq as usize, self.index.len());
        let rest = json
            .strip_prefix(super::tx::SEQ_PLACEHOLDER)
            .ok_or_else(|| io::Error::other("event JSON does not start with seq"))?;
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
    pub fn get(&mut self, seq: u64) -> io::Result<Option<Event>> {
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
        serde_json::from_slice(&buf)
            .map(Some)
            .map_err(io::Error::other)
    }

    /// The first event at or after time `t` (µs), by binary search over the index.
    pub fn seek_time(&self, t: u64) -> usize {
        self.index.partition_point(|&(_, et)| et < t)
    }
}

fn itoa_buf(n: u64) -> String {
    n.to_string()
}

/// Reads a whole `events.jsonl`. A torn or corrupt line is skipped and counted, so a run that
/// crashed half-way still opens.
pub fn read_all(path: &Path) -> io::Result<(Vec<Event>, usize)> {
    let r = BufReader::new(File::open(path)?);
    let mut events = Vec::new();
    let mut bad = 0;
    for line in r.split(b'\n') {
        let line = line?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Event>(&line) {
            Ok(e) => events.push(e),
            Err(_) => bad += 1,
        }
    }
    Ok((events, bad))
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
}
