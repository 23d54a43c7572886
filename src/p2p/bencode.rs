//! Bencode (BEP 3), decoded safely: peers and DHT nodes send it to us, and a fuzzer will too.
//!
//! The decoder is iterative (an explicit stack, so a deep input cannot overflow the thread's
//! stack), bounded by [`Limits`] (depth, elements, string length), and never allocates for a
//! length it has not yet seen the bytes of. Every error carries the byte offset where the input
//! stopped making sense and what was expected there.

use std::collections::BTreeMap;

/// A decoded bencode value. Dictionaries keep keys sorted, as BEP 3 requires on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Dict(BTreeMap<Vec<u8>, Value>),
}

/// Bounds on what one message may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_depth: usize,
    pub max_elements: usize,
    pub max_string: usize,
}

impl Limits {
    /// For KRPC messages and peer-wire extension payloads: small and shallow.
    pub const MESSAGE: Limits = Limits {
        max_depth: 32,
        max_elements: 10_000,
        max_string: 1 << 20,
    };
    /// For .torrent files: a piece list can be megabytes long.
    pub const TORRENT: Limits = Limits {
        max_depth: 32,
        max_elements: 1_000_000,
        max_string: 64 << 20,
    };
}

/// Where and why decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bencode at byte {offset}: {problem}")]
pub struct Error {
    pub offset: usize,
    pub problem: Problem,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("the input ends early (expected {0})")]
    Truncated(&'static str),
    #[error("expected {0}, found byte 0x{1:02x}")]
    Unexpected(&'static str, u8),
    #[error("integer is not canonical (leading zero, `-0` or empty)")]
    NonCanonicalInt,
    #[error("integer does not fit in 64 bits")]
    IntOverflow,
    #[error("string of {0} bytes exceeds the limit of {1}")]
    StringTooLong(u64, usize),
    #[error("nesting deeper than {0}")]
    TooDeep(usize),
    #[error("more than {0} elements")]
    TooManyElements(usize),
    #[error("dictionary keys are not sorted or repeat")]
    UnsortedKeys,
    #[error("{0} bytes follow the value")]
    TrailingBytes(usize),
}

/// A container being filled.
enum Open {
    List(Vec<Value>),
    Dict(BTreeMap<Vec<u8>, Value>, Option<Vec<u8>>),
}

/// Decodes exactly one value spanning all of `input`.
pub fn decode(input: &[u8], limits: Limits) -> Result<Value, Error> {
    let (v, end) = decode_prefix(input, limits)?;
    if end != input.len() {
        return Err(err(end, Problem::TrailingBytes(input.len() - end)));
    }
    Ok(v)
}

/// Decodes one value at the start of `input`; returns it and the offset just past it.
pub fn decode_prefix(input: &[u8], limits: Limits) -> Result<(Value, usize), Error> {
    let mut stack: Vec<Open> = Vec::new();
    let mut pos = 0usize;
    let mut elements = 0usize;
    loop {
        let byte = *input
            .get(pos)
            .ok_or_else(|| err(pos, Problem::Truncated("a value")))?;
        let awaiting_key = matches!(stack.last(), Some(Open::Dict(_, None)));
        let value = match byte {
            b'e' if !stack.is_empty() => {
                pos += 1;
                match stack.pop() {
                    Some(Open::List(l)) => Value::List(l),
                    Some(Open::Dict(d, None)) => Value::Dict(d),
                    _ => return Err(err(pos - 1, Problem::Truncated("a value after the key"))),
                }
            }
            b'i' if !awaiting_key => {
                let (n, end) = int(input, pos + 1, b'e')?;
                pos = end;
                count(&mut elements, limits, pos)?;
                Value::Int(n)
            }
            b'l' | b'd' if !awaiting_key => {
                if stack.len() >= limits.max_depth {
                    return Err(err(pos, Problem::TooDeep(limits.max_depth)));
                }
                pos += 1;
                count(&mut elements, limits, pos)?;
                stack.push(if byte == b'l' {
                    Open::List(Vec::new())
                } else {
                    Open::Dict(BTreeMap::new(), None)
                });
                continue;
            }
            b'0'..=b'9' => {
                let (s, end) = string(input, pos, limits)?;
                pos = end;
                count(&mut elements, limits, pos)?;
                Value::Bytes(s)
            }
            other => {
                let what = if awaiting_key {
                    "a byte-string key"
                } else {
                    "a value (i, l, d or a length)"
                };
                return Err(err(pos, Problem::Unexpected(what, other)));
            }
        };
        match stack.last_mut() {
            None => return Ok((value, pos)),
            Some(Open::List(l)) => l.push(value),
            Some(Open::Dict(d, key)) => match key.take() {
                None => {
                    // Only a string can be read while a key is awaited.
                    let Value::Bytes(k) = value else {
                        return Err(err(pos, Problem::Unexpected("a byte-string key", byte)));
                    };
                    if d.keys().next_back().is_some_and(|last| *last >= k) {
                        return Err(err(pos, Problem::UnsortedKeys));
                    }
                    *key = Some(k);
                }
                Some(k) => {
                    d.insert(k, value);
                }
            },
        }
    }
}

fn err(offset: usize, problem: Problem) -> Error {
    Error { offset, problem }
}

fn count(elements: &mut usize, limits: Limits, pos: usize) -> Result<(), Error> {
    *elements += 1;
    if *elements > limits.max_elements {
        return Err(err(pos, Problem::TooManyElements(limits.max_elements)));
    }
    Ok(())
}

/// A canonical decimal integer from `start` up to `end_byte`; returns it and the offset past
/// the terminator.
fn int(input: &[u8], start: usize, end_byte: u8) -> Result<(i64, usize), Error> {
    let rest = input.get(start..).unwrap_or_default();
    let len = rest
        .iter()
        .position(|&b| b == end_byte)
        .ok_or_else(|| err(input.len(), Problem::Truncated("the end of an integer")))?;
    let digits = &rest[..len];
    let (negative, magnitude) = match digits.split_first() {
        Some((b'-', m)) => (true, m),
        _ => (false, digits),
    };
    digits_only(magnitude, start + usize::from(negative))?;
    let canonical =
        !magnitude.is_empty() && !(magnitude[0] == b'0' && (magnitude.len() > 1 || negative));
    if !canonical {
        return Err(err(start, Problem::NonCanonicalInt));
    }
    let mut n: i64 = 0;
    for &d in magnitude {
        let digit = i64::from(d - b'0');
        n = n
            .checked_mul(10)
            .and_then(|n| {
                if negative {
                    n.checked_sub(digit)
                } else {
                    n.checked_add(digit)
                }
            })
            .ok_or_else(|| err(start, Problem::IntOverflow))?;
    }
    Ok((n, start + len + 1))
}

/// Refuses the first non-digit of `digits`, which start at offset `at` of the input.
fn digits_only(digits: &[u8], at: usize) -> Result<(), Error> {
    match digits.iter().position(|b| !b.is_ascii_digit()) {
        Some(bad) => Err(err(at + bad, Problem::Unexpected("a digit", digits[bad]))),
        None => Ok(()),
    }
}

/// A `LEN:BYTES` string at `start`.
fn string(input: &[u8], start: usize, limits: Limits) -> Result<(Vec<u8>, usize), Error> {
    let rest = &input[start..];
    let colon = rest
        .iter()
        .take(21)
        .position(|&b| b == b':')
        .ok_or_else(|| err(start, Problem::Truncated("`:` after a string length")))?;
    let digits = &rest[..colon];
    if let Some(bad) = digits.iter().position(|b| !b.is_ascii_digit()) {
        return Err(err(
            start + bad,
            Problem::Unexpected("a digit", digits[bad]),
        ));
    }
    if digits.len() > 1 && digits[0] == b'0' {
        return Err(err(start, Problem::NonCanonicalInt));
    }
    let len = digits.iter().try_fold(0u64, |n, &d| {
        n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    });
    let len = len.ok_or_else(|| err(start, Problem::IntOverflow))?;
    if len > limits.max_string as u64 {
        return Err(err(start, Problem::StringTooLong(len, limits.max_string)));
    }
    let from = start + colon + 1;
    let to = from + len as usize;
    let bytes = input
        .get(from..to)
        .ok_or_else(|| err(input.len(), Problem::Truncated("the string's bytes")))?;
    Ok((bytes.to_vec(), to))
}

impl Value {
    /// The canonical encoding (dictionary keys sorted, which `BTreeMap` guarantees).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Value::Int(n) => {
                out.push(b'i');
                out.extend_from_slice(n.to_string().as_bytes());
                out.push(b'e');
            }
            Value::Bytes(b) => write_bytes(b, out),
            Value::List(l) => {
                out.push(b'l');
                l.iter().for_each(|v| v.encode_into(out));
                out.push(b'e');
            }
            Value::Dict(d) => {
                out.push(b'd');
                for (k, v) in d {
                    write_bytes(k, out);
                    v.encode_into(out);
                }
                out.push(b'e');
            }
        }
    }

    /// A dictionary from `(key, value)` pairs.
    pub fn dict<'k>(pairs: impl IntoIterator<Item = (&'k str, Value)>) -> Value {
        Value::Dict(
            pairs
                .into_iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v))
                .collect(),
        )
    }

    pub fn bytes(b: impl Into<Vec<u8>>) -> Value {
        Value::Bytes(b.into())
    }

    /// The value under `key` when this is a dictionary.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(d) => d.get(key.as_bytes()),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }
}

