//! The policy as IAM JSON: two-space indented, keys in the order IAM documents use; a
//! JSON array of documents when it was split.

use crate::policy::Policy;

/// The document (or array of documents) followed by a newline.
///
/// # Errors
/// Only if serialisation fails, which plain strings cannot make it do.
pub fn policies(policies: &[Policy]) -> serde_json::Result<String> {
    let mut text = match policies {
        [single] => serde_json::to_string_pretty(single)?,
        many => serde_json::to_string_pretty(many)?,
    };
    text.push('\n');
    Ok(text)
}
