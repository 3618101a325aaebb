//! What the trail shows of the life of the resources a run created: the tags they were
//! given (on create or later), changed and taken, the aliases that named them, and when each
//! call touched them. A condition (`aws:ResourceTag/…`, `kms:ResourceAliases`) may stand in
//! for a generated identifier only where this shows it held for every call.

mod observe;

use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use observe::{AliasRule, Found, Observed, Table, TagShapes, Watch};

use super::TypedArn;

/// An event time in seconds since the Unix epoch (CloudTrail's times have one-second
/// resolution; any offset they are written with is taken into account).
pub type Time = i64;

/// The time of an event, or `None` if it does not parse (such an event proves nothing).
#[must_use]
pub fn time_of(text: &str) -> Option<Time> {
    text.parse::<jiff::Timestamp>()
        .ok()
        .map(jiff::Timestamp::as_second)
}

/// A generated identifier: (service prefix, value), as in [`super::generated::Created`].
pub type Id = (Box<str>, Box<str>);

/// Tag key → value.
pub type Tags = BTreeMap<Box<str>, Box<str>>;

/// A change to created resources that one call made.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// A creating call: the tags its request gave each identifier its response named.
    Created { ids: Vec<(Id, Tags)> },
    /// Tags added to (or changed on) existing resources.
    Tagged { ids: Vec<Id>, tags: Tags },
    /// Tags taken from resources (which, is not needed: no tag of theirs is relied on).
    Untagged { ids: Vec<Id> },
    /// A tagging or untagging call whose resource the trail does not tie to an identifier
    /// (named by name, not ARN): it may be any of the service's, so the tags it names (all,
    /// for `None`) are relied on for none of them after it.
    Unmatched {
        service: Box<str>,
        keys: Option<Vec<Box<str>>>,
    },
    /// An alias made to name a resource (or moved to it).
    Aliased { id: Id, alias: Box<str> },
    /// An alias deleted (or moved away).
    Unaliased { alias: Box<str> },
}

/// A change and the call that made it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dated {
    pub time: Time,
    pub event: Box<str>,
    pub change: Change,
}

/// First and last time calls of one event name named a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub first: Time,
    pub last: Time,
}

/// The changes and spans of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lifecycle {
    pub changes: Vec<Dated>,
    /// Event name → resource → when calls of that name named it (nested, so a call is
    /// noted without allocating a key once its name and resource were seen).
    /// Hashed with foldhash, as the calls are (std's SipHash is slower on these keys).
    pub spans: foldhash::HashMap<Box<str>, foldhash::HashMap<TypedArn, Span>>,
}

impl Lifecycle {
    /// Notes that a call named `arn` at `time`.
    pub fn touch(&mut self, event: &str, arn: &TypedArn, time: Time) {
        self.widen(
            event,
            arn,
            Span {
                first: time,
                last: time,
            },
        );
    }

    fn widen(&mut self, event: &str, arn: &TypedArn, more: Span) {
        let by_arn = match self.spans.get_mut(event) {
            Some(by_arn) => by_arn,
            None => self.spans.entry(event.into()).or_default(),
        };
        match by_arn.get_mut(arn) {
            Some(span) => {
                span.first = span.first.min(more.first);
                span.last = span.last.max(more.last);
            }
            None => {
                by_arn.insert(arn.clone(), more);
            }
        }
    }

    /// When calls of `event` named `arn`.
    #[must_use]
    pub fn span(&self, event: &str, arn: &TypedArn) -> Option<&Span> {
        self.spans.get(event)?.get(arn)
    }

    /// Folds another worker's findings in.
    pub fn merge(&mut self, other: Self) {
        self.changes.extend(other.changes);
        for (event, by_arn) in other.spans {
            for (arn, span) in by_arn {
                self.widen(&event, &arn, span);
            }
        }
    }

    /// The story of each identifier, in time order (same-time changes in a fixed order),
    /// with each service's delay before a changed tag or alias is relied on.
    #[must_use]
    pub fn histories(&self, table: &Table) -> Histories {
        let mut changes: Vec<&Dated> = self.changes.iter().collect();
        changes.sort();
        let mut histories = Histories::default();
        let mut aliases: HashMap<&str, Id> = HashMap::new();
        for dated in changes {
            let time = dated.time;
            match &dated.change {
                Change::Created { ids } => {
                    for (id, tags) in ids {
                        let history = histories.of.entry(id.clone()).or_default();
                        history.created.push((time, dated.event.clone()));
                        for (key, value) in tags {
                            history.tags.push(Held::at_creation(key, value, time));
                        }
                    }
                }
                Change::Tagged { ids, tags } => {
                    for id in ids {
                        let settled = time + table.delay(&id.0);
                        let history = histories.of.entry(id.clone()).or_default();
                        for (key, value) in tags {
                            history.retag(key, value, time, settled);
                        }
                    }
                }
                Change::Untagged { ids } => {
                    for id in ids {
                        histories
                            .of
                            .entry(id.clone())
                            .or_default()
                            .end_tags(None, time);
                    }
                }
                Change::Unmatched { service, keys } => {
                    for history in histories
                        .of
                        .iter_mut()
                        .filter(|(id, _)| id.0 == *service)
                        .map(|(_, h)| h)
                    {
                        history.end_tags(keys.as_deref(), time);
                    }
                }
                Change::Aliased { id, alias } => {
                    end_alias(&mut histories, &mut aliases, alias, time);
                    aliases.insert(alias, id.clone());
                    let settled = time + table.delay(&id.0);
                    histories
                        .of
                        .entry(id.clone())
                        .or_default()
                        .aliases
                        .push(Held {
                            key: alias.clone(),
                            value: alias.clone(),
                            from: time,
                            settled,
                            at_creation: false,
                            until: None,
                        });
                }
                Change::Unaliased { alias } => {
                    end_alias(&mut histories, &mut aliases, alias, time);
                }
            }
        }
        histories
    }
}

