//! Tamper evidence (`--verify-digests`): every log file the run read is looked up in the
//! digest files of its account and region and its SHA-256 compared with the digest's; each
//! digest's signature is checked, and the chain of `previousDigest…` links walked across the
//! window, as AWS's "Custom implementations of CloudTrail log file integrity validation"
//! describes
//! (<https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-custom-validation.html>).
//! Synchronous: the source fetched the digests, the scan hashed the logs.

mod chain;
pub mod digest;
mod findings;

use std::collections::{BTreeMap, HashMap};

use jiff::{SignedDuration, Timestamp};

pub use crate::source::digest::DigestFile;
pub use crate::source::keys::PublicKeys;
use digest::Digest;

/// Where the digests were read: a bucket gives their signatures (S3 metadata), a local
/// copy does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Bucket,
    Local,
}

/// A log file the run read, as far as the scan got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogState {
    /// Hex SHA-256 of its uncompressed bytes.
    Hashed(String),
    /// Read but not decompressed (corrupt gzip, too large): why.
    Unreadable(String),
    /// Not fetched (a failed read).
    NotRead,
}

/// Where the public keys come from.
#[derive(Debug, Clone)]
pub enum Keys {
    Given(PublicKeys),
    /// No key source: why (signatures are not checked).
    Unavailable(String),
}

/// Why a log file could not be verified (none of these is evidence of tampering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Uncovered {
    AfterLastDigest,
    DigestMissing,
    DigestInvalid,
    DigestNotRead,
    NoDigest,
    NotListed,
    NotRead,
}

impl Uncovered {
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::AfterLastDigest => "delivered after the last digest",
            Self::DigestMissing => "the digest of its hour is missing from the chain",
            Self::DigestInvalid => "the digest of its hour is invalid",
            Self::DigestNotRead => "the digest of its hour could not be fetched",
            Self::NoDigest => {
                "no digest covers its delivery (validation not enabled, or the trail stopped)"
            }
            Self::NotListed => "not listed by the digest of its delivery hour",
            Self::NotRead => "not read (a failed read, or skipped: see the problems below)",
        }
    }
}

/// A log file's verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Verified,
    NotCovered(Uncovered),
    Invalid(String),
    /// Listed by a valid digest inside the range the run listed, but not there: why (names
    /// the digest). Invalid too: deleted after delivery.
    Missing(String),
}

impl Status {
    /// One line for the report.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Verified => "verified".to_owned(),
            Self::NotCovered(why) => format!("not covered: {}", why.label()),
            Self::Invalid(why) | Self::Missing(why) => format!("INVALID: {why}"),
        }
    }
}

/// The part of the trail the run listed. Every log file a valid digest lists inside it must
/// have been found there.
#[derive(Debug, Clone, Copy)]
pub struct Scanned<'a> {
    /// The accounts, regions and delivery times the listing covered (by key layout).
    pub scope: &'a crate::source::Scope,
    /// Prefixes or folders that could not be listed: a file a digest lists below one is
    /// already a failed read or a problem, not a missing file.
    pub unlisted: &'a [String],
}

/// A digest file's verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestStatus {
    Valid,
    Invalid(String),
    NotRead,
}

/// What `--verify-digests` found.
#[derive(Debug, Clone)]
pub struct Verification {
    pub origin: Origin,
    /// Every log file read, by name.
    pub files: BTreeMap<String, Status>,
    /// Every digest file of the window (and those the chain says are missing), by name.
    pub digests: BTreeMap<String, DigestStatus>,
    pub signatures_checked: u64,
    pub signatures_unchecked: u64,
    /// Why signatures were not checked, when some were not.
    pub unchecked_why: Option<String>,
}

/// How a stretch of a region's timeline is covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Span {
    Present,
    Invalid,
    Missing,
    NotRead,
}

/// A digest in its chain.
struct Entry<'a> {
    file: &'a DigestFile,
    tail: &'a str,
    decoded: Result<Digest, Option<String>>,
    /// End time: the digest's own, else its name's.
    end: Option<Timestamp>,
}

const HOUR: SignedDuration = SignedDuration::from_hours(1);

