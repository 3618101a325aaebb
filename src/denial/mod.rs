//! Denials: a refused call's `errorMessage` is AWS's own verdict — the action and resource
//! that were missing, and which kind of policy refused them. `message` reads every form AWS
//! documents (`data/denials.toml`), `decoded` what STS makes of EC2's encoded messages, and
//! `tally` gathers a run's denials by what they said: an implicit deny by the identity-based
//! policy is a grant to add; any other is reported as something no catalog can fix.

pub mod decoded;
mod entry;
pub mod message;
mod table;
mod tally;

pub use entry::{Class, Entry, Key};
pub use message::{Named, Verdict};
pub use table::{Table, TableError};
pub use tally::{Denials, NOT_ASKED, PENDING_LIMIT};

/// Whether an error code means the call was refused (`data/denials.toml`).
#[must_use]
pub fn is_denial(code: &str) -> bool {
    Table::embedded().is_ok_and(|table| table.is_denial(code))
}

/// Reads one message with the embedded table.
#[must_use]
pub fn parse(message: &str) -> Verdict {
    Table::embedded().map_or(Verdict::Unexplained, |table| message::parse(message, table))
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("AccessDenied", true)]
    #[test_case("AccessDeniedException", true)]
    #[test_case("Client.UnauthorizedOperation", true)]
    #[test_case("UnauthorizedOperation", true)]
    #[test_case("AuthorizationError", true)]
    #[test_case("NoSuchBucketPolicy", false)]
    #[test_case("ThrottlingException", false)]
    #[test_case("accessdenied", false ; "codes are exact")]
    fn denial_codes_come_from_the_data(code: &str, denial: bool) {
        assert_eq!(is_denial(code), denial);
    }
}
