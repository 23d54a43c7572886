//! QUIC variable-length integers (RFC 9000 §16) and a cursor over a byte slice that turns every
//! out-of-bounds read into a positioned [`WireError::Truncated`].

use super::error::{Result, WireError};

/// The largest value a varint can hold (2^62 - 1).
pub const MAX: u64 = (1 << 62) - 1;

/// How many bytes `v` takes in its shortest encoding.
pub fn len(v: u64) -> usize {
    match v {
        0..=63 => 1,
        64..=16_383 => 2,
        16_384..=1_073_741_823 => 4,
        _ => 8,
    }
}

/// Appends `v` in its shortest encoding.
pub fn put(out: &mut Vec<u8>, v: u64) -> Result<()> {
    let n = len(v);
    put_with_len(out, v, n)
}

/// Appends `v` in exactly `n` bytes (1, 2, 4 or 8): a fixed-width Length field lets a builder
/// write the header before it knows the final payload size.
pub fn put_with_len(out: &mut Vec<u8>, v: u64, n: usize) -> Result<()> {
    if v > MAX || len(v) > n {
        return Err(WireError::VarintTooLarge { value: v });
    }
    let tag: u64 = match n {
        1 => 0,
        2 => 1,
        4 => 2,
        _ => 3,
    };
    let bytes = (v | (tag << (n * 8 - 2))).to_be_bytes();
    out.extend_from_slice(&bytes[8 - n..]);
    Ok(())
}

/// A bounds-checked cursor. `base` is added to reported offsets so that errors point into the
/// enclosing buffer (the datagram, the payload) rather than into this slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            base: 0,
        }
    }

    /// A reader whose error offsets start at `base`.
    pub fn with_base(buf: &'a [u8], base: usize) -> Self {
        Self { buf, pos: 0, base }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The offset in the enclosing buffer (for error messages).
    pub fn at(&self) -> usize {
        self.base + self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    pub fn rest(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }

    fn need(&self, n: usize, what: &'static str) -> Result<()> {
        if self.remaining() < n {
            return Err(WireError::Truncated {
                what,
                at: self.at(),
                needed: n - self.remaining(),
            });
        }
        Ok(())
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8> {
        self.need(1, what)?;
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    pub fn peek_u8(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16> {
        let b = self.bytes(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u24(&mut self, what: &'static str) -> Result<u32> {
        let b = self.bytes(3, what)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        self.need(n, what)?;
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    pub fn skip(&mut self, n: usize, what: &'static str) -> Result<()> {
        self.bytes(n, what).map(|_| ())
    }

    pub fn varint(&mut self, what: &'static str) -> Result<u64> {
        let first = self.peek_u8().ok_or(WireError::Truncated {
            what,
            at: self.at(),
            needed: 1,
        })?;
        let n = 1usize << (first >> 6);
        let b = self.bytes(n, what)?;
        let mut v = u64::from(b[0] & 0x3f);
        for &x in &b[1..] {
            v = (v << 8) | u64::from(x);
        }
        Ok(v)
    }

    /// A varint that is a length of something in this buffer: bounded by what remains.
    pub fn len_prefixed(&mut self, what: &'static str) -> Result<&'a [u8]> {
        let n = self.varint(what)?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        self.bytes(n, what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9000_appendix_a1_examples() {
        // RFC 9000 §A.1 sample decodings.
        let cases: [(&[u8], u64); 4] = [
            (
                &[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c],
                151_288_809_941_952_652,
            ),
            (&[0x9d, 0x7f, 0x3e, 0x7d], 494_878_333),
            (&[0x7b, 0xbd], 15_293),
            (&[0x25], 37),
        ];
        for (bytes, v) in cases {
            assert_eq!(Reader::new(bytes).varint("v").unwrap(), v);
            let mut out = Vec::new();
            put(&mut out, v).unwrap();
            assert_eq!(out, bytes);
        }
        // Two-byte encoding of 37 is also legal.
        assert_eq!(Reader::new(&[0x40, 0x25]).varint("v").unwrap(), 37);
    }

    #[test]
    fn truncation_is_positioned() {
        let err = Reader::with_base(&[0x80, 0x01], 10)
            .varint("length")
            .unwrap_err();
        assert_eq!(
            err,
            WireError::Truncated {
                what: "length",
                at: 10,
                needed: 2
            }
        );
        assert!(put(&mut Vec::new(), MAX + 1).is_err());
        assert!(put_with_len(&mut Vec::new(), 300, 1).is_err());
    }
}