/// The part of a key or path from `AWSLogs/` on: the same for a bucket and its local copy.
#[must_use]
pub fn tail(name: &str) -> &str {
    name.find("AWSLogs/")
        .and_then(|at| name.get(at..))
        .unwrap_or(name)
}

/// `AWSLogs/[o-org/]ACCOUNT/REGION` of a log or digest key.
fn area(tail: &str) -> Option<String> {
    let parts: Vec<&str> = tail.split('/').collect();
    let at = parts
        .iter()
        .position(|p| *p == "CloudTrail" || *p == "CloudTrail-Digest")?;
    let region = parts.get(at + 1)?;
    Some(format!("{}/{region}", parts.get(..at)?.join("/")))
}

/// The chain a digest belongs to: its area and its name without the time.
fn chain(tail: &str) -> String {
    let name = tail.rsplit('/').next().unwrap_or(tail);
    let stem = name.rsplit_once('_').map_or(name, |(stem, _)| stem);
    format!("{}/{stem}", area(tail).unwrap_or_default())
}

/// Every log file listed, with what the scan found: its hash, why its bytes are not a log
/// file, or nothing (not fetched, or skipped before it was read).
#[must_use]
pub fn log_states(
    blobs: &[crate::source::Blob],
    hashes: &[(String, Result<String, String>)],
) -> Vec<(String, LogState)> {
    let hashes: HashMap<&str, &Result<String, String>> = hashes
        .iter()
        .map(|(name, hash)| (name.as_str(), hash))
        .collect();
    blobs
        .iter()
        .map(|blob| {
            let name = blob.display();
            let state = match hashes.get(name.as_str()) {
                Some(Ok(hash)) => LogState::Hashed(hash.clone()),
                Some(Err(why)) => LogState::Unreadable(why.clone()),
                None => LogState::NotRead,
            };
            (name, state)
        })
        .collect()
}

/// Each area's stretches of time and how digests cover them.
type Timeline = BTreeMap<String, Vec<(Timestamp, Timestamp, Span)>>;

/// A log file a digest lists: the digest's name, the hash it gives, whether the digest is
/// valid, and where the digest sits (its name up to `AWSLogs/`: the bucket and prefix, or
/// the local root), which is where the log file should be too.
#[derive(Debug, Clone)]
struct Mention {
    digest: String,
    hash: String,
    valid: bool,
    root: String,
}

/// Log files listed by a digest: tail → what the digest says.
type Listed = HashMap<String, Mention>;

/// Walks every digest's chain and sets each log file's status: the files read, and the files
/// a valid digest lists inside the scanned range that were not there.
#[must_use]
pub fn verify(
    origin: Origin,
    digests: &[DigestFile],
    scanned: Scanned<'_>,
    logs: &[(String, LogState)],
    keys: &Keys,
) -> Verification {
    let listed_from = scanned.scope.delivered_from;
    let mut out = Verification {
        origin,
        files: BTreeMap::new(),
        digests: BTreeMap::new(),
        signatures_checked: 0,
        signatures_unchecked: 0,
        unchecked_why: None,
    };
    let mut chains: BTreeMap<String, Vec<Entry<'_>>> = BTreeMap::new();
    for file in digests {
        let tail = tail(&file.key);
        let decoded = match &file.bytes {
            Ok(bytes) => Digest::decode(bytes).map_err(|e| Some(e.to_string())),
            Err(_) => Err(None),
        };
        let end = decoded.as_ref().map_or_else(
            |_| crate::source::layout::digest_time(tail.rsplit('/').next().unwrap_or(tail)),
            |d| Some(d.end),
        );
        chains.entry(chain(tail)).or_default().push(Entry {
            file,
            tail,
            decoded,
            end,
        });
    }
    let mut listed = Listed::new();
    let mut timeline = Timeline::new();
    for entries in chains.values_mut() {
        entries.sort_by_key(|e| (e.end.unwrap_or(Timestamp::MAX), e.tail));
        out.walk(
            origin,
            entries,
            listed_from,
            keys,
            &mut listed,
            &mut timeline,
        );
    }
    for (name, state) in logs {
        let status = status(name, state, listed.get(tail(name)), &timeline);
        out.files.insert(name.clone(), status);
    }
    out.find_missing(origin, scanned, logs, &listed);
    out
}