/// `LEN:BYTES`, for string values and dictionary keys alike.
fn write_bytes(b: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(b.len().to_string().as_bytes());
    out.push(b':');
    out.extend_from_slice(b);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &[u8]) -> Result<Value, Error> {
        decode(s, Limits::MESSAGE)
    }

    #[test]
    fn a_krpc_ping_round_trips_byte_for_byte() {
        let ping = b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe";
        let v = dec(ping).unwrap();
        assert_eq!(v.get("q").and_then(Value::as_bytes), Some(&b"ping"[..]));
        assert_eq!(
            v.get("a")
                .and_then(|a| a.get("id"))
                .map(|i| i.as_bytes().unwrap().len()),
            Some(20)
        );
        assert_eq!(v.encode(), ping);
    }

    #[test]
    fn integers_follow_bep3() {
        assert_eq!(dec(b"i-42e").unwrap(), Value::Int(-42));
        assert_eq!(dec(b"i0e").unwrap(), Value::Int(0));
        assert_eq!(dec(b"i9223372036854775807e").unwrap(), Value::Int(i64::MAX));
        assert_eq!(
            dec(b"i-9223372036854775808e").unwrap(),
            Value::Int(i64::MIN)
        );
        for bad in [&b"i03e"[..], b"i-0e", b"ie", b"i-e"] {
            assert_eq!(
                dec(bad).unwrap_err().problem,
                Problem::NonCanonicalInt,
                "{bad:?}"
            );
        }
        assert_eq!(
            dec(b"i9223372036854775808e").unwrap_err().problem,
            Problem::IntOverflow
        );
        assert_eq!(
            dec(b"i1x2e").unwrap_err(),
            err(2, Problem::Unexpected("a digit", b'x'))
        );
    }

    #[test]
    fn malformed_input_is_a_positioned_error_never_a_panic() {
        assert_eq!(dec(b"").unwrap_err(), err(0, Problem::Truncated("a value")));
        assert_eq!(
            dec(b"l").unwrap_err(),
            err(1, Problem::Truncated("a value"))
        );
        assert_eq!(
            dec(b"5:ab").unwrap_err().problem,
            Problem::Truncated("the string's bytes")
        );
        assert_eq!(
            dec(b"d1:be").unwrap_err(),
            err(4, Problem::Truncated("a value after the key"))
        );
        assert_eq!(
            dec(b"di1e1:ae").unwrap_err().problem,
            Problem::Unexpected("a byte-string key", b'i')
        );
        assert_eq!(
            dec(b"d1:b0:1:a0:e").unwrap_err().problem,
            Problem::UnsortedKeys
        );
        assert_eq!(
            dec(b"d1:a0:1:a0:e").unwrap_err().problem,
            Problem::UnsortedKeys
        );
        assert_eq!(
            dec(b"i1ei2e").unwrap_err(),
            err(3, Problem::TrailingBytes(3))
        );
        assert_eq!(
            dec(b"x").unwrap_err().problem,
            Problem::Unexpected("a value (i, l, d or a length)", b'x')
        );
        assert_eq!(dec(b"e").unwrap_err().offset, 0);
    }

    #[test]
    fn limits_stop_deep_huge_and_long_inputs_before_they_cost_memory() {
        let deep = vec![b'l'; 100_000];
        assert_eq!(dec(&deep).unwrap_err().problem, Problem::TooDeep(32));
        // A claimed 18-exabyte string is refused from its length alone.
        assert_eq!(
            dec(b"18446744073709551615:x").unwrap_err().problem,
            Problem::StringTooLong(u64::MAX, 1 << 20)
        );
        assert_eq!(
            dec(b"99999999999999999999:x").unwrap_err().problem,
            Problem::IntOverflow
        );
        let mut many = b"l".to_vec();
        many.extend(std::iter::repeat_n(&b"i1e"[..], 20_000).flatten());
        many.push(b'e');
        assert_eq!(
            dec(&many).unwrap_err().problem,
            Problem::TooManyElements(10_000)
        );
    }

    #[test]
    fn the_builder_encodes_canonically() {
        let v = Value::dict([
            ("y", Value::bytes("q")),
            (
                "a",
                Value::List(vec![Value::Int(-1), Value::bytes(vec![0u8, 255])]),
            ),
        ]);
        let e = v.encode();
        assert_eq!(e, b"d1:ali-1e2:\x00\xffe1:y1:qe");
        assert_eq!(dec(&e).unwrap(), v);
    }
}
