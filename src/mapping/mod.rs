//! The map stage: a CloudTrail call → the IAM actions (and resources) it needed, by the
//! hand-kept tables of `data/` ([`rules`]) over the reference data of `crate::iam`, and how
//! much of each service's API those tables cover ([`coverage`]).

pub mod coverage;
mod map;
pub mod rules;

pub use map::{Call, Class, Fact, Grant, Mapper, Mapping, Reason, Unmapped, strip_api_version};
pub use rules::{PASS_ROLE, Rules};

/// Embedded data that does not load (ruled out by the tests).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error(transparent)]
    Reference(#[from] crate::iam::reference::ReferenceError),
    #[error(transparent)]
    Rules(#[from] rules::RulesError),
    #[error(transparent)]
    Resources(#[from] crate::resource::TableError),
}
