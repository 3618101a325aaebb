//! CloudTrail's public keys for digest signatures, by fingerprint: from `ListPublicKeys` in
//! each digest's region, or from a file holding what `aws cloudtrail list-public-keys`
//! prints (`{"PublicKeyList": [{"Value": base64 DER, "Fingerprint": …, …}]}`). A key is
//! found by the digest's `digestPublicKeyFingerprint` string; the fingerprint is never
//! recomputed.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::Deserialize;

/// Public keys by fingerprint (several values for one fingerprint are all tried).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublicKeys {
    by_fingerprint: BTreeMap<String, Vec<Vec<u8>>>,
}

/// A key file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not the JSON `aws cloudtrail list-public-keys` prints: {0}")]
    Json(#[source] serde_json::Error),
    #[error("the key with fingerprint {0} has a Value that is not base64")]
    Base64(String),
    #[error("no public keys in it")]
    Empty,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawList {
    public_key_list: Vec<RawKey>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawKey {
    value: String,
    fingerprint: String,
}

impl PublicKeys {
    /// The keys in `list-public-keys` output (or a bare array of its entries).
    ///
    /// # Errors
    /// Not that JSON, a value that is not base64, or no key at all.
    pub fn from_cli_json(text: &str) -> Result<Self, KeyError> {
        let keys: Vec<RawKey> = match serde_json::from_str::<RawList>(text) {
            Ok(list) => list.public_key_list,
            Err(error) => serde_json::from_str(text).map_err(|_| KeyError::Json(error))?,
        };
        let mut out = Self::default();
        for key in keys {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(key.value.trim())
                .map_err(|_| KeyError::Base64(key.fingerprint.clone()))?;
            out.insert(key.fingerprint, &bytes);
        }
        if out.by_fingerprint.is_empty() {
            return Err(KeyError::Empty);
        }
        Ok(out)
    }

    /// Adds a key: DER, or DER in base64 once more (a blob that was encoded twice on its
    /// way here is still the same key).
    pub fn insert(&mut self, fingerprint: String, value: &[u8]) {
        let der = if value.first() == Some(&0x30) {
            value.to_vec()
        } else {
            std::str::from_utf8(value)
                .ok()
                .and_then(|text| {
                    base64::engine::general_purpose::STANDARD
                        .decode(text.trim())
                        .ok()
                })
                .unwrap_or_else(|| value.to_vec())
        };
        let values = self.by_fingerprint.entry(fingerprint).or_default();
        if !values.contains(&der) {
            values.push(der);
        }
    }

    /// The keys with this fingerprint (none: the digest names a key not in the list).
    #[must_use]
    pub fn get(&self, fingerprint: &str) -> &[Vec<u8>] {
        self.by_fingerprint
            .get(fingerprint)
            .map_or(&[], Vec::as_slice)
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.by_fingerprint.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_fingerprint.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_output_and_twice_encoded_values_give_the_same_der() {
        let der = [0x30_u8, 0x82, 0x01, 0x0a];
        let once = base64::engine::general_purpose::STANDARD.encode(der);
        let twice = base64::engine::general_purpose::STANDARD.encode(&once);
        let text = format!(
            r#"{{"PublicKeyList":[{{"Value":"{once}","ValidityStartTime":"2026-01-01T00:00:00Z","ValidityEndTime":"2027-01-01T00:00:00Z","Fingerprint":"a"}},{{"Value":"{twice}","Fingerprint":"b"}}]}}"#
        );
        let keys = PublicKeys::from_cli_json(&text).unwrap();
        assert_eq!(keys.get("a"), [der.to_vec()]);
        assert_eq!(keys.get("b"), [der.to_vec()]);
        assert!(keys.get("c").is_empty());
    }

    #[test]
    fn a_file_that_is_not_a_key_list_is_an_error() {
        assert!(matches!(
            PublicKeys::from_cli_json("{}"),
            Err(KeyError::Json(_))
        ));
        assert!(matches!(
            PublicKeys::from_cli_json(r#"{"PublicKeyList":[]}"#),
            Err(KeyError::Empty)
        ));
        assert!(matches!(
            PublicKeys::from_cli_json(r#"[{"Value":"%%","Fingerprint":"x"}]"#),
            Err(KeyError::Base64(_))
        ));
    }
}
