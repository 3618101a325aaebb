//! `discover --trail-bucket` over the real S3 protocol: an S3 server (s3s over a folder,
//! s3s-fs) runs on loopback inside the test process, wrapped to record every request and to
//! inject faults; the real binary reads from it through `--endpoint-url`.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::io::Write;
use std::path::Path;

use assert_cmd::Command;

#[path = "support/s3_server.rs"]
mod s3_server;
use s3_server::{Fault, KEY, SECRET, Server};

#[path = "support/sample.rs"]
mod bundled;

#[path = "support/tree.rs"]
mod tree;
use tree::copy_tree;

#[path = "support/digests.rs"]
mod signed;

#[path = "s3/digests.rs"]
mod digests;

#[path = "s3/digest_sources.rs"]
mod digest_sources;

#[path = "support/child.rs"]
mod child;
#[path = "support/fresh.rs"]
mod fresh;

#[path = "s3/delivery.rs"]
mod delivery;
#[path = "s3/missing.rs"]
mod missing;
use bundled::WINDOW;
const BUCKET: &str = "acme-cloudtrail";

/// A bucket folder holding the sample trail under `prefix` (with `AWSLogs/` moved under an
/// organization folder when `org` is given).
fn bucket_with_sample(prefix: &str, org: Option<&str>) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let mut base = root.path().join(BUCKET).join(prefix).join("AWSLogs");
    if let Some(org) = org {
        base = base.join(org);
    }
    std::fs::create_dir_all(&base).unwrap();
    copy_tree(&bundled::trail().join("AWSLogs"), &base);
    root
}

/// The binary with only loopback credentials in its environment.
fn command() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_minpriv"));
    cmd.env_clear()
        .env("NO_COLOR", "1")
        .env("AWS_ACCESS_KEY_ID", KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    cmd
}

fn minpriv() -> Command {
    Command::from_std(command())
}

fn from_bucket(server: &Server, extra: &[&str]) -> std::process::Output {
    minpriv()
        .args([
            "discover",
            "--trail-bucket",
            BUCKET,
            "--endpoint-url",
            &server.endpoint,
        ])
        .args(WINDOW)
        .args(extra)
        .output()
        .unwrap()
}

fn from_dir() -> Vec<u8> {
    let output = minpriv()
        .arg("discover")
        .arg("--trail-dir")
        .arg(bundled::trail())
        .args(WINDOW)
        .output()
        .unwrap();
    assert!(output.status.success());
    output.stdout
}