impl Verification {
    /// Every log file a valid digest lists inside the scanned range that the listing did not
    /// find: deleted after delivery (what `aws cloudtrail validate-logs` reports as not found).
    fn find_missing(
        &mut self,
        origin: Origin,
        scanned: Scanned<'_>,
        logs: &[(String, LogState)],
        listed: &Listed,
    ) {
        let found: std::collections::HashSet<&str> =
            logs.iter().map(|(name, _)| tail(name)).collect();
        let place = match origin {
            Origin::Bucket => "the bucket",
            Origin::Local => "the local copy",
        };
        for (log, mention) in listed {
            if !mention.valid || found.contains(log.as_str()) || !scanned_range(scanned.scope, log)
            {
                continue;
            }
            let name = format!("{}{log}", mention.root);
            if scanned.unlisted.iter().any(|prefix| below(&name, prefix)) {
                continue;
            }
            self.files.insert(
                name,
                Status::Missing(format!(
                    "listed by {}, not in {place}: deleted after delivery?",
                    mention.digest
                )),
            );
        }
    }
}

/// Whether a log file's key (from `AWSLogs/` on) lies in what the listing covered: its
/// account, region and day folders, and its delivery time.
fn scanned_range(scope: &crate::source::Scope, tail: &str) -> bool {
    let parts: Vec<&str> = tail.split('/').collect();
    let Some((name, folders)) = parts.split_last() else {
        return false;
    };
    scope.folder(folders).is_ok() && scope.file(name).is_ok()
}

/// Whether `name` is `prefix` or below it (a folder without its trailing `/` included).
fn below(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|rest| prefix.ends_with('/') || rest.is_empty() || rest.starts_with('/'))
}

/// A log file's status, given the digest entry that lists it (if any).
fn status(name: &str, state: &LogState, listed: Option<&Mention>, timeline: &Timeline) -> Status {
    match (state, listed) {
        (LogState::NotRead, _) => Status::NotCovered(Uncovered::NotRead),
        (
            _,
            Some(Mention {
                digest,
                valid: false,
                ..
            }),
        ) => Status::Invalid(format!("listed by {digest}, which is invalid")),
        (LogState::Unreadable(why), Some(Mention { digest, .. })) => Status::Invalid(format!(
            "listed by {digest}, but cannot be read ({why}): changed after delivery"
        )),
        (
            LogState::Hashed(hash),
            Some(Mention {
                digest,
                hash: expected,
                ..
            }),
        ) => {
            if hash.eq_ignore_ascii_case(expected.trim()) {
                Status::Verified
            } else {
                Status::Invalid(format!(
                    "SHA-256 of its content differs from the hashValue in {digest}: changed after delivery"
                ))
            }
        }
        (_, None) => Status::NotCovered(uncovered(name, timeline)),
    }
}

/// Why a log file no digest lists is not covered.
fn uncovered(name: &str, timeline: &Timeline) -> Uncovered {
    let tail = tail(name);
    let Some(spans) = area(tail).and_then(|a| timeline.get(&a)) else {
        return Uncovered::NoDigest;
    };
    let Some(at) = crate::source::layout::delivery_time(tail.rsplit('/').next().unwrap_or(tail))
    else {
        return Uncovered::NotListed;
    };
    let mut found = None;
    for (start, end, span) in spans {
        if *start <= at && at < *end {
            found = match (found, span) {
                (_, Span::Missing) | (Some(Span::Missing), _) => Some(Span::Missing),
                (_, Span::Invalid) | (Some(Span::Invalid), _) => Some(Span::Invalid),
                (_, Span::NotRead) | (Some(Span::NotRead), _) => Some(Span::NotRead),
                _ => Some(Span::Present),
            };
        }
    }
    match found {
        Some(Span::Missing) => Uncovered::DigestMissing,
        Some(Span::Invalid) => Uncovered::DigestInvalid,
        Some(Span::NotRead) => Uncovered::DigestNotRead,
        Some(Span::Present) => Uncovered::NotListed,
        None if spans.iter().all(|(_, end, _)| *end <= at) => Uncovered::AfterLastDigest,
        None => Uncovered::NoDigest,
    }
}

#[cfg(test)]
mod tests;
