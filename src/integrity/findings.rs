//! What the verification found, counted for `--strict` and exit 6, and told in the
//! summary's `digests:` line and the report. A missing log file counts as INVALID.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{DigestStatus, Origin, Status, Uncovered, Verification};

impl Verification {
    /// Each log file's status, for the report.
    #[must_use]
    pub fn statuses(&self) -> BTreeMap<String, String> {
        self.files
            .iter()
            .map(|(name, status)| (name.clone(), status.describe()))
            .collect()
    }

    #[must_use]
    pub fn verified(&self) -> usize {
        self.files
            .values()
            .filter(|s| **s == Status::Verified)
            .count()
    }

    /// Files not covered, by reason.
    #[must_use]
    pub fn not_covered(&self) -> BTreeMap<Uncovered, usize> {
        let mut counts = BTreeMap::new();
        for status in self.files.values() {
            if let Status::NotCovered(why) = status {
                *counts.entry(*why).or_default() += 1;
            }
        }
        counts
    }

    /// Invalid log files and digests, named, with why.
    #[must_use]
    pub fn invalid(&self) -> Vec<(&str, &str)> {
        let files = self.files.iter().filter_map(|(name, s)| match s {
            Status::Invalid(why) | Status::Missing(why) => Some((name.as_str(), why.as_str())),
            _ => None,
        });
        let digests = self.digests.iter().filter_map(|(name, s)| match s {
            DigestStatus::Invalid(why) => Some((name.as_str(), why.as_str())),
            _ => None,
        });
        files.chain(digests).collect()
    }

    /// Log files a valid digest lists in the scanned range that were not there.
    #[must_use]
    pub fn missing(&self) -> usize {
        self.files
            .values()
            .filter(|s| matches!(s, Status::Missing(_)))
            .count()
    }

    /// Log files listed (or, missing, listed by a digest) that the run did not read.
    #[must_use]
    pub fn not_read(&self) -> usize {
        self.files
            .values()
            .filter(|s| matches!(s, Status::NotCovered(Uncovered::NotRead)))
            .count()
    }

    /// Evidence of tampering: an invalid or missing log file, or an invalid digest.
    #[must_use]
    pub fn tampered(&self) -> bool {
        !self.invalid().is_empty()
    }

    /// What `--strict` fails on: files not verified, and, from a bucket, digests whose
    /// signature could not be checked.
    #[must_use]
    pub fn unverified(&self) -> u64 {
        let files: usize = self.not_covered().values().sum();
        let signatures = if self.origin == Origin::Bucket {
            self.signatures_unchecked
        } else {
            0
        };
        files as u64 + signatures
    }

    /// The summary's lines.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let not_covered = self.not_covered();
        let invalid_files = self
            .files
            .values()
            .filter(|s| matches!(s, Status::Invalid(_) | Status::Missing(_)))
            .count();
        let invalid_digests = self
            .digests
            .values()
            .filter(|s| matches!(s, DigestStatus::Invalid(_)))
            .count();
        let _ = writeln!(
            out,
            "digests: {} log files verified, {} not covered by any digest, {invalid_files} INVALID ({} missing); {} digest files ({invalid_digests} INVALID), {} signatures checked",
            self.verified(),
            not_covered.values().sum::<usize>(),
            self.missing(),
            self.digests.len(),
            self.signatures_checked
        );
        for (why, n) in &not_covered {
            let _ = writeln!(out, "  not covered: {n} {}", why.label());
        }
        if self.signatures_unchecked > 0 {
            let _ = writeln!(
                out,
                "  signatures NOT checked on {} digests: {}",
                self.signatures_unchecked,
                self.unchecked_why.as_deref().unwrap_or("no key source")
            );
        }
        for (name, why) in self.invalid() {
            let _ = writeln!(out, "  INVALID {name}: {why}");
        }
        out
    }
}
