//! One CloudTrail digest file: its JSON shape, the string CloudTrail signs, and the check of
//! its signature. The shape is AWS's "CloudTrail digest file structure"
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html>);
//! the signing string and algorithm are those of "Custom implementations of CloudTrail log
//! file integrity validation"
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-custom-validation.html>).

// Everything here reads untrusted input: no slicing that can panic.
#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::io::Read as _;

use jiff::Timestamp;
use serde::Deserialize;
use sha2::Digest as _;

/// The only signature algorithm CloudTrail uses for digests.
pub const ALGORITHM: &str = "SHA256withRSA";

/// A digest larger than this once decompressed is not a CloudTrail digest (an hour of log
/// files is a few hundred kilobytes of JSON at most).
const LIMIT: u64 = 64 << 20;

/// A digest file as CloudTrail writes it (fields minpriv does not check are left out).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawDigest {
    pub aws_account_id: String,
    pub digest_start_time: String,
    pub digest_end_time: String,
    pub digest_s3_bucket: String,
    pub digest_s3_object: String,
    pub digest_public_key_fingerprint: String,
    pub digest_signature_algorithm: String,
    #[serde(default)]
    pub previous_digest_s3_bucket: Option<String>,
    #[serde(default)]
    pub previous_digest_s3_object: Option<String>,
    #[serde(default)]
    pub previous_digest_hash_value: Option<String>,
    #[serde(default)]
    pub previous_digest_hash_algorithm: Option<String>,
    /// `null` in the first digest of a chain.
    #[serde(default)]
    pub previous_digest_signature: Option<String>,
    pub log_files: Vec<RawLogFile>,
}

/// One log file a digest lists.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawLogFile {
    pub s3_bucket: String,
    pub s3_object: String,
    /// Hex SHA-256 of the log file's uncompressed bytes.
    pub hash_value: String,
    #[serde(default)]
    pub hash_algorithm: Option<String>,
}

/// A digest file decoded, with the hash of its uncompressed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    pub raw: RawDigest,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Hex SHA-256 of the uncompressed digest file.
    pub hash: String,
}

/// Why a digest file could not be read as one.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("invalid format: corrupt or truncated gzip data: {0}")]
    Gzip(#[source] std::io::Error),
    #[error("invalid format: larger than {LIMIT} bytes once decompressed")]
    TooLarge,
    #[error("invalid format: not a CloudTrail digest: {0}")]
    Json(#[source] serde_json::Error),
    #[error("invalid format: {field} {value:?} is not a UTC time")]
    Time { field: &'static str, value: String },
}

impl Digest {
    /// Decodes a digest file's bytes (gzip, as CloudTrail delivers them, or plain JSON).
    ///
    /// # Errors
    /// Corrupt gzip data, or JSON that is not a digest.
    pub fn decode(bytes: &[u8]) -> Result<Self, DigestError> {
        let mut json = Vec::new();
        let plain: &[u8] = if bytes.starts_with(&[0x1f, 0x8b]) {
            flate2::read::MultiGzDecoder::new(bytes)
                .take(LIMIT + 1)
                .read_to_end(&mut json)
                .map_err(DigestError::Gzip)?;
            if json.len() as u64 > LIMIT {
                return Err(DigestError::TooLarge);
            }
            &json
        } else {
            bytes
        };
        let raw: RawDigest = serde_json::from_slice(plain).map_err(DigestError::Json)?;
        let time = |field: &'static str, value: &str| {
            value.parse::<Timestamp>().map_err(|_| DigestError::Time {
                field,
                value: value.to_owned(),
            })
        };
        Ok(Self {
            start: time("digestStartTime", &raw.digest_start_time)?,
            end: time("digestEndTime", &raw.digest_end_time)?,
            hash: sha256_hex(plain),
            raw,
        })
    }

    /// The string CloudTrail signs: the digest's end time as written in it, its own
    /// `bucket/key`, the hex SHA-256 of the uncompressed digest, and the previous digest's
    /// signature (`null` for the first digest of a chain), joined by newlines.
    #[must_use]
    pub fn signing_string(&self) -> String {
        format!(
            "{}\n{}/{}\n{}\n{}",
            self.raw.digest_end_time,
            self.raw.digest_s3_bucket,
            self.raw.digest_s3_object,
            self.hash,
            self.raw
                .previous_digest_signature
                .as_deref()
                .unwrap_or("null")
        )
    }
}

/// Hex SHA-256, the form digests give every hash in.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Whether `signature` (hex, as in the `signature` S3 metadata and `previousDigestSignature`)
/// is the SHA256withRSA (PKCS #1 v1.5) signature of `message` by the RSA public key `der`
/// (PKCS #1 `RSAPublicKey` or X.509 `SubjectPublicKeyInfo`: aws-lc-rs accepts both).
#[must_use]
pub fn signed_by(der: &[u8], message: &[u8], signature: &str) -> bool {
    let Ok(signature) = hex::decode(signature.trim()) else {
        return false;
    };
    aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        der,
    )
    .verify(message, &signature)
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"awsAccountId":"111122223333","digestStartTime":"2015-08-17T14:01:31Z","digestEndTime":"2015-08-17T15:01:31Z","digestS3Bucket":"b","digestS3Object":"AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_t_us-east-2_20150817T150131Z.json.gz","digestPublicKeyFingerprint":"31e8b5433410dfb61a9dc45cc65b22ff","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":"2015-08-17T14:52:27Z","oldestEventTime":"2015-08-17T14:42:27Z","previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[{"s3Bucket":"b","s3Object":"AWSLogs/x.json.gz","hashValue":"9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6","hashAlgorithm":"SHA-256","newestEventTime":"2015-08-17T14:52:27Z","oldestEventTime":"2015-08-17T14:42:27Z"}]}"#;

    #[test]
    fn the_documented_shape_decodes_and_the_first_of_a_chain_signs_null() {
        let digest = Digest::decode(SAMPLE.as_bytes()).unwrap();
        assert_eq!(digest.raw.log_files.len(), 1);
        assert_eq!(digest.hash, sha256_hex(SAMPLE.as_bytes()));
        let string = digest.signing_string();
        assert_eq!(
            string,
            format!(
                "2015-08-17T15:01:31Z\nb/{}\n{}\nnull",
                digest.raw.digest_s3_object, digest.hash
            )
        );
    }

    #[test]
    fn truncated_and_foreign_bytes_are_errors_not_panics() {
        assert!(matches!(
            Digest::decode(&[0x1f, 0x8b, 8, 0, 1]),
            Err(DigestError::Gzip(_))
        ));
        assert!(matches!(
            Digest::decode(b"not json"),
            Err(DigestError::Json(_))
        ));
        assert!(matches!(
            Digest::decode(SAMPLE.get(..200).unwrap().as_bytes()),
            Err(DigestError::Json(_))
        ));
        assert!(!signed_by(b"", b"x", "zz"));
    }
}
