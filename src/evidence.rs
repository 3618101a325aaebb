//! Maps every distinct call and gathers, per action, the evidence behind it: which events
//! produced it, how often, when, in which regions, and whether any call failed.

use std::collections::{BTreeMap, BTreeSet};

use crate::denial::{Class, Denials};
use crate::mapping::{Mapper, Mapping, Reason, Unmapped};
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
    /// Patterns among `resources` that the scan collapsed (a node of its resource tree past
    /// 64 children): pattern → the estimated number of ARNs and some of them.
    pub scanned: BTreeMap<String, Stands>,
    /// For `iam:PassRole`: the service principals the roles were passed to.
    pub passed_to: BTreeSet<String>,
    /// AWS's messages of the denials that named it (`crate::denial`).
    pub denials: BTreeSet<String>,
}

/// What a collapsed pattern stands for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stands {
    /// Distinct ARNs (estimated).
    pub count: u64,
    /// The first few, in sort order.
    pub sample: Vec<String>,
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
            let typed = seen.arns.typed();
            let call = crate::mapping::Call {
                arns: typed.iter().map(|(arn, _)| arn.clone()).collect(),
                ..call.clone()
            };
            let scanned: BTreeMap<&str, &crate::resource::tree::Entry> = typed
                .iter()
                .filter(|(_, entry)| !entry.sample.is_empty())
                .map(|(arn, entry)| (&*arn.arn, entry))
                .collect();
            match mapper.map(&call) {
                Mapping::Actions(grants) => {
                    for grant in grants {
                        let evidence = discovery.actions.entry(grant.action).or_default();
                        evidence.add(&call.name, seen);
                        evidence.reasons.insert(grant.reason);
                        for resource in &grant.resources {
                            if let Some(entry) = scanned.get(&*resource.arn) {
                                evidence.note_scanned(&resource.arn, entry);
                            }
                        }
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

    /// Adds what the run's denials prove: each implicit deny by the identity-based policy
    /// is a grant of the action AWS named, on the resource it named (when that fits the
    /// action's resource types), with the refused call as its evidence. Every denial's
    /// message is noted on the action it named, when that action is in the policy.
    pub fn add_denials(&mut self, denials: &Denials, mapper: &Mapper) {
        for (key, entry) in &denials.entries {
            let Some(action) = key.action.as_deref() else {
                continue;
            };
            if entry.class(key) == Class::Fixable {
                let evidence = self.actions.entry(action.to_owned()).or_default();
                // A refused call was mapped like any other: when it already gave this
                // action, its calls are counted already, and when a mapping rule gave it
                // (a passed instance profile's role), the rule's conditions still hold for
                // it: AWS named the resource the rule could not.
                let counted = evidence.events.contains_key(&*key.name);
                if !counted {
                    evidence.add(&key.name, &entry.seen);
                }
                let ruled = evidence
                    .reasons
                    .iter()
                    .all(|r| matches!(r, Reason::Dependent { .. }));
                if !(counted && ruled) {
                    evidence.reasons.insert(Reason::Denied {
                        call: key.name.to_string(),
                    });
                }
                evidence
                    .resources
                    .extend(key.resource.as_deref().and_then(|r| fit(mapper, action, r)));
                // A folded denial's resources: its ARNs and the patterns its tree collapsed.
                for folded in entry.resources.entries() {
                    if let Some(typed) = fit_folded(mapper, action, &folded) {
                        if !folded.sample.is_empty() {
                            evidence.note_scanned(&folded.arn, &folded);
                        }
                        evidence.resources.insert(typed);
                    }
                }
            }
            if let (Some(evidence), Some((_, message))) =
                (self.actions.get_mut(action), &entry.message)
            {
                evidence.denials.insert(message.clone());
            }
        }
    }

    /// Actions any of whose calls failed.
    pub fn failed(&self) -> impl Iterator<Item = (&String, &ActionEvidence)> {
        self.actions.iter().filter(|(_, e)| !e.errors.is_empty())
    }
}

impl ActionEvidence {
    /// Notes what a pattern the scan collapsed stands for (several calls may name it).
    fn note_scanned(&mut self, pattern: &str, entry: &crate::resource::tree::Entry) {
        let stands = self.scanned.entry(pattern.to_owned()).or_default();
        stands.count = stands.count.max(entry.count);
        stands.sample.extend(entry.sample.iter().cloned());
        stands.sample.sort();
        stands.sample.dedup();
        stands.sample.truncate(crate::scan::EXAMPLES);
    }

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

/// A resource AWS named, typed, when it is an ARN of one of the action's resource types.
fn fit(mapper: &Mapper, action: &str, resource: &str) -> Option<TypedArn> {
    let (_, definition) = mapper.reference().action(action)?;
    let typed = mapper.locator().fit(resource)?;
    definition
        .resource_types
        .iter()
        .any(|t| t.name == typed.kind)
        .then_some(typed)
}

/// A folded denial's ARN or pattern, typed as a resource the action takes. A pattern takes
/// the type of the first ARN it stands for that fits one: `log-group:/aws/lambda/*` may
/// stand for log streams, and would itself fit only the log group's template.
fn fit_folded(
    mapper: &Mapper,
    action: &str,
    folded: &crate::resource::tree::Entry,
) -> Option<TypedArn> {
    folded
        .sample
        .iter()
        .find_map(|arn| fit(mapper, action, arn))
        .map(|member| TypedArn {
            arn: folded.arn.as_str().into(),
            ..member
        })
        .or_else(|| fit(mapper, action, &folded.arn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{Event, Identity};

    fn event(error: Option<(&str, &str)>) -> Event<'static> {
        Event {
            time: "2026-11-20T10:01:00Z".into(),
            source: "ec2.amazonaws.com".into(),
            name: "RunInstances".into(),
            region: "eu-west-1".into(),
            identity: Identity {
                arn: Some("arn:aws:sts::111122223333:assumed-role/deployer/ci".into()),
                ..Identity::default()
            },
            error_code: error.map(|(c, _)| c.to_owned().into()),
            error_message: error.map(|(_, m)| m.to_owned().into()),
            ..Event::default()
        }
    }

    fn denials(message: &str, mapper: &Mapper) -> Denials {
        let mut seen = Seen::default();
        seen.add(&event(Some(("Client.UnauthorizedOperation", message))));
        let mut denials = Denials::default();
        denials.add(
            ("ec2.amazonaws.com", "RunInstances"),
            Some(message),
            seen,
            mapper,
        );
        denials.settle(&std::collections::BTreeMap::new(), mapper);
        denials
    }

    #[test]
    fn an_implicit_identity_deny_adds_the_named_action_on_the_named_resource() {
        let mapper = Mapper::embedded().unwrap();
        let mut discovery = Discovery::default();
        discovery.add_denials(&denials("User: arn:aws:sts::111122223333:assumed-role/deployer/ci is not authorized to perform: iam:PassRole on resource: arn:aws:iam::111122223333:role/app-ec2 because no identity-based policy allows the iam:PassRole action", &mapper), &mapper);
        let pass = &discovery.actions["iam:PassRole"];
        assert_eq!(pass.count, 1);
        assert_eq!(pass.events.get("RunInstances"), Some(&1));
        let resources: Vec<(&str, &str)> =
            pass.resources.iter().map(|r| (&*r.kind, &*r.arn)).collect();
        assert_eq!(
            resources,
            [("role", "arn:aws:iam::111122223333:role/app-ec2")]
        );
        assert!(pass.reasons.contains(&Reason::Denied {
            call: "RunInstances".to_owned()
        }));
        assert_eq!(pass.errors.get("Client.UnauthorizedOperation"), Some(&1));
        assert_eq!(pass.denials.len(), 1);
    }

    #[test]
    fn a_denied_action_the_call_already_gave_is_not_counted_twice() {
        let mapper = Mapper::embedded().unwrap();
        let message = "User: arn:aws:sts::111122223333:assumed-role/deployer/ci is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:eu-west-1:111122223333:instance/* because no identity-based policy allows the ec2:RunInstances action";
        let mut calls = crate::scan::Calls::default();
        let denied = event(Some(("Client.UnauthorizedOperation", message)));
        let mut seen = Seen::default();
        seen.add(&denied);
        calls.insert(mapper.call(&denied), seen);
        let mut discovery = Discovery::from_calls(&calls, &mapper);
        discovery.add_denials(&denials(message, &mapper), &mapper);
        assert_eq!(discovery.actions["ec2:RunInstances"].count, 1);
        assert!(
            discovery.actions["ec2:RunInstances"]
                .resources
                .iter()
                .any(|r| &*r.kind == "instance")
        );
    }

    #[test]
    fn other_denials_add_nothing_to_the_policy() {
        let mapper = Mapper::embedded().unwrap();
        for message in [
            "User: arn:aws:sts::111122223333:assumed-role/deployer/ci is not authorized to perform: iam:PassRole on resource: arn:aws:iam::111122223333:role/app-ec2 with an explicit deny in a service control policy",
            "User: arn:aws:sts::111122223333:assumed-role/deployer/ci is not authorized to perform: iam:PassRole on resource: arn:aws:iam::111122223333:role/app-ec2",
            "Access Denied",
        ] {
            let mut discovery = Discovery::default();
            discovery.add_denials(&denials(message, &mapper), &mapper);
            assert!(discovery.actions.is_empty(), "{message}");
        }
    }

    /// The discovery of identity-policy denials of `action` in `call`, one per resource.
    fn denied(call: (&str, &str), action: &str, resources: &[String]) -> Discovery {
        let mapper = Mapper::embedded().unwrap();
        let mut denials = Denials::default();
        for resource in resources {
            let message = format!(
                "User: arn:aws:sts::111122223333:assumed-role/deployer/ci is not authorized to perform: {action} on resource: {resource} because no identity-based policy allows the {action} action"
            );
            let mut seen = Seen::default();
            seen.add(&event(Some(("AccessDenied", &message))));
            denials.add(call, Some(&message), seen, &mapper);
        }
        let mut discovery = Discovery::default();
        discovery.add_denials(&denials, &mapper);
        discovery
    }

    #[test]
    fn a_folded_denial_grants_the_patterns_its_resources_collapsed_to() {
        let objects: Vec<String> = (0..1_000)
            .map(|n| format!("arn:aws:s3:::app-data/k/{n}"))
            .collect();
        let discovery = denied(("s3.amazonaws.com", "GetObject"), "s3:GetObject", &objects);
        let get = &discovery.actions["s3:GetObject"];
        assert_eq!(get.count, 1_000);
        let resources: Vec<(&str, &str)> =
            get.resources.iter().map(|r| (&*r.kind, &*r.arn)).collect();
        assert_eq!(resources, [("object", "arn:aws:s3:::app-data/k/*")]);
        let stands = &get.scanned["arn:aws:s3:::app-data/k/*"];
        assert!(stands.count > 900, "{}", stands.count);
        assert_eq!(stands.sample.len(), crate::resource::tree::SAMPLE);
    }

    #[test]
    fn a_folded_pattern_takes_the_type_of_the_arns_it_stands_for() {
        let streams: Vec<String> = (0..100)
            .map(|n| format!("arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/fn-{n}:log-stream:2026/11/20/run"))
            .collect();
        let discovery = denied(
            ("logs.amazonaws.com", "PutLogEvents"),
            "logs:PutLogEvents",
            &streams,
        );
        let put = &discovery.actions["logs:PutLogEvents"];
        let resources: Vec<(&str, &str)> =
            put.resources.iter().map(|r| (&*r.kind, &*r.arn)).collect();
        assert_eq!(
            resources,
            [(
                "log-stream",
                "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/*"
            )]
        );
        assert!(
            put.scanned
                .contains_key("arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/*")
        );
    }
}
