//! Maps every distinct call and gathers, per action, the evidence behind it: which events
//! produced it, how often, when, in which regions, and whether any call failed.

use std::collections::{BTreeMap, BTreeSet};

use crate::iam::{Mapper, Mapping, Reason, Unmapped};
use crate::resource::TypedArn;
use crate::scan::{Calls, Seen};

/// Why one action is needed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionEvidence {
    pub count: u64,
    /// Event name (as recorded) → count.
    pub events: BTreeMap<String, u64>,
    pub first: String,
    pub last: String,
    pub regions: BTreeSet<String>,
    pub principals: BTreeSet<String>,
    pub sessions: BTreeSet<String>,
    pub errors: BTreeMap<String, u64>,
    pub reasons: BTreeSet<Reason>,
    /// The concrete resources the calls named, of the types this action takes.
    pub resources: BTreeSet<TypedArn>,
    /// For `iam:PassRole`: the service principals the roles were passed to.
    pub passed_to: BTreeSet<String>,
}

/// A call that could not be mapped with confidence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct UnmappedCall {
    pub source: String,
    pub name: String,
    pub reason: Unmapped,
}

/// The map stage's result over a whole run.
#[derive(Debug, Default)]
pub struct Discovery {
    pub actions: BTreeMap<String, ActionEvidence>,
    pub unmapped: BTreeMap<UnmappedCall, u64>,
    /// Calls that need no permission: `prefix:Name` → count.
    pub free: BTreeMap<String, u64>,
}

impl Discovery {
    /// Maps each distinct call once and folds its evidence into the actions it needs.
    #[must_use]
    pub fn from_calls(calls: &Calls, mapper: &Mapper) -> Self {
        let mut discovery = Self::default();
        for (call, seen) in calls {
            // Calls are kept without their resources; map each with all it named.
            let call = crate::iam::Call {
                arns: seen.arns.iter().cloned().collect(),
                ..call.clone()
            };
            match mapper.map(&call) {
                Mapping::Actions(grants) => {
                    for grant in grants {
                        let evidence = discovery.actions.entry(grant.action).or_default();
                        evidence.add(&call.name, seen);
                        evidence.reasons.insert(grant.reason);
                        evidence.resources.extend(grant.resources);
                        evidence.passed_to.extend(grant.passed_to);
                    }
                }
                Mapping::Free => {
                    let prefix = mapper.prefix_of(&call.source).unwrap_or(&call.source);
                    *discovery
                        .free
                        .entry(format!("{prefix}:{}", call.name))
                        .or_default() += seen.count;
                }
                Mapping::Unmapped(reason) => {
                    let key = UnmappedCall {
                        source: call.source.to_string(),
                        name: call.name.to_string(),
                        reason,
                    };
                    *discovery.unmapped.entry(key).or_default() += seen.count;
                }
            }
        }
        discovery
    }

    /// Actions any of whose calls failed.
    pub fn failed(&self) -> impl Iterator<Item = (&String, &ActionEvidence)> {
        self.actions.iter().filter(|(_, e)| !e.errors.is_empty())
    }
}

impl ActionEvidence {
    fn add(&mut self, event_name: &str, seen: &Seen) {
        if self.count == 0 || seen.first < self.first {
            self.first.clone_from(&seen.first);
        }
        if self.count == 0 || seen.last > self.last {
            self.last.clone_from(&seen.last);
        }
        self.count += seen.count;
        *self.events.entry(event_name.to_owned()).or_default() += seen.count;
        self.regions.extend(seen.regions.iter().cloned());
        self.principals.extend(seen.principals.iter().cloned());
        self.sessions.extend(seen.sessions.iter().cloned());
        for (code, n) in &seen.errors {
            *self.errors.entry(code.clone()).or_default() += n;
        }
    }
}
