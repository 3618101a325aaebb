//! The record search of `--principal`: byte strings a record must contain to be worth
//! decoding (the names of the principals asked for). Records without them are counted and
//! passed over undecoded, which is most of an organization trail.
//!
//! Sound because a record a principal made names it in `userIdentity` (the role's or the
//! user's name, literally, unless JSON escaped one of its characters as `\uXXXX`: records
//! holding an escape are always decoded). Which bytes are a record is [`super::split`]'s
//! business; this module only says which records to decode.

// Everything here reads untrusted input: no slicing that can panic.
#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::ops::Range;

use super::split::Split;

/// Byte strings of which a record must contain one to be decoded.
#[derive(Debug)]
pub struct Prefilter {
    finders: Vec<memchr::memmem::Finder<'static>>,
    /// `\u`: an escaped character, which may hide a needle.
    escape: memchr::memmem::Finder<'static>,
}

impl Default for Prefilter {
    fn default() -> Self {
        Self {
            finders: Vec::new(),
            escape: memchr::memmem::Finder::new(b"\\u").into_owned(),
        }
    }
}

impl Prefilter {
    /// Admits every record.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// Admits records that contain any of `needles`.
    #[must_use]
    pub fn any(needles: &[String]) -> Self {
        Self {
            finders: needles
                .iter()
                .map(|n| memchr::memmem::Finder::new(n.as_bytes()).into_owned())
                .collect(),
            ..Self::default()
        }
    }

    /// Whether it admits every record.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.finders.is_empty()
    }

    /// For each record of a split document, whether it holds a needle or an escape: the
    /// whole body is searched once per needle, and each hit is placed in its record.
    pub(super) fn hits(&self, body: &[u8], split: &Split) -> Vec<bool> {
        let ranges = &split.ranges;
        let mut hit = vec![false; ranges.len()];
        for &at in &split.escapes {
            mark(ranges, &mut hit, at);
        }
        for finder in &self.finders {
            let mut from = 0;
            while let Some(found) = body.get(from..).and_then(|rest| finder.find(rest)) {
                let at = from + found;
                // The rest of a record that holds a needle need not be searched again.
                from = mark(ranges, &mut hit, at).unwrap_or(at + 1);
            }
        }
        hit
    }

    /// A record holding a needle, or any `\u` escape.
    pub(super) fn admits(&self, record: &[u8]) -> bool {
        self.finders.is_empty()
            || self.finders.iter().any(|f| f.find(record).is_some())
            || self.escape.find(record).is_some()
    }
}

/// Marks the record holding byte `at`, if any (bytes between records belong to none), and
/// returns where that record ends.
fn mark(ranges: &[Range<usize>], hit: &mut [bool], at: usize) -> Option<usize> {
    let index = ranges.partition_point(|r| r.end <= at);
    let range = ranges.get(index).filter(|range| range.start <= at)?;
    *hit.get_mut(index)? = true;
    Some(range.end)
}
