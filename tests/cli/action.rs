//! The GitHub Action's scripts (`action/*.sh`) end to end, as a runner would run them: the
//! real binary on the sample trail with a catalog, `$GITHUB_OUTPUT` and
//! `$GITHUB_STEP_SUMMARY` as files, and the exit code passed through.

use std::collections::BTreeMap;
use std::process::{Command as Process, Output};

use super::*;

/// The sample deployment's session name (samples/README.md).
const SESSION: &str = "terraform-run-42";

struct Run {
    output: Output,
    summary: String,
    outputs: BTreeMap<String, String>,
    temp: tempfile::TempDir,
}

impl Run {
    fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
}

fn catalog_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/catalog")
        .join(name)
}

/// Writes an executable script.
fn executable(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    let mut permissions = std::fs::metadata(path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(path, permissions).unwrap();
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("action")
        .join(name)
}

/// Runs `action/NAME` with a runner's files in a fresh temp dir and only the given variables
/// (plus PATH, with `extra_path` in front).
fn run_script(name: &str, vars: &[(&str, &str)], extra_path: Option<&Path>) -> Run {
    let temp = tempfile::tempdir().unwrap();
    let summary = temp.path().join("summary.md");
    let outputs = temp.path().join("outputs");
    let path = match extra_path {
        Some(dir) => format!("{}:{}", dir.display(), std::env::var("PATH").unwrap()),
        None => std::env::var("PATH").unwrap(),
    };
    let output = Process::new("bash")
        .arg(script(name))
        .env_clear()
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env("RUNNER_TEMP", temp.path())
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    let read = |path: &Path| std::fs::read_to_string(path).unwrap_or_default();
    let outputs = read(&outputs)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect();
    Run {
        output,
        summary: read(&summary),
        outputs,
        temp,
    }
}

/// The action's discover step on the sample, as `action.yml` passes its inputs.
fn discover(catalog: &Path, overrides: &[(&str, &str)], extra_path: Option<&Path>) -> Run {
    let binary = assert_cmd::cargo::cargo_bin("minpriv");
    let args = format!(
        "--trail-dir {} --name-prefix psoxy- --name-prefix PSOXY_ --max-policy-size 10240",
        bundled::trail().display()
    );
    let mut vars = vec![
        ("MINPRIV", binary.to_str().unwrap()),
        ("MINPRIV_PRINCIPAL", ROLE),
        ("MINPRIV_SESSION", SESSION),
        ("MINPRIV_SINCE", "2026-11-20T10:00:00Z"),
        ("MINPRIV_UNTIL", "2026-11-20T10:40:00Z"),
        ("MINPRIV_CATALOG", catalog.to_str().unwrap()),
        ("MINPRIV_WAIT", "true"),
        ("MINPRIV_ARGS", &args),
    ];
    for (key, value) in overrides {
        vars.retain(|(name, _)| name != key);
        vars.push((key, value));
    }
    run_script("discover.sh", &vars, extra_path)
}

#[test]
fn drift_fails_the_step_with_exit_3_and_posts_the_proposal() {
    let run = discover(&catalog_fixture("psoxy-catalog.json"), &[], None);
    assert_eq!(run.code(), Some(3), "{:?}", run.output);
    // The command line, with --wait by default (the sample window closed long ago: by the
    // clock, at once) and the session.
    let stdout = run.stdout();
    assert!(stdout.contains(" --check "), "{stdout}");
    assert!(
        stdout.contains(&format!(" --session {SESSION} ")),
        "{stdout}"
    );
    assert!(stdout.contains(" --wait "), "{stdout}");
    // The proposal: in the log, in its file, in the summary under the verdict.
    let proposal = std::fs::read_to_string(&run.outputs["proposal"]).unwrap();
    assert!(
        proposal.starts_with("# Catalog proposal for "),
        "{proposal}"
    );
    assert!(proposal.contains("ec2:CreateTags"), "{proposal}");
    assert!(stdout.contains(&proposal));
    assert!(
        run.summary.starts_with(
            "## minpriv: drift: the catalog needs the update below\n\n# Catalog proposal"
        ),
        "{}",
        run.summary
    );
    assert!(run.summary.contains(&proposal));
    // minpriv's own summary (stderr) folded below it, delivery included.
    assert!(
        run.summary
            .contains("completeness: window delivered in all 2 regions"),
        "{}",
        run.summary
    );
    assert_eq!(run.outputs["exit-code"], "3");
    assert!(run.outputs["proposal"].starts_with(run.temp.path().to_str().unwrap()));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&run.outputs["report"]).unwrap()).unwrap();
    assert!(report.is_object());
}

