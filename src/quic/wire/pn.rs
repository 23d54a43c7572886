//! Packet number recovery from its truncated form (RFC 9000 §17.1 and Appendix A.3), and the
//! truncation a sender picks (Appendix A.2).

/// Recovers the full packet number from `truncated` (`len` bytes on the wire) given the
/// largest packet number received so far in that space (`None` before the first one).
pub fn decode(largest: Option<u64>, truncated: u64, len: usize) -> u64 {
    let bits = (len * 8) as u32;
    let expected = largest.map_or(0, |l| l + 1);
    let win = 1u64 << bits;
    let hwin = win / 2;
    let mask = win - 1;
    let candidate = (expected & !mask) | truncated;
    if candidate + hwin <= expected && candidate < (1u64 << 62) - win {
        candidate + win
    } else if candidate > expected + hwin && candidate >= win {
        candidate - win
    } else {
        candidate
    }
}

/// The number of bytes needed to send `pn` when the peer has acknowledged up to
/// `largest_acked` (RFC 9000 §A.2).
pub fn encoded_len(pn: u64, largest_acked: Option<u64>) -> usize {
    let unacked = match largest_acked {
        Some(a) => pn.saturating_sub(a),
        None => pn + 1,
    };
    let bits = 64 - unacked.leading_zeros() + 1;
    (bits.div_ceil(8) as usize).clamp(1, 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9000_a3_example() {
        // "if the highest successfully authenticated packet had a packet number of 0xa82f30ea,
        // then a packet containing a 16-bit value of 0x9b32 will be decoded as 0xa82f9b32"
        assert_eq!(decode(Some(0xa82f_30ea), 0x9b32, 2), 0xa82f_9b32);
        assert_eq!(decode(None, 0, 1), 0);
        assert_eq!(decode(Some(0xff), 0x00, 1), 0x100);
        assert_eq!(decode(Some(0x100), 0xff, 1), 0xff);
    }

    #[test]
    fn rfc9000_a2_example() {
        assert_eq!(encoded_len(0xac5c02, Some(0xabe8b3)), 2);
        assert_eq!(encoded_len(0xace8fe, Some(0xabe8b3)), 3);
    }
}
