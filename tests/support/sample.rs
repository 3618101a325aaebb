//! The bundled sample trail as the test binaries run it: its principal, and the README's
//! window and name prefix.

use std::path::{Path, PathBuf};

/// The sample's provisioning role.
pub const ROLE: &str = "arn:aws:iam::111122223333:role/ci-provisioner";

/// `discover` arguments for the sample: its principal, the deploy's window, `--name-prefix`.
pub const WINDOW: [&str; 8] = [
    "--principal",
    ROLE,
    "--since",
    "2026-11-20T10:00:00Z",
    "--until",
    "2026-11-20T10:40:00Z",
    "--name-prefix",
    "psoxy-",
];

/// The sample trail folder.
pub fn trail() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/trail")
}
