//! `--verify-digests` over the real S3 protocol: the sample trail with a signed, chained
//! digest per region and hour (made in the test with its own key pair), the digests uploaded
//! with their signature metadata through PutObject; then one thing changed at a time.

use std::path::Path;

use super::signed::{self, Signer};
use super::{BUCKET, DAY, KEY, SECRET, Server, WINDOW, bucket_with_sample, from_dir, minpriv};

pub(super) struct Fixture {
    pub(super) root: tempfile::TempDir,
    /// Key files and reports, outside the served folder.
    pub(super) scratch: tempfile::TempDir,
    pub(super) signer: Signer,
    pub(super) objects: Vec<signed::Object>,
}

pub(super) fn fixture() -> Fixture {
    let root = bucket_with_sample("", None);
    let signer = Signer::new();
    let objects = signed::make(
        &root.path().join(BUCKET),
        BUCKET,
        &signer,
        "2026-11-20T10:00:00Z",
        3,
    );
    Fixture {
        root,
        scratch: tempfile::tempdir().unwrap(),
        signer,
        objects,
    }
}

impl Fixture {
    pub(super) fn bucket_dir(&self) -> std::path::PathBuf {
        self.root.path().join(BUCKET)
    }

    pub(super) fn keys(&self) -> String {
        self.key_file(false, &self.signer.fingerprint)
    }

    pub(super) fn key_file(&self, spki: bool, fingerprint: &str) -> String {
        self.signer
            .key_file(self.scratch.path(), spki, fingerprint)
            .to_string_lossy()
            .into_owned()
    }

    /// Serves the bucket with these digests uploaded (and their metadata).
    pub(super) fn serve(&self, objects: &[signed::Object]) -> Server {
        let server = Server::start(self.root.path());
        let client = signed::client(&server.endpoint, KEY, SECRET);
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(signed::upload(&client, BUCKET, objects));
        server
    }

    /// The digest of a region's hour ending at `stamp` (`T110000Z`).
    pub(super) fn digest(&self, region: &str, stamp: &str) -> usize {
        self.objects
            .iter()
            .position(|o| {
                o.key.contains(&format!("/CloudTrail-Digest/{region}/")) && o.key.contains(stamp)
            })
            .unwrap()
    }
}

fn verify(server: &Server, keys: &str, extra: &[&str]) -> (Option<i32>, String, Vec<u8>) {
    let output = minpriv()
        .args([
            "discover",
            "--trail-bucket",
            BUCKET,
            "--endpoint-url",
            &server.endpoint,
            "--verify-digests",
            "--public-keys",
            keys,
        ])
        .args(WINDOW)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stderr, output.stdout)
}

/// The sample's eu-west-1 log files delivered in the window.
pub(super) fn window_names(root: &Path) -> Vec<String> {
    super::window_names(root)
}

