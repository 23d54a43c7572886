//! The one table of keys: every context of the workbench (the global keys, each screen, the
//! editor's two modes, the form, the palette, the logs and help overlays) with its actions,
//! their default keys and what they do. `[keys]` in `config.toml` rebinds them
//! ([`super::config::effective_bindings`]); the keymap, the help overlay and the footers are
//! all read from here, so what is shown is what works.

/// Where a key is pressed. Screens in view mode also take the [`Context::Global`] keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    Plugins,
    Runs,
    Sequence,
    Matrix,
    Logs,
    /// The YAML editor in view mode (keys move and command; nothing is typed).
    Editor,
    /// The YAML editor in insert mode (keys type into the file).
    Insert,
    Form,
    Palette,
    Help,
}

impl Context {
    pub const ALL: [Context; 11] = [
        Context::Global,
        Context::Plugins,
        Context::Runs,
        Context::Sequence,
        Context::Matrix,
        Context::Logs,
        Context::Editor,
        Context::Insert,
        Context::Form,
        Context::Palette,
        Context::Help,
    ];

    /// The name used in `[keys]` (`"sequence.down" = "n"`).
    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Plugins => "plugins",
            Context::Runs => "runs",
            Context::Sequence => "sequence",
            Context::Matrix => "matrix",
            Context::Logs => "logs",
            Context::Editor => "editor",
            Context::Insert => "insert",
            Context::Form => "form",
            Context::Palette => "palette",
            Context::Help => "help",
        }
    }

    /// How help and error messages name it.
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "every screen",
            Context::Plugins => "the plugins screen",
            Context::Runs => "the runs screen",
            Context::Sequence => "the sequence view",
            Context::Matrix => "the matrix screen",
            Context::Logs => "the logs overlay",
            Context::Editor => "the editor (view mode)",
            Context::Insert => "the editor (insert mode)",
            Context::Form => "the form view",
            Context::Palette => "the command line",
            Context::Help => "the help overlay",
        }
    }

    /// Screens in view mode take the global keys too; overlays and typing modes do not.
    pub fn takes_global(self) -> bool {
        matches!(
            self,
            Context::Plugins
                | Context::Runs
                | Context::Sequence
                | Context::Matrix
                | Context::Editor
                | Context::Form
        )
    }

    pub fn from_name(name: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// One action of a context: its name (what `[keys]` uses), its default keys (the first is
/// the main key that `[keys]` replaces, the others stay) and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Def {
    pub ctx: Context,
    pub name: &'static str,
    pub keys: &'static [&'static str],
    pub what: &'static str,
}

const fn d(
    ctx: Context,
    name: &'static str,
    keys: &'static [&'static str],
    what: &'static str,
) -> Def {
    Def {
        ctx,
        name,
        keys,
        what,
    }
}

use Context::*;

