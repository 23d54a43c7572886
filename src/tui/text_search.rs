//! Finding text in the editor's lines: a plain, case-insensitive match (what `/` in the
//! editor's view mode looks for), forward or backward from a position, wrapping around.

/// The next (or previous) place `pattern` occurs, as 0-based (line, column in chars),
/// strictly after (or before) `from`, wrapping around the end; and whether it wrapped.
pub fn find(
    lines: &[String],
    from: (usize, usize),
    pattern: &str,
    forward: bool,
) -> Option<((usize, usize), bool)> {
    if pattern.is_empty() || lines.is_empty() {
        return None;
    }
    let pat: Vec<char> = pattern.to_lowercase().chars().collect();
    let mut all: Vec<(usize, usize)> = Vec::new();
    for (row, line) in lines.iter().enumerate() {
        let chars: Vec<char> = line.to_lowercase().chars().collect();
        if chars.len() < pat.len() {
            continue;
        }
        for col in 0..=chars.len() - pat.len() {
            if chars[col..col + pat.len()] == pat[..] {
                all.push((row, col));
            }
        }
    }
    let next = if forward {
        all.iter().find(|&&p| p > from).map(|&p| (p, false))
    } else {
        all.iter().rev().find(|&&p| p < from).map(|&p| (p, false))
    };
    next.or_else(|| {
        let wrapped = if forward { all.first() } else { all.last() };
        wrapped.map(|&p| (p, true))
    })
}

#[cfg(test)]
mod tests {
    use super::find;

    #[test]
    fn finds_forward_and_back_and_wraps() {
        let lines: Vec<String> = ["a Ping", "b", "ping ping"].map(String::from).to_vec();
        assert_eq!(find(&lines, (0, 0), "PING", true), Some(((0, 2), false)));
        assert_eq!(find(&lines, (0, 2), "ping", true), Some(((2, 0), false)));
        assert_eq!(find(&lines, (2, 5), "ping", true), Some(((0, 2), true)));
        assert_eq!(find(&lines, (2, 0), "ping", false), Some(((0, 2), false)));
        assert_eq!(find(&lines, (0, 2), "ping", false), Some(((2, 5), true)));
        assert_eq!(find(&lines, (0, 0), "pong", true), None);
        assert_eq!(find(&lines, (0, 0), "", true), None);
    }
}
