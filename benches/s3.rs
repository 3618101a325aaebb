//! Fetching a trail from S3: objects per second and MB/s from a local S3 server (s3s-fs on
//! loopback) at several `--concurrency` values, running the release binary end to end.
//!
//!   cargo bench --bench s3                                   # the 240-file corpus of the throughput bench
//!   MINPRIV_BENCH_OBJECTS=10000 MINPRIV_BENCH_RECORDS=20 cargo bench --bench s3   # many small objects

use std::path::Path;
use std::process::Command;
use std::time::Instant;

#[path = "../tests/support/s3_server.rs"]
mod s3_server;

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let number = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (objects, records) = (
        number("MINPRIV_BENCH_OBJECTS", 240),
        number("MINPRIV_BENCH_RECORDS", 1045),
    );
    let corpus = if (objects, records) == (240, 1045) {
        std::env::temp_dir().join("minpriv-bench-240")
    } else {
        std::env::temp_dir().join(format!("minpriv-bench-s3-{objects}-{records}"))
    };
    if !corpus.exists() {
        minpriv_synth::bulk::write(&corpus, objects, records, 7)?;
    }
    let root = tempfile::tempdir()?;
    copy_tree(&corpus, &root.path().join("bench-trail"))?;
    #[expect(clippy::cast_precision_loss, reason = "a display figure")]
    let megabytes = walk(&corpus)? as f64 / 1e6;
    let server = s3_server::Server::start(root.path());
    println!(
        "{objects} objects of {records} records, {megabytes:.1} MB compressed, from {}",
        server.endpoint
    );
    for concurrency in [1, 4, 16, 64] {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            let output = Command::new(env!("CARGO_BIN_EXE_minpriv"))
                .args([
                    "discover",
                    "--trail-bucket",
                    "bench-trail",
                    "--endpoint-url",
                    &server.endpoint,
                    "-q",
                ])
                .args([
                    "--principal",
                    minpriv_synth::bulk::ROLE_ARN,
                    "--concurrency",
                    &concurrency.to_string(),
                ])
                .env_clear()
                .env("AWS_ACCESS_KEY_ID", s3_server::KEY)
                .env("AWS_SECRET_ACCESS_KEY", s3_server::SECRET)
                .env("AWS_REGION", "us-east-1")
                .env("AWS_EC2_METADATA_DISABLED", "true")
                .output()?;
            if !output.status.success() {
                return Err(String::from_utf8_lossy(&output.stderr).into_owned().into());
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        println!(
            "--concurrency {concurrency:>2}: {best:.2} s, {:.0} objects/s, {:.1} MB/s fetched",
            f64::from(u32::try_from(objects).unwrap_or(u32::MAX)) / best,
            megabytes / best
        );
    }
    Ok(())
}

fn walk(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        total += if entry.file_type()?.is_dir() {
            walk(&entry.path())?
        } else {
            entry.metadata()?.len()
        };
    }
    Ok(total)
}