#[test]
fn a_standard_trail_gives_the_same_policy_as_its_local_copy() {
    let root = bucket_with_sample("", None);
    let server = Server::start(root.path());
    let output = from_bucket(&server, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(output.stdout, from_dir());
    assert!(
        stderr.contains("s3://acme-cloudtrail: 25 log objects listed in the window, 25 fetched"),
        "{stderr}"
    );
}

#[test]
fn organization_trails_and_prefixes_are_found() {
    let root = bucket_with_sample("team/logs", Some("o-abc123"));
    let server = Server::start(root.path());
    let output = from_bucket(&server, &["--prefix", "team/logs/"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.stdout, from_dir());
    let output = from_bucket(&server, &["--prefix", "team/logs", "--org-id", "o-abc123"]);
    assert_eq!(output.stdout, from_dir());
    let wrong = from_bucket(&server, &["--prefix", "other/"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&wrong.stderr)
            .contains("no CloudTrail logs under other/AWSLogs/ (check --prefix)")
    );
}

#[test]
fn only_the_days_and_files_of_the_window_are_listed_and_fetched() {
    let root = bucket_with_sample("", None);
    let server = Server::start(root.path());
    assert!(from_bucket(&server, &[]).status.success());
    let requests = server.requests();
    assert!(
        requests[0].contains("location"),
        "the bucket's region is asked first: {requests:#?}"
    );
    let gets: Vec<&String> = requests
        .iter()
        .filter(|r| r.starts_with("GET /acme-cloudtrail/AWSLogs/"))
        .collect();
    assert_eq!(gets.len(), 25, "{gets:#?}");
    assert!(
        gets.iter()
            .all(|r| r.contains("/2026/11/20/") && !r.contains("_20261120T09")),
        "{gets:#?}"
    );
    let lists: Vec<&String> = requests
        .iter()
        .filter(|r| r.contains("list-type=2"))
        .collect();
    assert!(
        lists
            .iter()
            .any(|r| r.contains("2026%2F11%2F20") || r.contains("2026/11/20")),
        "{lists:#?}"
    );
    assert!(
        !lists
            .iter()
            .any(|r| r.contains("2026%2F11%2F19") || r.contains("2026/11/19")),
        "{lists:#?}"
    );
    assert!(
        !requests.iter().any(|r| r.contains("CloudTrail-Digest")),
        "digest prefixes are not listed"
    );
}

#[test]
fn the_window_s_prefixes_are_listed_concurrently_and_the_policy_does_not_change() {
    // Two regions and a window that spans two days: four day prefixes, held 150 ms each.
    let root = bucket_with_sample("", None);
    let server = Server::start(root.path());
    server.hold_listings(std::time::Duration::from_millis(150));
    let output = minpriv()
        .args([
            "discover",
            "--trail-bucket",
            BUCKET,
            "--endpoint-url",
            &server.endpoint,
        ])
        .args([
            "--principal",
            bundled::ROLE,
            "--since",
            "2026-11-19T16:00:00Z",
            "--until",
            "2026-11-20T10:40:00Z",
        ])
        .args(["--name-prefix", "psoxy-"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        server.listings_peak() >= 2,
        "listings were not concurrent: {:#?}",
        server.requests()
    );
    let sequential = minpriv()
        .args([
            "discover",
            "--trail-bucket",
            BUCKET,
            "--endpoint-url",
            &server.endpoint,
        ])
        .args([
            "--principal",
            bundled::ROLE,
            "--since",
            "2026-11-19T16:00:00Z",
            "--until",
            "2026-11-20T10:40:00Z",
        ])
        .args(["--name-prefix", "psoxy-", "--concurrency", "1"])
        .output()
        .unwrap();
    assert_eq!(output.stdout, sequential.stdout);
}

#[test]
fn a_missing_bucket_is_a_clear_error() {
    let root = bucket_with_sample("", None);
    let server = Server::start(root.path());
    let output = minpriv()
        .args([
            "discover",
            "--trail-bucket",
            "no-such-bucket",
            "--endpoint-url",
            &server.endpoint,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("s3://no-such-bucket: cannot find the bucket's region: NoSuchBucket"),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET), "no credentials in messages");
}

#[test]
fn more_than_a_thousand_keys_are_paginated() {
    let root = tempfile::tempdir().unwrap();
    let day = root.path().join(BUCKET).join(DAY);
    std::fs::create_dir_all(&day).unwrap();
    for n in 0..1100 {
        let record = format!(
            r#"{{"Records":[{{"eventTime":"2026-11-20T10:10:00Z","eventSource":"sqs.amazonaws.com","eventName":"GetQueueUrl","awsRegion":"eu-west-1","requestParameters":{{"queueName":"q{n}"}}}}]}}"#
        );
        std::fs::write(
            day.join(format!(
                "111122223333_CloudTrail_eu-west-1_20261120T1015Z_{n:05}.json"
            )),
            record,
        )
        .unwrap();
    }
    let server = Server::start(root.path());
    let output = minpriv()
        .args([
            "discover",
            "--trail-bucket",
            BUCKET,
            "--endpoint-url",
            &server.endpoint,
            "--since",
            "2026-11-20T10:00:00Z",
            "--until",
            "2026-11-20T10:40:00Z",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("read 1100 files"), "{stderr}");
    assert!(stderr.contains("kept 1100 events"), "{stderr}");
}

#[test]
fn throttling_and_dropped_connections_are_retried_and_a_bad_object_is_named() {
    let root = bucket_with_sample("", None);
    // Only files delivered in the window are fetched.
    let names = window_names(root.path());
    let day = root.path().join(BUCKET).join(DAY);
    let mut corrupt = std::fs::File::create(
        day.join("111122223333_CloudTrail_eu-west-1_20261120T1020Z_CORRUPT.json.gz"),
    )
    .unwrap();
    corrupt
        .write_all(&[0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad])
        .unwrap();
    let server = Server::start(root.path());
    server.fault(&names[0], Fault::SlowDown(2));
    server.fault(&names[1], Fault::Drop(1));
    server.fault(&names[2], Fault::SlowDown(100));
    let output = from_bucket(&server, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let gets = |name: &str| {
        server
            .requests()
            .iter()
            .filter(|r| r.starts_with("GET") && r.contains(name))
            .count()
    };
    assert_eq!(gets(&names[0]), 3, "two SlowDowns, then served");
    assert!(gets(&names[1]) >= 2, "dropped once, then served");
    assert!(
        stderr.contains(&format!(
            "s3://acme-cloudtrail/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/20/{}: ",
            names[2]
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("CORRUPT.json.gz: corrupt or truncated gzip data"),
        "{stderr}"
    );
    // An object that never came back is a failed read (exit 5), not bad input ...
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("NOT READ: 1 inputs could not be fetched"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
    // ... unless a partial policy is asked for; --strict still fails on the corrupt one.
    let partial = from_bucket(&server, &["--allow-partial"]);
    assert_eq!(partial.status.code(), Some(0));
    let strict = from_bucket(&server, &["--strict", "--allow-partial"]);
    assert_eq!(strict.status.code(), Some(4));
}

/// The day folders of the sample's eu-west-1 prefix, and the names delivered in the window.
/// The sample's eu-west-1 log folder of the window's day, below the bucket.
const DAY: &str = "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/20";

/// The sample's eu-west-1 log files delivered in the window, sorted.
fn window_names(root: &Path) -> Vec<String> {
    let day = root.join(BUCKET).join(DAY);
    let mut names: Vec<String> = std::fs::read_dir(&day)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names.retain(|n| !n.contains("_20261120T09"));
    names
}

#[test]
fn a_server_that_dies_mid_run_is_a_failed_read_not_exit_0() {
    let root = bucket_with_sample("", None);
    let server = Server::start(root.path());
    // Listing and a few objects, then nothing.
    server.die_after(6);
    let output = from_bucket(&server, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("NOT READ: "), "{stderr}");
    assert!(stderr.contains("no policy written"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn a_denied_prefix_listing_is_a_failed_read_not_exit_0() {
    let root = bucket_with_sample("", None);
    let server = Server::start(root.path());
    server.fault("eu-west-1", Fault::DenyList);
    let output = from_bucket(&server, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("listings or queries did not complete"),
        "{stderr}"
    );
    assert!(stderr.contains("AccessDenied"), "{stderr}");
}

#[test]
fn a_body_cut_short_every_time_is_a_failed_read_and_allow_partial_writes_the_rest() {
    let root = bucket_with_sample("", None);
    let names = window_names(root.path());
    let server = Server::start(root.path());
    server.fault(&names[0], Fault::CutShort);
    let output = from_bucket(&server, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("NOT READ: 1 inputs could not be fetched"),
        "{stderr}"
    );
    assert!(stderr.contains(&names[0]), "{stderr}");
    let partial = from_bucket(&server, &["--allow-partial"]);
    let stderr = String::from_utf8_lossy(&partial.stderr);
    assert_eq!(partial.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("WARNING: --allow-partial: 1 inputs"),
        "{stderr}"
    );
    let policy: serde_json::Value = serde_json::from_slice(&partial.stdout).unwrap();
    assert!(policy["Statement"].is_array() || policy.is_array());
}

#[test]
fn a_second_run_with_a_cache_reads_nothing_from_s3() {
    let root = bucket_with_sample("", None);
    let server = Server::start(root.path());
    let cache = tempfile::tempdir().unwrap();
    let first = from_bucket(&server, &["--cache-dir", cache.path().to_str().unwrap()]);
    assert!(first.status.success());
    server.clear();
    let second = from_bucket(&server, &["--cache-dir", cache.path().to_str().unwrap()]);
    assert!(second.status.success());
    assert_eq!(first.stdout, second.stdout);
    assert!(
        !server
            .requests()
            .iter()
            .any(|r| r.contains("x-id=GetObject")),
        "{:#?}",
        server.requests()
    );
    assert!(String::from_utf8_lossy(&second.stderr).contains("25 from the cache"));
}

#[test]
fn self_policy_is_read_only_and_scoped_to_the_trail() {
    let output = minpriv()
        .args([
            "self-policy",
            "--trail-bucket",
            BUCKET,
            "--prefix",
            "team",
            "--lookup",
            "--kms-key",
            "arn:aws:kms:us-east-1:111122223333:key/k",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    insta::assert_snapshot!("self_policy", String::from_utf8(output.stdout).unwrap());
}

/// The same scenario against an independent S3 implementation (moto's server), which
/// `.ci/run` installs and starts, passing its address in MINPRIV_MOTO_ENDPOINT.
#[test]
#[ignore = "needs moto's server: run by .ci/run with MINPRIV_MOTO_ENDPOINT"]
fn moto_serves_the_same_trail_and_the_same_policy() {
    let endpoint = std::env::var("MINPRIV_MOTO_ENDPOINT")
        .expect("MINPRIV_MOTO_ENDPOINT must name moto's server");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .force_path_style(true)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                KEY, SECRET, None, None, "test",
            ))
            .build();
        let client = aws_sdk_s3::Client::from_conf(config);
        signed::upload_tree(&client, BUCKET, &bundled::trail()).await;
    });
    let output = minpriv()
        .args([
            "discover",
            "--trail-bucket",
            BUCKET,
            "--endpoint-url",
            &endpoint,
        ])
        .args(WINDOW)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.stdout, from_dir());
}
