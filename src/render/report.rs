//! The evidence report: for every action, the calls behind it (events, counts, first and
//! last seen, regions, principals, sessions, failures, resources) and how the policy grants
//! it. Written as JSON (`--report`) and read back by `minpriv explain`, or rendered as
//! markdown for people.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::evidence::Discovery;
use crate::mapping::{Mapper, Reason};
use crate::policy::{Built, Policy};
use crate::render::summary::is_denial;

/// At most this many concrete resources are listed per action.
const EXAMPLES: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub minpriv: String,
    pub reference: String,
    pub principals: Vec<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub actions: BTreeMap<String, ActionReport>,
    pub unmapped: Vec<UnmappedReport>,
    pub no_permission_needed: BTreeMap<String, u64>,
    /// `--verify-digests`: every log file read → its verification status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity: Option<BTreeMap<String, String>>,
    /// Every refused call, by what AWS's error message said (one entry per distinct event
    /// source, event name, action, resource, kind of policy, explicit and policy ARN).
    #[serde(default)]
    pub denials: Vec<super::denials::DenialReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionReport {
    pub service: String,
    pub access_level: String,
    pub calls: u64,
    pub events: BTreeMap<String, u64>,
    pub first_seen: String,
    pub last_seen: String,
    pub regions: Vec<String>,
    pub principals: Vec<String>,
    pub sessions: Vec<String>,
    /// Error code → count, for calls that failed (denied or otherwise).
    pub errors: BTreeMap<String, u64>,
    pub denied: bool,
    pub why: Vec<String>,
    pub example_resources: Vec<String>,
    pub policy_statements: Vec<String>,
    pub policy_resources: Vec<String>,
    pub unscoped: Option<String>,
    /// Why a resource it is granted on has a wildcard where AWS generated an identifier.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wildcards: Vec<String>,
    /// The conditions of the statements that grant it (`StringEquals iam:PassedToService =
    /// lambda.amazonaws.com`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    pub risky: bool,
    /// AWS's messages of the denials that named it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denials: Vec<String>,
    /// Its resources of one type that collapsed to a pattern (`--max-resources`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collapsed: Vec<CollapseReport>,
}

/// Resources of one type that collapsed to one pattern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollapseReport {
    pub pattern: String,
    pub resource_type: String,
    /// How many ARNs it covers (estimated past 64 under one path: `estimated`).
    pub count: u64,
    pub estimated: bool,
    /// The step: narrowest patterns, or a further one taken to fit IAM's quotas.
    pub step: String,
    /// The first concrete ARNs it covers (at most 5).
    pub sample: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmappedReport {
    pub event_source: String,
    pub event_name: String,
    pub calls: u64,
    pub reason: String,
}

fn why(reason: &Reason) -> String {
    match reason {
        Reason::Direct => "the event is named after the action".to_owned(),
        Reason::Renamed => "the event maps to this action (data/mapping.toml renames)".to_owned(),
        Reason::Pattern => "the service's naming pattern (data/mapping.toml patterns)".to_owned(),
        Reason::Dependent { why } => why.clone(),
        Reason::Reference { of } => format!("the IAM reference lists it as needed by {of}"),
        Reason::Denied { call } => format!("named by AWS in the error of {call}"),
    }
}