/// Ends the alias's current hold on the identifier it names.
fn end_alias<'a>(
    histories: &mut Histories,
    aliases: &mut HashMap<&'a str, Id>,
    alias: &'a str,
    time: Time,
) {
    if let Some(id) = aliases.remove(alias)
        && let Some(history) = histories.of.get_mut(&id)
    {
        for held in history
            .aliases
            .iter_mut()
            .filter(|h| &*h.key == alias && h.until.is_none())
        {
            held.until = Some(time);
        }
    }
}

/// A tag (or alias) an identifier carried from one time to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub key: Box<str>,
    pub value: Box<str>,
    pub from: Time,
    /// From when authorisation is sure to see it (`from` plus the service's delay).
    pub settled: Time,
    /// Given by the creating call: it holds for every later call that names the resource,
    /// even one in the same second (nothing can name an identifier before it exists).
    pub at_creation: bool,
    pub until: Option<Time>,
}

impl Held {
    fn at_creation(key: &str, value: &str, time: Time) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
            from: time,
            settled: time,
            at_creation: true,
            until: None,
        }
    }

    /// Whether it held for every call from `first` to `last`. Calls in the same second as a
    /// change cannot be ordered against it, so they do not count as covered.
    fn covers(&self, span: &Span) -> bool {
        let started = if self.at_creation {
            self.from <= span.first
        } else {
            self.settled < span.first
        };
        started && self.until.is_none_or(|until| span.last < until)
    }
}

/// One identifier's story.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// When it was created, and by which event.
    pub created: Vec<(Time, Box<str>)>,
    pub tags: Vec<Held>,
    pub aliases: Vec<Held>,
}

impl History {
    /// A tagging call sets `key`: the value it had ends. Two values set in the same second
    /// cannot be ordered: then neither is relied on.
    fn retag(&mut self, key: &str, value: &str, time: Time, settled: Time) {
        // The same value again changes nothing.
        if self
            .tags
            .iter()
            .any(|h| &*h.key == key && h.until.is_none() && &*h.value == value)
        {
            return;
        }
        let mut conflict = false;
        for held in self
            .tags
            .iter_mut()
            .filter(|h| &*h.key == key && h.until.is_none())
        {
            conflict |= held.from == time && !held.at_creation && &*held.value != value;
            held.until = Some(time);
        }
        if !conflict {
            self.tags.push(Held {
                key: key.into(),
                value: value.into(),
                from: time,
                settled,
                at_creation: false,
                until: None,
            });
        }
    }

    /// Ends the tags named (all, for `None`) at `time`.
    fn end_tags(&mut self, keys: Option<&[Box<str>]>, time: Time) {
        for held in self
            .tags
            .iter_mut()
            .filter(|h| h.until.is_none() && keys.is_none_or(|keys| keys.contains(&h.key)))
        {
            held.until = Some(time);
        }
    }

    /// Whether an event of this name created it.
    #[must_use]
    pub fn created_by(&self, event: &str) -> bool {
        self.created.iter().any(|(_, e)| &**e == event)
    }

    /// The tags it carried for every call of `span`.
    #[must_use]
    pub fn tags_over(&self, span: &Span) -> Tags {
        let mut out = Tags::new();
        for held in self.tags.iter().filter(|h| h.covers(span)) {
            out.insert(held.key.clone(), held.value.clone());
        }
        out
    }

    /// The tags its creating call gave it.
    #[must_use]
    pub fn creation_tags(&self) -> Tags {
        self.tags
            .iter()
            .filter(|h| h.at_creation)
            .map(|h| (h.key.clone(), h.value.clone()))
            .collect()
    }

    /// The aliases that named it for every call of `span`.
    #[must_use]
    pub fn aliases_over(&self, span: &Span) -> BTreeSet<Box<str>> {
        self.aliases
            .iter()
            .filter(|h| h.covers(span))
            .map(|h| h.key.clone())
            .collect()
    }
}

/// Every identifier's story.
#[derive(Debug, Clone, Default)]
pub struct Histories {
    pub of: BTreeMap<Id, History>,
}

#[cfg(test)]
mod tests;
