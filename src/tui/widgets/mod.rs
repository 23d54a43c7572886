//! Reusable widgets: the sequence view, Markdown reflowed for wrapping.

pub mod reflow;
pub mod sequence;