impl Report {
    /// Gathers the report of a run.
    #[must_use]
    pub fn new(
        discovery: &Discovery,
        built: &Built,
        policies: &[Policy],
        mapper: &Mapper,
        filter: &crate::filter::Filter,
    ) -> Self {
        let unscoped: BTreeMap<&str, &str> = built
            .unscoped
            .iter()
            .map(|u| (u.action.as_str(), u.reason.as_str()))
            .collect();
        let mut actions = BTreeMap::new();
        for (action, evidence) in &discovery.actions {
            let details = mapper.reference().action(action);
            let access = details.map_or(crate::iam::Access::Unknown, |(_, a)| a.access);
            let mut statements = Vec::new();
            let mut resources = Vec::new();
            let mut conditions = Vec::new();
            for (n, policy) in policies.iter().enumerate() {
                for statement in &policy.statements {
                    if statement.actions.contains(action) {
                        statements.push(if policies.len() > 1 {
                            format!("{}#{}", statement.sid, n + 1)
                        } else {
                            statement.sid.clone()
                        });
                        resources
                            .extend(statement.resource.patterns().into_iter().map(str::to_owned));
                        conditions.extend(statement.condition_lines());
                    }
                }
            }
            let wildcards = built
                .widened
                .iter()
                .filter(|w| resources.contains(&w.resource))
                .map(|w| format!("{}: {}", w.resource, w.why))
                .collect();
            actions.insert(
                action.clone(),
                ActionReport {
                    service: action.split(':').next().unwrap_or_default().to_owned(),
                    access_level: access.label().to_owned(),
                    calls: evidence.count,
                    events: evidence.events.clone(),
                    first_seen: evidence.first.clone(),
                    last_seen: evidence.last.clone(),
                    regions: evidence.regions.iter().cloned().collect(),
                    principals: evidence.principals.iter().cloned().collect(),
                    sessions: evidence.sessions.iter().cloned().collect(),
                    errors: evidence.errors.clone(),
                    denied: evidence.errors.keys().any(|c| is_denial(c)),
                    why: evidence.reasons.iter().map(why).collect(),
                    example_resources: evidence
                        .resources
                        .iter()
                        .take(EXAMPLES)
                        .map(|r| r.arn.to_string())
                        .collect(),
                    policy_statements: statements,
                    policy_resources: resources,
                    unscoped: unscoped.get(action.as_str()).map(|r| (*r).to_owned()),
                    wildcards,
                    conditions,
                    risky: access == crate::iam::Access::PermissionsManagement
                        || mapper.rules().is_risky(action),
                    denials: evidence.denials.iter().take(EXAMPLES).cloned().collect(),
                    collapsed: built
                        .collapses
                        .iter()
                        .filter(|c| c.action == *action)
                        .map(|c| CollapseReport {
                            pattern: c.pattern.clone(),
                            resource_type: c.kind.clone(),
                            count: c.count,
                            estimated: c.estimated,
                            step: c.level.label().to_owned(),
                            sample: c.sample.clone(),
                        })
                        .collect(),
                },
            );
        }
        Self {
            minpriv: env!("CARGO_PKG_VERSION").to_owned(),
            reference: mapper.reference().source.to_string(),
            principals: filter.principal_args.clone(),
            since: filter.since.map(|t| t.to_string()),
            until: filter.until.map(|t| t.to_string()),
            actions,
            unmapped: discovery
                .unmapped
                .iter()
                .map(|(call, n)| UnmappedReport {
                    event_source: call.source.clone(),
                    event_name: call.name.clone(),
                    calls: *n,
                    reason: call.reason.to_string(),
                })
                .collect(),
            no_permission_needed: discovery.free.clone(),
            integrity: None,
            denials: Vec::new(),
        }
    }

