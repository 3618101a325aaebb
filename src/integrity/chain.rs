//! Walking one chain of digests: each digest where it says it is, signed by CloudTrail's
//! key for its fingerprint, and linked to the digest before it by that digest's key, hash
//! and signature (AWS's "Custom implementations of CloudTrail log file integrity
//! validation",
//! <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-custom-validation.html>).

use jiff::Timestamp;

use super::digest::{self, ALGORITHM, Digest};
use super::{
    DigestStatus, Entry, HOUR, Keys, Listed, Mention, Origin, Span, Timeline, Verification, area,
    tail,
};

/// A digest must be where it says it is: its own `digestS3Bucket`/`digestS3Object`.
fn location(origin: Origin, entry: &Entry<'_>, digest: &Digest, problems: &mut Vec<String>) {
    let raw = &digest.raw;
    let moved = match origin {
        Origin::Bucket => {
            entry.file.bucket.as_deref() != Some(raw.digest_s3_bucket.as_str())
                || raw.digest_s3_object != entry.file.key
        }
        Origin::Local => tail(&raw.digest_s3_object) != entry.tail,
    };
    if moved {
        problems.push(format!(
            "not where it says it is (it names s3://{}/{})",
            raw.digest_s3_bucket, raw.digest_s3_object
        ));
    }
}

/// Checks the link to the digest before it in the chain; returns the name and end time of
/// a digest the link names that is not there. The first digest listed (no `previous`) names
/// one that must have been listed too when it ends at or after `listed_from`.
fn link(
    origin: Origin,
    digest: &Digest,
    previous: Option<&Entry<'_>>,
    listed_from: Option<Timestamp>,
    problems: &mut Vec<String>,
) -> Option<(String, Option<Timestamp>)> {
    let raw = &digest.raw;
    let named = raw
        .previous_digest_s3_object
        .as_deref()
        .filter(|o| !o.is_empty())?;
    if let Some(previous) = previous
        && tail(named) == previous.tail
    {
        if let Ok(before) = &previous.decoded
            && raw
                .previous_digest_hash_value
                .as_deref()
                .is_none_or(|h| !h.eq_ignore_ascii_case(&before.hash))
        {
            problems.push(format!(
                "broken chain: its previousDigestHashValue is not the SHA-256 of {}",
                previous.file.name
            ));
        }
        if origin == Origin::Bucket
            && let Some(signature) = &previous.file.signature
            && raw.previous_digest_signature.as_deref() != Some(signature.as_str())
        {
            problems.push(format!(
                "broken chain: its previousDigestSignature is not the signature of {}",
                previous.file.name
            ));
        }
        return None;
    }
    let named_end = crate::source::layout::digest_time(named.rsplit('/').next().unwrap_or(named));
    let bucket = raw
        .previous_digest_s3_bucket
        .as_deref()
        .unwrap_or(&raw.digest_s3_bucket);
    let absent = match previous {
        Some(previous) => named_end.is_some() && named_end > previous.end,
        // A chain that came from another bucket is not listed here.
        None => {
            (origin == Origin::Local || bucket == raw.digest_s3_bucket)
                && named_end.is_some_and(|end| listed_from.is_none_or(|from| end >= from))
        }
    };
    if absent {
        let name = match origin {
            Origin::Bucket => format!("s3://{bucket}/{named}"),
            Origin::Local => tail(named).to_owned(),
        };
        return Some((name, previous.and_then(|p| p.end)));
    }
    if let Some(previous) = previous {
        problems.push(format!(
            "broken chain: its previous digest is {named}, but the digest before it is {}",
            previous.file.name
        ));
    }
    None
}

