//! Network environments: localhost today, and the link relay that emulates impairments.

pub mod docker;
pub mod link;
