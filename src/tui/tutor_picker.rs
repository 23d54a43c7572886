//! The tutorial picker (`panther --interactive-tutorials`, `:tutor`): every bundled tutorial
//! with the user's progress, the first unfinished one selected.

use crossterm::event::{KeyCode, KeyEvent};

/// One row: a tutorial and how far the user got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub title: String,
    pub summary: String,
    pub steps: usize,
    pub done: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TutorPicker {
    pub entries: Vec<Entry>,
    pub selected: usize,
}

/// What a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    None,
    Close,
    /// Follow this tutorial.
    Start(String),
}

impl TutorPicker {
    pub fn new(
        tutorials: &[crate::tutorial::Tutorial],
        progress: &std::collections::BTreeMap<String, usize>,
    ) -> Self {
        let entries: Vec<Entry> = tutorials
            .iter()
            .map(|t| Entry {
                name: t.name.clone(),
                title: t.title.clone(),
                summary: t.summary.clone(),
                steps: t.steps.len(),
                done: progress
                    .get(&t.name)
                    .copied()
                    .unwrap_or(0)
                    .min(t.steps.len()),
            })
            .collect();
        let selected = entries.iter().position(|e| e.done < e.steps).unwrap_or(0);
        TutorPicker { entries, selected }
    }

    pub fn key(&mut self, k: KeyEvent) -> Outcome {
        let last = self.entries.len().saturating_sub(1);
        match k.code {
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.selected = (self.selected + 1).min(last),
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.selected = last,
            KeyCode::Esc | KeyCode::Char('q') => return Outcome::Close,
            KeyCode::Enter => {
                if let Some(e) = self.entries.get(self.selected) {
                    return Outcome::Start(e.name.clone());
                }
            }
            _ => {}
        }
        Outcome::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    #[test]
    fn selects_the_first_unfinished_and_starts_the_chosen_one() {
        let all = crate::tutorial::bundled();
        let mut progress = std::collections::BTreeMap::new();
        progress.insert(all[0].name.clone(), all[0].steps.len());
        let mut p = TutorPicker::new(&all, &progress);
        assert_eq!(p.selected, 1, "the first one is finished");
        assert_eq!(p.entries[0].done, all[0].steps.len());
        let key = |c| KeyEvent::new(c, KeyModifiers::NONE);
        p.key(key(KeyCode::Up));
        p.key(key(KeyCode::Up));
        assert_eq!(p.selected, 0);
        p.key(key(KeyCode::End));
        assert_eq!(p.selected, all.len() - 1);
        assert_eq!(
            p.key(key(KeyCode::Enter)),
            Outcome::Start(all[all.len() - 1].name.clone())
        );
        assert_eq!(p.key(key(KeyCode::Esc)), Outcome::Close);
    }
}
