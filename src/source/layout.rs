//! The CloudTrail key layout, `[prefix/]AWSLogs/[o-org/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/`
//! with files named `ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_UNIQUE.json.gz`, used to open
//! only the accounts, regions, days and files that can hold events of the window.

// Everything here reads untrusted input: no slicing that can panic.
#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::collections::BTreeSet;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

/// Why an entry is passed over without being read. None of these is a loss of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Ignored {
    /// `CloudTrail-Digest` integrity files.
    Digest,
    /// `CloudTrail-Insight` files hold Insights events, not API calls.
    Insight,
    /// Files that are not `.json`/`.json.gz` (or folders beside `CloudTrail` in the layout).
    NotLog,
    /// Outside the window, account or region filters, judged by the key layout.
    Pruned,
}

impl Ignored {
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Digest => "CloudTrail digest files",
            Self::Insight => "CloudTrail Insights files",
            Self::NotLog => "not log files",
            Self::Pruned => "outside the window, accounts or regions (by key layout)",
        }
    }
}

/// What the filters allow, in terms the key layout can answer.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Earliest and latest delivery time of a log file that can hold a matching event.
    pub delivered_from: Option<Timestamp>,
    pub delivered_until: Option<Timestamp>,
    pub accounts: BTreeSet<String>,
    /// Empty: all regions.
    pub regions: BTreeSet<String>,
}

/// How early a file may be named before the events it holds (clock skew margin).
const EARLY: SignedDuration = SignedDuration::from_mins(5);

impl Scope {
    /// The scope for an event window; `slack` is how late a file may be delivered.
    #[must_use]
    pub fn new(
        since: Option<Timestamp>,
        until: Option<Timestamp>,
        slack: SignedDuration,
        accounts: &BTreeSet<String>,
        regions: &BTreeSet<String>,
        global_region: &str,
    ) -> Self {
        let mut regions = regions.clone();
        if !regions.is_empty() {
            // Global services (IAM, CloudFront, Route 53) record their calls here.
            regions.insert(global_region.to_owned());
        }
        Self {
            delivered_from: since.and_then(|t| t.checked_sub(EARLY).ok()),
            delivered_until: until.and_then(|t| t.checked_add(slack).ok()),
            accounts: accounts.clone(),
            regions,
        }
    }

    /// Whether a folder (its path below the root, split on `/`) can hold wanted logs.
    pub fn folder(&self, parts: &[&str]) -> Result<(), Ignored> {
        let Some(at) = parts.iter().position(|p| *p == "AWSLogs") else {
            return Ok(());
        };
        let mut rest = parts.get(at + 1..).unwrap_or_default();
        if rest.first().is_some_and(|p| p.starts_with("o-")) {
            rest = rest.get(1..).unwrap_or_default();
        }
        let Some((account, rest)) = rest.split_first() else {
            return Ok(());
        };
        if !self.accounts.is_empty() && is_account(account) && !self.accounts.contains(*account) {
            return Err(Ignored::Pruned);
        }
        let Some((kind, rest)) = rest.split_first() else {
            return Ok(());
        };
        match *kind {
            "CloudTrail" => {}
            "CloudTrail-Digest" => return Err(Ignored::Digest),
            "CloudTrail-Insight" => return Err(Ignored::Insight),
            _ if is_account(account) => return Err(Ignored::NotLog),
            _ => return Ok(()),
        }
        let Some((region, date)) = rest.split_first() else {
            return Ok(());
        };
        if !self.regions.is_empty() && !self.regions.contains(*region) {
            return Err(Ignored::Pruned);
        }
        if self.date_outside(date) {
            return Err(Ignored::Pruned);
        }
        Ok(())
    }

    /// Whether a file should be read, judged by its name.
    pub fn file(&self, name: &str) -> Result<(), Ignored> {
        if name.contains("_CloudTrail-Digest_") {
            return Err(Ignored::Digest);
        }
        if name.contains("_CloudTrail-Insight_") {
            return Err(Ignored::Insight);
        }
        let lower = name.to_ascii_lowercase();
        if !([".json.gz", ".json", ".jsonl", ".ndjson", ".gz"]
            .iter()
            .any(|ext| lower.ends_with(ext)))
        {
            return Err(Ignored::NotLog);
        }
        if let Some(delivered) = delivery_time(name)
            && (self.delivered_from.is_some_and(|from| delivered < from)
                || self.delivered_until.is_some_and(|until| delivered > until))
        {
            return Err(Ignored::Pruned);
        }
        Ok(())
    }

