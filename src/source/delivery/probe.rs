//! Where `--wait` looks for signs of delivery: the day folders of an area from `--until`
//! plus the margin to now, in an S3 trail bucket (one `ListObjectsV2` per folder, starting
//! after the names of files delivered earlier) or a local copy (a mount, or a copy something
//! else keeps in sync); and which areas a local copy has.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::civil::Date;

use super::super::Scope;
use super::{Area, Probe, Seen};

/// At most this many day folders are looked at after `--until` (the clock closes the window
/// long before, unless `--delivery-slack` is larger).
const DAYS: usize = 8;

/// The UTC days from `from` to `now` (at least `from`'s), at most [`DAYS`].
fn days(from: Timestamp, now: Timestamp) -> Vec<Date> {
    let utc = |t: Timestamp| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
    let (mut day, last) = (utc(from), utc(now.max(from)));
    let mut days = Vec::new();
    while day <= last && days.len() < DAYS {
        days.push(day);
        let Ok(next) = day.tomorrow() else { break };
        day = next;
    }
    days
}

fn folder(area: &Area, kind: &str, day: Date) -> String {
    format!(
        "{}{kind}/{}/{}/",
        area.base,
        area.region,
        day.strftime("%Y/%m/%d")
    )
}

/// An S3 trail bucket.
pub struct Bucket<'a> {
    pub client: &'a aws_sdk_s3::Client,
    pub bucket: &'a str,
}

impl Bucket<'_> {
    /// Up to a page of keys below `prefix`, after `start_after`.
    async fn keys(&self, prefix: &str, start_after: Option<String>) -> Result<Vec<String>, String> {
        let page = self
            .client
            .list_objects_v2()
            .bucket(self.bucket)
            .prefix(prefix)
            .set_start_after(start_after)
            .send()
            .await
            .map_err(|e| format!("listing {prefix}: {}", super::super::describe(&e)))?;
        Ok(page
            .contents()
            .iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect())
    }
}

impl Probe for Bucket<'_> {
    async fn look(
        &self,
        area: &Area,
        from: Timestamp,
        now: Timestamp,
        digests: bool,
    ) -> Result<Seen, String> {
        let mut seen = Seen::default();
        for day in days(from, now) {
            let logs = folder(area, "CloudTrail", day);
            // Keys sort by the delivery time in their names: start at the first that can
            // be late enough, so one page answers however busy the day was.
            let start = format!(
                "{logs}{}_CloudTrail_{}_{}",
                area.account,
                area.region,
                from.strftime("%Y%m%dT%H%M")
            );
            for key in self.keys(&logs, Some(start)).await? {
                seen.note(&key);
            }
            if digests {
                for key in self
                    .keys(&folder(area, "CloudTrail-Digest", day), None)
                    .await?
                {
                    seen.note(&key);
                }
            }
        }
        Ok(seen)
    }
}

/// A local copy: areas' bases are folders.
pub struct Folder;

impl Probe for Folder {
    async fn look(
        &self,
        area: &Area,
        from: Timestamp,
        now: Timestamp,
        digests: bool,
    ) -> Result<Seen, String> {
        let mut seen = Seen::default();
        let mut kinds = vec!["CloudTrail"];
        if digests {
            kinds.push("CloudTrail-Digest");
        }
        for day in days(from, now) {
            for kind in &kinds {
                let dir = folder(area, kind, day);
                let entries = match std::fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(error) => return Err(format!("{dir}: {error}")),
                };
                for entry in entries.filter_map(Result::ok) {
                    seen.note(&entry.path().to_string_lossy());
                }
            }
        }
        Ok(seen)
    }
}

/// The accounts × regions of a local copy in the scope: every `REGION` folder of an
/// `…AWSLogs/[o-org/]ACCOUNT/CloudTrail/` the scope's accounts and regions allow. A tree
/// outside the key layout has none.
#[must_use]
pub fn local_areas(root: &Path, scope: &Scope) -> Vec<Area> {
    let mut areas = Vec::new();
    find(
        root,
        &mut Vec::new(),
        scope,
        &mut areas,
        &mut HashSet::new(),
    );
    areas.sort();
    areas
}

fn find(
    dir: &Path,
    parts: &mut Vec<String>,
    scope: &Scope,
    areas: &mut Vec<Area>,
    visited: &mut HashSet<PathBuf>,
) {
    let Some(entries) = crate::source::dir::first_visit(dir, visited) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        let under_logs = parts.iter().any(|p| p == "AWSLogs");
        if name == "CloudTrail" && under_logs {
            for region in std::fs::read_dir(&path)
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
            {
                let region_name = region.file_name().to_string_lossy().into_owned();
                if !region.path().is_dir() {
                    continue;
                }
                let mut view: Vec<&str> = parts.iter().map(String::as_str).collect();
                view.extend(["CloudTrail", region_name.as_str()]);
                if scope.folder(&view).is_ok() {
                    areas.push(Area::new(&format!("{}/", dir.display()), &region_name));
                }
            }
            continue;
        }
        // Only the way down to `CloudTrail/`: digests, Insights and other folders of an
        // account are not walked.
        if under_logs && (name == "CloudTrail-Digest" || name == "CloudTrail-Insight") {
            continue;
        }
        parts.push(name);
        find(&path, parts, scope, areas, visited);
        parts.pop();
    }
}
