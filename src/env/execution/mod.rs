//! Execution environments: manifest-driven argv prefixes, and the parsers of their output.
