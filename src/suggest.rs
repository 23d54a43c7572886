//! "Did you mean …" for near-miss names: keys, plugin names, service targets, enum values.

/// The closest candidate to `input`, if it is close enough to be a plausible typo.
pub fn closest<'a, I>(input: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = input.to_ascii_lowercase();
    let mut best: Option<(f64, &'a str)> = None;
    for cand in candidates {
        let c = cand.to_ascii_lowercase();
        let score = if c == lower {
            1.0
        } else if !lower.is_empty() && (c.replace(['_', '-'], "") == lower.replace(['_', '-'], ""))
        {
            0.99
        } else {
            strsim::jaro_winkler(&lower, &c)
        };
        if score >= 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// A ready-to-print help line, or None.
pub fn did_you_mean<'a, I>(input: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    closest(input, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// "`a`, `b` or `c`" for messages that list what is accepted.
pub fn one_of<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("`{}`", s.as_ref())).collect();
    match quoted.len() {
        0 => "nothing".to_string(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        let c = ["ping_pong", "python_http", "nginx"];
        assert_eq!(closest("pingpong", c), Some("ping_pong"));
        assert_eq!(closest("ngnix", c), Some("nginx"));
        assert_eq!(closest("quiche", c), None);
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
    }
}
