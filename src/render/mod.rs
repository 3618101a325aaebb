//! Output: the policy in each format, the evidence report, and the run summary on stderr.

pub mod cloudformation;
pub mod denials;
pub mod hcl;
pub mod json;
pub mod report;
pub mod summary;
