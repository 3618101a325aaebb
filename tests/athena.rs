//! `discover --athena-table` and `discover --lake` against a real SQL engine: a loopback
//! server speaking Athena's JSON protocol, or CloudTrail Lake's
//! (`tests/support/athena_server.py`), runs each received query in DuckDB (translated from
//! Trino's SQL by sqlglot) over a trail laid out as the documented table, or as an event
//! data store. The policy must be byte-identical to `--trail-dir`'s on the same logs, and
//! only the window's partitions may be read.
//!
//! The server needs Python with `duckdb` and `sqlglot`: `.ci/run` installs them; without
//! them the test installs them into a virtualenv under `target/` (it never skips; see
//! `tests/support/query_server.rs`).

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::path::Path;
use std::process::Stdio;

use assert_cmd::Command;

#[path = "support/sample.rs"]
mod bundled;
use bundled::WINDOW;

#[path = "support/query_server.rs"]
mod query_server;
use query_server::{STORE, Server, TABLE, TABLE_ARGS};

fn minpriv() -> Command {
    let mut cmd = Command::cargo_bin("minpriv").unwrap();
    cmd.env_clear()
        .env("NO_COLOR", "1")
        .env("AWS_ACCESS_KEY_ID", "minpriv-test")
        .env("AWS_SECRET_ACCESS_KEY", "minpriv-test-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    cmd
}

fn from_athena(server: &Server, window: &[&str], extra: &[&str]) -> std::process::Output {
    minpriv()
        .args(TABLE_ARGS)
        .args(["--endpoint-url", &server.endpoint])
        .args(window)
        .args(extra)
        .output()
        .unwrap()
}

const LAKE_ARGS: [&str; 3] = ["discover", "--lake", STORE];

fn from_lake(server: &Server, window: &[&str], extra: &[&str]) -> std::process::Output {
    minpriv()
        .args(LAKE_ARGS)
        .args(["--endpoint-url", &server.endpoint])
        .args(window)
        .args(extra)
        .output()
        .unwrap()
}

fn from_dir(trail: &Path, window: &[&str], extra: &[&str]) -> std::process::Output {
    let output = minpriv()
        .arg("discover")
        .arg("--trail-dir")
        .arg(trail)
        .args(window)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The report without what only a file scan has (file counts and the like).
fn report(path: &Path) -> serde_json::Value {
    let mut report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    if let Some(object) = report.as_object_mut() {
        object.remove("summary");
        object.remove("files");
        object.remove("integrity");
    }
    report
}

/// Runs `pushed` on the sample with `--report`, checks its policy and report against
/// `--trail-dir`'s, and returns its stderr.
fn same_as_trail_dir_on_the_sample(pushed: impl FnOnce(&[&str]) -> std::process::Output) -> String {
    same_as_trail_dir(&bundled::trail(), pushed).0
}

/// Runs `pushed` with `--report`, checks its policy and report against `--trail-dir`'s on
/// `trail`, and returns its stderr and report.
fn same_as_trail_dir(
    trail: &Path,
    pushed: impl FnOnce(&[&str]) -> std::process::Output,
) -> (String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let (local_report, pushed_report) = (
        dir.path().join("local.json"),
        dir.path().join("pushed.json"),
    );
    let local = from_dir(
        trail,
        &WINDOW,
        &["--report", local_report.to_str().unwrap()],
    );
    let output = pushed(&["--report", pushed_report.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&local.stdout)
    );
    let pushed = report(&pushed_report);
    assert_eq!(pushed, report(&local_report));
    (stderr, pushed)
}

#[test]
fn the_athena_policy_is_the_trail_dirs_byte_for_byte_and_reads_only_the_window() {
    let server = Server::start(&bundled::trail());
    let stderr = same_as_trail_dir_on_the_sample(|extra| from_athena(&server, &WINDOW, extra));
    assert!(stderr.contains("Athena query "), "{stderr}");
    assert!(stderr.contains("at the list price of $5/TB"), "{stderr}");
    // The window (10:00–10:40 on 2026-11-20, delivered up to 30 minutes later) lies in one
    // day: the day before, which the sample also holds, is not read.
    let read = server.partitions();
    assert_eq!(
        read,
        [vec![
            "111122223333/eu-west-1/2026/11/20".to_owned(),
            "111122223333/us-east-1/2026/11/20".to_owned(),
        ]]
    );
}

#[test]
fn the_lake_policy_is_the_trail_dirs_byte_for_byte() {
    let server = Server::lake(&bundled::trail(), &[]);
    let stderr = same_as_trail_dir_on_the_sample(|extra| from_lake(&server, &WINDOW, extra));
    let id = server.log()[0]["id"].as_str().unwrap().to_owned();
    assert!(
        stderr.contains(&format!(
            "CloudTrail Lake query {id} on event data store {STORE}: "
        )),
        "{stderr}"
    );
    assert!(stderr.contains("at the list price of $5/TB"), "{stderr}");
}

/// A trail of one log file with the sample role's calls: refused (AWS's message naming the
/// missing grant, an SCP's explicit deny, a bare "Access Denied"), failed, and allowed.
fn denied_trail() -> tempfile::TempDir {
    let role = bundled::ROLE;
    let session = "arn:aws:sts::111122223333:assumed-role/ci-provisioner/terraform-run-43";
    let call = |time: &str,
                source: &str,
                name: &str,
                request: serde_json::Value,
                error: Option<(&str, String)>| {
        let mut record = serde_json::json!({
            "eventVersion": "1.09", "eventTime": time, "eventSource": source, "eventName": name,
            "awsRegion": "eu-west-1", "recipientAccountId": "111122223333", "eventType": "AwsApiCall",
            "eventCategory": "Management", "sourceIPAddress": "203.0.113.10", "userAgent": "Terraform",
            "userIdentity": {"type": "AssumedRole", "arn": session, "accountId": "111122223333",
                "sessionContext": {"sessionIssuer": {"type": "Role", "arn": role}}},
            "requestParameters": request, "responseElements": null,
        });
        if let Some((code, message)) = error {
            record["errorCode"] = code.into();
            record["errorMessage"] = message.into();
        }
        record
    };
    let pass_role = format!(
        "You are not authorized to perform this operation. User: {session} is not authorized to perform: iam:PassRole on resource: arn:aws:iam::111122223333:role/app-ec2 because no identity-based policy allows the iam:PassRole action. Encoded authorization failure message: EXAMPLE"
    );
    let records = vec![
        call(
            "2026-11-20T10:01:00Z",
            "ec2.amazonaws.com",
            "RunInstances",
            serde_json::json!({"instanceType": "t3.micro"}),
            Some(("Client.UnauthorizedOperation", pass_role.clone())),
        ),
        call(
            "2026-11-20T10:03:00Z",
            "ec2.amazonaws.com",
            "RunInstances",
            serde_json::json!({"instanceType": "t3.micro"}),
            Some(("Client.UnauthorizedOperation", pass_role)),
        ),
        call(
            "2026-11-20T10:04:00Z",
            "ssm.amazonaws.com",
            "PutParameter",
            serde_json::json!({"name": "psoxy-salt"}),
            Some((
                "AccessDeniedException",
                format!(
                    "User: {session} is not authorized to perform: ssm:PutParameter on resource: arn:aws:ssm:eu-west-1:111122223333:parameter/psoxy-salt with an explicit deny in a service control policy: arn:aws:organizations::999988887777:policy/o-abcd1234/service_control_policy/p-abcd1234"
                ),
            )),
        ),
        call(
            "2026-11-20T10:05:00Z",
            "s3.amazonaws.com",
            "GetBucketAccelerateConfiguration",
            serde_json::json!({"bucketName": "psoxy-b", "accelerate": ""}),
            Some(("AccessDenied", "Access Denied".to_owned())),
        ),
        call(
            "2026-11-20T10:06:00Z",
            "s3.amazonaws.com",
            "GetBucketPolicy",
            serde_json::json!({"bucketName": "psoxy-b", "policy": ""}),
            Some((
                "NoSuchBucketPolicy",
                "The bucket policy does not exist".to_owned(),
            )),
        ),
        call(
            "2026-11-20T10:07:00Z",
            "sqs.amazonaws.com",
            "CreateQueue",
            serde_json::json!({"queueName": "psoxy-q"}),
            None,
        ),
    ];
    let trail = tempfile::tempdir().unwrap();
    let day = trail
        .path()
        .join("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/20");
    std::fs::create_dir_all(&day).unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(
        &mut encoder,
        serde_json::json!({ "Records": records })
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    std::fs::write(
        day.join("111122223333_CloudTrail_eu-west-1_20261120T1010Z_denials.json.gz"),
        encoder.finish().unwrap(),
    )
    .unwrap();
    trail
}

#[test]
fn denials_flow_through_athena_and_lake_as_through_the_trail_dir() {
    let trail = denied_trail();
    let athena = Server::start(trail.path());
    let (stderr, report) =
        same_as_trail_dir(trail.path(), |extra| from_athena(&athena, &WINDOW, extra));
    assert!(
        stderr.contains("named by AWS as missing from the identity-based policy, added to the policy (1):\n  iam:PassRole on arn:aws:iam::111122223333:role/app-ec2: in the error of ec2.amazonaws.com RunInstances ×2"),
        "{stderr}"
    );
    let denials = report["denials"].as_array().unwrap();
    let summary: Vec<(&str, bool, u64)> = denials
        .iter()
        .map(|d| {
            (
                d["event_name"].as_str().unwrap(),
                d["fixable"].as_bool().unwrap(),
                d["calls"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("RunInstances", true, 2),
            ("GetBucketAccelerateConfiguration", false, 1),
            ("PutParameter", false, 1)
        ]
    );
    assert_eq!(
        report["actions"]["iam:PassRole"]["policy_resources"],
        serde_json::json!(["arn:aws:iam::111122223333:role/app-ec2"])
    );
    // The statement projects the message of refused calls only.
    let lake = Server::lake(trail.path(), &[]);
    let (_, lake_report) =
        same_as_trail_dir(trail.path(), |extra| from_lake(&lake, &WINDOW, extra));
    assert_eq!(lake_report, report);
}

#[test]
fn lake_failures_are_failed_reads_naming_the_store_or_the_query() {
    // A store the account does not have: refused at StartQuery, with what to do.
    let server = Server::lake(&bundled::trail(), &[]);
    let output = minpriv()
        .args(["discover", "--lake", "EXAMPLE-other-store"])
        .args(["--endpoint-url", &server.endpoint])
        .args(WINDOW)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains(
            "--lake EXAMPLE-other-store: CloudTrail Lake StartQuery: EventDataStoreNotFoundException: "
        ),
        "{stderr}"
    );
    assert!(stderr.contains("give --lake the store's ARN"), "{stderr}");
    assert!(output.stdout.is_empty());
    // A store without a column the query reads: the query fails, and its id is named.
    let server = Server::lake(
        &bundled::trail(),
        &[("ATHENA_STUB_DROP_COLUMNS", "eventcategory")],
    );
    let output = from_lake(&server, &WINDOW, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    let id = server.log().first().map(|e| e["id"].clone());
    assert!(id.is_none(), "the failed query logged no result: {id:?}");
    assert!(stderr.contains("CloudTrail Lake query "), "{stderr}");
    assert!(stderr.contains(" FAILED: Query failed: "), "{stderr}");
    assert!(stderr.contains("eventcategory"), "{stderr}");
    // A value that is no event data store is refused before any request.
    let output = minpriv()
        .args([
            "discover",
            "--lake",
            "arn:aws:cloudtrail:eu-west-1:111122223333:trail/main",
        ])
        .args(["--endpoint-url", "http://127.0.0.1:9"])
        .args(WINDOW)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--lake"), "{stderr}");
}

#[test]
fn the_standard_endpoint_variables_reach_athena_and_lake() {
    let expected = from_dir(&bundled::trail(), &WINDOW, &[]).stdout;
    let (athena, lake) = (
        Server::start(&bundled::trail()),
        Server::lake(&bundled::trail(), &[]),
    );
    for (server, args, variable) in [
        (&athena, &TABLE_ARGS[..], "AWS_ENDPOINT_URL_ATHENA"),
        (&athena, &TABLE_ARGS[..], "AWS_ENDPOINT_URL"),
        (&lake, &LAKE_ARGS[..], "AWS_ENDPOINT_URL_CLOUDTRAIL"),
        (&lake, &LAKE_ARGS[..], "AWS_ENDPOINT_URL"),
    ] {
        let output = minpriv()
            .env(variable, &server.endpoint)
            .args(args)
            .args(WINDOW)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?} {variable}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.stdout, expected, "{args:?} {variable}");
    }
}

/// The same exit and the same policy, byte for byte.
fn same(label: &str, pushed: &std::process::Output, local: &std::process::Output) {
    assert_eq!(
        pushed.status.code(),
        local.status.code(),
        "{label}: {}",
        String::from_utf8_lossy(&pushed.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&pushed.stdout),
        String::from_utf8_lossy(&local.stdout),
        "{label}"
    );
}

#[test]
fn a_generated_multi_account_multi_region_corpus_gives_the_same_policy() {
    use minpriv_synth::deploy::{ACCOUNT, Ids, REGION, sample, sample_with};
    let trail = tempfile::tempdir().unwrap();
    sample().write(trail.path(), "").unwrap();
    sample_with(&Ids::fresh(7), 7)
        .relocate((ACCOUNT, REGION), ("444455556666", "us-west-2"))
        .write(trail.path(), "")
        .unwrap();
    let server = Server::start(trail.path());
    let lake = Server::lake(trail.path(), &[]);
    let window = [
        "--principal",
        "arn:aws:iam::*:role/ci-provisioner",
        "--since",
        "2026-11-20T10:00:00Z",
        "--until",
        "2026-11-20T10:40:00Z",
        "--name-prefix",
        "psoxy-",
    ];
    // Each filter the SQL applies, against the local filter on the same logs.
    let cases: [&[&str]; 8] = [
        &[],
        &["--region", "us-west-2"],
        &["--account", "444455556666", "--resources", "exact"],
        &["--session", "terraform-*", "--user-agent", "*Terraform*"],
        &["--include-service-events", "--resources", "wildcard"],
        &["--session", "nobody-*", "--include-service-events"],
        &["--user-agent", "*console*"],
        &["--portable"],
    ];
    // The evidence reports too, apart from what only a file scan has.
    let reports = tempfile::tempdir().unwrap();
    let path = |name: &str| reports.path().join(name).to_str().unwrap().to_owned();
    for extra in cases {
        let (athena_report, lake_report, local_report) =
            (path("athena.json"), path("lake.json"), path("local.json"));
        let output = from_athena(
            &server,
            &window,
            &[extra, &["--report", &athena_report]].concat(),
        );
        let from_lake = from_lake(
            &lake,
            &window,
            &[extra, &["--report", &lake_report]].concat(),
        );
        let local = minpriv()
            .arg("discover")
            .arg("--trail-dir")
            .arg(trail.path())
            .args(window)
            .args(extra)
            .args(["--report", &local_report])
            .output()
            .unwrap();
        same(&format!("athena {extra:?}"), &output, &local);
        same(&format!("lake {extra:?}"), &from_lake, &local);
        if local.status.success() {
            let local = report(Path::new(&local_report));
            assert_eq!(report(Path::new(&athena_report)), local, "athena {extra:?}");
            assert_eq!(report(Path::new(&lake_report)), local, "lake {extra:?}");
        }
    }
    // Every principal: bystanders, service events and service-linked roles decided alike.
    let everyone = [
        "--since",
        "2026-11-19T00:00:00Z",
        "--until",
        "2026-11-21T00:00:00Z",
    ];
    for extra in [&[][..], &["--include-service-events"]] {
        let local = from_dir(trail.path(), &everyone, extra);
        same(
            &format!("athena, everyone {extra:?}"),
            &from_athena(&server, &everyone, extra),
            &local,
        );
        same(
            &format!("lake, everyone {extra:?}"),
            &from_lake(&lake, &everyone, extra),
            &local,
        );
    }
    let read = server.partitions();
    assert!(
        read[0]
            .iter()
            .any(|p| p.starts_with("444455556666/us-west-2/")),
        "{read:?}"
    );
    // --region us-west-2 reads that region and the global one, --account that account.
    assert!(
        read[1]
            .iter()
            .all(|p| p.contains("/us-west-2/") || p.contains("/us-east-1/")),
        "{read:?}"
    );
    assert!(
        read[2].iter().all(|p| p.starts_with("444455556666/")),
        "{read:?}"
    );
}

#[test]
fn a_failed_query_is_a_failed_read_naming_the_query() {
    let server = Server::start(&bundled::trail());
    let output = minpriv()
        .args(["discover", "--athena-table", "no_such_table"])
        .args(["--endpoint-url", &server.endpoint])
        .args(WINDOW)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(
        stderr.contains("--athena-table default.no_such_table: Athena query "),
        "{stderr}"
    );
    assert!(stderr.contains(" FAILED: "), "{stderr}");
    assert!(
        stderr.contains(
            "TABLE_NOT_FOUND: line 1:1: Table 'awsdatacatalog.default.no_such_table' does not exist"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("minpriv athena ddl"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn a_table_without_a_column_the_query_reads_is_a_failed_read_saying_so() {
    let server = Server::start_with(
        &bundled::trail(),
        &[("ATHENA_STUB_DROP_COLUMNS", "eventcategory")],
    );
    let output = from_athena(&server, &WINDOW, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("COLUMN_NOT_FOUND"), "{stderr}");
    assert!(stderr.contains("'eventcategory'"), "{stderr}");
    assert!(stderr.contains("lack eventcategory"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn ctrl_c_stops_the_query_and_fails_the_read() {
    let forever = [("ATHENA_STUB_RUNNING", "forever")];
    for (server, args, stop) in [
        (
            Server::start_with(&bundled::trail(), &forever),
            &TABLE_ARGS[..],
            "Athena query {id}: interrupted; StopQueryExecution sent",
        ),
        (
            Server::lake(&bundled::trail(), &forever),
            &LAKE_ARGS[..],
            "CloudTrail Lake query {id}: interrupted; CancelQuery sent",
        ),
    ] {
        interrupted(&server, args, stop);
    }
}

fn interrupted(server: &Server, args: &[&str], stop: &str) {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("minpriv"));
    command
        .env_clear()
        .envs(minpriv().get_envs().filter_map(|(k, v)| Some((k, v?))))
        .args(args)
        .args(["--endpoint-url", &server.endpoint])
        .args(WINDOW)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().unwrap();
    let started = std::time::Instant::now();
    while server.log().is_empty() {
        assert!(started.elapsed().as_secs() < 60, "the query never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Polling by now (the handler is installed before the first poll).
    std::thread::sleep(std::time::Duration::from_millis(500));
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    let id = server.log()[0]["id"].as_str().unwrap().to_owned();
    assert!(stderr.contains(&stop.replace("{id}", &id)), "{stderr}");
    assert!(
        server
            .log()
            .iter()
            .any(|e| e["id"] == id.as_str() && e["stopped"] == true),
        "{:?}",
        server.log()
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn an_unreachable_athena_is_a_failed_read() {
    let output = minpriv()
        .args(TABLE_ARGS)
        .args(["--endpoint-url", "http://127.0.0.1:9"])
        .args(WINDOW)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("StartQueryExecution"), "{stderr}");
}

#[test]
fn dry_run_prints_the_query_and_runs_nothing() {
    let output = minpriv()
        .args(TABLE_ARGS)
        .args(["--endpoint-url", "http://127.0.0.1:9", "--dry-run"])
        .args(WINDOW)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sql = String::from_utf8(output.stdout).unwrap();
    assert!(sql.starts_with("SELECT\n"), "{sql}");
    assert!(sql.contains(") AS events\nGROUP BY "), "{sql}");
    assert!(
        sql.contains("FROM \"default\".\"cloudtrail_logs_pp\""),
        "{sql}"
    );
    assert!(
        sql.contains("\"timestamp\" BETWEEN '2026/11/20' AND '2026/11/20'"),
        "{sql}"
    );
    assert!(sql.trim_end().ends_with(';'), "{sql}");
    // Lake's: the store by its ID (from an ARN too), its time a timestamp, no partitions.
    let output = minpriv()
        .args([
            "discover",
            "--lake",
            &format!("arn:aws:cloudtrail:eu-west-1:111122223333:eventdatastore/{STORE}"),
            "--dry-run",
        ])
        .args(WINDOW)
        .output()
        .unwrap();
    assert!(output.status.success());
    let sql = String::from_utf8(output.stdout).unwrap();
    assert!(sql.contains(&format!("  FROM {STORE}\n")), "{sql}");
    assert!(
        sql.contains("eventtime >= TIMESTAMP '2026-11-20 10:00:00'"),
        "{sql}"
    );
    assert!(!sql.contains("\"timestamp\""), "{sql}");
    assert!(sql.len() < 10_000, "{} characters", sql.len());
}

#[test]
fn bad_athena_arguments_are_refused_before_any_query() {
    for (flags, expected) in [
        (&["--athena-partitions", "day"][..], "--athena-partitions"),
        (&["--athena-output", "acme-results/"][..], "--athena-output"),
    ] {
        let output = minpriv()
            .args([
                "discover",
                "--athena-table",
                TABLE,
                "--endpoint-url",
                "http://127.0.0.1:9",
            ])
            .args(flags)
            .args(WINDOW)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
}

#[test]
fn ddl_prints_the_documented_table_and_the_organization_variant() {
    let single = minpriv()
        .args(["athena", "ddl", "--trail-bucket", "acme-cloudtrail"])
        .args(["--account", "111122223333", "--region", "eu-west-1"])
        .output()
        .unwrap();
    assert!(single.status.success());
    let text = String::from_utf8(single.stdout).unwrap();
    assert!(
        text.contains("CREATE EXTERNAL TABLE cloudtrail_logs_pp ("),
        "{text}"
    );
    assert!(
        text.contains("PARTITIONED BY (`timestamp` STRING)"),
        "{text}"
    );
    let org = minpriv()
        .args([
            "athena",
            "ddl",
            "--trail-bucket",
            "acme-cloudtrail",
            "--org-id",
            "o-abc123",
        ])
        .args(["--account", "111122223333", "--account", "444455556666"])
        .args(["--region", "eu-west-1", "--region", "us-east-1"])
        .output()
        .unwrap();
    let text = String::from_utf8(org.stdout).unwrap();
    assert!(
        text.contains("'projection.account.values'='111122223333,444455556666'"),
        "{text}"
    );
    assert!(
        text.contains("AWSLogs/o-abc123/${account}/CloudTrail/${region}/${timestamp}"),
        "{text}"
    );
}

#[test]
fn self_policy_adds_what_the_athena_mode_needs() {
    let output = minpriv()
        .args(["self-policy", "--trail-bucket", "acme-cloudtrail"])
        .args(["--athena-table", TABLE, "--athena-workgroup", "audit"])
        .args(["--athena-output", "s3://acme-athena-results/minpriv/"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let policy: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let sids: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    assert_eq!(
        sids,
        [
            "FindTrailBucketRegion",
            "ListTrailLogs",
            "ReadTrailLogs",
            "RunAthenaQuery",
            "ReadTrailTable",
            "FindAthenaResultsBucket",
            "WriteAthenaResults"
        ]
    );
    let output = minpriv()
        .args(["self-policy", "--lake", STORE])
        .output()
        .unwrap();
    assert!(output.status.success());
    let policy: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(policy["Statement"][0]["Sid"], "RunLakeQuery");
    assert_eq!(
        policy["Statement"][0]["Resource"],
        format!("arn:aws:cloudtrail:*:*:eventdatastore/{STORE}")
    );
}
