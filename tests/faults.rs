//! Faults and hostile input (issue 13): filesystem oddities, closed pipes, unwritable
//! stderr, records with non-ASCII fields. Each test is named after what it broke.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/sample.rs"]
mod bundled;
use bundled::{ROLE, WINDOW};

fn minpriv() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_minpriv"));
    cmd.env_clear().env("NO_COLOR", "1");
    cmd
}

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn record(name: &str, region: &str, account: &str) -> String {
    format!(
        r#"{{"eventTime":"2026-11-20T10:10:00Z","eventSource":"sqs.amazonaws.com","eventName":"{name}","awsRegion":"{region}","recipientAccountId":"{account}",
        "userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/ci-provisioner/s","accountId":"{account}",
        "sessionContext":{{"sessionIssuer":{{"arn":"{ROLE}"}}}}}},"eventType":"AwsApiCall","requestParameters":{{"queueName":"q"}}}}"#
    )
}

fn trail(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap();
    }
    dir
}

fn good() -> String {
    format!(
        r#"{{"Records":[{}]}}"#,
        record("CreateQueue", "eu-west-1", "111122223333")
    )
}

/// Runs with a deadline: a hang is a failure, not a stuck CI job.
fn run(cmd: &mut Command) -> (Option<i32>, String, String) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_mins(1) {
            child.kill().unwrap();
            panic!("minpriv hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn discover(dir: &Path) -> Command {
    let mut cmd = minpriv();
    cmd.arg("discover").arg("--trail-dir").arg(dir);
    cmd
}

#[test_case::test_case("é", "111122223333" ; "non-ASCII region")]
#[test_case::test_case("eu-west-1", "é" ; "non-ASCII account")]
#[test_case::test_case("\u{1F600}", "ü\u{301}" ; "emoji region and combining account")]
fn a_non_ascii_region_or_account_does_not_abort_the_run(region: &str, account: &str) {
    let body = format!(
        r#"{{"Records":[{},{}]}}"#,
        record("DeleteQueue", region, account),
        record("CreateQueue", "eu-west-1", "111122223333")
    );
    let dir = trail(&[("a.json", body)]);
    let (code, stdout, stderr) = run(&mut discover(dir.path()));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("sqs:CreateQueue"), "{stdout}");
    assert!(stdout.contains("sqs:DeleteQueue"), "{stdout}");
}

#[test]
fn a_fifo_in_the_trail_dir_does_not_hang_the_run() {
    let dir = trail(&[("good.json", good())]);
    let fifo = dir
        .path()
        .join("x_CloudTrail_eu-west-1_20261120T1010Z_a.json.gz");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (code, stdout, stderr) = run(&mut discover(dir.path()));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("sqs:CreateQueue"));
    assert!(stderr.contains("not a regular file"), "{stderr}");
    let (strict, _, _) = run(discover(dir.path()).arg("--strict"));
    assert_eq!(strict, Some(4));
}

#[test]
fn a_fifo_given_to_events_does_not_hang_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("events.json");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let (code, _, stderr) = run(minpriv().arg("discover").arg("--events").arg(&fifo));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
}

#[test]
fn a_symlink_to_a_device_does_not_bypass_max_file_size() {
    let dir = trail(&[("good.json", good())]);
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.json")).unwrap();
    let (code, stdout, stderr) = run(discover(dir.path()).args(["--max-file-size", "1MiB"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("sqs:CreateQueue"));
    assert!(stderr.contains("zero.json: not a regular file"), "{stderr}");
}

#[test]
fn a_file_growing_past_max_file_size_is_refused_by_what_is_read() {
    // Stdin has no size on disk: the limit holds for the bytes read.
    let mut child = minpriv()
        .args(["discover", "--events", "-", "--max-file-size", "64KiB"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let chunk = vec![b' '; 1 << 16];
        for _ in 0..64 {
            if stdin.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("larger than 65536 bytes"), "{stderr}");
}

#[test]
fn a_symlinked_sub_folder_of_a_trail_copy_is_read_and_a_loop_is_named() {
    let elsewhere = trail(&[("good.json", good())]);
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("disk2")).unwrap();
    std::os::unix::fs::symlink(dir.path(), elsewhere.path().join("back")).unwrap();
    let (code, stdout, stderr) = run(&mut discover(dir.path()));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("sqs:CreateQueue"), "{stderr}");
    assert!(stderr.contains("(a loop)"), "{stderr}");
}

#[test]
fn a_missing_events_file_says_no_such_file() {
    let (code, _, stderr) = run(minpriv().args(["discover", "--events", "/no/such/events.json"]));
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("--events /no/such/events.json: No such file or directory"),
        "{stderr}"
    );
    assert!(!stderr.contains("--principal"), "{stderr}");
}

fn check_sample() -> Command {
    let mut cmd = minpriv();
    cmd.arg("discover")
        .arg("--trail-dir")
        .arg(bundled::trail())
        .args(WINDOW)
        .args(["--check", "--catalog"])
        .arg(manifest().join("tests/fixtures/catalog/psoxy-catalog.json"));
    cmd
}

#[test]
fn a_closed_stdout_keeps_the_drift_exit_code() {
    let mut child = check_sample()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The reader goes away before anything is written (`--check | head -0`).
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3));
}

#[test]
fn an_unwritable_stderr_does_not_panic_and_keeps_the_exit_code() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = check_sample()
        .stdout(Stdio::null())
        .stderr(Stdio::from(full))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let dir = tempfile::tempdir().unwrap();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let error = minpriv()
        .args(["discover", "--trail-dir"])
        .arg(dir.path().join("missing"))
        .stderr(Stdio::from(full))
        .output()
        .unwrap();
    assert_eq!(error.status.code(), Some(1));
}

fn check_with_catalog(catalog: &Path) -> (Option<i32>, String, String) {
    // The last argument of check_sample is the fixture catalog: replace it.
    let sample = check_sample();
    let args: Vec<_> = sample.get_args().map(ToOwned::to_owned).collect();
    let (_, head) = args.split_last().unwrap();
    run(minpriv().args(head).arg(catalog))
}

#[test]
fn a_bom_prefixed_catalog_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read(manifest().join("tests/fixtures/catalog/psoxy-catalog.json")).unwrap();
    let with_bom = dir.path().join("bom.json");
    std::fs::write(&with_bom, [b"\xef\xbb\xbf".as_slice(), &text].concat()).unwrap();
    let (code, stdout, stderr) = check_with_catalog(&with_bom);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(!stdout.is_empty());
}

#[test]
fn a_huge_catalog_is_refused_before_it_is_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.json");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(40 << 20).unwrap();
    let (code, _, stderr) = check_with_catalog(&huge);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("huge.json: larger than"), "{stderr}");
}

#[test]
fn an_error_cause_is_printed_once() {
    let (code, _, stderr) = check_with_catalog(Path::new("/no/such/catalog.json"));
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn a_terraform_file_without_a_policy_says_no_policy_found_not_no_a_policy() {
    let dir = tempfile::tempdir().unwrap();
    let tf = dir.path().join("main.tf");
    std::fs::write(&tf, "variable \"x\" {}\n").unwrap();
    let (code, _, stderr) = check_with_catalog(&tf);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("main.tf: no policy found"), "{stderr}");
    assert!(!stderr.contains("no a policy"), "{stderr}");
}
