//! One file per screen; each draws the app state it is given and nothing else.

pub mod plugins;
