//! The experiment builder's form view: tests, their network environment and services on the
//! left, the selected service's fields and plugin parameters on the right. Services are added
//! through a small wizard driven by the plugin registry (implementation → protocol → version
//! → role → target); parameter values are parsed by their declared type and checked with
//! `plugin::check::check_value` before they are applied.
//!
//! Self-contained: the app owns a `Form`, feeds it keys with `handle_key`, re-renders the YAML
//! with `to_yaml` when it returns `FormOutcome::Changed`, and `draw` paints it into any area.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use indexmap::IndexMap;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, ListState, Paragraph};
use serde_json::Value as Json;

use crate::experiment::{
    self, Experiment, Test,
    model::{Implementation, NetworkEnvironment, ProtocolRef, Service, ServiceType, Steps},
};
use crate::plugin::manifest::{ParamType, Parameter};
use crate::plugin::{Kind, Registry, Role, check};

/// What the caller should do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormOutcome {
    None,
    /// The experiment changed: re-render the YAML with `Form::to_yaml`.
    Changed,
    /// The user left the form.
    Close,
}

/// A row of the left pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LeftRow {
    Test(usize),
    Network(usize),
    Service(usize, usize),
}

/// A selectable row of the right pane.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    Version,
    Target,
    Param(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pane {
    Left,
    Right,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Implementation,
    Protocol,
    Version,
    Role,
    Target,
}

impl Step {
    fn label(self) -> &'static str {
        match self {
            Step::Implementation => "implementation",
            Step::Protocol => "protocol",
            Step::Version => "version",
            Step::Role => "role",
            Step::Target => "target",
        }
    }
}

/// The add-service wizard: one list per step, the choices so far.
#[derive(Debug, Clone)]
struct Wizard {
    test: usize,
    step: Step,
    options: Vec<String>,
    selected: usize,
    /// (step, choice, selected index) for each completed step, to go back.
    chosen: Vec<(Step, String, usize)>,
}

impl Wizard {
    fn choice(&self, step: Step) -> Option<&str> {
        self.chosen
            .iter()
            .find(|(s, _, _)| *s == step)
            .map(|(_, c, _)| c.as_str())
    }
}

/// The one-line parameter input.
#[derive(Debug, Clone)]
struct Input {
    param: String,
    text: String,
}

/// The keys shown in the bottom line.
pub const KEYS: &[(&str, &str)] = &[
    ("j/k", "move"),
    ("Tab", "pane"),
    ("Enter", "edit/cycle"),
    ("a/d", "add/delete service"),
    ("T/D", "add/delete test"),
    ("Esc", "close"),
];

pub struct Form {
    exp: Experiment,
    pane: Pane,
    left: usize,
    right: usize,
    wizard: Option<Wizard>,
    input: Option<Input>,
    /// The footer's keys, set by the app from its keymap (else [`KEYS`]).
    pub hints: Option<String>,
    /// The last change, when it can be written as a patch of the YAML text.
    change: Option<super::form_patch::Change>,
    /// The last status message and whether it is an error.
    message: Option<(String, bool)>,
    /// Parameters of every service plugin, copied from the registry so `draw` needs none.
    params: HashMap<String, IndexMap<String, Parameter>>,
}

fn new_test(name: String) -> Test {
    Test {
        name,
        description: None,
        network_environment: NetworkEnvironment {
            kind: "localhost".into(),
            link: None,
            links: IndexMap::new(),
            capture: None,
            plugin_config: IndexMap::new(),
            deploy_timeout: None,
        },
        execution_environment: Vec::new(),
        services: IndexMap::new(),
        steps: Steps::default(),
        iterations: 1,
        timeout: None,
        continue_on_failure: None,
        fast_fail_enabled: None,
        collect_artifacts: None,
        assertions: Vec::new(),
        generate_new_certificates: None,
        expect: None,
    }
}

/// Parses input text by the parameter's type: strings are taken as typed, everything else
/// as a YAML scalar or flow collection (`[a, b]`, `{k: v}`).
fn parse_value(ty: ParamType, text: &str) -> Result<Json, String> {
    match ty {
        ParamType::String => Ok(Json::String(text.to_string())),
        _ => serde_norway::from_str::<Json>(text).map_err(|e| format!("cannot read `{text}`: {e}")),
    }
}

