//! What a run needed against what the catalog allows: per service, the actions missing
//! (with their evidence), the ones allowed only on other resources, the ones covered, and
//! the catalog's actions this run never used (candidates, not deletions).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{Catalog, Statement, Verdict};
use crate::render::report::Report;

/// One action a run needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub action: String,
    /// Resources to check: concrete ARNs where known, else the policy's patterns; `*` for
    /// actions without resource-level permissions; empty when unknown (unscoped).
    pub resources: Vec<String>,
    /// The generalised resources a policy would grant it on (for proposals).
    pub grant_on: Vec<String>,
    pub evidence: Option<Evidence>,
    /// The request context the calls were made in, as far as the run shows it (the
    /// discovered policy's conditions): what the catalog's conditions are evaluated against.
    pub context: super::condition::Context,
}

/// The evidence for a need, from the run or its report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub calls: u64,
    pub events: BTreeMap<String, u64>,
    pub example_resource: Option<String>,
    /// AWS's error message of a call refused for want of it: the strongest evidence there is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub denial: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    pub action: String,
    /// The catalog statement it belongs in (`None`: a new statement for its service).
    pub statement: Option<String>,
    pub grant_on: Vec<String>,
    pub evidence: Option<Evidence>,
    /// The catalog has it commented out: known and deliberately excluded.
    pub deliberately_excluded: bool,
    /// A `Deny` statement refuses it.
    pub denied_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    pub action: String,
    pub used_on: Vec<String>,
    pub allowed_on: Vec<String>,
    pub statements: Vec<String>,
    pub grant_on: Vec<String>,
    pub evidence: Option<Evidence>,
}

/// An action the catalog allows on the resources, but under conditions the run's calls did
/// not meet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionMismatch {
    pub action: String,
    pub statements: Vec<String>,
    /// The context the calls were made in (`iam:PassedToService = lambda.amazonaws.com`).
    pub context: Vec<String>,
    pub evidence: Option<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unused {
    pub action: String,
    pub statement: String,
}

/// Everything per service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceDiff {
    pub missing: Vec<Missing>,
    pub resource_mismatches: Vec<Mismatch>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub condition_mismatches: Vec<ConditionMismatch>,
    pub covered: Vec<String>,
    pub unused: Vec<Unused>,
}

/// The proposal for a catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Proposal {
    pub catalog: String,
    pub services: BTreeMap<String, ServiceDiff>,
    /// Placeholders left unresolved; they were taken to match anything.
    pub placeholders: Vec<String>,
    /// Catalog statements whose conditions need keys the trail cannot show: taken to apply.
    pub conditional_statements: Vec<String>,
}

impl Proposal {
    /// Whether the catalog lacks anything the run needed (the CI gate).
    #[must_use]
    pub fn drifted(&self) -> bool {
        self.services.values().any(|s| {
            !s.missing.is_empty()
                || !s.resource_mismatches.is_empty()
                || !s.condition_mismatches.is_empty()
        })
    }

    #[must_use]
    pub fn count(&self, what: fn(&ServiceDiff) -> usize) -> usize {
        self.services.values().map(what).sum()
    }
}

/// Needs from a run's report (all it knows: examples and the policy's resources).
#[must_use]
pub fn needs_from_report(report: &Report) -> Vec<Need> {
    report
        .actions
        .iter()
        .map(|(action, r)| {
            let resources = if r.unscoped.is_some() {
                Vec::new()
            } else if r.example_resources.is_empty() {
                r.policy_resources.clone()
            } else {
                r.example_resources.clone()
            };
            Need {
                action: action.clone(),
                resources,
                grant_on: r.policy_resources.clone(),
                evidence: Some(Evidence {
                    calls: r.calls,
                    events: r.events.clone(),
                    example_resource: r.example_resources.first().cloned(),
                    denial: r.denials.first().cloned(),
                }),
                context: super::condition::context_of_lines(&r.conditions),
            }
        })
        .collect()
}

/// Needs from a policy document's statements (a discovered policy, or a newer catalog).
#[must_use]
pub fn needs_from_statements(statements: &[Statement]) -> Vec<Need> {
    let mut needs: BTreeMap<String, Need> = BTreeMap::new();
    for statement in statements.iter().filter(|s| s.allow) {
        for action in &statement.actions {
            let need = needs.entry(action.clone()).or_insert_with(|| Need {
                action: action.clone(),
                resources: Vec::new(),
                grant_on: Vec::new(),
                evidence: None,
                context: super::condition::Context::new(),
            });
            need.resources.extend(statement.resources.iter().cloned());
            need.grant_on.extend(statement.resources.iter().cloned());
            // The statement's own condition is the context it is meant for.
            for keys in statement.condition.values() {
                for (key, values) in keys {
                    need.context
                        .entry(key.clone())
                        .or_default()
                        .extend(values.iter().cloned());
                }
            }
        }
    }
    needs.into_values().collect()
}

