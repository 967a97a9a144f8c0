//! The Messages API JSON: private wire shapes and their explicit conversion to and from core types.

pub(crate) mod content;
pub(crate) mod request;
pub(crate) mod response;
