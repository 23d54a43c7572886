//! Scaffolding placeholder (filled in below).
