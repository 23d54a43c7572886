//! Past runs: the results folders, newest first, with date, experiment and verdict; the
//! selected run's report beside it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Wrap};

use crate::tui::app::App;
use crate::verdict::Verdict;

use super::{fg, frame, status_bar};

pub fn draw(f: &mut Frame, app: &App) {
    let [body, foot] = frame(f, app);
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body);
    // The verdict column as wide as its widest label here, and the time shortened when
    // the list is narrow, so 80 columns show mark, verdict, name and time whole.
    let label_w = app
        .runs
        .iter()
        .map(|r| label(app, r).0.len())
        .max()
        .unwrap_or(4);
    let name_w = app.runs.iter().map(|r| r.experiment.chars().count()).max();
    let room = (left.width.saturating_sub(2) as usize)
        .saturating_sub(2 + label_w + 1 + name_w.unwrap_or(0) + 2);
    let short = Stamp::fitting(room);
    let items: Vec<ListItem> = app
        .runs
        .iter()
        .map(|r| {
            let (label, color) = label(app, r);
            let ok = match r.ok {
                Some(true) => "✓",
                Some(false) => "✗",
                None => "·",
            };
            // What matters first (the mark, the verdict, the name), the time last: a
            // narrow list cuts the time, not the name.
            ListItem::new(Line::from(vec![
                Span::styled(format!("{ok} {label:<label_w$} "), fg(app, color)),
                // Padded, so the times line up in a column.
                Span::raw(format!("{:<w$}", r.experiment, w = name_w.unwrap_or(0))),
                Span::styled(
                    format!("  {}", when(&r.when, short)),
                    fg(app, app.theme.muted),
                ),
            ]))
        })
        .collect();
    let highlight = if app.color {
        app.theme.selection
    } else {
        Style::default().add_modifier(Modifier::REVERSED)
    };
    let title = if app.runs_filter.is_empty() {
        format!(" runs in {} ({}) ", app.outputs.display(), app.runs.len())
    } else {
        format!(" runs matching “{}” ({}) ", app.runs_filter, app.runs.len())
    };
    let mut state =
        ListState::default().with_selected((!app.runs.is_empty()).then_some(app.run_selected));
    app.list_area
        .set(Some((left.x, left.y, left.width, left.height)));
    f.render_stateful_widget(
        List::new(items)
            .block(Block::default().borders(Borders::ALL).title(title))
            .highlight_style(highlight),
        left,
        &mut state,
    );
    let text = match app.selected_run() {
        None if !app.runs_filter.is_empty() => format!("No run matches “{}”; Esc clears the filter.", app.runs_filter),
        None => "No runs yet. Start one with `panther run experiments/quickstart.yaml`; its results folder appears here.".to_string(),
        Some(r) => crate::results::read_limited(&r.dir.join(crate::results::REPORT)).unwrap_or_else(|_| {
            format!("{}\n\nThis run has no report: it was stopped before it finished. Its events are in events.jsonl.", r.dir.display())
        }),
    };
    f.render_widget(
        Paragraph::new(markdown(&text))
            .wrap(Wrap { trim: false })
            .scroll((app.detail_scroll, 0))
            .block(Block::default().borders(Borders::ALL).title(" report ")),
        right,
    );
    status_bar(f, app, foot);
}

/// A run's label in the list (`PastRun::state`, the words every place uses), and its colour.
fn label(app: &App, r: &crate::results::history::PastRun) -> (&'static str, Color) {
    let t = &app.theme;
    let color = match r.verdict {
        _ if r.cancelled => t.muted,
        Some(Verdict::Pass) => t.ok,
        Some(Verdict::Inconclusive) => t.warn,
        Some(Verdict::Fail) => t.error,
        Some(Verdict::Error) => super::verdict_error(app),
        None => t.muted,
    };
    let text = match r.state() {
        "inconclusive" => "inconcl.",
        s => s,
    };
    (text, color)
}

/// How much of a run's time the list has room for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stamp {
    /// `2026-11-25 10:00:00`
    Full,
    /// `11-25 10:00`
    Day,
    /// `10:00`
    Time,
}

impl Stamp {
    /// The longest form that fits in `room` columns (the shortest when none does), so a
    /// time is never cut half-way (`11-25 10:`).
    fn fitting(room: usize) -> Stamp {
        match room {
            19.. => Stamp::Full,
            11.. => Stamp::Day,
            _ => Stamp::Time,
        }
    }
}

/// `2026-11-25_10-00-00` as `2026-11-25 10:00:00`, `11-25 10:00` or `10:00`.
fn when(stamp: &str, form: Stamp) -> String {
    let Some((date, time)) = stamp.split_once('_') else {
        return stamp.to_string();
    };
    let hm = time.get(..5).unwrap_or(time).replace('-', ":");
    match form {
        Stamp::Full => format!("{date} {}", time.replace('-', ":")),
        Stamp::Day => format!("{} {hm}", date.get(5..).unwrap_or(date)),
        Stamp::Time => hm,
    }
}

/// A report's Markdown, readable as text: headings bold without their `#`, `**` and
/// backticks dropped, table rule lines left out (also the indented ones of a service's
/// profile table).
fn markdown(text: &str) -> Vec<Line<'static>> {
    let bold = Style::default().add_modifier(Modifier::BOLD);
    text.lines()
        .filter(|l| !l.trim_start().starts_with("|---"))
        .map(|l| {
            let plain = table_row(l).unwrap_or_else(|| l.to_string());
            let plain = plain.replace("**", "").replace('`', "");
            match plain.strip_prefix('#') {
                Some(h) => Line::styled(h.trim_start_matches('#').trim().to_string(), bold),
                None => Line::from(plain),
            }
        })
        .collect()
}

/// A Markdown table row (`| a | b |`, maybe indented) as its cells joined by ` · `, its
/// indentation kept; None for any other line.
fn table_row(line: &str) -> Option<String> {
    let t = line.trim_start();
    let inner = t.strip_prefix('|')?.strip_suffix('|')?;
    let indent = &line[..line.len() - t.len()];
    let cells: Vec<&str> = inner.split('|').map(str::trim).collect();
    Some(format!("{indent}{}", cells.join(" · ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_shorten_and_tables_lose_their_bars() {
        assert_eq!(
            when("2026-11-25_10-00-00", Stamp::Full),
            "2026-11-25 10:00:00"
        );
        assert_eq!(when("2026-11-25_10-00-00", Stamp::Day), "11-25 10:00");
        assert_eq!(when("2026-11-25_10-00-00", Stamp::Time), "10:00");
        assert_eq!(when("odd", Stamp::Day), "odd");
        assert_eq!(Stamp::fitting(19), Stamp::Full);
        assert_eq!(Stamp::fitting(18), Stamp::Day);
        assert_eq!(Stamp::fitting(9), Stamp::Time);
        assert_eq!(
            table_row("| Test | Verdict |").as_deref(),
            Some("Test · Verdict")
        );
        assert_eq!(table_row("  | a | b |").as_deref(), Some("  a · b"));
        assert_eq!(table_row("a | b"), None);
        let text: Vec<String> = markdown("# T\n| a | b |\n|---|---|\n| 1 | `x` |")
            .iter()
            .map(|l| l.to_string())
            .collect();
        assert_eq!(text, ["T", "a · b", "1 · x"]);
    }
}
