//! `discover --athena-table` against a real SQL engine: a loopback server speaking Athena's
//! JSON protocol (`tests/support/athena_server.py`) runs each received query in DuckDB
//! (translated from Trino's SQL by sqlglot) over a trail laid out as the documented table.
//! The policy must be byte-identical to `--trail-dir`'s on the same logs, and only the
//! window's partitions may be read.
//!
//! The server needs Python with `duckdb` and `sqlglot`: `.ci/run` installs them; without
//! them the test installs them into a virtualenv under `target/` (it never skips).

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::OnceLock;

use assert_cmd::Command;

#[path = "support/sample.rs"]
mod bundled;
use bundled::WINDOW;

const DATABASE: &str = "default";
/// What the Athena stand-in needs, pinned (also installed by `.ci/run`).
const REQUIREMENTS: &str = "tests/support/athena-requirements.txt";
const TABLE: &str = "cloudtrail_logs_pp";

/// A Python that imports duckdb and sqlglot, installed into `target/athena-venv` if the
/// first `python3` on the path lacks them.
fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let imports = |python: &Path| {
            std::process::Command::new(python)
                .args(["-c", "import duckdb, sqlglot"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let system = PathBuf::from(std::env::var("MINPRIV_PYTHON").unwrap_or("python3".into()));
        if imports(&system) {
            return system;
        }
        let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/athena-venv");
        let python = venv.join("bin/python");
        if !imports(&python) {
            let made = std::process::Command::new(&system)
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .unwrap();
            assert!(made.success(), "python3 -m venv {}", venv.display());
            let installed = std::process::Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "-r",
                ])
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join(REQUIREMENTS))
                .status()
                .unwrap();
            assert!(installed.success(), "pip install -r {REQUIREMENTS}");
        }
        assert!(
            imports(&python),
            "{} cannot import duckdb and sqlglot",
            python.display()
        );
        python
    })
}

/// The Athena stand-in over a trail folder, on loopback.
struct Server {
    child: Child,
    endpoint: String,
    log: tempfile::NamedTempFile,
}

impl Server {
    fn start(trail: &Path) -> Self {
        Self::start_with(trail, &[])
    }

    fn start_with(trail: &Path, env: &[(&str, &str)]) -> Self {
        let log = tempfile::NamedTempFile::new().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/athena_server.py");
        let mut child = std::process::Command::new(python())
            .arg(script)
            .arg(trail)
            .args([DATABASE, TABLE])
            .arg(log.path())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line.trim().parse().unwrap_or_else(|_| {
            let _ = child.kill();
            panic!("the Athena stand-in did not start: {line:?}")
        });
        Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// The server's log: one entry per query run, one per query stopped.
    fn log(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.log.path())
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// The partitions each query read (`account/region/yyyy/MM/dd`).
    fn partitions(&self) -> Vec<Vec<String>> {
        self.log()
            .into_iter()
            .filter_map(|entry| serde_json::from_value(entry["partitions"].clone()).ok())
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

const TABLE_ARGS: [&str; 7] = [
    "discover",
    "--athena-table",
    TABLE,
    "--athena-database",
    DATABASE,
    "--athena-partitions",
    "account,region,timestamp",
];

fn from_athena(server: &Server, window: &[&str], extra: &[&str]) -> std::process::Output {
    minpriv()
        .args(TABLE_ARGS)
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

#[test]
fn the_athena_policy_is_the_trail_dirs_byte_for_byte_and_reads_only_the_window() {
    let server = Server::start(&bundled::trail());
    let dir = tempfile::tempdir().unwrap();
    let (local_report, athena_report) = (
        dir.path().join("local.json"),
        dir.path().join("athena.json"),
    );
    let local = from_dir(
        &bundled::trail(),
        &WINDOW,
        &["--report", local_report.to_str().unwrap()],
    );
    let output = from_athena(
        &server,
        &WINDOW,
        &["--report", athena_report.to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&local.stdout)
    );
    assert_eq!(report(&athena_report), report(&local_report));
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
fn the_standard_endpoint_variables_reach_athena() {
    let server = Server::start(&bundled::trail());
    let expected = from_dir(&bundled::trail(), &WINDOW, &[]).stdout;
    for variable in ["AWS_ENDPOINT_URL_ATHENA", "AWS_ENDPOINT_URL"] {
        let output = minpriv()
            .env(variable, &server.endpoint)
            .args(TABLE_ARGS)
            .args(WINDOW)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{variable}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.stdout, expected, "{variable}");
    }
}

#[test]
fn a_generated_multi_account_multi_region_corpus_gives_the_same_policy() {
    use minpriv::synth::deploy::{ACCOUNT, Ids, REGION, sample, sample_with};
    let trail = tempfile::tempdir().unwrap();
    sample().write(trail.path(), "").unwrap();
    sample_with(&Ids::fresh(7), 7)
        .relocate((ACCOUNT, REGION), ("444455556666", "us-west-2"))
        .write(trail.path(), "")
        .unwrap();
    let server = Server::start(trail.path());
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
    for extra in cases {
        let output = from_athena(&server, &window, extra);
        let local = minpriv()
            .arg("discover")
            .arg("--trail-dir")
            .arg(trail.path())
            .args(window)
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            local.status.code(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&local.stdout),
            "{extra:?}"
        );
    }
    // Every principal: bystanders, service events and service-linked roles decided alike.
    let everyone = [
        "--since",
        "2026-11-19T00:00:00Z",
        "--until",
        "2026-11-21T00:00:00Z",
    ];
    for extra in [&[][..], &["--include-service-events"]] {
        let output = from_athena(&server, &everyone, extra);
        assert!(
            output.status.success(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let local = from_dir(trail.path(), &everyone, extra);
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&local.stdout),
            "{extra:?}"
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
    assert!(stderr.contains("athena: Athena query "), "{stderr}");
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
    let server = Server::start_with(&bundled::trail(), &[("ATHENA_STUB_RUNNING", "forever")]);
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("minpriv"));
    command
        .env_clear()
        .envs(minpriv().get_envs().filter_map(|(k, v)| Some((k, v?))))
        .args(TABLE_ARGS)
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
    assert!(
        stderr.contains(&format!(
            "Athena query {id}: interrupted; StopQueryExecution sent"
        )),
        "{stderr}"
    );
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
    assert!(sql.starts_with("WITH events AS ("), "{sql}");
    assert!(
        sql.contains("FROM \"default\".\"cloudtrail_logs_pp\""),
        "{sql}"
    );
    assert!(
        sql.contains("\"timestamp\" BETWEEN '2026/11/20' AND '2026/11/20'"),
        "{sql}"
    );
    assert!(sql.trim_end().ends_with(';'), "{sql}");
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
}