#[test]
fn digests_all_valid_verify_every_log_file_and_leave_the_policy_unchanged() {
    let f = fixture();
    let server = f.serve(&f.objects);
    // Both DER forms AWS serves: PKCS #1 RSAPublicKey and X.509 SubjectPublicKeyInfo.
    for spki in [false, true] {
        let keys = f.key_file(spki, &f.signer.fingerprint);
        let report = f.scratch.path().join("report.json");
        let (code, stderr, stdout) =
            verify(&server, &keys, &["--report", report.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{stderr}");
        assert_eq!(stdout, from_dir());
        assert!(
            stderr.contains("digests: 25 log files verified, 0 not covered by any digest, 0 INVALID (0 missing); 6 digest files (0 INVALID), 6 signatures checked"),
            "{stderr}"
        );
        assert!(stderr.contains("6 digest files read"), "{stderr}");
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let statuses = report["integrity"].as_object().unwrap();
        assert_eq!(statuses.len(), 25);
        assert!(statuses.values().all(|s| s == "verified"), "{statuses:#?}");
    }
    // Without the flag nothing of this is read or said.
    let plain = super::from_bucket(&server, &[]);
    assert!(!String::from_utf8_lossy(&plain.stderr).contains("digests:"));
}

#[test]
fn digests_catch_a_log_file_edited_after_delivery() {
    let f = fixture();
    let names = window_names(f.root.path());
    signed::edit_log(&f.bucket_dir().join(DAY).join(&names[0]));
    let server = f.serve(&f.objects);
    let report = f.scratch.path().join("report.json");
    let (code, stderr, stdout) =
        verify(&server, &f.keys(), &["--report", report.to_str().unwrap()]);
    assert_eq!(code, Some(6), "{stderr}");
    assert!(stdout.is_empty(), "no policy from a changed trail");
    assert!(
        stderr.contains("24 log files verified, 0 not covered by any digest, 1 INVALID"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "INVALID s3://{BUCKET}/{DAY}/{}: SHA-256 of its content differs from the hashValue in s3://{BUCKET}/",
            names[0]
        )),
        "{stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let status = &report["integrity"][format!("s3://{BUCKET}/{DAY}/{}", names[0])];
    assert!(
        status.as_str().unwrap().starts_with("INVALID: SHA-256"),
        "{status}"
    );
}

#[test]
fn digests_leave_a_log_file_no_digest_lists_not_covered_and_strict_fails_it() {
    let f = fixture();
    let names = window_names(f.root.path());
    let day = f.bucket_dir().join(DAY);
    std::fs::copy(
        day.join(&names[0]),
        day.join("111122223333_CloudTrail_eu-west-1_20261120T1015Z_ADDEDAFTERWARDS0.json.gz"),
    )
    .unwrap();
    let server = f.serve(&f.objects);
    let (code, stderr, _) = verify(&server, &f.keys(), &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("25 log files verified, 1 not covered by any digest, 0 INVALID"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not covered: 1 not listed by the digest of its delivery hour"),
        "{stderr}"
    );
    let (code, stderr, _) = verify(&server, &f.keys(), &["--strict"]);
    assert_eq!(code, Some(4), "{stderr}");
}

#[test]
fn digests_deleted_from_the_middle_of_the_chain_break_it() {
    let f = fixture();
    let gone = f.digest("eu-west-1", "T110000Z");
    let mut objects = f.objects.clone();
    let removed = objects.remove(gone);
    let server = f.serve(&objects);
    let (code, stderr, stdout) = verify(&server, &f.keys(), &[]);
    assert_eq!(code, Some(6), "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains(&format!(
            "INVALID s3://{BUCKET}/{}: missing: s3://{BUCKET}/",
            removed.key
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("not covered: 13 the digest of its hour is missing from the chain"),
        "{stderr}"
    );
    assert!(stderr.contains("12 log files verified"), "{stderr}");
}

#[test]
fn digests_with_a_wrong_signature_are_invalid_and_so_are_their_log_files() {
    let f = fixture();
    let forged = f.digest("eu-west-1", "T110000Z");
    let mut objects = f.objects.clone();
    objects[forged].signature = Signer::new().sign(b"forged");
    let server = f.serve(&objects);
    let (code, stderr, _) = verify(&server, &f.keys(), &[]);
    assert_eq!(code, Some(6), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "INVALID s3://{BUCKET}/{}: bad signature",
            objects[forged].key
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            ": listed by s3://{BUCKET}/{}, which is invalid",
            objects[forged].key
        )),
        "{stderr}"
    );
    // The next digest recorded the real signature: the chain says so too.
    assert!(
        stderr.contains("broken chain: its previousDigestSignature is not the signature of"),
        "{stderr}"
    );
    assert!(
        stderr.contains("12 log files verified, 0 not covered by any digest, 13 INVALID"),
        "{stderr}"
    );
}

#[test]
fn digests_signed_by_a_key_not_in_the_key_list_are_invalid() {
    let f = fixture();
    let server = f.serve(&f.objects);
    let keys = f.key_file(false, "0123456789abcdef0123456789abcdef");
    let (code, stderr, _) = verify(&server, &keys, &[]);
    assert_eq!(code, Some(6), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "public key {} is not in the key list of its region",
            f.signer.fingerprint
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("6 digest files (6 INVALID), 0 signatures checked"),
        "{stderr}"
    );
}

#[test]
fn digests_truncated_or_not_json_are_invalid_and_nothing_panics() {
    let f = fixture();
    let mut objects = f.objects.clone();
    let truncated = f.digest("eu-west-1", "T110000Z");
    let half = objects[truncated].body.len() / 2;
    objects[truncated].body.truncate(half);
    let foreign = f.digest("us-east-1", "T110000Z");
    objects[foreign].body = signed::gzipped(b"<html>Service Unavailable</html>");
    let server = f.serve(&objects);
    let (code, stderr, _) = verify(&server, &f.keys(), &[]);
    assert_eq!(code, Some(6), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "INVALID s3://{BUCKET}/{}: invalid format: corrupt or truncated gzip data",
            objects[truncated].key
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "INVALID s3://{BUCKET}/{}: invalid format: not a CloudTrail digest",
            objects[foreign].key
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("not covered: 25 the digest of its hour is invalid"),
        "{stderr}"
    );
}

#[test]
fn digests_deleted_from_the_start_of_the_window_are_missed_by_the_next() {
    let f = fixture();
    let mut objects = f.objects.clone();
    let removed = objects.remove(f.digest("us-east-1", "T100000Z"));
    let server = f.serve(&objects);
    let (code, stderr, _) = verify(&server, &f.keys(), &[]);
    assert_eq!(code, Some(6), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "INVALID s3://{BUCKET}/{}: missing: s3://{BUCKET}/",
            removed.key
        )),
        "{stderr}"
    );
}
