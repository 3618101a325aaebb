//! Whether CloudTrail has finished delivering the window. CloudTrail delivers a log file
//! "within an average of about 5 minutes" of the call, with no guarantee, so a run right
//! after a deploy may read a trail whose last minutes are not there yet. Each account ×
//! region of the trail is known delivered by a sign in the trail itself — a digest (with
//! `--verify-digests`) or a log file delivered at least [`MARGIN`] after `--until` — or by
//! the clock, once `--until` plus `--delivery-slack` has passed. `--wait` polls for those
//! signs before reading ([`wait`]); the summary's `completeness:` line says what was known.

mod line;
mod probe;
mod wait;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::{SignedDuration, Timestamp};

pub use line::{Files, line};
pub use probe::{Bucket, Folder, local_areas};
pub use wait::{Probe, Stopped, Wait, Waited, exit_on_interrupt, wait, wait_blocking, wait_clock};

/// How long after `--until` a log file (or a digest's end) must be to show that a region's
/// delivery went past `--until`: CloudTrail writes each region's log files about every five
/// minutes, so a file this much later comes after the one holding the window's last calls.
pub const MARGIN: SignedDuration = SignedDuration::from_mins(5);

/// What decides that the window is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// `--until`, or the start of the run when it is not given.
    pub until: Timestamp,
    /// Whether `--until` was given.
    pub until_given: bool,
    /// `--delivery-slack`.
    pub slack: SignedDuration,
    /// `--verify-digests`: digests are listed, so they are a sign too.
    pub digests: bool,
}

impl Rule {
    /// A log file delivered (or a digest ending) at or after this time shows delivery.
    #[must_use]
    pub fn threshold(&self) -> Timestamp {
        self.until.checked_add(MARGIN).unwrap_or(Timestamp::MAX)
    }

    /// From this time on the clock alone says the window is delivered.
    #[must_use]
    pub fn by_clock(&self) -> Timestamp {
        self.until.checked_add(self.slack).unwrap_or(Timestamp::MAX)
    }

    #[must_use]
    pub fn clock_passed(&self, now: Timestamp) -> bool {
        now >= self.by_clock()
    }
}

/// One account × region of the trail.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Area {
    /// `[o-org/]ACCOUNT/REGION`, as messages name it.
    pub label: String,
    /// The key prefix (S3) or folder (a local copy) of the account: it holds `CloudTrail/`
    /// and `CloudTrail-Digest/`; ends with `/`.
    pub base: String,
    pub account: String,
    pub region: String,
}

impl Area {
    /// The area of an account's key prefix or folder (`…AWSLogs/[o-org/]ACCOUNT/`) and a region.
    #[must_use]
    pub fn new(base: &str, region: &str) -> Self {
        let base = if base.ends_with('/') {
            base.to_owned()
        } else {
            format!("{base}/")
        };
        let trimmed = base.trim_end_matches('/');
        let account = trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned();
        let owner = trimmed
            .rfind("AWSLogs/")
            .and_then(|at| trimmed.get(at + "AWSLogs/".len()..))
            .unwrap_or(&account);
        Self {
            label: format!("{owner}/{region}"),
            base,
            account,
            region: region.to_owned(),
        }
    }
}

/// The label of the area a log file or digest belongs to, from its key or path
/// (`…AWSLogs/[o-org/]ACCOUNT/CloudTrail[-Digest]/REGION/…`), and whether it is a digest.
fn area_of(name: &str) -> Option<(String, bool)> {
    let tail = name.get(name.rfind("AWSLogs/")? + "AWSLogs/".len()..)?;
    let parts: Vec<&str> = tail.split('/').collect();
    let at = parts
        .iter()
        .position(|p| *p == "CloudTrail" || *p == "CloudTrail-Digest")?;
    let region = parts.get(at + 1)?;
    let owner = parts.get(..at).filter(|o| !o.is_empty())?.join("/");
    Some((
        format!("{owner}/{region}"),
        parts.get(at) == Some(&"CloudTrail-Digest"),
    ))
}

/// How an area is known to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// A digest of the area ends at or after `--until` plus the margin.
    Digest { name: String, end: Timestamp },
    /// A log file of the area was delivered at or after `--until` plus the margin.
    LaterFile { name: String, delivered: Timestamp },
    /// `--until` plus `--delivery-slack` has passed.
    Clock,
}

impl Proof {
    /// For the progress lines.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Digest { name, end } => format!("a digest ending {} ({name})", time(*end)),
            Self::LaterFile { name, delivered } => {
                format!("a log file delivered {} ({name})", time(*delivered))
            }
            Self::Clock => "--until plus --delivery-slack has passed".to_owned(),
        }
    }
}

