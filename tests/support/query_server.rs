//! The Athena and CloudTrail Lake stand-in (`tests/support/athena_server.py`), started on
//! loopback for `tests/athena.rs` and `benches/query.rs`. It needs Python with `duckdb` and
//! `sqlglot`: `.ci/run` installs them; without them they are installed into a virtualenv
//! under `target/` (nothing skips).

#![allow(dead_code, reason = "each user takes what it needs")]
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test support fails loudly"
)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::OnceLock;

pub const DATABASE: &str = "default";
/// What the Athena stand-in needs, pinned (also installed by `.ci/run`).
const REQUIREMENTS: &str = "tests/support/athena-requirements.txt";
pub const TABLE: &str = "cloudtrail_logs_pp";
/// The event data store of the Lake stand-in (the ID part of an ARN).
pub const STORE: &str = "EXAMPLE-ee54-4813-92d5-999aeEXAMPLE";

/// `discover` over the stand-in's Athena table (its endpoint still to be given).
pub const TABLE_ARGS: [&str; 7] = [
    "discover",
    "--athena-table",
    TABLE,
    "--athena-database",
    DATABASE,
    "--athena-partitions",
    "account,region,timestamp",
];

/// A Python that imports duckdb and sqlglot, installed into `target/athena-venv` if the
/// first `python3` on the path lacks them.
pub fn python() -> &'static Path {
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
pub struct Server {
    child: Child,
    pub endpoint: String,
    log: tempfile::NamedTempFile,
}

impl Server {
    pub fn start(trail: &Path) -> Self {
        Self::start_with(trail, &[])
    }

    pub fn start_with(trail: &Path, env: &[(&str, &str)]) -> Self {
        Self::spawn(
            |command, log| {
                command.arg(trail).args([DATABASE, TABLE]).arg(log);
            },
            env,
        )
    }

    /// The CloudTrail Lake stand-in, with the trail's events in event data store [`STORE`].
    pub fn lake(trail: &Path, env: &[(&str, &str)]) -> Self {
        Self::spawn(
            |command, log| {
                command.args(["--lake", STORE]).arg(trail).arg(log);
            },
            env,
        )
    }

    fn spawn(args: impl FnOnce(&mut std::process::Command, &Path), env: &[(&str, &str)]) -> Self {
        let log = tempfile::NamedTempFile::new().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/athena_server.py");
        let mut command = std::process::Command::new(python());
        command.arg(script);
        args(&mut command, log.path());
        let mut child = command
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
    pub fn log(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.log.path())
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// The partitions each query read (`account/region/yyyy/MM/dd`).
    pub fn partitions(&self) -> Vec<Vec<String>> {
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