impl Verification {
    /// Walks one chain, sorted by end time: each digest's place, signature and link to the
    /// one before it; records what it lists and the time it covers.
    pub(super) fn walk(
        &mut self,
        origin: Origin,
        entries: &[Entry<'_>],
        listed_from: Option<Timestamp>,
        keys: &Keys,
        listed: &mut Listed,
        timeline: &mut Timeline,
    ) {
        for (at, entry) in entries.iter().enumerate() {
            let spans = timeline
                .entry(area(entry.tail).unwrap_or_default())
                .or_default();
            let digest = match &entry.decoded {
                Ok(digest) => digest,
                Err(why) => {
                    let (span, status) = match why {
                        Some(why) => (Span::Invalid, DigestStatus::Invalid(why.clone())),
                        None => (Span::NotRead, DigestStatus::NotRead),
                    };
                    if let Some(end) = entry.end {
                        spans.push((end.checked_sub(HOUR).unwrap_or(end), end, span));
                    }
                    self.digests.insert(entry.file.name.clone(), status);
                    continue;
                }
            };
            let mut problems = Vec::new();
            location(origin, entry, digest, &mut problems);
            self.signature(
                origin,
                entry,
                digest,
                entries.get(at + 1),
                keys,
                &mut problems,
            );
            let previous = at.checked_sub(1).and_then(|p| entries.get(p));
            if let Some((missing, previous_end)) =
                link(origin, digest, previous, listed_from, &mut problems)
            {
                let start = previous_end
                    .unwrap_or_else(|| digest.start.checked_sub(HOUR).unwrap_or(digest.start));
                spans.push((start, digest.start, Span::Missing));
                self.digests.insert(
                    missing,
                    DigestStatus::Invalid(format!(
                        "missing: {} names it as its previous digest (deleted from the chain?)",
                        entry.file.name
                    )),
                );
            }
            let valid = problems.is_empty();
            let span = if valid { Span::Present } else { Span::Invalid };
            spans.push((digest.start, digest.end, span));
            let root = entry
                .file
                .name
                .strip_suffix(entry.tail)
                .unwrap_or_default()
                .to_owned();
            for log in &digest.raw.log_files {
                let value = Mention {
                    digest: entry.file.name.clone(),
                    hash: log.hash_value.clone(),
                    valid,
                    root: root.clone(),
                };
                listed
                    .entry(tail(&log.s3_object).to_owned())
                    .and_modify(|held| {
                        if !held.valid {
                            held.clone_from(&value);
                        }
                    })
                    .or_insert(value);
            }
            let status = if valid {
                DigestStatus::Valid
            } else {
                DigestStatus::Invalid(problems.join("; "))
            };
            self.digests.insert(entry.file.name.clone(), status);
        }
    }

    /// Checks a digest's signature: from its S3 metadata, or (a local copy) the one its
    /// successor records as `previousDigestSignature`.
    fn signature(
        &mut self,
        origin: Origin,
        entry: &Entry<'_>,
        digest: &Digest,
        successor: Option<&Entry<'_>>,
        keys: &Keys,
        problems: &mut Vec<String>,
    ) {
        let raw = &digest.raw;
        for algorithm in [
            Some(raw.digest_signature_algorithm.as_str()),
            entry.file.signature_algorithm.as_deref(),
        ]
        .into_iter()
        .flatten()
        {
            if algorithm != ALGORITHM {
                problems.push(format!(
                    "signature algorithm {algorithm:?}, not {ALGORITHM}"
                ));
            }
        }
        let signature = match origin {
            Origin::Bucket => entry.file.signature.clone(),
            Origin::Local => successor.and_then(|next| {
                let recorded = next.decoded.as_ref().ok()?;
                let named = recorded.raw.previous_digest_s3_object.as_deref()?;
                (tail(named) == entry.tail)
                    .then(|| recorded.raw.previous_digest_signature.clone())
                    .flatten()
            }),
        };
        if origin == Origin::Bucket && signature.is_none() {
            problems.push("no signature in its S3 metadata".to_owned());
            return;
        }
        let keys = match keys {
            Keys::Given(keys) => keys,
            Keys::Unavailable(why) => {
                self.signatures_unchecked += 1;
                self.unchecked_why = Some(why.clone());
                return;
            }
        };
        let Some(signature) = signature else {
            self.signatures_unchecked += 1;
            self.unchecked_why = Some(
                "the last digest of a local chain (no later digest records its signature, which is only in S3 metadata)"
                    .to_owned(),
            );
            return;
        };
        let fingerprint = &raw.digest_public_key_fingerprint;
        let candidates = keys.get(fingerprint);
        if candidates.is_empty() {
            problems.push(format!(
                "public key {fingerprint} is not in the key list of its region"
            ));
            return;
        }
        let message = digest.signing_string();
        if candidates
            .iter()
            .any(|der| digest::signed_by(der, message.as_bytes(), &signature))
        {
            self.signatures_checked += 1;
        } else {
            problems.push("bad signature".to_owned());
        }
    }
}
