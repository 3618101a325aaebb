//! Synthetic CloudTrail trails, shaped as CloudTrail writes them: the bundled sample
//! (`samples/`) and the benchmark corpus. Deterministic: the same call writes the same bytes.

pub mod bulk;
pub mod deploy;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

/// A caller as CloudTrail's `userIdentity` shows it.
#[derive(Debug, Clone)]
pub enum Who {
    /// A role session: account, role name, session name.
    Role {
        account: String,
        role: String,
        session: String,
    },
    /// An IAM user.
    User { account: String, name: String },
    /// An AWS service acting on its own behalf.
    Service(String),
}

/// Deterministic pseudo-random numbers (splitmix64).
#[derive(Debug, Clone)]
pub struct Dice(u64);

impl Dice {
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn roll(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.roll() % n.max(1)
    }

    /// A UUID-shaped identifier.
    pub fn uuid(&mut self) -> String {
        let (a, b) = (self.roll(), self.roll());
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    }

    /// Upper-case letters and digits, as in access key ids.
    pub fn token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        (0..len)
            .map(|_| char::from(ALPHABET[usize::try_from(self.below(32)).unwrap_or(0)]))
            .collect()
    }
}

/// One API call to record.
#[derive(Debug, Clone)]
pub struct CallSpec<'a> {
    pub who: &'a Who,
    pub source: &'a str,
    pub name: &'a str,
    pub region: &'a str,
    pub request: Value,
    pub response: Value,
    pub error: Option<(&'a str, &'a str)>,
    pub agent: &'a str,
    pub read_only: bool,
    /// The AWS service that made the call with the caller's credentials (`invokedBy`).
    pub via: Option<&'a str>,
    /// The event's `resources` array, for services that record one (KMS).
    pub resources: Option<Value>,
}

/// Records in delivery order, written as a trail bucket tree.
#[derive(Debug)]
pub struct Trail {
    pub account: String,
    dice: Dice,
    /// (region, event time, record)
    records: Vec<(String, Timestamp, Value)>,
}

impl Trail {
    #[must_use]
    pub fn new(account: &str, seed: u64) -> Self {
        Self {
            account: account.to_owned(),
            dice: Dice::new(seed),
            records: Vec::new(),
        }
    }

    pub fn dice(&mut self) -> &mut Dice {
        &mut self.dice
    }

    /// Every record, in the order they were made.
    pub fn records(&self) -> impl Iterator<Item = &Value> {
        self.records.iter().map(|(_, _, record)| record)
    }

    /// Records one API call at `at`.
    pub fn call(&mut self, at: Timestamp, spec: CallSpec<'_>) {
        let mut record = Map::new();
        record.insert("eventVersion".into(), json!("1.09"));
        let mut identity = self.identity(spec.who, at);
        if let (Some(via), Some(map)) = (spec.via, identity.as_object_mut()) {
            map.insert("invokedBy".into(), json!(via));
        }
        record.insert("userIdentity".into(), identity);
        record.insert("eventTime".into(), json!(time(at)));
        record.insert("eventSource".into(), json!(spec.source));
        record.insert("eventName".into(), json!(spec.name));
        record.insert("awsRegion".into(), json!(spec.region));
        let service = match spec.who {
            Who::Service(service) => Some(service.as_str()),
            _ => spec.via,
        };
        let (ip, agent) = match service {
            Some(service) => (json!(service), json!(service)),
            _ => (
                json!(format!("203.0.113.{}", 10 + self.dice.below(40))),
                json!(spec.agent),
            ),
        };
        record.insert("sourceIPAddress".into(), ip);
        record.insert("userAgent".into(), agent);
        if let Some((code, message)) = spec.error {
            record.insert("errorCode".into(), json!(code));
            record.insert("errorMessage".into(), json!(message));
        }
        record.insert("requestParameters".into(), spec.request);
        record.insert("responseElements".into(), spec.response);
        record.insert("requestID".into(), json!(self.dice.uuid()));
        record.insert("eventID".into(), json!(self.dice.uuid()));
        record.insert("readOnly".into(), json!(spec.read_only));
        if let Some(resources) = spec.resources {
            record.insert("resources".into(), resources);
        }
        record.insert("eventType".into(), json!("AwsApiCall"));
        record.insert("managementEvent".into(), json!(true));
        record.insert("recipientAccountId".into(), json!(self.account));
        record.insert("eventCategory".into(), json!("Management"));
        if !matches!(spec.who, Who::Service(_)) && spec.via.is_none() {
            let host = spec
                .source
                .replace(".amazonaws.com", &format!(".{}.amazonaws.com", spec.region));
            record.insert(
                "tlsDetails".into(),
                json!({"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": host}),
            );
        }
        self.records
            .push((spec.region.to_owned(), at, Value::Object(record)));
    }

