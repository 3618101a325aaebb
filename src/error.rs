//! Exit codes, in one place. Documented in README.md and `docs/exit-codes.md`.

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
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        Self::from(exit as u8)
    }
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
