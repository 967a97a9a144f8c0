//! The Messages API JSON: private wire shapes and their explicit conversion to and from core types.
//!
//! The bottom layer of the crate, with the rules and the schema normalizer:
//! pure functions on typed requests and responses, no IO.

pub(crate) mod content;
pub(crate) mod messages;
pub(crate) mod request;
pub(crate) mod response;
