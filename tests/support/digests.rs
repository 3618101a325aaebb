//! Signed, chained CloudTrail digest files over a trail folder, made in the test: an RSA key
//! pair generated here, one digest per region and hour shaped as AWS's "CloudTrail digest
//! file structure" shows it, signed as "Custom implementations of CloudTrail log file
//! integrity validation" describes (SHA256withRSA over end time, own `bucket/key`, hex
//! SHA-256 of the uncompressed digest, previous signature or `null`), and uploaded with their
//! `signature` / `signature-algorithm` metadata.

#![allow(dead_code, reason = "each user takes what it needs")]
#![allow(clippy::unwrap_used, reason = "test support fails loudly")]

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use sha2::Digest as _;

/// The trail's name and home region, as they appear in digest names.
const TRAIL: &str = "minpriv-sample_us-east-1";

/// A test key pair standing in for CloudTrail's regional signing key.
pub struct Signer {
    key: aws_lc_rs::rsa::KeyPair,
    pub fingerprint: String,
}

impl Signer {
    pub fn new() -> Self {
        let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let fingerprint = hex::encode(&sha2::Sha256::digest(key.public_key().as_ref())[..16]);
        Self { key, fingerprint }
    }

    /// Hex SHA256withRSA (PKCS #1 v1.5) signature.
    pub fn sign(&self, message: &[u8]) -> String {
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .unwrap();
        hex::encode(signature)
    }

    /// What `aws cloudtrail list-public-keys` prints for this key, its DER as PKCS #1
    /// `RSAPublicKey` or (`spki`) X.509 `SubjectPublicKeyInfo`, under `fingerprint`.
    pub fn key_list(&self, spki: bool, fingerprint: &str) -> String {
        let der = if spki {
            AsDer::<PublicKeyX509Der>::as_der(self.key.public_key())
                .unwrap()
                .as_ref()
                .to_vec()
        } else {
            self.key.public_key().as_ref().to_vec()
        };
        let value = base64::engine::general_purpose::STANDARD.encode(der);
        serde_json::to_string_pretty(&serde_json::json!({
            "PublicKeyList": [{
                "Value": value,
                "ValidityStartTime": "2026-11-01T00:00:00+00:00",
                "ValidityEndTime": "2026-12-01T00:00:00+00:00",
                "Fingerprint": fingerprint,
            }]
        }))
        .unwrap()
    }

    /// The key list written to a file in `dir`.
    pub fn key_file(&self, dir: &Path, spki: bool, fingerprint: &str) -> PathBuf {
        let path = dir.join(if spki { "keys-spki.json" } else { "keys.json" });
        std::fs::write(&path, self.key_list(spki, fingerprint)).unwrap();
        path
    }
}