    /// The report as pretty JSON with a trailing newline.
    ///
    /// # Errors
    /// Only if serialisation fails.
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(self).map(|text| text + "\n")
    }

    /// The report for people: a table per service, then what was not mapped.
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("# minpriv evidence\n\n");
        let principals = if self.principals.is_empty() {
            "all principals".to_owned()
        } else {
            self.principals.join(", ")
        };
        let _ = writeln!(out, "- Principals: {principals}");
        let _ = writeln!(
            out,
            "- Window: {} to {}",
            self.since.as_deref().unwrap_or("the start of the trail"),
            self.until.as_deref().unwrap_or("its end")
        );
        let _ = writeln!(out, "- IAM reference: {}", self.reference);
        let mut by_service: BTreeMap<&str, Vec<(&String, &ActionReport)>> = BTreeMap::new();
        for (action, report) in &self.actions {
            by_service
                .entry(&report.service)
                .or_default()
                .push((action, report));
        }
        for (service, actions) in by_service {
            let _ = writeln!(out, "\n## {service}\n");
            out.push_str("| Action | Access | Calls | Events | First seen | Last seen | Resources | Notes |\n");
            out.push_str("|---|---|---|---|---|---|---|---|\n");
            for (action, r) in actions {
                let events: Vec<String> =
                    r.events.iter().map(|(e, n)| format!("{e} ×{n}")).collect();
                let mut notes = Vec::new();
                if r.risky {
                    notes.push("risky".to_owned());
                }
                if r.denied {
                    notes.push("denied".to_owned());
                }
                notes.extend(r.wildcards.iter().map(|w| format!("wildcard {w}")));
                notes.extend(r.conditions.iter().map(|c| format!("if {c}")));
                let failed: Vec<String> = r
                    .errors
                    .iter()
                    .filter(|(c, _)| !is_denial(c))
                    .map(|(c, n)| format!("{c} ×{n}"))
                    .collect();
                if !failed.is_empty() {
                    notes.push(format!("errors: {}", failed.join(", ")));
                }
                if let Some(reason) = &r.unscoped {
                    notes.push(format!("unscoped: {reason}"));
                }
                let dependent: Vec<&String> = r
                    .why
                    .iter()
                    .filter(|w| !w.starts_with("the event"))
                    .collect();
                if !dependent.is_empty() {
                    notes.push(
                        dependent
                            .iter()
                            .map(|w| w.as_str())
                            .collect::<Vec<_>>()
                            .join("; "),
                    );
                }
                let _ = writeln!(
                    out,
                    "| `{action}` | {} | {} | {} | {} | {} | {} | {} |",
                    r.access_level,
                    r.calls,
                    events.join(", "),
                    r.first_seen,
                    r.last_seen,
                    r.policy_resources
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join("<br>"),
                    notes.join("; ")
                );
            }
        }
        if !self.unmapped.is_empty() {
            out.push_str("\n## Not mapped (check by hand)\n\n| Event source | Event | Calls | Why |\n|---|---|---|---|\n");
            for u in &self.unmapped {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    u.event_source, u.event_name, u.calls, u.reason
                );
            }
        }
        if !self.no_permission_needed.is_empty() {
            let free: Vec<String> = self
                .no_permission_needed
                .iter()
                .map(|(k, n)| format!("`{k}` ×{n}"))
                .collect();
            let _ = writeln!(out, "\nNeed no permission: {}", free.join(", "));
        }
        self.closing_markdown(&mut out);
        out
    }

    /// The sections after the actions: denials, then log file verification.
    fn closing_markdown(&self, out: &mut String) {
        super::denials::markdown(out, &self.denials);
        self.integrity_markdown(out);
    }

    /// `--verify-digests`: each log file's status.
    fn integrity_markdown(&self, out: &mut String) {
        let Some(integrity) = &self.integrity else {
            return;
        };
        out.push_str("\n## Log file verification (`--verify-digests`)\n\n");
        out.push_str("| File | Status |\n|---|---|\n");
        for (file, status) in integrity {
            let _ = writeln!(out, "| `{file}` | {status} |");
        }
    }

    /// Why one action is in the policy, for `minpriv explain`.
    #[must_use]
    pub fn explain(&self, action: &str) -> Option<String> {
        let (name, r) = self
            .actions
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(action))?;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{name} ({}{})",
            r.access_level,
            if r.risky { ", risky" } else { "" }
        );
        let events: Vec<String> = r.events.iter().map(|(e, n)| format!("{e} ×{n}")).collect();
        let _ = writeln!(out, "  needed by {} calls: {}", r.calls, events.join(", "));
        for why in &r.why {
            let _ = writeln!(out, "  because {why}");
        }
        let _ = writeln!(
            out,
            "  first seen {}, last seen {}",
            r.first_seen, r.last_seen
        );
        let _ = writeln!(out, "  regions: {}", r.regions.join(", "));
        let _ = writeln!(out, "  principals: {}", r.principals.join(", "));
        if !r.sessions.is_empty() {
            let _ = writeln!(out, "  sessions: {}", r.sessions.join(", "));
        }
        if !r.errors.is_empty() {
            let errors: Vec<String> = r.errors.iter().map(|(c, n)| format!("{c} ×{n}")).collect();
            let _ = writeln!(
                out,
                "  failed calls: {}{}",
                errors.join(", "),
                if r.denied { " (denied)" } else { "" }
            );
        }
        if !r.example_resources.is_empty() {
            let _ = writeln!(out, "  resources used: {}", r.example_resources.join(", "));
        }
        let _ = writeln!(
            out,
            "  granted by statement {} on {}",
            r.policy_statements.join(", "),
            r.policy_resources.join(", ")
        );
        for c in &r.collapsed {
            let _ = writeln!(
                out,
                "  collapsed: {}{} {} ARNs to {} ({}); e.g. {}",
                if c.estimated { "about " } else { "" },
                c.count,
                c.resource_type,
                c.pattern,
                c.step,
                c.sample.join(", ")
            );
        }
        for wildcard in &r.wildcards {
            let _ = writeln!(out, "  wildcard: {wildcard}");
        }
        for condition in &r.conditions {
            let _ = writeln!(out, "  condition: {condition}");
        }
        if let Some(reason) = &r.unscoped {
            let _ = writeln!(out, "  unscoped: {reason}");
        }
        for message in &r.denials {
            let _ = writeln!(out, "  AWS's error: {message}");
        }
        for denial in self.denials_of(name) {
            let _ = writeln!(out, "  {}", denial.describe());
        }
        Some(out)
    }

    /// The denials that named an action (case does not matter).
    pub fn denials_of<'r>(
        &'r self,
        action: &'r str,
    ) -> impl Iterator<Item = &'r super::denials::DenialReport> {
        self.denials.iter().filter(move |d| {
            d.action
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(action))
        })
    }

    /// Why an action the policy does not hold was named by a denial, for `minpriv explain`.
    #[must_use]
    pub fn explain_denied(&self, action: &str) -> Option<String> {
        let mut out = String::new();
        for denial in self.denials_of(action) {
            if out.is_empty() {
                let _ = writeln!(
                    out,
                    "{} is not in the policy; AWS named it in these denials:",
                    denial.action.as_deref().unwrap_or(action)
                );
            }
            let _ = writeln!(out, "  {}", denial.describe());
        }
        (!out.is_empty()).then_some(out)
    }
}