    /// `YYYY`, `YYYY/MM` or `YYYY/MM/DD` entirely outside the delivery window.
    fn date_outside(&self, parts: &[&str]) -> bool {
        let numbers: Vec<i16> = parts.iter().take(3).map_while(|p| p.parse().ok()).collect();
        let (Some(from), Some(until)) = (
            self.delivered_from.map(utc_date),
            self.delivered_until.map(utc_date),
        ) else {
            // One open end: compare against the end that exists.
            return self.open_date_outside(&numbers);
        };
        let key = |d: Date| [d.year(), i16::from(d.month()), i16::from(d.day())];
        let n = numbers.len();
        let (from, until) = (key(from), key(until));
        let (Some(from), Some(until)) = (from.get(..n), until.get(..n)) else {
            return false;
        };
        n > 0 && (numbers.as_slice() < from || numbers.as_slice() > until)
    }

    fn open_date_outside(&self, numbers: &[i16]) -> bool {
        let key = |d: Date| [d.year(), i16::from(d.month()), i16::from(d.day())];
        let n = numbers.len();
        if n == 0 {
            return false;
        }
        if let Some(from) = self.delivered_from.map(utc_date) {
            return key(from).get(..n).is_some_and(|from| numbers < from);
        }
        if let Some(until) = self.delivered_until.map(utc_date) {
            return key(until).get(..n).is_some_and(|until| numbers > until);
        }
        false
    }
}

fn utc_date(at: Timestamp) -> Date {
    at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date()
}

fn is_account(part: &str) -> bool {
    part.len() == 12 && part.bytes().all(|b| b.is_ascii_digit())
}

/// The delivery time in a log file name: `…_CloudTrail_REGION_20261120T1005Z_….json.gz`.
#[must_use]
pub fn delivery_time(name: &str) -> Option<Timestamp> {
    let mut parts = name.split('_');
    parts.find(|p| *p == "CloudTrail")?;
    let _region = parts.next()?;
    let stamp = parts.next()?;
    let b = stamp.as_bytes();
    if b.len() != 14 || b.get(8) != Some(&b'T') || b.get(13) != Some(&b'Z') {
        return None;
    }
    let text = format!(
        "{}-{}-{}T{}:{}:00Z",
        stamp.get(0..4)?,
        stamp.get(4..6)?,
        stamp.get(6..8)?,
        stamp.get(9..11)?,
        stamp.get(11..13)?
    );
    text.parse().ok()
}

