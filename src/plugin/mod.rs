//! The plugin system: typed manifests, discovery (nothing executes), a registry with each
//! plugin's lifecycle and availability on this machine, and scaffolding of new plugins.

pub mod availability;
pub mod check;
pub mod creator;
pub mod install;
pub mod loader;
pub mod manifest;
pub mod registry;
pub mod templates;

pub use manifest::{Kind, Manifest, Role};
pub use registry::{Availability, LoadOptions, Plugin, Registry};
