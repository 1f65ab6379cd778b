//! What gets published: the target tree and the Sigstore payloads.
pub mod sigstore;
pub mod tree;
