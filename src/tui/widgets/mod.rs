//! Reusable widgets: the sequence view.

pub mod sequence;
