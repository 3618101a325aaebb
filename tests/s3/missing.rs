//! Log files deleted from the bucket after delivery, over the real S3 protocol (the loopback
//! server, and moto's in CI): each file a valid digest lists inside the scanned range must be
//! there.

use std::path::Path;

use super::digests::fixture;
use super::signed::{self, Signer};
use super::{BUCKET, DAY, KEY, SECRET, WINDOW, minpriv};

/// The sample's eu-west-1 log file of the window's day delivered at `stamp` (`1013`).
pub(super) fn eu_log(root: &Path, stamp: &str) -> String {
    super::window_names(root)
        .into_iter()
        .find(|n| n.contains(&format!("_20261120T{stamp}Z_")))
        .unwrap()
}

#[test]
fn a_log_file_deleted_from_the_bucket_is_missing_inside_the_window_and_no_alarm_outside() {
    let f = fixture();
    let server = f.serve(&f.objects);
    let keys = f.keys();
    let day = f.bucket_dir().join(DAY);
    let run = |window: &[&str], extra: &[&str]| {
        let output = minpriv()
            .args(["discover", "--trail-bucket", BUCKET, "--endpoint-url"])
            .arg(&server.endpoint)
            .args(["--verify-digests", "--public-keys", &keys])
            .args(window)
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code(), stderr, output.stdout)
    };
    // A window ending mid-trail lists deliveries up to 10:13; the 11:00 digest lists the
    // files delivered up to 10:33.
    let mid_trail = [
        "--principal",
        super::bundled::ROLE,
        "--since",
        "2026-11-20T10:00:00Z",
        "--until",
        "2026-11-20T10:10:00Z",
        "--delivery-slack",
        "3m",
    ];
    let outside = eu_log(f.root.path(), "1021");
    std::fs::remove_file(day.join(&outside)).unwrap();
    let (code, stderr, _) = run(&mid_trail, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains(" 0 INVALID (0 missing);"), "{stderr}");
    // At the edge of that window (delivered at --until + the slack): missing.
    let edge = eu_log(f.root.path(), "1013");
    std::fs::remove_file(day.join(&edge)).unwrap();
    let (code, stderr, stdout) = run(&mid_trail, &[]);
    assert_eq!(code, Some(6), "{stderr}");
    assert!(stdout.is_empty());
    let digest = &f.objects[f.digest("eu-west-1", "T110000Z")].key;
    assert!(
        stderr.contains(&format!(
            "  INVALID s3://{BUCKET}/{DAY}/{edge}: listed by s3://{BUCKET}/{digest}, not in the bucket: deleted after delivery?"
        )),
        "{stderr}"
    );
    assert!(stderr.contains(" 1 INVALID (1 missing);"), "{stderr}");
    assert!(!stderr.contains(&outside), "{stderr}");
    // The README's window holds both, in its middle; the report records each.
    let report = f.scratch.path().join("report.json");
    let (code, stderr, _) = run(&WINDOW, &["--report", report.to_str().unwrap()]);
    assert_eq!(code, Some(6), "{stderr}");
    assert!(
        stderr.contains(
            "digests: 23 log files verified, 0 not covered by any digest, 2 INVALID (2 missing);"
        ),
        "{stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    for name in [&edge, &outside] {
        let status = report["integrity"][format!("s3://{BUCKET}/{DAY}/{name}")]
            .as_str()
            .unwrap();
        assert!(
            status.ends_with("not in the bucket: deleted after delivery?"),
            "{status}"
        );
    }
}

/// The same against an independent S3 implementation (moto's server, started by `.ci/run`):
/// the sample with signed digests, one log file in the window's middle deleted.
#[test]
#[ignore = "needs moto's server: run by .ci/run with MINPRIV_MOTO_ENDPOINT"]
fn moto_serves_a_trail_missing_a_log_file_and_it_is_missing() {
    let endpoint = std::env::var("MINPRIV_MOTO_ENDPOINT")
        .expect("MINPRIV_MOTO_ENDPOINT must name moto's server");
    let client = signed::client(&endpoint, KEY, SECRET);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let bucket = "acme-cloudtrail-deleted";
    let root = super::bucket_with_sample("", None);
    let dir = root.path().join(BUCKET);
    let signer = Signer::new();
    let digests = signed::make(&dir, bucket, &signer, "2026-11-20T10:00:00Z", 3);
    let gone = eu_log(root.path(), "1026");
    std::fs::remove_file(dir.join(DAY).join(&gone)).unwrap();
    runtime.block_on(async {
        signed::upload_tree(&client, bucket, &dir).await;
        signed::upload(&client, bucket, &digests).await;
    });
    let scratch = tempfile::tempdir().unwrap();
    let keys = signer.key_file(scratch.path(), false, &signer.fingerprint);
    let output = minpriv()
        .args([
            "discover",
            "--trail-bucket",
            bucket,
            "--endpoint-url",
            &endpoint,
        ])
        .arg("--verify-digests")
        .arg("--public-keys")
        .arg(&keys)
        .args(WINDOW)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(6), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(
        stderr.contains(&format!(
            "  INVALID s3://{bucket}/{DAY}/{gone}: listed by s3://{bucket}/"
        )) && stderr.contains("not in the bucket: deleted after delivery?"),
        "{stderr}"
    );
}