    /// The same trail in another account and region: every account id and region in every
    /// record (ARNs, hosts, queue URLs, identities) rewritten, as if the same module had been
    /// deployed there.
    #[must_use]
    pub fn relocate(mut self, from: (&str, &str), to: (&str, &str)) -> Self {
        fn rewrite(value: &mut Value, from: (&str, &str), to: (&str, &str)) {
            match value {
                Value::String(s) => *s = s.replace(from.0, to.0).replace(from.1, to.1),
                Value::Array(items) => items.iter_mut().for_each(|v| rewrite(v, from, to)),
                Value::Object(map) => map.values_mut().for_each(|v| rewrite(v, from, to)),
                _ => {}
            }
        }
        for (region, _, record) in &mut self.records {
            if region == from.1 {
                to.1.clone_into(region);
            }
            rewrite(record, from, to);
        }
        to.0.clone_into(&mut self.account);
        self
    }

    /// Records a raw record (console sign-ins, Insights, odd shapes).
    pub fn raw(&mut self, region: &str, at: Timestamp, record: Value) {
        self.records.push((region.to_owned(), at, record));
    }

    fn identity(&mut self, who: &Who, at: Timestamp) -> Value {
        match who {
            Who::Role {
                account,
                role,
                session,
            } => {
                let role_id = format!("AROA{}", stable_token(role));
                let created = at.checked_sub(SignedDuration::from_mins(20)).unwrap_or(at);
                json!({
                    "type": "AssumedRole",
                    "principalId": format!("{role_id}:{session}"),
                    "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
                    "accountId": account,
                    "accessKeyId": format!("ASIA{}", self.dice.token(16)),
                    "sessionContext": {
                        "sessionIssuer": {
                            "type": "Role",
                            "principalId": role_id,
                            "arn": format!("arn:aws:iam::{account}:role/{role}"),
                            "accountId": account,
                            "userName": role
                        },
                        "attributes": {"creationDate": time(created), "mfaAuthenticated": "false"}
                    }
                })
            }
            Who::User { account, name } => json!({
                "type": "IAMUser",
                "principalId": format!("AIDA{}", stable_token(name)),
                "arn": format!("arn:aws:iam::{account}:user/{name}"),
                "accountId": account,
                "accessKeyId": format!("AKIA{}", stable_token(name)),
                "userName": name
            }),
            Who::Service(service) => json!({"type": "AWSService", "invokedBy": service}),
        }
    }

    /// Writes the trail under `root` in the S3 key layout, one file per region and
    /// delivery (five-minute batches), plus one digest file per region and hour.
    ///
    /// # Errors
    /// Any I/O error.
    pub fn write(mut self, root: &Path, prefix: &str) -> std::io::Result<Vec<PathBuf>> {
        let prefix = if prefix.is_empty() || prefix.ends_with('/') {
            prefix.to_owned()
        } else {
            format!("{prefix}/")
        };
        let prefix = prefix.as_str();
        let mut batches: BTreeMap<(String, Timestamp), Vec<(Timestamp, Value)>> = BTreeMap::new();
        let records = std::mem::take(&mut self.records);
        for (region, at, record) in records {
            let batch_end = ceil_minutes(at, 5);
            let delay =
                SignedDuration::from_secs(i64::try_from(60 + self.dice.below(180)).unwrap_or(60));
            let delivered = batch_end.checked_add(delay).unwrap_or(batch_end);
            batches
                .entry((region, floor_minutes(delivered, 1)))
                .or_default()
                .push((at, record));
        }
        let mut written = Vec::new();
        // (region, hour) → the log files delivered in it: (key, SHA-256 of the JSON).
        let mut digests: BTreeMap<(String, Timestamp), Vec<(String, String)>> = BTreeMap::new();
        for ((region, delivered), mut records) in batches {
            records.sort_by_key(|(at, _)| *at);
            let day = delivered.strftime("%Y/%m/%d").to_string();
            let folder = format!("{prefix}AWSLogs/{}/CloudTrail/{region}/{day}", self.account);
            let dir = root.join(&folder);
            std::fs::create_dir_all(&dir)?;
            let name = format!(
                "{}_CloudTrail_{region}_{}_{}.json.gz",
                self.account,
                delivered.strftime("%Y%m%dT%H%MZ"),
                self.dice.token(16)
            );
            let document =
                json!({"Records": records.into_iter().map(|(_, r)| r).collect::<Vec<_>>()});
            let json = serde_json::to_string(&document)?;
            let path = dir.join(&name);
            write_gz(&path, json.as_bytes())?;
            written.push(path);
            digests
                .entry((region, floor_minutes(delivered, 60)))
                .or_default()
                .push((format!("{folder}/{name}"), sha256_hex(json.as_bytes())));
        }
        self.write_digests(root, prefix, digests)?;
        Ok(written)
    }
}

/// The bucket a sample trail's digests say they were delivered to.
pub const SAMPLE_BUCKET: &str = "minpriv-sample-trail";

