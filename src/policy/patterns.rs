//! Applies the collapse (`crate::resource::collapse`) to one statement's resources, type by
//! type, and records each one: the pattern, how many ARNs it stands for, and some of them.

use std::collections::{BTreeMap, BTreeSet};

use crate::resource::Locator;
use crate::resource::collapse::{self, Collapsing, Level};

/// Concrete ARNs a collapse lists as examples.
const SAMPLE: usize = crate::scan::EXAMPLES;

/// The longest ARN AWS's APIs take as a parameter (IAM's `arnType`: 20 to 2,048
/// characters). A longer "resource" came from a request no service would have accepted.
const LONGEST_ARN: usize = 2048;

/// One collapse of an action's resources of one type into one pattern.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Collapse {
    pub pattern: String,
    pub level: Level,
    pub action: String,
    pub kind: String,
    /// How many resources it covers (ARNs, and what patterns the scan collapsed stood for).
    pub count: u64,
    /// Whether `count` includes an estimate (the scan's collapsed nodes).
    pub estimated: bool,
    /// The first concrete ARNs it covers, in sort order.
    pub sample: Vec<String>,
}

impl Collapse {
    /// `16736 object ARNs` or `about 16700 object ARNs`.
    #[must_use]
    pub fn counted(&self) -> String {
        let about = if self.estimated { "about " } else { "" };
        format!("{about}{} {} ARNs", self.count, self.kind)
    }
}

/// What one generalised resource of an action stands for.
#[derive(Debug, Clone, Default)]
pub(super) struct Origin {
    pub service: String,
    pub kind: String,
    pub count: u64,
    pub estimated: bool,
    pub sample: BTreeSet<String>,
}

impl Origin {
    pub fn add(&mut self, arn: &str, scanned: Option<&crate::evidence::Stands>) {
        if let Some(stands) = scanned {
            self.count += stands.count;
            self.estimated = true;
            self.sample.extend(stands.sample.iter().cloned());
        } else {
            self.count += 1;
            self.sample.insert(arn.to_owned());
        }
        while self.sample.len() > SAMPLE {
            self.sample.pop_last();
        }
    }
}

/// Collapses each resource type of `resources` past `collapsing.max`, noting each new
/// pattern in `out` (and each pattern the scan collapsed, kept as it is). Resources of unknown origin (`*`) are kept as they are.
pub(super) fn shrink(
    action: &str,
    resources: BTreeSet<String>,
    origins: &BTreeMap<String, Origin>,
    collapsing: Collapsing,
    locator: Locator,
    out: &mut Vec<Collapse>,
) -> BTreeSet<String> {
    let Some(max) = collapsing.max else {
        return resources;
    };
    let mut by_kind: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
    let mut kept = BTreeSet::new();
    for resource in resources {
        match origins.get(&resource) {
            Some(origin) => {
                by_kind
                    .entry((&origin.service, &origin.kind))
                    .or_default()
                    .insert(resource);
            }
            None => {
                kept.insert(resource);
            }
        }
    }
    for ((service, kind), arns) in by_kind {
        // The further steps apply only where the narrowest patterns stay over `max` (more
        // roots than that: buckets, accounts, regions), and at the last step to a resource
        // longer than any ARN AWS takes, which no document could hold.
        let (patterns, level) =
            if collapsing.level == Level::Type && arns.iter().any(|arn| arn.len() > LONGEST_ARN) {
                let star = locator.starred(service, kind);
                (BTreeSet::from([star]), Level::Type)
            } else if arns.len() <= max {
                (arns.clone(), Level::Narrowest)
            } else {
                let narrow = collapse::narrowest(&arns, max);
                if narrow.len() <= max || collapsing.level == Level::Narrowest {
                    (narrow, Level::Narrowest)
                } else {
                    let star = locator.starred(service, kind);
                    let level = collapsing.level;
                    (collapse::collapse(&narrow, max, level, &star), level)
                }
            };
        for pattern in &patterns {
            // A resource kept as it is needs no note, unless the scan collapsed it.
            if arns.contains(pattern) && origins.get(pattern).is_none_or(|o| !o.estimated) {
                continue;
            }
            let mut record = Collapse {
                pattern: pattern.clone(),
                level: if arns.contains(pattern) {
                    Level::Narrowest
                } else {
                    level
                },
                action: action.to_owned(),
                kind: kind.to_owned(),
                count: 0,
                estimated: false,
                sample: Vec::new(),
            };
            let mut sample = BTreeSet::new();
            for arn in arns.iter().filter(|a| collapse::covers(pattern, a)) {
                if let Some(origin) = origins.get(arn) {
                    record.count += origin.count;
                    record.estimated |= origin.estimated;
                    sample.extend(origin.sample.iter().cloned());
                }
            }
            record.sample = sample.into_iter().take(SAMPLE).collect();
            out.push(record);
        }
        kept.extend(patterns);
    }
    kept
}
