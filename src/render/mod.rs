//! Output: the policy on stdout and the run summary on stderr.

pub mod json;
pub mod summary;