impl Trail {
    /// One digest per region and hour that had log files, shaped as CloudTrail writes them
    /// (CloudTrail user guide, "CloudTrail digest file structure"): the SHA-256 of each log
    /// file's JSON, chained to the region's previous digest by its key and hash. A sample
    /// cannot be signed by CloudTrail: the signature of the previous digest is a stand-in,
    /// and a local copy carries no S3 metadata to check it against anyway.
    fn write_digests(
        &self,
        root: &Path,
        prefix: &str,
        digests: BTreeMap<(String, Timestamp), Vec<(String, String)>>,
    ) -> std::io::Result<()> {
        let mut previous: BTreeMap<String, (String, String)> = BTreeMap::new();
        for ((region, hour), logs) in digests {
            // A digest is delivered after the hour it covers, named and filed by its end.
            let end = hour
                .checked_add(SignedDuration::from_hours(1))
                .unwrap_or(hour);
            let day = end.strftime("%Y/%m/%d").to_string();
            let folder = format!(
                "{prefix}AWSLogs/{}/CloudTrail-Digest/{region}/{day}",
                self.account
            );
            let dir = root.join(&folder);
            std::fs::create_dir_all(&dir)?;
            let name = format!(
                "{}_CloudTrail-Digest_{region}_minpriv-sample_{region}_{}.json.gz",
                self.account,
                end.strftime("%Y%m%dT%H%M%SZ")
            );
            let key = format!("{folder}/{name}");
            let (previous_key, previous_hash) = previous
                .get(&region)
                .map_or((Value::Null, Value::Null), |(k, h)| (json!(k), json!(h)));
            let chained = !previous_key.is_null();
            let digest = json!({
                "awsAccountId": self.account,
                "digestStartTime": time(hour),
                "digestEndTime": time(end),
                "digestS3Bucket": SAMPLE_BUCKET,
                "digestS3Object": key,
                "digestPublicKeyFingerprint": "00000000000000000000000000000000",
                "digestSignatureAlgorithm": "SHA256withRSA",
                "newestEventTime": time(end),
                "oldestEventTime": time(hour),
                "previousDigestS3Bucket": if chained { json!(SAMPLE_BUCKET) } else { Value::Null },
                "previousDigestS3Object": previous_key,
                "previousDigestHashValue": previous_hash,
                "previousDigestHashAlgorithm": if chained { json!("SHA-256") } else { Value::Null },
                "previousDigestSignature": if chained { json!(sha256_hex(b"minpriv sample: not signed")) } else { Value::Null },
                "logFiles": logs.iter().map(|(key, hash)| json!({
                    "s3Bucket": SAMPLE_BUCKET, "s3Object": key, "hashValue": hash,
                    "hashAlgorithm": "SHA-256", "newestEventTime": time(end), "oldestEventTime": time(hour)
                })).collect::<Vec<_>>(),
            });
            let text = serde_json::to_string(&digest)?;
            write_gz(&dir.join(name), text.as_bytes())?;
            previous.insert(region, (key, sha256_hex(text.as_bytes())));
        }
        Ok(())
    }
}

/// Lower-case hex of the SHA-256 of `bytes`.
fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut out, byte| {
            use std::fmt::Write as _;
            let _ = write!(out, "{byte:02x}");
            out
        })
}

/// Gzip with a fixed header, so the same bytes in give the same file out.
///
/// # Errors
/// Any I/O error.
pub fn write_gz(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::new(6));
    encoder.write_all(bytes)?;
    std::fs::write(path, encoder.finish()?)
}

/// `2026-11-20T10:00:00Z`, as CloudTrail writes times.
#[must_use]
pub fn time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A fixed 16-character id derived from a name (role and user ids stay stable).
fn stable_token(name: &str) -> String {
    let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    Dice::new(seed).token(17)
}

fn ceil_minutes(at: Timestamp, minutes: i64) -> Timestamp {
    let step = minutes * 60;
    let s = at.as_second();
    Timestamp::from_second((s + step - 1).div_euclid(step) * step).unwrap_or(at)
}

fn floor_minutes(at: Timestamp, minutes: i64) -> Timestamp {
    let step = minutes * 60;
    Timestamp::from_second(at.as_second().div_euclid(step) * step).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every file below `root`, by path relative to it, with its bytes.
    fn files(root: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let bytes = std::fs::read(&path).unwrap();
                    out.push((path.strip_prefix(root).unwrap().to_path_buf(), bytes));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn the_sample_is_the_same_bytes_every_time() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let written = super::deploy::sample().write(a.path(), "").unwrap();
        super::deploy::sample().write(b.path(), "").unwrap();
        let (a, b) = (files(a.path()), files(b.path()));
        assert!(written.len() > 5, "{} log files", written.len());
        assert!(a.len() > written.len(), "digest files beside the logs");
        assert_eq!(a, b);
    }

    #[test]
    fn the_bulk_corpus_is_the_same_bytes_for_a_seed_and_differs_for_another() {
        let dirs = [(); 3].map(|()| tempfile::tempdir().unwrap());
        for (dir, seed) in dirs.iter().zip([7, 7, 8]) {
            super::bulk::write(dir.path(), 2, 20, seed).unwrap();
        }
        let [a, b, c] = dirs.map(|dir| files(dir.path()));
        assert_eq!(a.len(), 2);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
