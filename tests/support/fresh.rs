//! A trail of a deploy that has just ended, for `--wait` and the delivery warnings: log files
//! named, filed and timed relative to now, in the CloudTrail key layout.

#![allow(dead_code, reason = "each user takes what it needs")]
#![allow(clippy::unwrap_used, reason = "test support fails loudly")]

use std::io::Write as _;
use std::path::Path;

use jiff::{SignedDuration, Timestamp};

/// The account and role of the calls.
pub const ACCOUNT: &str = "111122223333";
pub const ROLE: &str = "arn:aws:iam::111122223333:role/ci-provisioner";

/// A window that ended ten minutes ago: a later file is possible (after `--until` + 5m)
/// while the clock (`--until` + 30m) has not passed.
pub struct Window {
    pub now: Timestamp,
    pub since: Timestamp,
    pub until: Timestamp,
}

impl Window {
    pub fn new() -> Self {
        let now = Timestamp::now().round(jiff::Unit::Second).unwrap();
        Self {
            now,
            since: now.checked_sub(SignedDuration::from_mins(40)).unwrap(),
            until: now.checked_sub(SignedDuration::from_mins(10)).unwrap(),
        }
    }

    /// `discover` arguments for the window and the role.
    pub fn args(&self) -> Vec<String> {
        vec![
            "--principal".into(),
            ROLE.into(),
            "--since".into(),
            text(self.since),
            "--until".into(),
            text(self.until),
        ]
    }

    /// `offset` from `until` (negative: before it).
    pub fn at(&self, offset: SignedDuration) -> Timestamp {
        self.until.checked_add(offset).unwrap()
    }
}

pub fn text(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_mins(n)
}

/// The key of a log file of `region` delivered at `delivered`.
pub fn log_key(region: &str, delivered: Timestamp, unique: &str) -> String {
    format!(
        "AWSLogs/{ACCOUNT}/CloudTrail/{region}/{}/{ACCOUNT}_CloudTrail_{region}_{}_{unique}.json.gz",
        delivered.strftime("%Y/%m/%d"),
        delivered.strftime("%Y%m%dT%H%MZ")
    )
}

/// A gzipped trail document of one SQS call by the role at `at`.
pub fn log_body(region: &str, at: Timestamp, queue: &str) -> Vec<u8> {
    let record = serde_json::json!({"Records": [{
        "eventVersion": "1.09",
        "eventTime": text(at),
        "eventSource": "sqs.amazonaws.com",
        "eventName": "CreateQueue",
        "awsRegion": region,
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
        "userIdentity": {
            "type": "AssumedRole",
            "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/ci-provisioner/terraform"),
            "accountId": ACCOUNT,
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ROLE}}
        },
        "requestParameters": {"queueName": queue}
    }]});
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(serde_json::to_string(&record).unwrap().as_bytes())
        .unwrap();
    encoder.finish().unwrap()
}

/// Writes a log file of `region` delivered at `delivered` holding a call at `at`, below
/// `bucket_dir`; returns its key.
pub fn put_log(bucket_dir: &Path, region: &str, delivered: Timestamp, at: Timestamp) -> String {
    let key = log_key(region, delivered, &format!("{}", delivered.as_second()));
    let path = bucket_dir.join(&key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, log_body(region, at, "psoxy-queue")).unwrap();
    key
}
