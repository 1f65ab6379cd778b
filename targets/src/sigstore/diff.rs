//! Diff placeholder.