/// Every action, by context, in help order.
pub const DEFS: &[Def] = &[
    d(Global, "screen-1", &["1", "alt-1"], "the plugins screen"),
    d(Global, "screen-2", &["2", "alt-2"], "the runs screen"),
    d(Global, "screen-3", &["3", "alt-3"], "the experiment screen"),
    d(Global, "screen-4", &["4", "alt-4"], "the sequence screen"),
    d(Global, "screen-5", &["5", "alt-5"], "the matrix screen"),
    d(Global, "next-screen", &["tab"], "the next screen"),
    d(Global, "prev-screen", &["backtab"], "the previous screen"),
    d(
        Global,
        "help",
        &["?"],
        "help for this screen (? or Esc closes)",
    ),
    d(
        Global,
        "palette",
        &[":", "ctrl-p"],
        "command line: :open :w :run :q …",
    ),
    d(
        Global,
        "cancel",
        &["esc"],
        "back: close what is open, else the screen before",
    ),
    d(
        Global,
        "quit",
        &["q", "ctrl-c"],
        "quit (asks when there are unsaved changes)",
    ),
    // The plugins screen.
    d(Plugins, "down", &["j", "down"], "move down"),
    d(Plugins, "up", &["k", "up"], "move up"),
    d(Plugins, "top", &["g", "home"], "first plugin"),
    d(Plugins, "bottom", &["G", "end"], "last plugin"),
    d(Plugins, "page-down", &["pgdn"], "page down"),
    d(Plugins, "page-up", &["pgup"], "page up"),
    d(
        Plugins,
        "filter",
        &["/"],
        "filter by name, description, tag (Esc clears)",
    ),
    d(
        Plugins,
        "install",
        &["i"],
        "install the plugin (shows the commands, asks)",
    ),
    d(
        Plugins,
        "scroll-detail-down",
        &["J"],
        "scroll the README down",
    ),
    d(Plugins, "scroll-detail-up", &["K"], "scroll the README up"),
    // The runs screen.
    d(Runs, "down", &["j", "down"], "move down"),
    d(Runs, "up", &["k", "up"], "move up"),
    d(Runs, "top", &["g", "home"], "newest run"),
    d(Runs, "bottom", &["G", "end"], "oldest run"),
    d(Runs, "page-down", &["pgdn"], "page down"),
    d(Runs, "page-up", &["pgup"], "page up"),
    d(Runs, "open", &["enter"], "open the run's sequence"),
    d(
        Runs,
        "filter",
        &["/"],
        "filter by name, verdict, date (Esc clears)",
    ),
    d(Runs, "scroll-detail-down", &["J"], "scroll the report down"),
    d(Runs, "scroll-detail-up", &["K"], "scroll the report up"),
    // The sequence view.
    d(Matrix, "down", &["j", "down"], "next client"),
    d(Matrix, "up", &["k", "up"], "previous client"),
    d(
        Matrix,
        "right",
        &["l", "right"],
        "next case (then the next server)",
    ),
    d(Matrix, "left", &["h", "left"], "previous case"),
    d(
        Matrix,
        "verdicts",
        &["f"],
        "show: all, not passed, fail, flaky, error, unsupported, pass",
    ),
    d(
        Matrix,
        "filter",
        &["/"],
        "only implementations whose name contains a text",
    ),
    d(
        Matrix,
        "open",
        &["enter"],
        "the selected cell's sequence view",
    ),
    d(Matrix, "rerun", &["r"], "run the selected cell again"),
    d(Sequence, "down", &["j", "down"], "next row"),
    d(
        Sequence,
        "up",
        &["k", "up"],
        "previous row (stops following)",
    ),
    d(Sequence, "top", &["g", "home"], "first row"),
    d(
        Sequence,
        "bottom",
        &["G", "end"],
        "last row (follows a live run)",
    ),
    d(Sequence, "page-down", &["pgdn"], "page down"),
    d(Sequence, "page-up", &["pgup"], "page up"),
    d(Sequence, "detail", &["enter"], "the selected event in full"),
    d(
        Sequence,
        "search",
        &["/"],
        "search: TEXT, kind:message, service:NAME",
    ),
    d(Sequence, "next-match", &["n"], "next match"),
    d(Sequence, "prev-match", &["N"], "previous match"),
    d(
        Sequence,
        "filter-rows",
        &["f"],
        "keep only the rows the search matches",
    ),
    d(Sequence, "all-rows", &["F"], "show all rows again"),
    d(Sequence, "logs", &["l"], "the selected service's logs"),
    d(Sequence, "time", &["t"], "relative / absolute times"),
    d(
        Sequence,
        "hide-lane",
        &["h"],
        "hide the selected row's lane",
    ),
    d(Sequence, "show-lanes", &["H"], "show all lanes"),
    d(Sequence, "lane-left", &["<"], "move the lane left"),
    d(Sequence, "lane-right", &[">"], "move the lane right"),
    d(
        Sequence,
        "mermaid",
        &["m"],
        "write the Mermaid diagram (sequence-view.mmd)",
    ),
    d(
        Sequence,
        "cancel-run",
        &["x"],
        "cancel the live run (asks: x again)",
    ),
    d(
        Sequence,
        "live",
        &["L"],
        "back to the live run (a recorded run opened over it)",
    ),
    // The logs overlay.
    d(Logs, "down", &["j", "down"], "scroll down"),
    d(Logs, "up", &["k", "up"], "scroll up"),
    d(Logs, "top", &["g", "home"], "first line"),
    d(Logs, "bottom", &["G", "end"], "last line"),
    d(Logs, "page-down", &["pgdn"], "page down"),
    d(Logs, "page-up", &["pgup"], "page up"),
    d(Logs, "next-service", &["tab"], "the next service's logs"),
    d(Logs, "logs", &["l"], "close the logs"),
    d(Logs, "cancel", &["esc"], "close the logs"),
    d(Logs, "help", &["?"], "help"),
    d(Logs, "quit", &["q", "ctrl-c"], "quit"),
    // The editor, view mode.
    d(
        Editor,
        "insert",
        &["i", "enter"],
        "insert mode: type into the file (Esc leaves)",
    ),
    d(
        Editor,
        "run",
        &["ctrl-r"],
        "run the experiment (when it validates)",
    ),
    d(Editor, "save", &["ctrl-s"], "save (:w too)"),
    d(Editor, "form", &["f2"], "form view / YAML view"),
    d(Editor, "down", &["j", "down"], "cursor down"),
    d(Editor, "up", &["k", "up"], "cursor up"),
    d(Editor, "left", &["h", "left"], "cursor left"),
    d(Editor, "right", &["l", "right"], "cursor right"),
    d(Editor, "top", &["g"], "first line"),
    d(Editor, "bottom", &["G"], "last line"),
    d(Editor, "page-down", &["pgdn"], "page down"),
    d(Editor, "page-up", &["pgup"], "page up"),
    d(Editor, "line-start", &["0", "home"], "start of the line"),
    d(Editor, "line-end", &["$", "end"], "end of the line"),
    d(Editor, "undo", &["u", "ctrl-z"], "undo"),
    d(Editor, "redo", &["ctrl-y"], "redo"),
    d(Editor, "search", &["/"], "find text (then n/N)"),
    d(Editor, "next-match", &["n"], "next match"),
    d(Editor, "prev-match", &["N"], "previous match"),
    d(Editor, "next-problem", &["f8"], "the next problem"),
    d(Editor, "validate", &["f5"], "validate now"),
    // The editor, insert mode: every other key types.
    d(Insert, "normal", &["esc"], "back to view mode"),
    d(
        Insert,
        "run",
        &["ctrl-r"],
        "run the experiment (when it validates)",
    ),
    d(Insert, "save", &["ctrl-s"], "save"),
    d(Insert, "undo", &["ctrl-z"], "undo"),
    d(Insert, "redo", &["ctrl-y"], "redo"),
    d(Insert, "next-problem", &["f8"], "the next problem"),
    d(Insert, "validate", &["f5"], "validate now"),
    d(Insert, "form", &["f2"], "form view / YAML view"),
    d(Insert, "palette", &["ctrl-p"], "command line"),
    d(Insert, "help", &["f1"], "help"),
    // The form view.
    d(Form, "down", &["j", "down"], "move down"),
    d(Form, "up", &["k", "up"], "move up"),
    d(Form, "top", &["g", "home"], "first row"),
    d(Form, "bottom", &["G", "end"], "last row"),
    d(
        Form,
        "edit",
        &["enter"],
        "edit the parameter / cycle the choice",
    ),
    d(
        Form,
        "pane-right",
        &["l", "right"],
        "the service's parameters",
    ),
    d(
        Form,
        "pane-left",
        &["h", "left"],
        "back to the tests and services",
    ),
    d(Form, "add-service", &["a"], "add a service (a wizard)"),
    d(Form, "delete-service", &["d"], "delete the service"),
    d(Form, "add-test", &["T"], "add a test"),
    d(Form, "delete-test", &["D"], "delete the test"),
    d(Form, "form", &["f2"], "back to the YAML"),
    d(
        Form,
        "run",
        &["ctrl-r"],
        "run the experiment (when it validates)",
    ),
    d(Form, "save", &["ctrl-s"], "save"),
    // The command line.
    d(Palette, "run-command", &["enter"], "run the command"),
    d(
        Palette,
        "complete",
        &["tab"],
        "complete the command or the path",
    ),
    d(Palette, "previous", &["up"], "the command run before"),
    d(Palette, "next", &["down"], "the command run after"),
    d(Palette, "cancel", &["esc"], "close"),
    // The help overlay.
    d(Help, "down", &["j", "down"], "scroll down"),
    d(Help, "up", &["k", "up"], "scroll up"),
    d(Help, "help", &["?"], "close help"),
    d(Help, "cancel", &["esc"], "close help"),
    d(Help, "quit", &["q"], "close help"),
];

