//! Verdicts form a lattice that only gets worse: pass < inconclusive < fail < error. A
//! test's verdict is the join of its services' and checks' verdicts, each with its reason.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Inconclusive,
    Fail,
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
        }
    }

    /// The worse of two verdicts.
    pub fn join(self, other: Verdict) -> Verdict {
        self.max(other)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Verdict::*;

    #[test]
    fn join_only_gets_worse() {
        assert_eq!(Pass.join(Fail), Fail);
        assert_eq!(Error.join(Pass), Error);
        assert_eq!(Inconclusive.join(Pass), Inconclusive);
        assert_eq!(Fail.join(Inconclusive), Fail);
    }
}