/// The end time in a digest file's name,
/// `ACCOUNT_CloudTrail-Digest_REGION_TRAIL_REGION_YYYYMMDDTHHMMSSZ.json.gz` (also with a
/// `_backfill` suffix before `.json.gz`).
#[must_use]
pub fn digest_time(name: &str) -> Option<Timestamp> {
    let stem = name.strip_suffix(".json.gz")?;
    let stem = stem.strip_suffix("_backfill").unwrap_or(stem);
    let (_, stamp) = stem.rsplit_once('_')?;
    let b = stamp.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let text = format!(
        "{}-{}-{}T{}:{}:{}Z",
        stamp.get(0..4)?,
        stamp.get(4..6)?,
        stamp.get(6..8)?,
        stamp.get(9..11)?,
        stamp.get(11..13)?,
        stamp.get(13..15)?
    );
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_the_end_time() {
        assert_eq!(
            digest_time(
                "111122223333_CloudTrail-Digest_us-east-2_my_trail_us-east-2_20150817T150131Z.json.gz"
            ),
            Some("2015-08-17T15:01:31Z".parse().unwrap())
        );
        assert_eq!(
            digest_time("1_CloudTrail-Digest_r_t_r_20150817T150131Z_backfill.json.gz"),
            Some("2015-08-17T15:01:31Z".parse().unwrap())
        );
        assert_eq!(
            digest_time("1_CloudTrail-Digest_r_t_r_20150817T1501Z.json.gz"),
            None
        );
    }

    use test_case::test_case;

    fn scope(regions: &[&str], accounts: &[&str]) -> Scope {
        Scope::new(
            Some("2026-11-20T10:00:00Z".parse().unwrap()),
            Some("2026-11-20T10:40:00Z".parse().unwrap()),
            SignedDuration::from_mins(30),
            &accounts.iter().map(|s| (*s).to_owned()).collect(),
            &regions.iter().map(|s| (*s).to_owned()).collect(),
            "us-east-1",
        )
    }

    #[test_case("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/20", Ok(()))]
    #[test_case(
        "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/19",
        Err(Ignored::Pruned)
    )]
    #[test_case(
        "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/10",
        Err(Ignored::Pruned)
    )]
    #[test_case("AWSLogs/111122223333/CloudTrail/eu-west-1/2025", Err(Ignored::Pruned))]
    #[test_case("AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11", Ok(()))]
    #[test_case("team/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/11/20", Ok(()))]
    #[test_case(
        "AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/11/21",
        Err(Ignored::Pruned)
    )]
    #[test_case("AWSLogs/111122223333/CloudTrail-Digest", Err(Ignored::Digest))]
    #[test_case("AWSLogs/111122223333/CloudTrail-Insight", Err(Ignored::Insight))]
    #[test_case("AWSLogs/111122223333/Config", Err(Ignored::NotLog))]
    #[test_case("some/other/tree", Ok(()))]
    fn folders(path: &str, expected: Result<(), Ignored>) {
        let parts: Vec<&str> = path.split('/').collect();
        assert_eq!(scope(&[], &[]).folder(&parts), expected);
    }

    #[test]
    fn region_and_account_filters_prune_folders_but_keep_the_global_region() {
        let s = scope(&["eu-west-1"], &["111122223333"]);
        let at = |p: &str| s.folder(&p.split('/').collect::<Vec<_>>());
        assert_eq!(at("AWSLogs/111122223333/CloudTrail/eu-west-1"), Ok(()));
        assert_eq!(at("AWSLogs/111122223333/CloudTrail/us-east-1"), Ok(()));
        assert_eq!(
            at("AWSLogs/111122223333/CloudTrail/ap-south-1"),
            Err(Ignored::Pruned)
        );
        assert_eq!(at("AWSLogs/444455556666/CloudTrail"), Err(Ignored::Pruned));
    }

    #[test_case("111122223333_CloudTrail_eu-west-1_20261120T1015Z_abc.json.gz", Ok(()))]
    #[test_case("111122223333_CloudTrail_eu-west-1_20261120T1105Z_abc.json.gz", Ok(()))]
    #[test_case(
        "111122223333_CloudTrail_eu-west-1_20261120T1111Z_abc.json.gz",
        Err(Ignored::Pruned)
    )]
    #[test_case(
        "111122223333_CloudTrail_eu-west-1_20261120T0950Z_abc.json.gz",
        Err(Ignored::Pruned)
    )]
    #[test_case(
        "111122223333_CloudTrail-Digest_eu-west-1_x_20261120T1015Z.json.gz",
        Err(Ignored::Digest)
    )]
    #[test_case("events.json", Ok(()))]
    #[test_case("notes.txt", Err(Ignored::NotLog))]
    #[test_case(".DS_Store", Err(Ignored::NotLog))]
    fn files(name: &str, expected: Result<(), Ignored>) {
        assert_eq!(scope(&[], &[]).file(name), expected);
    }

    #[test]
    fn an_open_window_prunes_on_its_one_end() {
        let s = Scope::new(
            Some("2026-11-20T10:00:00Z".parse().unwrap()),
            None,
            SignedDuration::ZERO,
            &BTreeSet::new(),
            &BTreeSet::new(),
            "us-east-1",
        );
        let at = |p: &str| s.folder(&p.split('/').collect::<Vec<_>>());
        assert_eq!(
            at("AWSLogs/111122223333/CloudTrail/x/2026/11/19"),
            Err(Ignored::Pruned)
        );
        assert_eq!(at("AWSLogs/111122223333/CloudTrail/x/2027/01/01"), Ok(()));
    }
}
