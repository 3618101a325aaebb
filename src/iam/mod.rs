//! IAM's own facts: the Service Authorization Reference (services, actions, access levels,
//! resource types with their ARN templates, condition keys), generated into `data/` and
//! embedded. Below every stage that reads it; the mapping of calls to actions is
//! `crate::mapping`.

pub mod reference;

pub use reference::{Access, Reference};

/// `resource-groups` → `ResourceGroups`, `code signing config` → `CodeSigningConfig`: the
/// form Sids take (letters and digits only).
#[must_use]
pub fn pascal(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}
