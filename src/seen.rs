//! The evidence of one distinct call, as the scan, the query rows and the denial tally keep
//! it: counts, first and last time, regions, principals, example sessions, and the resources
//! named as a capped prefix tree. Below every stage that keeps calls, so each can hold one.

use std::collections::{BTreeMap, BTreeSet};

use crate::parse::Event;
use crate::resource::TypedArn;
use crate::resource::tree::Resources;

/// Evidence for one distinct call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    pub count: u64,
    /// Error code → count, for calls that failed (they still count: the role attempted them).
    pub errors: BTreeMap<String, u64>,
    pub first: String,
    pub last: String,
    pub regions: BTreeSet<String>,
    /// Session issuer (role) or caller ARN.
    pub principals: BTreeSet<String>,
    /// Role session names: the [`EXAMPLES`] first in sort order (sessions are often named
    /// per run, so they are examples, not a list).
    pub sessions: BTreeSet<String>,
    /// Services that made the call with the principal's credentials (`invokedBy`).
    pub via: BTreeSet<String>,
    /// The resources the calls named, per resource type, as a capped prefix tree. Calls are
    /// aggregated without their resources (a policy needs only the union), and the tree
    /// collapses a node past 64 children, so memory follows distinct patterns, not distinct
    /// objects.
    pub arns: Resources,
}

/// Examples kept per call: sessions (and, in `crate::resource::tree`, the concrete ARNs of
/// a collapsed pattern).
pub const EXAMPLES: usize = crate::resource::tree::SAMPLE;

/// Adds `value` to a set that keeps only its [`EXAMPLES`] first values in sort order (the
/// same whatever order values come in).
fn add_example(set: &mut BTreeSet<String>, value: &str) {
    if set.contains(value)
        || (set.len() >= EXAMPLES && set.last().is_some_and(|last| last.as_str() < value))
    {
        return;
    }
    set.insert(value.to_owned());
    while set.len() > EXAMPLES {
        set.pop_last();
    }
}

impl Seen {
    pub(crate) fn add(&mut self, event: &Event<'_>) {
        // Times mostly come in order, so `last` moves on nearly every event: its buffer is
        // reused rather than reallocated.
        if self.count == 0 || *event.time < *self.first {
            self.first.clear();
            self.first.push_str(&event.time);
        }
        if self.count == 0 || *event.time > *self.last {
            self.last.clear();
            self.last.push_str(&event.time);
        }
        self.count += 1;
        if let Some(code) = &event.error_code {
            if let Some(n) = self.errors.get_mut(code.as_ref()) {
                *n += 1;
            } else {
                self.errors.insert(code.to_string(), 1);
            }
        }
        if !self.regions.contains(event.region.as_ref()) {
            self.regions.insert(event.region.to_string());
        }
        let principal = event
            .identity
            .issuer_arn
            .as_deref()
            .or(event.identity.arn.as_deref());
        if let Some(principal) = principal
            && !self.principals.contains(principal)
        {
            self.principals.insert(principal.to_owned());
        }
        if let Some(session) = crate::filter::session_name(event) {
            add_example(&mut self.sessions, session);
        }
        if let Some(via) = &event.identity.invoked_by
            && !self.via.contains(via.as_ref())
        {
            self.via.insert(via.to_string());
        }
    }

    /// Adds resources the calls named to the capped tree (`fanout` children per node before
    /// a node collapses).
    pub(crate) fn add_arns(&mut self, arns: &[TypedArn], fanout: usize) {
        for arn in arns {
            self.arns.insert(arn, fanout);
        }
    }

    pub(crate) fn merge(&mut self, mut other: Self) {
        if self.count == 0 || (other.count > 0 && other.first < self.first) {
            self.first = other.first;
        }
        if self.count == 0 || (other.count > 0 && other.last > self.last) {
            self.last = other.last;
        }
        self.count += other.count;
        for (code, n) in other.errors {
            *self.errors.entry(code).or_default() += n;
        }
        // `append` merges two sorted sets in one pass (a call's resources run to hundreds).
        self.regions.append(&mut other.regions);
        self.arns.merge(other.arns);
        self.principals.append(&mut other.principals);
        self.sessions.append(&mut other.sessions);
        while self.sessions.len() > EXAMPLES {
            self.sessions.pop_last();
        }
        self.via.append(&mut other.via);
    }
}
