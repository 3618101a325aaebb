//! The trail bucket both readers of it share, the log files' ([`super::s3`]) and the digest
//! files' ([`super::digest`]): where it is and how to read it ([`Options`]), and listing its
//! keys, by folder and by the days of the window.

use std::collections::BTreeSet;
use std::path::PathBuf;

use aws_sdk_s3::Client;
use jiff::civil::Date;

use super::{Scope, describe};

/// Where the trail is and how to read it.
#[derive(Debug, Clone)]
pub struct Options {
    pub bucket: String,
    /// Key prefix before `AWSLogs/` (with or without a trailing `/`).
    pub prefix: String,
    pub org_id: Option<String>,
    pub accounts: BTreeSet<String>,
    /// Empty: every region listed under each account.
    pub regions: BTreeSet<String>,
    pub scope: Scope,
    pub concurrency: usize,
    pub cache_dir: Option<PathBuf>,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    /// The region to start from when the bucket's own cannot be asked (`--endpoint-url`).
    pub region: Option<String>,
    /// Also fetch the window's digest files (`--verify-digests`) ...
    pub verify_digests: bool,
    /// ... and CloudTrail's public keys for them (no `--public-keys` file given).
    pub list_public_keys: bool,
    /// A progress line on stderr while listing, when it is a terminal.
    pub progress: bool,
    /// `--wait`: wait for the window to be delivered before listing it.
    pub wait: Option<(super::delivery::Rule, super::delivery::Wait)>,
}

/// One object to fetch.
#[derive(Debug, Clone)]
pub(super) struct Object {
    pub(super) key: String,
    pub(super) size: u64,
    pub(super) etag: String,
}

pub(super) fn join(prefix: &str, part: &str) -> String {
    if prefix.is_empty() || prefix.ends_with('/') {
        format!("{prefix}{part}")
    } else {
        format!("{prefix}/{part}")
    }
}

/// Common prefixes directly below `prefix`, as their last path segment.
pub(super) async fn folders(
    client: &Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, String> {
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .delimiter("/")
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("listing {prefix}: {}", describe(&e)))?;
        for common in page.common_prefixes() {
            if let Some(name) = common
                .prefix()
                .and_then(|p| p.strip_prefix(prefix))
                .map(|p| p.trim_end_matches('/'))
            {
                found.push(name.to_owned());
            }
        }
    }
    Ok(found)
}

/// Every object below `prefix`.
pub(super) async fn objects(
    client: &Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<Object>, String> {
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("listing {prefix}: {}", describe(&e)))?;
        for object in page.contents() {
            if let Some(key) = object.key() {
                found.push(Object {
                    key: key.to_owned(),
                    size: object
                        .size()
                        .and_then(|s| u64::try_from(s).ok())
                        .unwrap_or(0),
                    etag: object
                        .e_tag()
                        .unwrap_or_default()
                        .trim_matches('"')
                        .to_owned(),
                });
            }
        }
    }
    Ok(found)
}

/// The keys below `prefix`.
pub(super) async fn keys(
    client: &Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, String> {
    Ok(objects(client, bucket, prefix)
        .await?
        .into_iter()
        .map(|o| o.key)
        .collect())
}

/// The days whose folders can hold files delivered in the scope's window.
pub(super) fn days(scope: &Scope) -> Option<Vec<Date>> {
    let utc = |t: jiff::Timestamp| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let (from, until) = (utc(scope.delivered_from?), utc(scope.delivered_until?));
    let mut days = Vec::new();
    let mut day = from;
    while day <= until && days.len() < 3660 {
        days.push(day);
        day = day.tomorrow().ok()?;
    }
    Some(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_lists_only_its_days() {
        let scope = Scope::new(
            Some("2026-11-20T23:50:00Z".parse().unwrap()),
            Some("2026-11-21T00:10:00Z".parse().unwrap()),
            jiff::SignedDuration::from_mins(30),
            &BTreeSet::new(),
            &BTreeSet::new(),
            "us-east-1",
        );
        let days: Vec<String> = days(&scope)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(days, ["2026-11-20", "2026-11-21"]);
        assert!(super::days(&Scope::default()).is_none());
    }

    #[test]
    fn prefixes_join_with_one_slash() {
        assert_eq!(join("", "AWSLogs/"), "AWSLogs/");
        assert_eq!(join("team", "AWSLogs/"), "team/AWSLogs/");
        assert_eq!(join("team/", "AWSLogs/"), "team/AWSLogs/");
    }
}