/// The value shown for a parameter: JSON-ish, compact.
fn show(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Form {
    /// A form over an experiment: `text` must parse (validation errors are fine: the form is
    /// where they get fixed).
    pub fn from_text(text: &str, reg: &Registry) -> Result<Form, String> {
        let loaded = experiment::load_str(text, "experiment.yaml", reg);
        match loaded.experiment {
            Some(exp) => {
                let mut f = Form::with(exp);
                f.refresh(reg);
                Ok(f)
            }
            None => Err(loaded
                .diagnostics
                .iter()
                .find(|d| d.is_error())
                .map(|d| d.to_string())
                .unwrap_or_else(|| "the experiment does not parse".into())),
        }
    }

    /// One test `test_1` on the localhost network, no services.
    pub fn new_empty() -> Form {
        Form::with(Experiment {
            version: None,
            logging: None,
            paths: None,
            metadata: None,
            docker: None,
            progress: None,
            fast_fail: None,
            metrics: None,
            observers: None,
            tests: vec![new_test("test_1".into())],
            matrix: None,
        })
    }

    fn with(exp: Experiment) -> Form {
        Form {
            exp,
            pane: Pane::Left,
            left: 0,
            right: 0,
            wizard: None,
            input: None,
            hints: None,
            change: None,
            message: None,
            params: HashMap::new(),
        }
    }

    pub fn experiment(&self) -> &Experiment {
        &self.exp
    }

    pub fn to_yaml(&self) -> String {
        serde_norway::to_string(&self.exp)
            .unwrap_or_else(|e| format!("# cannot write the experiment: {e}\n"))
    }

    /// The change the last key made, when it is one the YAML can be patched with (a
    /// parameter, the network environment); None after structural changes.
    pub fn take_change(&mut self) -> Option<super::form_patch::Change> {
        self.change.take()
    }

    /// A parameter input or the add-service wizard is open: keys go to it.
    pub fn is_typing(&self) -> bool {
        self.input.is_some() || self.wizard.is_some()
    }

    /// The last status message (an applied change, or why an input was refused).
    pub fn message(&self) -> Option<&str> {
        self.message.as_ref().map(|(m, _)| m.as_str())
    }

    /// The choices of the wizard's current step, when the wizard is open.
    pub fn wizard_options(&self) -> Option<&[String]> {
        self.wizard.as_ref().map(|w| w.options.as_slice())
    }

    fn refresh(&mut self, reg: &Registry) {
        self.params = reg
            .by_kind(&[Kind::Iut, Kind::Tester])
            .map(|p| (p.name().to_string(), p.manifest.parameters.clone()))
            .collect();
    }

    fn left_rows(&self) -> Vec<LeftRow> {
        let mut rows = Vec::new();
        for (i, t) in self.exp.tests.iter().enumerate() {
            rows.push(LeftRow::Test(i));
            rows.push(LeftRow::Network(i));
            rows.extend((0..t.services.len()).map(|j| LeftRow::Service(i, j)));
        }
        rows
    }

    fn current_row(&self) -> LeftRow {
        let rows = self.left_rows();
        rows.get(self.left.min(rows.len().saturating_sub(1)))
            .copied()
            .unwrap_or(LeftRow::Test(0))
    }

    fn current_test(&self) -> usize {
        match self.current_row() {
            LeftRow::Test(i) | LeftRow::Network(i) | LeftRow::Service(i, _) => i,
        }
    }

    /// The selected service: (test, name).
    fn current_service(&self) -> Option<(usize, String)> {
        match self.current_row() {
            LeftRow::Service(i, j) => self.exp.tests[i]
                .services
                .get_index(j)
                .map(|(n, _)| (i, n.clone())),
            _ => None,
        }
    }

    fn select_row(&mut self, row: LeftRow) {
        if let Some(p) = self.left_rows().iter().position(|r| *r == row) {
            self.left = p;
        }
    }

    fn right_fields(&self) -> Vec<Field> {
        let Some((i, name)) = self.current_service() else {
            return Vec::new();
        };
        let s = &self.exp.tests[i].services[&name];
        let mut out = vec![Field::Version];
        if s.protocol.role.needs_target() {
            out.push(Field::Target);
        }
        if let Some(ps) = self.params.get(&s.implementation.name) {
            out.extend(ps.keys().map(|k| Field::Param(k.clone())));
        }
        out
    }

    fn info(&mut self, m: impl Into<String>) {
        self.message = Some((m.into(), false));
    }

    fn error(&mut self, m: impl Into<String>) {
        self.message = Some((m.into(), true));
    }

    pub fn handle_key(&mut self, key: KeyEvent, reg: &Registry) -> FormOutcome {
        if key.kind == KeyEventKind::Release {
            return FormOutcome::None;
        }
        if key.modifiers.contains(KeyModifiers::CONTROL) {
            return FormOutcome::None;
        }
        self.change = None;
        self.refresh(reg);
        if self.input.is_some() {
            return self.input_key(key, reg);
        }
        if self.wizard.is_some() {
            return self.wizard_key(key, reg);
        }
        self.message = None;
        match self.pane {
            Pane::Left => self.left_key(key, reg),
            Pane::Right => self.right_key(key, reg),
        }
    }

    fn left_key(&mut self, key: KeyEvent, reg: &Registry) -> FormOutcome {
        let n = self.left_rows().len();
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => return FormOutcome::Close,
            KeyCode::Char('j') | KeyCode::Down => {
                self.left = (self.left + 1).min(n.saturating_sub(1));
            }
            KeyCode::Char('k') | KeyCode::Up => self.left = self.left.saturating_sub(1),
            KeyCode::Home | KeyCode::Char('g') => self.left = 0,
            KeyCode::End | KeyCode::Char('G') => self.left = n.saturating_sub(1),
            KeyCode::Tab | KeyCode::Char('l') | KeyCode::Right => {
                if self.current_service().is_some() {
                    self.pane = Pane::Right;
                    self.right = 0;
                } else {
                    self.info("select a service to see its parameters");
                }
            }
            KeyCode::Char('T') => {
                let mut k = self.exp.tests.len() + 1;
                while self.exp.tests.iter().any(|t| t.name == format!("test_{k}")) {
                    k += 1;
                }
                let name = format!("test_{k}");
                self.exp.tests.push(new_test(name.clone()));
                self.change = Some(super::form_patch::Change::AddTest);
                self.select_row(LeftRow::Test(self.exp.tests.len() - 1));
                self.info(format!("added test {name}"));
                return FormOutcome::Changed;
            }
            KeyCode::Char('D') => {
                if self.exp.tests.len() <= 1 {
                    self.error("an experiment needs at least one test");
                    return FormOutcome::None;
                }
                let i = self.current_test();
                let t = self.exp.tests.remove(i);
                self.change = Some(super::form_patch::Change::DeleteTest { test: i });
                self.select_row(LeftRow::Test(i.min(self.exp.tests.len() - 1)));
                self.info(format!("deleted test {}", t.name));
                return FormOutcome::Changed;
            }
            KeyCode::Char('a') => {
                let test = self.current_test();
                if test >= self.exp.tests.len() {
                    self.error("no tests: T adds one");
                    return FormOutcome::None;
                }
                let options = self.options(reg, test, Step::Implementation, &[]);
                if options.is_empty() {
                    self.error("no service plugins in the registry");
                    return FormOutcome::None;
                }
                self.wizard = Some(Wizard {
                    test,
                    step: Step::Implementation,
                    options,
                    selected: 0,
                    chosen: Vec::new(),
                });
            }
            KeyCode::Char('d') => {
                if let Some((i, name)) = self.current_service() {
                    self.delete_service(i, &name);
                    self.change = Some(super::form_patch::Change::DeleteService {
                        test: i,
                        service: name.clone(),
                    });
                    return FormOutcome::Changed;
                }
                self.error("select a service to delete");
            }
            KeyCode::Enter => match self.current_row() {
                LeftRow::Network(i) => return self.cycle_network(i, reg),
                LeftRow::Service(..) => {
                    self.pane = Pane::Right;
                    self.right = 0;
                }
                LeftRow::Test(_) => {}
            },
            _ => {}
        }
        FormOutcome::None
    }

    fn cycle_network(&mut self, i: usize, reg: &Registry) -> FormOutcome {
        let names = reg.names(&[Kind::NetworkEnvironment]);
        let cur = &self.exp.tests[i].network_environment.kind;
        let next = match names.iter().position(|n| n == cur) {
            Some(p) => names[(p + 1) % names.len()],
            None => match names.first() {
                Some(n) => n,
                None => {
                    self.error("no network environment plugins in the registry");
                    return FormOutcome::None;
                }
            },
        };
        if next == cur {
            self.info(format!("{next} is the only network environment"));
            return FormOutcome::None;
        }
        self.exp.tests[i].network_environment.kind = next.to_string();
        self.change = Some(super::form_patch::Change::Network {
            test: i,
            kind: next.to_string(),
        });
        self.info(format!("network environment: {next}"));
        FormOutcome::Changed
    }

    fn delete_service(&mut self, i: usize, name: &str) {
        let t = &mut self.exp.tests[i];
        t.services.shift_remove(name);
        for s in t.services.values_mut() {
            if s.protocol.target.as_deref() == Some(name) {
                s.protocol.target = None;
            }
            s.depends_on.retain(|d| d != name);
        }
        let n = self.left_rows().len();
        self.left = self.left.min(n.saturating_sub(1));
        self.info(format!("deleted service {name}"));
    }

    /// Services of test `i` a client of `protocol` may target.
    fn targets(&self, i: usize, protocol: &str, except: Option<&str>) -> Vec<String> {
        self.exp.tests[i]
            .services
            .iter()
            .filter(|(n, s)| {
                Some(n.as_str()) != except
                    && s.protocol.name == protocol
                    && matches!(s.protocol.role, Role::Server | Role::Peer)
            })
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Versions of `protocol` that `plugin` supports, the protocol's default first.
    fn versions(reg: &Registry, plugin: &str, protocol: &str) -> Vec<String> {
        let (Some(p), Some(proto)) = (reg.service(plugin), reg.protocol(protocol)) else {
            return Vec::new();
        };
        let Some(spec) = &proto.manifest.protocol else {
            return Vec::new();
        };
        let mut vs: Vec<String> = spec
            .versions
            .iter()
            .filter(|v| p.supports_version(protocol, v, &spec.versions))
            .cloned()
            .collect();
        if let Some(pos) = vs.iter().position(|v| *v == spec.default_version) {
            let d = vs.remove(pos);
            vs.insert(0, d);
        }
        vs
    }

    fn options(
        &self,
        reg: &Registry,
        test: usize,
        step: Step,
        chosen: &[(Step, String, usize)],
    ) -> Vec<String> {
        let get = |s: Step| {
            chosen
                .iter()
                .find(|(st, _, _)| *st == s)
                .map(|(_, c, _)| c.as_str())
                .unwrap_or("")
        };
        match step {
            Step::Implementation => {
                let mut v: Vec<String> = reg
                    .by_kind(&[Kind::Iut, Kind::Tester])
                    .filter(|p| !p.manifest.protocols.is_empty() && !p.manifest.roles.is_empty())
                    .map(|p| p.name().to_string())
                    .collect();
                v.sort();
                v.dedup();
                v
            }
            Step::Protocol => reg
                .service(get(Step::Implementation))
                .map(|p| {
                    p.manifest
                        .protocols
                        .iter()
                        .map(|s| s.name.clone())
                        .collect()
                })
                .unwrap_or_default(),
            Step::Version => Self::versions(reg, get(Step::Implementation), get(Step::Protocol)),
            Step::Role => reg
                .roles_of(get(Step::Implementation))
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
            Step::Target => self.targets(test, get(Step::Protocol), None),
        }
    }

    fn wizard_key(&mut self, key: KeyEvent, reg: &Registry) -> FormOutcome {
        let Some(mut w) = self.wizard.take() else {
            return FormOutcome::None;
        };
        match key.code {
            KeyCode::Char('j') | KeyCode::Down => {
                w.selected = (w.selected + 1).min(w.options.len().saturating_sub(1));
            }
            KeyCode::Char('k') | KeyCode::Up => w.selected = w.selected.saturating_sub(1),
            KeyCode::Esc => {
                let Some((step, _, sel)) = w.chosen.pop() else {
                    self.info("no service added");
                    return FormOutcome::None;
                };
                w.step = step;
                w.options = self.options(reg, w.test, step, &w.chosen);
                w.selected = sel.min(w.options.len().saturating_sub(1));
            }
            KeyCode::Enter => {
                let Some(choice) = w.options.get(w.selected).cloned() else {
                    self.error(format!("nothing to choose as {}", w.step.label()));
                    self.wizard = Some(w);
                    return FormOutcome::None;
                };
                w.chosen.push((w.step, choice.clone(), w.selected));
                let next = match w.step {
                    Step::Implementation => Some(Step::Protocol),
                    Step::Protocol => Some(Step::Version),
                    Step::Version => Some(Step::Role),
                    Step::Role if choice == Role::Client.as_str() => Some(Step::Target),
                    Step::Role | Step::Target => None,
                };
                match next {
                    Some(step) => {
                        let options = self.options(reg, w.test, step, &w.chosen);
                        if step == Step::Target && options.is_empty() {
                            // Nothing to talk to yet: add the client without a target.
                            return self.finish(w, reg);
                        }
                        w.step = step;
                        w.options = options;
                        w.selected = 0;
                    }
                    None => return self.finish(w, reg),
                }
            }
            _ => {}
        }
        self.wizard = Some(w);
        FormOutcome::None
    }

    fn finish(&mut self, w: Wizard, reg: &Registry) -> FormOutcome {
        let plugin = w
            .choice(Step::Implementation)
            .unwrap_or_default()
            .to_string();
        let kind = match reg.service(&plugin).map(|p| p.kind()) {
            Some(Kind::Tester) => ServiceType::Tester,
            _ => ServiceType::Iut,
        };
        let role = match w.choice(Step::Role) {
            Some("client") => Role::Client,
            Some("peer") => Role::Peer,
            _ => Role::Server,
        };
        let target = w.choice(Step::Target).map(String::from);
        let services = &mut self.exp.tests[w.test].services;
        let mut name = plugin.clone();
        let mut k = 2;
        while services.contains_key(&name) {
            name = format!("{plugin}_{k}");
            k += 1;
        }
        let no_target = role.needs_target() && target.is_none();
        self.change = Some(super::form_patch::Change::AddService {
            test: w.test,
            service: name.clone(),
        });
        services.insert(
            name.clone(),
            Service {
                implementation: Implementation {
                    name: plugin,
                    kind,
                    version: None,
                    version_config: None,
                    shadow_compatible: None,
                    gperf_compatible: None,
                    test: None,
                    z3_source: None,
                    build_mode: None,
                    use_system_models: None,
                },
                protocol: ProtocolRef {
                    name: w.choice(Step::Protocol).unwrap_or_default().to_string(),
                    version: w.choice(Step::Version).map(String::from),
                    role,
                    target,
                },
                ports: Vec::new(),
                timeout: None,
                plugin_config: IndexMap::new(),
                environment: IndexMap::new(),
                depends_on: Vec::new(),
                generate_new_certificates: None,
                volumes: Vec::new(),
                network: None,
                command_override: None,
                working_directory: None,
                restart_policy: None,
                docker: None,
            },
        );
        let j = services.len() - 1;
        self.select_row(LeftRow::Service(w.test, j));
        if no_target {
            self.error(format!(
                "added {name} without a target: add a server, then set its target"
            ));
        } else {
            self.info(format!("added service {name}"));
        }
        FormOutcome::Changed
    }

    fn right_key(&mut self, key: KeyEvent, reg: &Registry) -> FormOutcome {
        let fields = self.right_fields();
        let Some((i, name)) = self.current_service() else {
            self.pane = Pane::Left;
            return FormOutcome::None;
        };
        match key.code {
            KeyCode::Esc | KeyCode::Tab | KeyCode::Char('h') | KeyCode::Left => {
                self.pane = Pane::Left;
            }
            KeyCode::Char('j') | KeyCode::Down => {
                self.right = (self.right + 1).min(fields.len().saturating_sub(1));
            }
            KeyCode::Char('k') | KeyCode::Up => self.right = self.right.saturating_sub(1),
            KeyCode::Enter => match fields.get(self.right) {
                Some(Field::Version) => {
                    let s = &self.exp.tests[i].services[&name];
                    let vs = Self::versions(reg, &s.implementation.name, &s.protocol.name);
                    if vs.is_empty() {
                        self.error("the protocol plugin declares no versions");
                        return FormOutcome::None;
                    }
                    let next = match s.protocol.version.as_ref() {
                        Some(cur) => match vs.iter().position(|v| v == cur) {
                            Some(p) => vs[(p + 1) % vs.len()].clone(),
                            None => vs[0].clone(),
                        },
                        None => vs.get(1).unwrap_or(&vs[0]).clone(),
                    };
                    self.info(format!("{name}: version {next}"));
                    self.exp.tests[i].services[&name].protocol.version = Some(next);
                    return FormOutcome::Changed;
                }
                Some(Field::Target) => {
                    let proto = self.exp.tests[i].services[&name].protocol.name.clone();
                    let ts = self.targets(i, &proto, Some(&name));
                    if ts.is_empty() {
                        self.error(format!("no server of {proto} in this test to target"));
                        return FormOutcome::None;
                    }
                    let cur = self.exp.tests[i].services[&name].protocol.target.clone();
                    let next = match cur.and_then(|c| ts.iter().position(|t| *t == c)) {
                        Some(p) => ts[(p + 1) % ts.len()].clone(),
                        None => ts[0].clone(),
                    };
                    self.info(format!("{name}: target {next}"));
                    self.exp.tests[i].services[&name].protocol.target = Some(next);
                    return FormOutcome::Changed;
                }
                Some(Field::Param(p)) => {
                    let text = self.exp.tests[i].services[&name]
                        .plugin_config
                        .get(p)
                        .map(show)
                        .unwrap_or_default();
                    self.input = Some(Input {
                        param: p.clone(),
                        text,
                    });
                }
                None => {}
            },
            _ => {}
        }
        FormOutcome::None
    }

    fn input_key(&mut self, key: KeyEvent, _reg: &Registry) -> FormOutcome {
        let Some(mut input) = self.input.take() else {
            return FormOutcome::None;
        };
        match key.code {
            KeyCode::Esc => {
                self.message = None;
                return FormOutcome::None;
            }
            KeyCode::Backspace => {
                input.text.pop();
            }
            KeyCode::Char(c) => input.text.push(c),
            KeyCode::Enter => {
                let Some((i, name)) = self.current_service() else {
                    return FormOutcome::None;
                };
                let plugin = self.exp.tests[i].services[&name]
                    .implementation
                    .name
                    .clone();
                let Some(param) = self.params.get(&plugin).and_then(|p| p.get(&input.param)) else {
                    self.error(format!("{plugin} has no parameter {}", input.param));
                    return FormOutcome::None;
                };
                let text = input.text.trim();
                let cfg = &mut self.exp.tests[i].services[&name].plugin_config;
                if text.is_empty() {
                    cfg.shift_remove(&input.param);
                    self.change = Some(super::form_patch::Change::Param {
                        test: i,
                        service: name.clone(),
                        param: input.param.clone(),
                        value: None,
                    });
                    let p = input.param;
                    self.info(format!("{p}: back to the default"));
                    return FormOutcome::Changed;
                }
                let value = parse_value(param.ty, text)
                    .and_then(|v| check::check_value(param, &v).map(|()| v));
                match value {
                    Ok(v) => {
                        cfg.insert(input.param.clone(), v.clone());
                        self.change = Some(super::form_patch::Change::Param {
                            test: i,
                            service: name.clone(),
                            param: input.param.clone(),
                            value: Some(v),
                        });
                        let p = input.param;
                        self.info(format!("{p} set to {text}"));
                        return FormOutcome::Changed;
                    }
                    Err(e) => {
                        self.error(format!("{}: {e}", input.param));
                    }
                }
            }
            _ => {}
        }
        self.input = Some(input);
        FormOutcome::None
    }

    pub fn draw(&mut self, f: &mut Frame, area: Rect, th: &super::theme::Theme, color: bool) {
        let fg = |c: Color| super::tint(color, c);
        let bold = Style::default().add_modifier(Modifier::BOLD);
        let highlight = if color {
            th.selection
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        };
        let [body, foot] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(38), Constraint::Percentage(62)])
                .areas(body);

        // Left: tests, each with its network environment and services.
        let rows = self.left_rows();
        self.left = self.left.min(rows.len().saturating_sub(1));
        let items: Vec<ListItem> = rows
            .iter()
            .map(|r| match *r {
                LeftRow::Test(i) => ListItem::new(Line::styled(
                    format!("test {}", self.exp.tests[i].name),
                    fg(th.accent).add_modifier(Modifier::BOLD),
                )),
                LeftRow::Network(i) => ListItem::new(Line::from(vec![
                    Span::raw("  network: "),
                    Span::raw(self.exp.tests[i].network_environment.kind.clone()),
                ])),
                LeftRow::Service(i, j) => {
                    let (n, s) = self.exp.tests[i].services.get_index(j).expect("row");
                    let mut spans = vec![Span::raw("  • "), Span::styled(n.clone(), bold)];
                    let what = if *n == s.implementation.name {
                        format!(" {}", s.protocol.role)
                    } else {
                        format!(" ({}) {}", s.implementation.name, s.protocol.role)
                    };
                    spans.push(Span::styled(what, fg(th.muted)));
                    if let Some(t) = &s.protocol.target {
                        spans.push(Span::styled(format!(" → {t}"), fg(th.muted)));
                    } else if s.protocol.role.needs_target() {
                        spans.push(Span::styled(" → ?", fg(th.error)));
                    }
                    ListItem::new(Line::from(spans))
                }
            })
            .collect();
        let left_title = format!(" tests ({}) ", self.exp.tests.len());
        let left_block = Block::default().borders(Borders::ALL).title(left_title);
        let left_block = if self.pane == Pane::Left {
            left_block.border_style(fg(th.accent))
        } else {
            left_block
        };
        let mut state = ListState::default().with_selected(Some(self.left));
        f.render_stateful_widget(
            List::new(items)
                .block(left_block)
                .highlight_style(if self.pane == Pane::Left {
                    highlight
                } else {
                    Style::default()
                }),
            left,
            &mut state,
        );

        // Right: the selected service's fields and parameters.
        let (right_main, input_area) = if self.input.is_some() {
            let [a, b] = Layout::vertical([Constraint::Min(3), Constraint::Length(3)]).areas(right);
            (a, Some(b))
        } else {
            (right, None)
        };
        let fields = self.right_fields();
        self.right = self.right.min(fields.len().saturating_sub(1));
        let right_block = Block::default().borders(Borders::ALL);
        let right_block = if self.pane == Pane::Right {
            right_block.border_style(fg(th.accent))
        } else {
            right_block
        };
        match self.current_service() {
            None => {
                let i = self.current_test();
                let lines = match self.exp.tests.get(i) {
                    None => vec![Line::styled("no tests: T adds one", fg(th.muted))],
                    Some(t) => vec![
                        Line::from(vec![Span::styled("test ", bold), Span::raw(t.name.clone())]),
                        Line::raw(format!(
                            "network environment: {}",
                            t.network_environment.kind
                        )),
                        Line::raw(format!("services: {}", t.services.len())),
                        Line::raw(""),
                        Line::styled(
                            "a adds a service · Enter on network cycles it",
                            fg(th.muted),
                        ),
                    ],
                };
                f.render_widget(
                    Paragraph::new(lines).block(right_block.title(" test ")),
                    right_main,
                );
            }
            Some((i, name)) => {
                let s = &self.exp.tests[i].services[&name];
                let block = right_block.title(format!(" service {name} "));
                let inner = block.inner(right_main);
                f.render_widget(block, right_main);
                let head = vec![
                    Line::from(vec![
                        Span::styled("implementation ", fg(th.muted)),
                        Span::raw(format!(
                            "{} ({})",
                            s.implementation.name,
                            s.implementation.kind.as_str()
                        )),
                    ]),
                    Line::from(vec![
                        Span::styled("protocol       ", fg(th.muted)),
                        Span::raw(format!("{} as {}", s.protocol.name, s.protocol.role)),
                    ]),
                ];
                let [h, list] =
                    Layout::vertical([Constraint::Length(3), Constraint::Min(1)]).areas(inner);
                f.render_widget(Paragraph::new(head), h);
                let params = self.params.get(&s.implementation.name);
                let items: Vec<ListItem> = fields
                    .iter()
                    .map(|fl| match fl {
                        Field::Version => ListItem::new(Line::from(vec![
                            Span::styled("version ", bold),
                            Span::raw(
                                s.protocol
                                    .version
                                    .clone()
                                    .unwrap_or_else(|| "(protocol default)".into()),
                            ),
                        ])),
                        Field::Target => ListItem::new(Line::from(vec![
                            Span::styled("target  ", bold),
                            match &s.protocol.target {
                                Some(t) => Span::raw(t.clone()),
                                None => Span::styled("(none)", fg(th.error)),
                            },
                        ])),
                        Field::Param(p) => {
                            let def = params.and_then(|ps| ps.get(p));
                            let mut first = vec![Span::styled(p.clone(), bold)];
                            match s.plugin_config.get(p) {
                                Some(v) => {
                                    first.push(Span::styled(format!(" = {}", show(v)), fg(th.ok)))
                                }
                                None => first.push(Span::raw(" = (default)")),
                            }
                            let mut lines = vec![Line::from(first)];
                            if let Some(d) = def {
                                let mut meta = format!("    {}", d.ty.as_str());
                                if let Some(v) = &d.default {
                                    meta.push_str(&format!(", default {}", show(v)));
                                }
                                if let Some(ch) = &d.choices {
                                    meta.push_str(&format!(", one of {}", ch.join("|")));
                                }
                                lines.push(Line::styled(meta, fg(th.muted)));
                                lines.push(Line::styled(
                                    format!("    {}", d.description),
                                    fg(th.muted),
                                ));
                            }
                            ListItem::new(lines)
                        }
                    })
                    .collect();
                let mut state = ListState::default().with_selected(Some(self.right));
                f.render_stateful_widget(
                    List::new(items).highlight_style(if self.pane == Pane::Right {
                        highlight
                    } else {
                        Style::default()
                    }),
                    list,
                    &mut state,
                );
            }
        }
        if let (Some(input), Some(a)) = (&self.input, input_area) {
            let ty = self
                .current_service()
                .and_then(|(i, n)| {
                    let plugin = &self.exp.tests[i].services[&n].implementation.name;
                    self.params.get(plugin)?.get(&input.param).map(|p| p.ty)
                })
                .map(|t| t.as_str())
                .unwrap_or("value");
            f.render_widget(
                Paragraph::new(Line::from(vec![
                    Span::raw(input.text.clone()),
                    Span::styled(" ", Style::default().add_modifier(Modifier::REVERSED)),
                ]))
                .block(
                    Block::default()
                        .borders(Borders::ALL)
                        .border_style(fg(th.warn))
                        .title(format!(" {} ({ty}) ", input.param)),
                ),
                a,
            );
        }

        // The wizard: a centred popup list.
        if let Some(w) = &self.wizard {
            let width = 56.min(area.width.saturating_sub(4)).max(10).min(area.width);
            let height = (w.options.len() as u16 + 4)
                .max(6)
                .min(area.height.saturating_sub(2))
                .min(area.height);
            let popup = Rect {
                x: area.x + (area.width.saturating_sub(width)) / 2,
                y: area.y + (area.height.saturating_sub(height)) / 2,
                width,
                height,
            };
            f.render_widget(Clear, popup);
            let so_far = w
                .chosen
                .iter()
                .map(|(_, c, _)| c.as_str())
                .collect::<Vec<_>>()
                .join(" › ");
            let step_no = w.chosen.len() + 1;
            let block = Block::default()
                .borders(Borders::ALL)
                .border_style(fg(th.warn))
                .title(format!(" add service · {step_no}. {} ", w.step.label()));
            let inner = block.inner(popup);
            f.render_widget(block, popup);
            let [h, list] =
                Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
            let head = if so_far.is_empty() {
                "choose the plugin".to_string()
            } else {
                format!("chosen: {so_far}")
            };
            f.render_widget(Paragraph::new(Line::styled(head, fg(th.muted))), h);
            let items: Vec<ListItem> = w
                .options
                .iter()
                .map(|o| ListItem::new(Line::raw(o.clone())))
                .collect();
            let mut state = ListState::default().with_selected(Some(w.selected));
            f.render_stateful_widget(
                List::new(items)
                    .highlight_style(highlight)
                    .highlight_symbol("› "),
                list,
                &mut state,
            );
        }

        // Bottom line: the last message, or the keys.
        let status = match &self.message {
            Some((m, true)) => Line::styled(m.clone(), fg(th.error).add_modifier(Modifier::BOLD)),
            Some((m, false)) => Line::styled(m.clone(), fg(th.warn)),
            None => {
                let keys: &[(&str, &str)] = if self.wizard.is_some() {
                    &[("j/k", "move"), ("Enter", "choose"), ("Esc", "back")]
                } else if self.input.is_some() {
                    &[("Enter", "apply"), ("empty", "default"), ("Esc", "cancel")]
                } else {
                    KEYS
                };
                let text = match &self.hints {
                    Some(h) if !self.is_typing() => h.clone(),
                    _ => keys
                        .iter()
                        .map(|(k, w)| format!("{k} {w}"))
                        .collect::<Vec<_>>()
                        .join(" · "),
                };
                Line::styled(text, fg(th.text))
            }
        };
        f.render_widget(Paragraph::new(status), foot);
    }
}
