//! IAM knowledge: the embedded reference data, the hand-kept mapping tables, and the
//! mapping of CloudTrail calls to the IAM actions they needed.

pub mod coverage;
mod map;
pub mod reference;
pub mod rules;

pub use map::{
    Call, Class, Fact, Grant, Mapper, Mapping, PASS_ROLE, Reason, Unmapped, strip_api_version,
};
pub use reference::{Access, Reference};
pub use rules::Rules;

/// Embedded data that does not load (ruled out by the tests).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error(transparent)]
    Reference(#[from] reference::ReferenceError),
    #[error(transparent)]
    Rules(#[from] rules::RulesError),
    #[error(transparent)]
    Resources(#[from] crate::resource::TableError),
}
