//! Log files deleted from a local copy whose digests are valid (the bundled sample's): each
//! file a digest lists inside the scanned range must be there.

use std::path::{Path, PathBuf};

use super::*;

/// A copy of the sample trail.
pub(super) fn sample_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    tree::copy_tree(&bundled::trail(), dir.path());
    dir
}

const EU: &str = "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/20";
const EU_DIGEST: &str = "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/20/111122223333_CloudTrail-Digest_eu-west-1_minpriv-sample_eu-west-1_20261120T110000Z.json.gz";

/// The sample's eu-west-1 log file delivered at `stamp` (`1013`).
fn eu_log(root: &Path, stamp: &str) -> PathBuf {
    let day = root.join(EU);
    std::fs::read_dir(&day)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .contains(&format!("_20261120T{stamp}Z_"))
        })
        .unwrap()
}

fn verify(root: &Path, window: &[&str], extra: &[&str]) -> (Option<i32>, String, Vec<u8>) {
    let output = minpriv()
        .arg("discover")
        .arg("--trail-dir")
        .arg(root)
        .arg("--verify-digests")
        .args(window)
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.stdout,
    )
}

/// The case: one log file inside the window deleted from a copy whose digests are
/// valid. It used to verify "24 log files, 0 INVALID" and write a policy lacking what that
/// file held.
#[test]
fn a_log_file_deleted_from_a_local_copy_is_missing_and_no_policy_is_written() {
    let copy = sample_copy();
    let gone = eu_log(copy.path(), "1026");
    std::fs::remove_file(&gone).unwrap();
    let report = copy.path().join("report.json");
    let (code, stderr, stdout) = verify(
        copy.path(),
        &WINDOW,
        &["--report", report.to_str().unwrap()],
    );
    assert_eq!(code, Some(6), "{stderr}");
    assert!(stdout.is_empty(), "no policy from a trail missing a file");
    assert!(
        stderr.contains(
            "digests: 24 log files verified, 0 not covered by any digest, 1 INVALID (1 missing);"
        ),
        "{stderr}"
    );
    let digest = copy.path().join(EU_DIGEST);
    assert!(
        stderr.contains(&format!(
            "  INVALID {}: listed by {}, not in the local copy: deleted after delivery?",
            gone.display(),
            digest.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("; 1 log files the digests list are MISSING (named above)"),
        "{stderr}"
    );
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let status = report["integrity"][gone.display().to_string()]
        .as_str()
        .unwrap();
    assert!(
        status.starts_with("INVALID: listed by ") && status.ends_with("deleted after delivery?"),
        "{status}"
    );
    // --strict changes nothing: tampering has its own code.
    let (code, _, _) = verify(copy.path(), &WINDOW, &["--strict"]);
    assert_eq!(code, Some(6));
}

/// A window ending mid-trail: 10:00–10:10 with 3 minutes of slack lists files delivered up
/// to 10:13. The 11:00 digest lists files up to 10:33: those past 10:13 are no alarm.
const MID_TRAIL: [&str; 10] = [
    "--principal",
    ROLE,
    "--since",
    "2026-11-20T10:00:00Z",
    "--until",
    "2026-11-20T10:10:00Z",
    "--delivery-slack",
    "3m",
    "--name-prefix",
    "psoxy-",
];

#[test]
fn only_the_files_a_digest_lists_inside_the_scanned_range_must_be_there() {
    let copy = sample_copy();
    let (code, stderr, _) = verify(copy.path(), &MID_TRAIL, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains(" 0 INVALID (0 missing);"), "{stderr}");
    // Outside the range (delivered 10:21): not listed, not missed.
    std::fs::remove_file(eu_log(copy.path(), "1021")).unwrap();
    let (code, stderr, _) = verify(copy.path(), &MID_TRAIL, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains(" 0 INVALID (0 missing);"), "{stderr}");
    // At the edge (delivered 10:13, --until plus the slack): missed.
    let edge = eu_log(copy.path(), "1013");
    std::fs::remove_file(&edge).unwrap();
    let (code, stderr, stdout) = verify(copy.path(), &MID_TRAIL, &[]);
    assert_eq!(code, Some(6), "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains(&format!("  INVALID {}: listed by ", edge.display())),
        "{stderr}"
    );
    assert!(stderr.contains(" 1 INVALID (1 missing);"), "{stderr}");
    // In the middle (delivered 10:08): missed too.
    let middle = eu_log(copy.path(), "1008");
    std::fs::remove_file(&middle).unwrap();
    let (code, stderr, _) = verify(copy.path(), &MID_TRAIL, &[]);
    assert_eq!(code, Some(6), "{stderr}");
    assert!(stderr.contains(" 2 INVALID (2 missing);"), "{stderr}");
    assert!(
        stderr.contains(&format!("  INVALID {}: listed by ", middle.display())),
        "{stderr}"
    );
}