/// The actions of a context, in help order.
pub fn of(ctx: Context) -> impl Iterator<Item = &'static Def> {
    DEFS.iter().filter(move |d| d.ctx == ctx)
}

/// Every action name, once each, in table order.
pub fn names() -> Vec<&'static str> {
    let mut v: Vec<&str> = Vec::new();
    for d in DEFS {
        if !v.contains(&d.name) {
            v.push(d.name);
        }
    }
    v
}

/// The footer of each context: (actions whose first keys are shown, label), most useful
/// first. The footer shows what fits, then `? more`.
pub fn footer(ctx: Context) -> &'static [(&'static [&'static str], &'static str)] {
    match ctx {
        Global => &[(&["palette"], "commands"), (&["quit"], "quit")],
        Plugins => &[
            (&["down", "up"], "move"),
            (&["filter"], "filter"),
            (&["install"], "install"),
            (&["scroll-detail-down", "scroll-detail-up"], "README"),
        ],
        Runs => &[
            (&["down", "up"], "move"),
            (&["open"], "open"),
            (&["filter"], "filter"),
            (&["scroll-detail-down", "scroll-detail-up"], "report"),
        ],
        Matrix => &[
            (&["down", "up", "right", "left"], "move"),
            (&["open"], "sequence"),
            (&["rerun"], "re-run"),
            (&["verdicts"], "verdicts"),
            (&["filter"], "find"),
        ],
        Sequence => &[
            (&["down", "up"], "move"),
            (&["detail"], "detail"),
            (&["search"], "search"),
            (&["logs"], "logs"),
            (&["filter-rows"], "filter"),
            (&["time"], "time"),
            (&["cancel-run"], "cancel run"),
        ],
        Logs => &[
            (&["down", "up"], "scroll"),
            (&["next-service"], "next service"),
            (&["cancel"], "close"),
        ],
        Editor => &[
            (&["insert"], "edit"),
            (&["run"], "run"),
            (&["save"], "save"),
            (&["form"], "form"),
            (&["next-problem"], "next problem"),
            (&["undo"], "undo"),
        ],
        Insert => &[
            (&["normal"], "done editing"),
            (&["run"], "run"),
            (&["save"], "save"),
            (&["undo"], "undo"),
            (&["palette"], "commands"),
        ],
        Form => &[
            (&["down", "up"], "move"),
            (&["edit"], "edit"),
            (&["add-service"], "add service"),
            (&["delete-service"], "delete"),
            (&["add-test"], "add test"),
            (&["form"], "YAML"),
        ],
        Palette => &[
            (&["run-command"], "run"),
            (&["complete"], "complete"),
            (&["cancel"], "close"),
        ],
        Help => &[(&["cancel"], "close")],
    }
}
