//! Where records come from: a local trail directory (pruned by key layout) or one file /
//! stdin. The source lists inputs and reads their bytes; everything after is synchronous.

pub mod athena;
mod bucket;
pub mod delivery;
pub mod digest;
mod dir;
pub mod engine;
pub mod keys;
pub mod lake;
pub mod layout;
pub mod lookup;
pub mod s3;
pub mod sts;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

pub use layout::{Ignored, Scope};

/// The runtime a source's calls run on: two workers, enough for I/O-bound calls whose
/// parsing runs on rayon's threads.
pub(crate) fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

/// An AWS SDK error in few words, for every client here (S3, Athena, CloudTrail: the trait
/// is the same one): the service's code and message when it answered, else the chain of
/// causes (a connection refused, a timeout). No credentials appear in either.
pub(crate) fn describe<E: std::error::Error + aws_sdk_s3::error::ProvideErrorMetadata>(
    error: &E,
) -> String {
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => {
            let mut text = error.to_string();
            let mut source = error.source();
            while let Some(cause) = source {
                text = format!("{text}: {cause}");
                source = cause.source();
            }
            text
        }
    }
}

/// `12.3 MB`, decimal units: how much was read or scanned, as the progress lines and the
/// summary show it.
#[must_use]
pub fn bytes(n: u64) -> String {
    #[expect(clippy::cast_precision_loss, reason = "a display figure")]
    let value = n as f64;
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} kB", value / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", value / 1e6),
        _ => format!("{:.2} GB", value / 1e9),
    }
}

/// One input to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blob {
    File {
        path: PathBuf,
        size: u64,
    },
    Stdin,
    /// Bytes already fetched (an S3 object).
    Memory {
        name: String,
        bytes: Vec<u8>,
    },
    /// An input that could not be fetched; it travels with the others so it is reported
    /// in the same place.
    Failed {
        name: String,
        message: String,
    },
    /// A listed object not fetched yet (listings only).
    Remote {
        name: String,
        size: u64,
    },
}

impl Blob {
    /// How the input is named in messages.
    #[must_use]
    pub fn display(&self) -> String {
        match self {
            Self::File { path, .. } => path.display().to_string(),
            Self::Stdin => "<stdin>".to_owned(),
            Self::Memory { name, .. } | Self::Failed { name, .. } | Self::Remote { name, .. } => {
                name.clone()
            }
        }
    }

    /// Its size when known before reading.
    #[must_use]
    pub fn size(&self) -> Option<u64> {
        match self {
            Self::File { size, .. } | Self::Remote { size, .. } => Some(*size),
            Self::Memory { bytes, .. } => Some(bytes.len() as u64),
            Self::Stdin | Self::Failed { .. } => None,
        }
    }

    /// The input's bytes, into a reused buffer (fetched bytes are moved, not copied). At
    /// most `limit` bytes are read: the limit holds for what is read, whatever `stat` said
    /// (a link to `/dev/zero`, a file growing while read).
    ///
    /// # Errors
    /// The file or stdin could not be read or is longer than `limit`, the file is not a
    /// regular file, or the input could not be fetched.
    pub fn read_into(self, buffer: &mut Vec<u8>, limit: u64) -> std::io::Result<()> {
        buffer.clear();
        let too_large = || {
            std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                format!("larger than {limit} bytes (--max-file-size)"),
            )
        };
        match self {
            Self::File { path, size } => {
                // Checked again here: the listing may be older than the file.
                if !std::fs::metadata(&path)?.is_file() {
                    return Err(std::io::Error::other(dir::NOT_REGULAR));
                }
                let file = std::fs::File::open(path)?;
                buffer.reserve(usize::try_from(size.min(limit)).unwrap_or(0));
                file.take(limit.saturating_add(1)).read_to_end(buffer)?;
                if buffer.len() as u64 > limit {
                    return Err(too_large());
                }
            }
            Self::Stdin => {
                std::io::stdin()
                    .lock()
                    .take(limit.saturating_add(1))
                    .read_to_end(buffer)?;
                if buffer.len() as u64 > limit {
                    return Err(too_large());
                }
            }
            Self::Memory { bytes, .. } => *buffer = bytes,
            Self::Failed { message, .. } => return Err(std::io::Error::other(message)),
            Self::Remote { .. } => return Err(std::io::Error::other("not fetched")),
        }
        Ok(())
    }
}

/// An entry the source could not list or read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// The inputs to read and what was passed over.
#[derive(Debug, Default)]
pub struct Listing {
    pub blobs: Vec<Blob>,
    /// Files passed over by reason (pruned folders count their files).
    pub ignored: BTreeMap<Ignored, u64>,
    pub problems: Vec<Problem>,
    /// Prefixes that could not be listed (refused, or failing after retries): a failed read,
    /// not bad input.
    pub failed: Vec<Problem>,
}

/// Lists the log files of a trail directory.
#[must_use]
pub fn list_dir(root: &std::path::Path, scope: &Scope) -> Listing {
    dir::list(root, scope)
}

/// A single file, or stdin for `-`.
#[must_use]
pub fn list_file(path: &std::path::Path) -> Listing {
    let mut listing = Listing::default();
    if path.as_os_str() == "-" {
        listing.blobs.push(Blob::Stdin);
        return listing;
    }
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => listing.blobs.push(Blob::File {
            path: path.to_owned(),
            size: meta.len(),
        }),
        Ok(meta) if meta.is_dir() => listing.problems.push(Problem {
            path: path.display().to_string(),
            message: "not a file (use --trail-dir for a folder)".to_owned(),
        }),
        Ok(_) => listing.problems.push(Problem {
            path: path.display().to_string(),
            message: dir::NOT_REGULAR.to_owned(),
        }),
        Err(error) => listing.problems.push(Problem {
            path: path.display().to_string(),
            message: error.to_string(),
        }),
    }
    listing
}
