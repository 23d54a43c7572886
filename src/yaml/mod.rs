//! A YAML document as a tree that remembers where every node came from.
//!
//! serde_norway's `Value` forgets positions, and errors must say file:line:column for any key
//! or value (including semantic errors found long after parsing), so we build our own tree
//! from saphyr-parser's spanned events and deserialize typed models from it with serde.

mod de;
mod load;
mod node;

pub use de::{DeError, from_node};
pub use load::{Limits, YamlError, YamlNote, parse, parse_lenient};
pub use node::{MapEntry, Node, Path, PathSeg, Resolved, Scalar, Span, Value};
