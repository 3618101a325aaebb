//! The pushed-down query as the corpus grows 10×: rows the engine returns, minpriv's own CPU
//! time (the local work: decoding and mapping the rows) and its peak memory, for Athena and
//! CloudTrail Lake, against `--trail-dir` reading the same files. Two principals: the bulk
//! corpus's role, whose distinct calls grow with the corpus, and one deploy among that
//! traffic, whose calls do not (the rows and the local work should stay flat). The engines are the
//! loopback stand-ins of the tests (`tests/support/athena_server.py`: DuckDB runs the SQL),
//! so the wall time is the stand-in's, not AWS's; the CPU time and memory are minpriv's.
//!
//!   cargo bench --bench query                          # 12 and 120 files of the bulk corpus
//!   MINPRIV_BENCH_FILES=24 cargo bench --bench query   # 24 and 240
//!
//! CPU time and peak memory come from GNU time (`/usr/bin/time`, Debian package `time`);
//! without it only wall times are shown.

#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly")]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

#[path = "../tests/support/query_server.rs"]
mod query_server;
use query_server::{STORE, Server, TABLE_ARGS};

const GNU_TIME: &str = "/usr/bin/time";

/// One run: wall seconds, and CPU seconds and peak MB when GNU time is there; the stderr.
struct Run {
    wall: f64,
    cpu: Option<f64>,
    peak_mb: Option<f64>,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let gnu_time = Path::new(GNU_TIME).exists();
    let times = tempfile::NamedTempFile::new().unwrap();
    let mut command = if gnu_time {
        let mut command = Command::new(GNU_TIME);
        command
            .args(["-f", "%U %S %M", "-o"])
            .arg(times.path())
            .arg(env!("CARGO_BIN_EXE_minpriv"));
        command
    } else {
        Command::new(env!("CARGO_BIN_EXE_minpriv"))
    };
    command
        .args(args)
        .env_clear()
        .env("AWS_ACCESS_KEY_ID", "minpriv-bench")
        .env("AWS_SECRET_ACCESS_KEY", "minpriv-bench-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    let start = Instant::now();
    let output = command.output().unwrap();
    let wall = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "minpriv {args:?}: {stderr}");
    let (mut cpu, mut peak_mb) = (None, None);
    if gnu_time {
        let text = std::fs::read_to_string(times.path()).unwrap();
        let fields: Vec<f64> = text
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        if let [user, system, kb] = fields[..] {
            cpu = Some(user + system);
            peak_mb = Some(kb / 1024.0);
        }
    }
    Run {
        wall,
        cpu,
        peak_mb,
        stderr,
    }
}

/// The "N grouped rows" of the summary's engine line.
fn rows(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|line| {
            let (_, rest) = line.split_once(": ")?;
            let (count, _) = rest.split_once(" grouped rows")?;
            Some(count.to_owned())
        })
        .unwrap_or_else(|| "?".to_owned())
}

fn show(label: &str, rows: &str, run: &Run) {
    let figure = |value: Option<f64>, unit: &str| {
        value.map_or_else(|| "-".to_owned(), |v| format!("{v:.2} {unit}"))
    };
    println!(
        "  {label:<12} {rows:>8} rows  wall {:>6.2} s  cpu {:>8}  peak {:>9}",
        run.wall,
        figure(run.cpu, "s"),
        figure(run.peak_mb, "MB")
    );
}

/// The engines and `--trail-dir` over one corpus, with one principal and window.
fn measure(corpus: &Path, window: &[&str]) {
    let corpus_text = corpus.to_str().unwrap();
    let loading = Instant::now();
    let athena = Server::start(corpus);
    let lake = Server::lake(corpus, &[]);
    println!(
        "  ({:.0} s to load both stand-ins)",
        loading.elapsed().as_secs_f64()
    );
    let local = run(&[&["discover", "--trail-dir", corpus_text][..], window].concat());
    show("--trail-dir", "-", &local);
    let pushed = [
        (
            "--athena-table",
            [&TABLE_ARGS[..], &["--endpoint-url", &athena.endpoint]].concat(),
        ),
        (
            "--lake",
            vec![
                "discover",
                "--lake",
                STORE,
                "--endpoint-url",
                &lake.endpoint,
            ],
        ),
    ];
    for (label, args) in pushed {
        let run = run(&[&args[..], window].concat());
        show(label, &rows(&run.stderr), &run);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    use minpriv_synth::deploy::{ACCOUNT, Ids, REGION, sample_with};
    let files: usize = std::env::var("MINPRIV_BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    // 1. The bulk corpus's own role: its distinct calls grow with the corpus.
    let growing = [
        "--principal",
        minpriv_synth::bulk::ROLE_ARN,
        "--since",
        minpriv_synth::bulk::START,
        "--until",
        "2026-11-21T00:00:00Z",
    ];
    // 2. One deploy (the sample's calls, in another account) among the bulk corpus's
    //    traffic: the corpus grows, the principal's calls do not.
    let deploy_role = "arn:aws:iam::444455556666:role/ci-provisioner";
    let fixed = [
        "--principal",
        deploy_role,
        "--since",
        "2026-11-20T10:00:00Z",
        "--until",
        "2026-11-20T10:40:00Z",
    ];
    for files in [files, files * 10] {
        let corpus = std::env::temp_dir().join(format!("minpriv-bench-query-{files}"));
        if !corpus.exists() {
            minpriv_synth::bulk::write(&corpus, files, 1045, 7)?;
        }
        println!("{files} files of 1,045 records, the bulk role's calls:");
        measure(&corpus, &growing);
        let mixed = std::env::temp_dir().join(format!("minpriv-bench-query-deploy-{files}"));
        if !mixed.exists() {
            minpriv_synth::bulk::write(&mixed, files, 1045, 7)?;
            sample_with(&Ids::fresh(7), 7)
                .relocate((ACCOUNT, REGION), ("444455556666", REGION))
                .write(&mixed, "")?;
        }
        println!("{files} files of 1,045 records and one deploy, the deploy's calls:");
        measure(&mixed, &fixed);
    }
    Ok(())
}