#[test]
fn a_catalog_that_covers_the_run_passes_with_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let updated = dir.path().join("catalog.json");
    let output = discover_sample(&["--check", "--write", updated.to_str().unwrap()])
        .args(["--session", SESSION, "--catalog"])
        .arg(catalog_fixture("psoxy-catalog.json"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let run = discover(&updated, &[], None);
    assert_eq!(run.code(), Some(0), "{:?}", run.output);
    assert!(
        run.summary
            .starts_with("## minpriv: the catalog covers this run\n"),
        "{}",
        run.summary
    );
    assert_eq!(run.outputs["exit-code"], "0");
}

#[test]
fn wait_input_false_and_a_duration() {
    let catalog = catalog_fixture("psoxy-catalog.json");
    let run = discover(&catalog, &[("MINPRIV_WAIT", "false")], None);
    assert_eq!(run.code(), Some(3));
    assert!(!run.stdout().contains("--wait"), "{}", run.stdout());
    let run = discover(&catalog, &[("MINPRIV_WAIT", "45m")], None);
    assert_eq!(run.code(), Some(3), "{:?}", run.output);
    assert!(run.stdout().contains(" --wait=45m "), "{}", run.stdout());
}

#[test]
fn since_defaults_to_the_start_of_the_run_attempt_from_the_api() {
    // A stand-in for the GitHub CLI that records its arguments and answers for the API.
    let bin = tempfile::tempdir().unwrap();
    let calls = bin.path().join("calls");
    executable(
        &bin.path().join("gh"),
        &format!(
            "#!/usr/bin/env bash\necho \"$GH_TOKEN $*\" >> '{}'\necho 2026-11-20T09:55:00Z\n",
            calls.display()
        ),
    );
    let overrides = [
        ("MINPRIV_SINCE", ""),
        ("GH_TOKEN", "token-1"),
        ("GITHUB_REPOSITORY", "acme/infra"),
        ("GITHUB_RUN_ID", "4242"),
        ("GITHUB_RUN_ATTEMPT", "2"),
    ];
    let run = discover(
        &catalog_fixture("psoxy-catalog.json"),
        &overrides,
        Some(bin.path()),
    );
    assert_eq!(run.code(), Some(3), "{:?}", run.output);
    assert_eq!(
        std::fs::read_to_string(&calls).unwrap(),
        "token-1 api repos/acme/infra/actions/runs/4242/attempts/2 --jq .run_started_at\n"
    );
    assert!(
        run.stdout().contains(" --since 2026-11-20T09:55:00Z "),
        "{}",
        run.stdout()
    );

    // Without the API (no gh, or no permission), a clear error and exit 2.
    let empty = tempfile::tempdir().unwrap();
    executable(&empty.path().join("gh"), "#!/usr/bin/env bash\nexit 1\n");
    let run = discover(
        &catalog_fixture("psoxy-catalog.json"),
        &overrides,
        Some(empty.path()),
    );
    assert_eq!(run.code(), Some(2));
    assert!(
        run.stdout().contains("::error::minpriv: since is empty"),
        "{}",
        run.stdout()
    );
}

#[test]
fn missing_required_inputs_are_usage_errors() {
    let run = discover(Path::new(""), &[("MINPRIV_CATALOG", "")], None);
    assert_eq!(run.code(), Some(2));
    assert!(
        run.stdout()
            .contains("::error::minpriv: the catalog input is required")
    );
}

#[test]
fn the_cache_key_follows_the_source_and_a_restored_binary_is_not_rebuilt() {
    let root = env!("CARGO_MANIFEST_DIR");
    let vars = [
        ("GITHUB_ACTION_PATH", root),
        ("RUNNER_OS", "Linux"),
        ("RUNNER_ARCH", "X64"),
    ];
    let first = run_script("key.sh", &vars, None);
    assert!(first.output.status.success(), "{:?}", first.output);
    let key = &first.outputs["key"];
    let hash = key.strip_prefix("minpriv-Linux-X64-").unwrap();
    assert_eq!(hash.len(), 16);
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    assert_eq!(
        first.outputs["root"],
        format!("{}/minpriv-{hash}", first.temp.path().display())
    );
    assert_eq!(run_script("key.sh", &vars, None).outputs["key"], *key);

    // A cache hit: the binary is in the root; install.sh checks that it runs and puts it on
    // the PATH, without building.
    let cached = tempfile::tempdir().unwrap();
    std::fs::create_dir(cached.path().join("bin")).unwrap();
    std::fs::copy(
        assert_cmd::cargo::cargo_bin("minpriv"),
        cached.path().join("bin/minpriv"),
    )
    .unwrap();
    let github_path = cached.path().join("github_path");
    let run = run_script(
        "install.sh",
        &[
            ("MINPRIV_ROOT", cached.path().to_str().unwrap()),
            ("GITHUB_ACTION_PATH", root),
            ("GITHUB_PATH", github_path.to_str().unwrap()),
        ],
        None,
    );
    assert!(run.output.status.success(), "{:?}", run.output);
    assert!(
        run.stdout().contains("(restored from the cache)"),
        "{}",
        run.stdout()
    );
    assert_eq!(
        std::fs::read_to_string(&github_path).unwrap(),
        format!("{}/bin\n", cached.path().display())
    );
}
