//! Exit codes, in one place. Documented in `docs/usage.md`.

/// How a run ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The policy was written.
    Success = 0,
    /// A fatal error: bad arguments, an unreadable root, nothing to write.
    Failure = 1,
    /// Command-line usage error (from clap).
    Usage = 2,
    /// `--check`: the catalog lacks an action or resource the deployment used.
    Drift = 3,
    /// `--strict`: something was unreadable, skipped, or not mapped.
    Strict = 4,
    /// Part of the window could not be read: an object not fetched after retries, a listing
    /// refused, a `LookupEvents` page lost. Not given with `--allow-partial`.
    FailedRead = 5,
    /// `--verify-digests`: a log file or digest is invalid (changed after delivery, deleted
    /// after delivery, a bad signature, a digest moved or missing from its chain). No policy
    /// is written.
    Tampered = 6,
    /// `--wait`: the window was not delivered within its MAX (regions still open). Nothing
    /// was read. Not given with `--allow-partial`.
    NotDelivered = 7,
    /// The policy does not fit IAM's quotas (`--max-policy-size` characters a document,
    /// `--max-policies` documents) even collapsed as far as allowed, or `--resources exact`
    /// is past them; or `--catalog --write` would write such a catalog. Nothing is written.
    DoesNotFit = 8,
    /// Interrupted (Ctrl-C) while waiting for delivery: nothing read, nothing written.
    /// 128 + SIGINT, as a shell reports a process killed by it.
    Interrupted = 130,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        Self::from(exit as u8)
    }
}

/// An error and its causes on one line, each cause once: errors whose message already
/// includes their source (`{path}: {source}`) would otherwise print it twice with `{:#}`.
#[must_use]
pub fn describe(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let message = cause.to_string();
        if text.contains(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
}

/// Whether an error is a closed stdout (`minpriv … | head`), which ends the run quietly.
#[must_use]
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Writes a message to stderr, ignoring a stderr that cannot be written (`2>/dev/full`, a
/// closed pipe): `eprint!` would panic there and lose the run's exit code.
pub fn stderr(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = std::io::stderr().lock().write_fmt(args);
}

/// `eprintln!` that never panics (see [`stderr`]).
#[macro_export]
macro_rules! warnln {
    ($($arg:tt)*) => {
        $crate::error::stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprint!` that never panics (see [`stderr`]).
#[macro_export]
macro_rules! warn_ {
    ($($arg:tt)*) => {
        $crate::error::stderr(format_args!($($arg)*))
    };
}
