//! The registry: validated plugins, looked up by kind and name, each with its lifecycle state
//! and availability on this machine. Cross-plugin checks live here (a service's protocol must
//! exist; a user plugin may shadow a bundled one, with a warning).

use std::collections::HashMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::diag::{self, Diagnostic};
use crate::suggest;
use crate::yaml::Path;

use super::availability::Checker;
use super::loader::{self, Discovered, Origin, Source};
use super::manifest::{Kind, Manifest, Role};

/// Lifecycle: discovered → validated → available | unavailable → in use. Manifests that fail
/// validation never reach the registry; they are reported as diagnostics instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum Availability {
    /// Validated; requirements not checked (fast listing).
    Validated,
    Available,
    Unavailable(String),
}

impl Availability {
    pub fn is_available(&self) -> bool {
        matches!(self, Availability::Available)
    }
    pub fn label(&self) -> &'static str {
        match self {
            Availability::Validated => "validated",
            Availability::Available => "available",
            Availability::Unavailable(_) => "unavailable",
        }
    }
    pub fn reason(&self) -> Option<&str> {
        match self {
            Availability::Unavailable(r) => Some(r),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Plugin {
    pub manifest: Manifest,
    pub file: String,
    pub dir: Option<PathBuf>,
    pub readme: Option<String>,
    pub origin: Origin,
    pub availability: Availability,
}

impl Plugin {
    pub fn name(&self) -> &str {
        &self.manifest.name
    }
    pub fn kind(&self) -> Kind {
        self.manifest.kind
    }
    /// The plugin-tree category it belongs to, as in PANTHER's folders.
    pub fn category(&self) -> String {
        match self.manifest.kind {
            Kind::Iut => "services/iut".into(),
            Kind::Tester => "services/testers".into(),
            Kind::NetworkEnvironment => "environments/network_environment".into(),
            Kind::ExecutionEnvironment => "environments/execution_environment".into(),
            Kind::Protocol => match &self.manifest.protocol {
                Some(p) => format!("protocols/{}", p.family.as_str()),
                None => "protocols".into(),
            },
        }
    }
    /// Versions of `protocol` this service supports, given the protocol's own list.
    pub fn supports_version<'a>(
        &'a self,
        protocol: &str,
        version: &str,
        all: &'a [String],
    ) -> bool {
        match self.manifest.protocols.iter().find(|p| p.name == protocol) {
            None => false,
            Some(p) if p.versions.is_empty() => all.iter().any(|v| v == version),
            Some(p) => p.versions.iter().any(|v| v == version),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub bundled: bool,
    /// `~/.config/panther/plugins` (and `$PANTHER_PLUGIN_PATH` entries).
    pub user: bool,
    pub dirs: Vec<PathBuf>,
    /// Check requirements on this machine (PATH lookups, python imports).
    pub availability: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            bundled: true,
            user: true,
            dirs: Vec::new(),
            availability: true,
        }
    }
}

pub fn user_plugin_dir() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("panther").join("plugins"))
}