/// Compares needs with the catalog.
#[must_use]
pub fn diff(catalog: &Catalog, needs: &[Need]) -> Proposal {
    let mut proposal = Proposal {
        catalog: catalog.path.display().to_string(),
        placeholders: catalog.placeholders.iter().cloned().collect(),
        conditional_statements: needs
            .iter()
            .flat_map(|need| catalog.undecided(&need.action, &need.context))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        ..Proposal::default()
    };
    for need in needs {
        let service = need
            .action
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let entry = proposal.services.entry(service).or_default();
        let checks: Vec<Option<&str>> = if need.resources.is_empty() {
            vec![None]
        } else {
            need.resources.iter().map(|r| Some(r.as_str())).collect()
        };
        let verdicts: Vec<(Option<&str>, Verdict)> = checks
            .iter()
            .map(|r| (*r, catalog.verdict(&need.action, *r, &need.context)))
            .collect();
        if verdicts.iter().all(|(_, v)| *v == Verdict::Allowed) {
            entry.covered.push(need.action.clone());
            continue;
        }
        let denied = verdicts.iter().find_map(|(_, v)| match v {
            Verdict::Denied { sid } => Some(sid.clone()),
            _ => None,
        });
        let other: Vec<&Verdict> = verdicts
            .iter()
            .map(|(_, v)| v)
            .filter(|v| matches!(v, Verdict::OtherResources { .. }))
            .collect();
        let failing: BTreeSet<&String> = verdicts
            .iter()
            .filter_map(|(_, v)| match v {
                Verdict::ConditionFails { sids } => Some(sids),
                _ => None,
            })
            .flatten()
            .collect();
        if denied.is_none() && !failing.is_empty() {
            entry
                .condition_mismatches
                .push(ConditionMismatch::of(need, failing));
            continue;
        }
        if denied.is_none() && !other.is_empty() {
            let (mut sids, mut allowed) = (BTreeSet::new(), BTreeSet::new());
            for verdict in other {
                if let Verdict::OtherResources { sids: s, resources } = verdict {
                    sids.extend(s.iter().cloned());
                    allowed.extend(resources.iter().cloned());
                }
            }
            entry.resource_mismatches.push(Mismatch {
                action: need.action.clone(),
                used_on: verdicts
                    .iter()
                    .filter(|(_, v)| *v != Verdict::Allowed)
                    .filter_map(|(r, _)| r.map(str::to_owned))
                    .collect(),
                allowed_on: allowed.into_iter().collect(),
                statements: sids.into_iter().collect(),
                grant_on: need.grant_on.clone(),
                evidence: need.evidence.clone(),
            });
            continue;
        }
        entry.missing.push(Missing {
            action: need.action.clone(),
            statement: home(catalog, &need.action, &need.grant_on).map(Statement::label),
            grant_on: need.grant_on.clone(),
            evidence: need.evidence.clone(),
            deliberately_excluded: catalog.excludes(&need.action),
            denied_by: denied,
        });
    }
    unused(catalog, needs, &mut proposal);
    for service in proposal.services.values_mut() {
        service.covered.sort();
        service.covered.dedup();
    }
    proposal
}

/// The catalog's actions no need matched.
fn unused(catalog: &Catalog, needs: &[Need], proposal: &mut Proposal) {
    for statement in catalog.statements.iter().filter(|s| s.allow) {
        for pattern in &statement.actions {
            let used = needs
                .iter()
                .any(|need| super::matches(pattern, &need.action, true));
            if !used {
                let service = pattern
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                proposal
                    .services
                    .entry(service)
                    .or_default()
                    .unused
                    .push(Unused {
                        action: pattern.clone(),
                        statement: statement.label(),
                    });
            }
        }
    }
}

impl ConditionMismatch {
    fn of(need: &Need, statements: BTreeSet<&String>) -> Self {
        Self {
            action: need.action.clone(),
            statements: statements.into_iter().cloned().collect(),
            context: need
                .context
                .iter()
                .map(|(key, values)| {
                    let values: Vec<&str> = values.iter().map(String::as_str).collect();
                    format!("{key} = {}", values.join(", "))
                })
                .collect(),
            evidence: need.evidence.clone(),
        }
    }
}

/// The statement a missing action belongs in: of its service, one that already grants on
/// every resource it needs, else the service's first statement.
#[must_use]
pub fn home<'c>(catalog: &'c Catalog, action: &str, grant_on: &[String]) -> Option<&'c Statement> {
    let prefix = action
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let candidates: Vec<&Statement> = catalog
        .statements
        .iter()
        .filter(|s| {
            s.allow && s.not_actions.is_empty() && s.service().as_deref() == Some(prefix.as_str())
        })
        .collect();
    candidates
        .iter()
        .find(|s| !grant_on.is_empty() && grant_on.iter().all(|r| s.covers_resource(r)))
        .or_else(|| candidates.first())
        .copied()
}

/// Needs from a run in memory: every concrete resource the calls named.
#[must_use]
pub fn needs_from_run(discovery: &crate::evidence::Discovery, report: &Report) -> Vec<Need> {
    needs_from_report(report)
        .into_iter()
        .map(|mut need| {
            if let Some(evidence) = discovery.actions.get(&need.action)
                && !evidence.resources.is_empty()
                && report
                    .actions
                    .get(&need.action)
                    .is_some_and(|r| r.unscoped.is_none())
            {
                need.resources = evidence
                    .resources
                    .iter()
                    .map(|r| r.arn.to_string())
                    .collect();
            }
            need
        })
        .collect()
}