/// One digest object: its key, gzipped body and signature metadata.
#[derive(Debug, Clone)]
pub struct Object {
    pub key: String,
    pub body: Vec<u8>,
    pub signature: String,
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn stamp(at: jiff::Timestamp, format: &str) -> String {
    at.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .strftime(format)
        .to_string()
}

/// Removes the trail's placeholder digests, then makes a signed chain per account and region
/// of the trail in `bucket_dir` (the folder holding `AWSLogs/`): `hours` digests ending at
/// `first_end`, `first_end` + 1h, …, each listing the log files delivered in its hour (by
/// the time in their names). The first digest of each chain starts it (`null` previous).
pub fn make(
    bucket_dir: &Path,
    bucket: &str,
    signer: &Signer,
    first_end: &str,
    hours: i32,
) -> Vec<Object> {
    let first_end: jiff::Timestamp = first_end.parse().unwrap();
    let all = super::tree::files(bucket_dir);
    for key in all.iter().filter(|k| k.contains("/CloudTrail-Digest/")) {
        std::fs::remove_file(bucket_dir.join(key)).unwrap();
    }
    let logs: Vec<&String> = all.iter().filter(|k| k.contains("/CloudTrail/")).collect();
    let mut areas: Vec<(String, String)> = logs
        .iter()
        .map(|k| {
            let (base, rest) = k.split_once("CloudTrail/").unwrap();
            (base.to_owned(), rest.split('/').next().unwrap().to_owned())
        })
        .collect();
    areas.sort();
    areas.dedup();
    let mut objects = Vec::new();
    for (base, region) in areas {
        let account = base.trim_end_matches('/').rsplit('/').next().unwrap();
        let mut previous: Option<(String, String, String)> = None;
        for hour in 0..hours {
            let end = first_end
                .checked_add(jiff::SignedDuration::from_hours(i64::from(hour)))
                .unwrap();
            let start = end
                .checked_sub(jiff::SignedDuration::from_hours(1))
                .unwrap();
            let key = format!(
                "{base}CloudTrail-Digest/{region}/{}/{account}_CloudTrail-Digest_{region}_{TRAIL}_{}.json.gz",
                stamp(end, "%Y/%m/%d"),
                stamp(end, "%Y%m%dT%H%M%SZ")
            );
            let prefix = format!("{base}CloudTrail/{region}/");
            let log_files = listed(bucket_dir, bucket, &logs, &prefix, start, end);
            let (previous_key, previous_hash, previous_signature) = match &previous {
                Some((k, h, s)) => (
                    serde_json::json!(k),
                    serde_json::json!(h),
                    serde_json::json!(s),
                ),
                None => (
                    serde_json::Value::Null,
                    serde_json::Value::Null,
                    serde_json::Value::Null,
                ),
            };
            let digest = serde_json::json!({
                "awsAccountId": account,
                "digestStartTime": stamp(start, "%Y-%m-%dT%H:%M:%SZ"),
                "digestEndTime": stamp(end, "%Y-%m-%dT%H:%M:%SZ"),
                "digestS3Bucket": bucket,
                "digestS3Object": key,
                "digestPublicKeyFingerprint": signer.fingerprint,
                "digestSignatureAlgorithm": "SHA256withRSA",
                "newestEventTime": stamp(end, "%Y-%m-%dT%H:%M:%SZ"),
                "oldestEventTime": stamp(start, "%Y-%m-%dT%H:%M:%SZ"),
                "previousDigestS3Bucket": if previous.is_some() { serde_json::json!(bucket) } else { serde_json::Value::Null },
                "previousDigestS3Object": previous_key,
                "previousDigestHashValue": previous_hash,
                "previousDigestHashAlgorithm": if previous.is_some() { serde_json::json!("SHA-256") } else { serde_json::Value::Null },
                "previousDigestSignature": previous_signature,
                "logFiles": log_files,
            });
            let text = serde_json::to_vec(&digest).unwrap();
            let hash = hex::encode(sha2::Sha256::digest(&text));
            let previous_signature = previous.as_ref().map_or("null", |p| p.2.as_str());
            let signing = format!(
                "{}\n{bucket}/{key}\n{hash}\n{previous_signature}",
                stamp(end, "%Y-%m-%dT%H:%M:%SZ")
            );
            let signature = signer.sign(signing.as_bytes());
            previous = Some((key.clone(), hash, signature.clone()));
            objects.push(Object {
                key,
                body: gzip(&text),
                signature,
            });
        }
    }
    objects
}

/// A log file's delivery time, from the time in its name.
fn delivered(key: &str) -> jiff::Timestamp {
    let name = key.rsplit('/').next().unwrap();
    let time = name.split('_').nth(3).unwrap();
    format!(
        "{}-{}-{}T{}:{}:00Z",
        &time[0..4],
        &time[4..6],
        &time[6..8],
        &time[9..11],
        &time[11..13]
    )
    .parse()
    .unwrap()
}

/// The `logFiles` entries of the log files below `prefix` delivered in `[start, end)`.
fn listed(
    bucket_dir: &Path,
    bucket: &str,
    logs: &[&String],
    prefix: &str,
    start: jiff::Timestamp,
    end: jiff::Timestamp,
) -> Vec<serde_json::Value> {
    let mut log_files = Vec::new();
    for log in logs.iter().filter(|k| k.starts_with(prefix)) {
        let at = delivered(log);
        if start <= at && at < end {
            let content = gunzip(&std::fs::read(bucket_dir.join(log)).unwrap());
            log_files.push(serde_json::json!({
                "s3Bucket": bucket,
                "s3Object": log,
                "hashValue": hex::encode(sha2::Sha256::digest(&content)),
                "hashAlgorithm": "SHA-256",
                "newestEventTime": stamp(at, "%Y-%m-%dT%H:%M:%SZ"),
                "oldestEventTime": stamp(at, "%Y-%m-%dT%H:%M:%SZ"),
            }));
        }
    }
    log_files
}

/// Writes the digests into a local copy (no metadata: a copy has none).
pub fn write(bucket_dir: &Path, objects: &[Object]) {
    for object in objects {
        let path = bucket_dir.join(&object.key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &object.body).unwrap();
    }
}

/// An S3 client for a test endpoint.
pub fn client(endpoint: &str, key: &str, secret: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::new()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            key, secret, None, None, "test",
        ))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// One object, with PutObject as CloudTrail delivers.
pub async fn put(client: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(aws_sdk_s3::primitives::ByteStream::from(body))
        .send()
        .await
        .unwrap();
}

/// Every file below `dir`, uploaded with PutObject under its path (into `bucket`, created
/// first if it is not there).
pub async fn upload_tree(client: &aws_sdk_s3::Client, bucket: &str, dir: &Path) {
    let _ = client.create_bucket().bucket(bucket).send().await;
    for key in super::tree::files(dir) {
        put(client, bucket, &key, std::fs::read(dir.join(&key)).unwrap()).await;
    }
}

/// Uploads the digests with PutObject and their signature metadata, as CloudTrail does.
pub async fn upload(client: &aws_sdk_s3::Client, bucket: &str, objects: &[Object]) {
    for object in objects {
        client
            .put_object()
            .bucket(bucket)
            .key(&object.key)
            .metadata("signature", &object.signature)
            .metadata("signature-algorithm", "SHA256withRSA")
            .body(aws_sdk_s3::primitives::ByteStream::from(
                object.body.clone(),
            ))
            .send()
            .await
            .unwrap();
    }
}

/// Changes one record of a gzipped log file (as an edit after delivery would).
pub fn edit_log(path: &Path) {
    let text = String::from_utf8(gunzip(&std::fs::read(path).unwrap())).unwrap();
    let edited = text.replacen("\"eventVersion\":\"1.", "\"eventVersion\":\"9.", 1);
    assert_ne!(text, edited);
    std::fs::write(path, gzip(edited.as_bytes())).unwrap();
}

/// The gzip of `bytes` (for corrupt digests).
pub fn gzipped(bytes: &[u8]) -> Vec<u8> {
    gzip(bytes)
}
