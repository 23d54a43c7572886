//! Run events: the model shared by every source and view.

pub mod model;