/// The latest log file and digest seen in each area, by label.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    logs: BTreeMap<String, (Timestamp, String)>,
    digests: BTreeMap<String, (Timestamp, String)>,
}

impl Seen {
    /// Notes a log file or digest by its key or path (the time is in its name); names that
    /// are neither are passed over.
    pub fn note(&mut self, name: &str) {
        let Some((label, digest)) = area_of(name) else {
            return;
        };
        let file = name.rsplit('/').next().unwrap_or(name);
        let (at, into) = if digest {
            (super::layout::digest_time(file), &mut self.digests)
        } else {
            (super::layout::delivery_time(file), &mut self.logs)
        };
        let Some(at) = at else {
            return;
        };
        let entry = into.entry(label).or_insert_with(|| (at, name.to_owned()));
        if at > entry.0 {
            *entry = (at, name.to_owned());
        }
    }

    pub fn merge(&mut self, other: &Self) {
        for (_, (_, name)) in other.logs.iter().chain(&other.digests) {
            self.note(name);
        }
    }

    /// The sign in the trail that the area is delivered, if any: a digest first (with
    /// `--verify-digests`), then a later log file.
    #[must_use]
    pub fn proof(&self, label: &str, rule: &Rule) -> Option<Proof> {
        let threshold = rule.threshold();
        if rule.digests
            && let Some((end, name)) = self.digests.get(label)
            && *end >= threshold
        {
            return Some(Proof::Digest {
                name: name.clone(),
                end: *end,
            });
        }
        let (delivered, name) = self.logs.get(label)?;
        (*delivered >= threshold).then(|| Proof::LaterFile {
            name: name.clone(),
            delivered: *delivered,
        })
    }
}

/// What is known of the window's delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A trail's accounts × regions, each with how it is known delivered (none: still open).
    Areas {
        rule: Rule,
        areas: BTreeMap<String, Option<Proof>>,
    },
    /// No area to look in (LookupEvents, Athena, Lake, a folder outside the key layout):
    /// only the clock tells. `source` says which.
    Clock {
        rule: Rule,
        delivered: bool,
        source: &'static str,
    },
    /// `--events`: a saved file holds what it held when it was saved.
    NotJudged,
}

impl Delivery {
    /// Judges each area from the signs seen and the clock at `now`; no area: the clock.
    #[must_use]
    pub fn judge(
        areas: &[Area],
        seen: &Seen,
        rule: Rule,
        now: Timestamp,
        source: &'static str,
    ) -> Self {
        if areas.is_empty() {
            return Self::Clock {
                rule,
                delivered: rule.clock_passed(now),
                source,
            };
        }
        let areas = areas
            .iter()
            .map(|area| {
                let proof = seen
                    .proof(&area.label, &rule)
                    .or_else(|| rule.clock_passed(now).then_some(Proof::Clock));
                (area.label.clone(), proof)
            })
            .collect();
        Self::Areas { rule, areas }
    }

    /// Judges a trail's areas from the log files and digests it listed (keys or paths) and
    /// what a wait saw.
    #[must_use]
    pub fn of_trail(
        areas: &[Area],
        listed: impl IntoIterator<Item = impl AsRef<str>>,
        waited: Option<&Waited>,
        rule: Rule,
        source: &'static str,
    ) -> Self {
        let mut seen = waited.map(|w| w.seen.clone()).unwrap_or_default();
        for name in listed {
            seen.note(name.as_ref());
        }
        Self::judge(areas, &seen, rule, Timestamp::now(), source)
    }

    /// Whether the window is known delivered (or not judged at all).
    #[must_use]
    pub fn delivered(&self) -> bool {
        match self {
            Self::Areas { areas, .. } => areas.values().all(Option::is_some),
            Self::Clock { delivered, .. } => *delivered,
            Self::NotJudged => true,
        }
    }

    /// The areas still open.
    #[must_use]
    pub fn open(&self) -> Vec<&str> {
        match self {
            Self::Areas { areas, .. } => areas
                .iter()
                .filter(|(_, proof)| proof.is_none())
                .map(|(label, _)| label.as_str())
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// A time as the summary writes it: UTC, to the second.
#[must_use]
pub fn time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A duration as `45s`, `30m`, `1h30m`, `2m 5s`.
#[must_use]
pub fn span(duration: SignedDuration) -> String {
    let seconds = duration.as_secs().max(0);
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    let mut out = String::new();
    if hours > 0 {
        let _ = write!(out, "{hours}h");
    }
    if minutes > 0 {
        let _ = write!(out, "{minutes}m");
    }
    if seconds > 0 || out.is_empty() {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{seconds}s");
    }
    out
}

#[cfg(test)]
mod tests;
