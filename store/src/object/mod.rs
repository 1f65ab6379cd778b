//! Object storage as a push destination (S3 and S3-compatible stores, Azure Blob, Google
//! Cloud Storage, local directories), named by URL, with the same "never mixed" rule as
//! the local tree: the files go up in DESIGN.md principle 5's order, `timestamp.json`
//! last, and a manifest beside the served prefix records what is there so that a re-run
//! uploads only what differs.
//!
//! * [`url`]: what `--to` names, and the refusals.
//! * [`credentials`]: AWS credentials from the environment and `~/.aws` (shared with
//!   ceremony's AWS KMS signer).
//! * [`backend`]: the requests a push makes, over object_store.
//! * [`gcs`]: the same requests over Google Cloud Storage's JSON API.
//! * [`layout`]: each file's phase, Content-Type and Cache-Control.
//! * [`manifest`]: the manifest object.

pub mod backend;
pub mod credentials;
pub mod error;
pub mod gcs;
pub mod layout;
pub mod manifest;
pub mod plan;
pub mod push;
pub mod readback;
pub mod url;

pub use backend::{Backend, Connect, Counted, StoreBackend};
pub use error::ObjectError;
pub use push::{DEFAULT_JOBS, MAX_JOBS, PushOptions, ReadBack, Report, open_and_push, parse_jobs, push};
pub use url::{Destination, Kind};
