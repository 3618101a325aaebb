//! IAM knowledge: the embedded reference data, the hand-kept mapping tables, and the
//! mapping of CloudTrail calls to the IAM actions they needed.

mod map;
pub mod reference;
pub mod rules;

pub use map::{Call, Fact, Grant, Mapper, Mapping, Reason, Unmapped};
pub use reference::{Access, Reference};
pub use rules::Rules;
