//! The new-plugin wizard (`:create` with no arguments): the questions `panther
//! --create-plugin TYPE NAME` needs, asked one at a time on the palette line, each answer
//! checked before the next question so a mistake is fixed where it was made.

use crate::plugin::Registry;
use crate::plugin::creator::{self, Request};
use crate::plugin::manifest::Kind;
use crate::suggest;

/// The types offered (PANTHER's `service` is accepted too, as an IUT).
pub const TYPES: &[&str] = &[
    "iut",
    "tester",
    "network_environment",
    "execution_environment",
    "protocol",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Question {
    Type,
    Name,
    Protocol,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateWizard {
    question: Question,
    kind: Option<Kind>,
    name: String,
}

/// What an answer led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Ask the next question.
    Next,
    /// Everything is known: create this.
    Done(Request),
}

impl Default for CreateWizard {
    fn default() -> Self {
        Self::new()
    }
}

impl CreateWizard {
    pub fn new() -> Self {
        CreateWizard {
            question: Question::Type,
            kind: None,
            name: String::new(),
        }
    }

    /// The current question, as the palette line's prompt.
    pub fn prompt(&self) -> String {
        match self.question {
            Question::Type => format!("new plugin, type ({}): ", TYPES.join(" | ")),
            Question::Name => format!(
                "new {} plugin, name (a-z, 0-9, _): ",
                self.kind.map(|k| k.as_str()).unwrap_or("")
            ),
            Question::Protocol => format!("{}: the protocol it speaks [minip]: ", self.name),
        }
    }

    /// The choices that complete `typed` for the current question.
    pub fn complete(&self, typed: &str, reg: &Registry) -> Vec<String> {
        let choices: Vec<String> = match self.question {
            Question::Type => TYPES.iter().map(|s| s.to_string()).collect(),
            Question::Protocol => reg
                .names(&[Kind::Protocol])
                .into_iter()
                .map(String::from)
                .collect(),
            Question::Name => Vec::new(),
        };
        choices
            .into_iter()
            .filter(|c| c.starts_with(typed.trim()))
            .collect()
    }

    /// Takes the answer to the current question. An error is a ready-to-show line; the
    /// question stays the same.
    pub fn answer(&mut self, input: &str, reg: &Registry) -> Result<Step, String> {
        let a = input.trim();
        match self.question {
            Question::Type => {
                let kind = creator::parse_type(a)?;
                self.kind = Some(kind);
                self.question = Question::Name;
                Ok(Step::Next)
            }
            Question::Name => {
                creator::check_name(a)?;
                let kind = self.kind.expect("asked after the type");
                let taken = match kind {
                    Kind::Iut | Kind::Tester => reg.service(a),
                    k => reg.get(&[k], a),
                };
                if let Some(p) = taken {
                    return Err(format!(
                        "a {} plugin named `{a}` already exists ({}); choose another name",
                        p.kind(),
                        p.file
                    ));
                }
                self.name = a.to_string();
                if kind.is_service() {
                    self.question = Question::Protocol;
                    Ok(Step::Next)
                } else {
                    Ok(Step::Done(self.request(None)))
                }
            }
            Question::Protocol => {
                let p = if a.is_empty() { "minip" } else { a };
                if reg.protocol(p).is_none() {
                    let names = reg.names(&[Kind::Protocol]);
                    let help = suggest::did_you_mean(p, names.iter().copied())
                        .map(|h| format!("; {h}"))
                        .unwrap_or_default();
                    return Err(format!(
                        "unknown protocol `{p}`: expected {}{help}",
                        suggest::one_of(&names)
                    ));
                }
                Ok(Step::Done(self.request(Some(p.to_string()))))
            }
        }
    }

    fn request(&self, protocol: Option<String>) -> Request {
        Request {
            kind: self.kind.expect("asked first"),
            name: self.name.clone(),
            protocol,
            dir: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg() -> Registry {
        Registry::load(&crate::plugin::LoadOptions {
            user: false,
            availability: false,
            ..Default::default()
        })
    }

    #[test]
    fn asks_type_name_protocol_and_checks_each_answer() {
        let r = reg();
        let mut w = CreateWizard::new();
        assert!(w.prompt().contains("type"));
        let e = w.answer("servce", &r).unwrap_err();
        assert!(e.contains("did you mean `service`?"), "{e}");
        assert_eq!(w.answer("service", &r), Ok(Step::Next));
        assert!(w.prompt().contains("new iut plugin, name"));
        assert!(w.answer("My IUT", &r).unwrap_err().contains("try `my_iut`"));
        assert!(
            w.answer("ping_pong", &r)
                .unwrap_err()
                .contains("already exists")
        );
        assert_eq!(w.answer("my_iut", &r), Ok(Step::Next));
        assert_eq!(w.complete("mi", &r), vec!["minip".to_string()]);
        assert!(w.answer("minp", &r).unwrap_err().contains("`minip`"));
        match w.answer("", &r) {
            Ok(Step::Done(req)) => {
                assert_eq!(req.kind, Kind::Iut);
                assert_eq!(req.name, "my_iut");
                assert_eq!(req.protocol.as_deref(), Some("minip"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn environments_and_protocols_need_no_protocol() {
        let r = reg();
        let mut w = CreateWizard::new();
        assert_eq!(w.complete("ex", &r), vec!["execution_environment"]);
        w.answer("execution_environment", &r).unwrap();
        assert!(matches!(w.answer("my_nice", &r), Ok(Step::Done(_))));
    }
}
