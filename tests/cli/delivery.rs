//! Whether the window is delivered, on a local copy: the `completeness:` line, `--strict`,
//! and `--wait` on a folder something else keeps in sync.

use std::path::Path;

use super::child::Child;
use super::fresh::{self, Window, minutes};
use super::missing::sample_copy;
use super::*;

#[test]
fn a_window_whose_last_minutes_may_not_be_delivered_is_flagged_and_strict_fails_it() {
    // The sample ended long ago: delivered by the clock, said once.
    let output = discover_sample(&[]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("completeness: window delivered in all 2 regions (2 by the clock: --until + 30m passed); every log file listed was read (25)"),
        "{stderr}"
    );
    // A slack so long the clock has not passed it: nothing in the trail after --until + 5m.
    let slow = ["--delivery-slack", "99999d"];
    let output = discover_sample(&slow).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("completeness: window NOT KNOWN TO BE DELIVERED: 2 of 2 regions still open (111122223333/eu-west-1, 111122223333/us-east-1): nothing delivered after 2026-11-20T10:45:00Z yet"),
        "{stderr}"
    );
    let strict = discover_sample(&[&slow[..], &["--strict"]].concat())
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(4));
    assert!(
        String::from_utf8_lossy(&strict.stderr).contains("the window not known to be delivered"),
        "{}",
        String::from_utf8_lossy(&strict.stderr)
    );
    // A log file delivered after --until + 5m closes its region (its call, after --until,
    // is not kept).
    let copy = sample_copy();
    fresh::put_log(
        copy.path(),
        "eu-west-1",
        "2026-11-20T10:50:00Z".parse().unwrap(),
        "2026-11-20T10:48:00Z".parse().unwrap(),
    );
    let output = minpriv()
        .arg("discover")
        .arg("--trail-dir")
        .arg(copy.path())
        .args(WINDOW)
        .args(slow)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("1 of 2 regions still open (111122223333/us-east-1)"),
        "{stderr}"
    );
}

#[test]
fn a_window_without_until_runs_to_now_and_is_not_known_delivered() {
    let output = minpriv()
        .arg("discover")
        .arg("--trail-dir")
        .arg(bundled::trail())
        .args([
            "--principal",
            ROLE,
            "--since",
            "2026-11-20T10:00:00Z",
            "--strict",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("(no --until: the window runs to the start of the run)"),
        "{stderr}"
    );
}

#[test]
fn a_saved_events_file_is_not_judged_and_cannot_be_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.json");
    std::fs::write(
        &file,
        format!(r#"{{"Records":[{}]}}"#, record("CreateQueue")),
    )
    .unwrap();
    let output = minpriv()
        .arg("discover")
        .arg("--events")
        .arg(&file)
        .arg("--strict")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("completeness: delivery not judged (--events"),
        "{stderr}"
    );
    let output = minpriv()
        .arg("discover")
        .arg("--events")
        .arg(&file)
        .arg("--wait")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("cannot be used with"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn wait_with_nothing_but_the_clock_to_wait_for_says_at_once_it_would_run_out() {
    // LookupEvents and Athena show no sign of delivery: a MAX shorter than the time left to
    // --until + --delivery-slack fails before any request is sent.
    for source in [
        &["--lookup", "--region", "eu-west-1"][..],
        &["--athena-table", "cloudtrail_logs"][..],
    ] {
        let output = minpriv()
            .arg("discover")
            .args(source)
            .args(["--since", "1h", "--wait=5s"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(7), "{stderr}");
        assert!(
            stderr.contains("minpriv: --wait 5s: the window was not delivered in time: still open after 0s: the window (no region folders to look in: only the clock tells)"),
            "{stderr}"
        );
    }
    let output = minpriv()
        .args(["discover", "--athena-table", "t", "--dry-run", "--wait"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

/// The binary as a child process, for a test to act while it waits.
fn child(root: &Path, window: &Window, extra: &[&str]) -> Child {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("minpriv"));
    command
        .env_clear()
        .env("NO_COLOR", "1")
        .env("MINPRIV_WAIT_POLL", "200ms")
        .arg("discover")
        .arg("--trail-dir")
        .arg(root)
        .args(window.args())
        .args(extra);
    Child::spawn(command)
}

#[test]
fn wait_on_a_local_copy_ends_when_a_later_log_file_arrives_or_runs_out() {
    let window = Window::new();
    let dir = tempfile::tempdir().unwrap();
    fresh::put_log(
        dir.path(),
        "eu-west-1",
        window.at(minutes(-2)),
        window.at(minutes(-3)),
    );
    let mut run = child(dir.path(), &window, &["--wait=30s"]);
    run.wait_for("waiting for CloudTrail to deliver the window");
    // Something else (a sync, a mount) brings the next file.
    fresh::put_log(
        dir.path(),
        "eu-west-1",
        window.at(minutes(9)),
        window.at(minutes(8)),
    );
    let (code, stderr, stdout) = run.finish();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(String::from_utf8_lossy(&stdout).contains("sqs:CreateQueue"));
    assert!(
        stderr.contains("minpriv: 111122223333/eu-west-1 delivered: a log file delivered"),
        "{stderr}"
    );
    assert!(
        stderr.contains("completeness: window delivered in all 1 regions (1 by a log file delivered after --until + 5m)"),
        "{stderr}"
    );
    // Nothing more arrives in another region: MAX runs out, exit 7, nothing read.
    std::fs::create_dir_all(dir.path().join("AWSLogs/111122223333/CloudTrail/us-east-1")).unwrap();
    let (code, stderr, stdout) = child(dir.path(), &window, &["--wait=1s"]).finish();
    assert_eq!(code, Some(7), "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("minpriv: --wait 1s: the window was not delivered in time: still open after 1s: 111122223333/us-east-1 (nothing delivered after"),
        "{stderr}"
    );
    assert!(!stderr.contains("completeness:"), "nothing read: {stderr}");
    // --allow-partial reads what is there, says so, and --strict still fails it.
    let (code, stderr, stdout) =
        child(dir.path(), &window, &["--wait=1s", "--allow-partial"]).finish();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stdout.is_empty());
    assert!(
        stderr.contains("WARNING: --allow-partial: the window was not delivered within --wait: still open: 111122223333/us-east-1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("completeness: window NOT KNOWN TO BE DELIVERED: 1 of 2 regions still open (111122223333/us-east-1)"),
        "{stderr}"
    );
    let (code, _, _) = child(
        dir.path(),
        &window,
        &["--wait=1s", "--allow-partial", "--strict"],
    )
    .finish();
    assert_eq!(code, Some(4));
}
