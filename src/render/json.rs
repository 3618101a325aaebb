//! The policy as IAM JSON: two-space indented, keys in the order IAM documents use.

use crate::policy::Policy;

/// The policy document followed by a newline.
///
/// # Errors
/// Only if serialisation fails, which plain strings cannot make it do.
pub fn policy(policy: &Policy) -> serde_json::Result<String> {
    let mut text = serde_json::to_string_pretty(policy)?;
    text.push('\n');
    Ok(text)
}
