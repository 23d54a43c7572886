//! What one case concluded: a verdict, a sentence saying why, and the evidence (packet
//! numbers, byte counts, error codes) a reader can check against the trace.

use serde_json::{Map, Value};

use crate::verdict::Verdict;

#[derive(Debug, Clone)]
pub struct Outcome {
    pub verdict: Verdict,
    pub text: String,
    pub evidence: Map<String, Value>,
}

impl Outcome {
    pub fn pass(text: impl Into<String>) -> Outcome {
        Outcome::new(Verdict::Pass, text)
    }
    pub fn fail(text: impl Into<String>) -> Outcome {
        Outcome::new(Verdict::Fail, text)
    }
    pub fn inconclusive(text: impl Into<String>) -> Outcome {
        Outcome::new(Verdict::Inconclusive, text)
    }
    pub fn new(verdict: Verdict, text: impl Into<String>) -> Outcome {
        Outcome {
            verdict,
            text: text.into(),
            evidence: Map::new(),
        }
    }
    pub fn with(mut self, key: &str, v: impl Into<Value>) -> Outcome {
        self.evidence.insert(key.to_string(), v.into());
        self
    }
}

/// The first few items of a list for a verdict's sentence, and how many more there were.
pub fn cut(items: &[String]) -> String {
    const SHOWN: usize = 5;
    if items.is_empty() {
        return "none".into();
    }
    let mut s = items[..items.len().min(SHOWN)].join("; ");
    if items.len() > SHOWN {
        s.push_str(&format!("; and {} more", items.len() - SHOWN));
    }
    s
}

/// Why a case could not get as far as a verdict on its property.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("cannot connect: {0}")]
    Connect(#[from] quinn::ConnectError),
    #[error("the connection failed: {0}")]
    Connection(#[from] quinn::ConnectionError),
    #[error("timed out after {ms} ms while {during}")]
    Timeout { ms: u64, during: &'static str },
    #[error("stream: {0}")]
    Stream(String),
    #[error(transparent)]
    Tls(#[from] super::tls::TlsError),
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
}

impl CaseError {
    /// A failure to connect or a broken stream is the server's failure of the property; a
    /// local problem (a socket, a certificate file) is an error of the test itself.
    pub fn into_outcome(self) -> Outcome {
        let verdict = match self {
            CaseError::Tls(_) | CaseError::Io(_) => Verdict::Error,
            _ => Verdict::Fail,
        };
        Outcome::new(verdict, self.to_string())
    }
}

impl From<quinn::WriteError> for CaseError {
    fn from(e: quinn::WriteError) -> Self {
        CaseError::Stream(e.to_string())
    }
}

impl From<quinn::ReadToEndError> for CaseError {
    fn from(e: quinn::ReadToEndError) -> Self {
        CaseError::Stream(e.to_string())
    }
}

impl From<quinn::ClosedStream> for CaseError {
    fn from(e: quinn::ClosedStream) -> Self {
        CaseError::Stream(e.to_string())
    }
}