#[derive(Debug, Default, Clone)]
pub struct Registry {
    plugins: Vec<Plugin>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Registry {
    pub fn load(opts: &LoadOptions) -> Registry {
        let mut sources = Vec::new();
        if opts.bundled {
            sources.push(Source::Bundled);
        }
        if opts.user
            && let Some(d) = user_plugin_dir()
        {
            sources.push(Source::Dir(d, Origin::User));
        }
        for d in &opts.dirs {
            sources.push(Source::Dir(d.clone(), Origin::Dir));
        }
        let disc = loader::discover(&sources);
        Self::from_discovery(disc.plugins, disc.diagnostics, opts.availability)
    }

    pub fn from_discovery(
        found: Vec<Discovered>,
        mut diagnostics: Vec<Diagnostic>,
        availability: bool,
    ) -> Registry {
        // Names are unique per namespace; a later source (user, --plugin-dir) shadows an
        // earlier one (bundled) with a warning, a clash within one source is an error.
        let mut kept: Vec<Discovered> = Vec::with_capacity(found.len());
        let mut index: HashMap<(u8, String), usize> = HashMap::new();
        for d in found {
            let key = (namespace(d.manifest.kind), d.manifest.name.clone());
            match index.get(&key) {
                // The same manifest seen twice (the repo's `plugins/` passed as --plugin-dir
                // next to the bundled copy): keep the one on disk, silently.
                Some(&i)
                    if kept[i].root == d.root
                        && (kept[i].dir.is_none() || d.dir.is_none() || kept[i].file == d.file) =>
                {
                    if d.dir.is_some() {
                        kept[i] = d;
                    }
                }
                Some(&i) if kept[i].origin < d.origin => {
                    diagnostics.push(Diagnostic::warning(
                        &d.file,
                        d.root.span_at(&Path::root().key("name"), false),
                        format!(
                            "plugin `{}` overrides the one at {}",
                            d.manifest.name, kept[i].file
                        ),
                    ));
                    kept[i] = d;
                }
                Some(&i) => {
                    diagnostics.push(
                        Diagnostic::error(
                            &d.file,
                            d.root.span_at(&Path::root().key("name"), false),
                            format!(
                                "another {} plugin is already named `{}` ({})",
                                d.manifest.kind, d.manifest.name, kept[i].file
                            ),
                        )
                        .help("plugin names must be unique; rename one of them"),
                    );
                }
                None => {
                    index.insert(key, kept.len());
                    kept.push(d);
                }
            }
        }

        // Cross-plugin checks: services name existing protocols, versions and roles.
        let protocols: HashMap<String, Manifest> = kept
            .iter()
            .filter(|d| d.manifest.kind == Kind::Protocol)
            .map(|d| (d.manifest.name.clone(), d.manifest.clone()))
            .collect();
        let proto_names: Vec<&str> = protocols.keys().map(String::as_str).collect();
        let mut bad = vec![false; kept.len()];
        for (i, d) in kept.iter().enumerate() {
            let m = &d.manifest;
            for (j, ps) in m.protocols.iter().enumerate() {
                let pp = Path::root().key("protocols").index(j);
                let Some(proto) = protocols.get(&ps.name) else {
                    diagnostics.push(
                        Diagnostic::error(
                            &d.file,
                            d.root.span_at(&pp.key("name"), false),
                            format!("unknown protocol `{}`", ps.name),
                        )
                        .expected(format!(
                            "a protocol plugin: {}",
                            suggest::one_of(&proto_names)
                        ))
                        .help_opt(suggest::did_you_mean(&ps.name, proto_names.iter().copied())),
                    );
                    bad[i] = true;
                    continue;
                };
                let spec = proto.protocol.as_ref().expect("checked protocol manifest");
                for (k, v) in ps.versions.iter().enumerate() {
                    if !spec.versions.contains(v) {
                        diagnostics.push(
                            Diagnostic::error(
                                &d.file,
                                d.root.span_at(&pp.key("versions").index(k), false),
                                format!("protocol `{}` has no version `{v}`", ps.name),
                            )
                            .expected(suggest::one_of(&spec.versions))
                            .help_opt(suggest::did_you_mean(
                                v,
                                spec.versions.iter().map(String::as_str),
                            )),
                        );
                        bad[i] = true;
                    }
                }
                for (k, r) in m.roles.iter().enumerate() {
                    if !spec.roles.contains(r) && m.protocols.len() == 1 {
                        let roles: Vec<&str> = spec.roles.iter().map(|r| r.as_str()).collect();
                        diagnostics.push(
                            Diagnostic::error(
                                &d.file,
                                d.root.span_at(&Path::root().key("roles").index(k), false),
                                format!("protocol `{}` has no role `{r}`", ps.name),
                            )
                            .expected(suggest::one_of(&roles)),
                        );
                        bad[i] = true;
                    }
                }
            }
        }
        let all_names: Vec<String> = kept.iter().map(|d| d.manifest.name.clone()).collect();
        for d in &kept {
            for (k, other) in d.manifest.incompatible_with.iter().enumerate() {
                if !all_names.contains(other) {
                    diagnostics.push(
                        Diagnostic::warning(
                            &d.file,
                            d.root
                                .span_at(&Path::root().key("incompatible_with").index(k), false),
                            format!(
                                "incompatible_with names `{other}`, which is not a known plugin"
                            ),
                        )
                        .help_opt(suggest::did_you_mean(
                            other,
                            all_names.iter().map(String::as_str),
                        )),
                    );
                }
            }
        }

        let mut checker = Checker::new();
        let plugins = kept
            .into_iter()
            .zip(bad)
            .filter(|(_, b)| !b)
            .map(|(d, _)| {
                let availability = if availability {
                    match checker.check(&d.manifest) {
                        None => Availability::Available,
                        Some(r) => Availability::Unavailable(r),
                    }
                } else {
                    Availability::Validated
                };
                Plugin {
                    manifest: d.manifest,
                    file: d.file,
                    dir: d.dir,
                    readme: d.readme,
                    origin: d.origin,
                    availability,
                }
            })
            .collect();
        diag::sort(&mut diagnostics);
        Registry {
            plugins,
            diagnostics,
        }
    }

    pub fn plugins(&self) -> &[Plugin] {
        &self.plugins
    }

    pub fn by_kind(&self, kinds: &[Kind]) -> impl Iterator<Item = &Plugin> {
        self.plugins
            .iter()
            .filter(move |p| kinds.contains(&p.manifest.kind))
    }

    pub fn get(&self, kinds: &[Kind], name: &str) -> Option<&Plugin> {
        self.by_kind(kinds).find(|p| p.manifest.name == name)
    }

    /// An IUT or tester.
    pub fn service(&self, name: &str) -> Option<&Plugin> {
        self.get(&[Kind::Iut, Kind::Tester], name)
    }

    pub fn protocol(&self, name: &str) -> Option<&Plugin> {
        self.get(&[Kind::Protocol], name)
    }

    /// Any plugin by name, services first (names are unique per namespace, not globally).
    pub fn find(&self, name: &str) -> Option<&Plugin> {
        self.plugins.iter().find(|p| p.manifest.name == name)
    }

    pub fn names(&self, kinds: &[Kind]) -> Vec<&str> {
        self.by_kind(kinds)
            .map(|p| p.manifest.name.as_str())
            .collect()
    }

    pub fn roles_of(&self, name: &str) -> Vec<Role> {
        self.service(name)
            .map(|p| p.manifest.roles.clone())
            .unwrap_or_default()
    }
}

fn namespace(kind: Kind) -> u8 {
    match kind {
        Kind::Iut | Kind::Tester => 0,
        Kind::Protocol => 1,
        Kind::NetworkEnvironment => 2,
        Kind::ExecutionEnvironment => 3,
    }
}
