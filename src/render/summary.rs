//! The run summary for stderr: what was read, passed over, kept and excluded, the actions
//! found per service, and everything that could not be read or mapped.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::denials::section;
use crate::evidence::Discovery;
use crate::filter::Filter;
use crate::iam::Access;
use crate::mapping::Mapper;
use crate::policy::Built;
use crate::scan::Tally;
use crate::source::{Listing, bytes};

/// Everything the summary speaks of.
pub struct Run<'a> {
    pub listing: &'a Listing,
    pub tally: &'a Tally,
    pub discovery: &'a Discovery,
    pub filter: &'a Filter,
    pub built: &'a Built,
    /// How many documents the policy was split into.
    pub documents: usize,
    pub max_policy_size: usize,
    /// Each collapse past the narrowest patterns made to fit the quotas.
    pub steps: &'a [String],
    /// The policy does not fit the quotas: no document is written.
    pub refused: Option<&'a crate::policy::budget::DoesNotFit>,
    pub mapper: &'a Mapper,
    /// `--verify-digests`: what the digests say about the files read.
    pub integrity: Option<&'a crate::integrity::Verification>,
    /// Whether the window is delivered, and whether every listed file was read.
    pub completeness: Option<(
        &'a crate::source::delivery::Delivery,
        Option<&'a crate::source::delivery::Files>,
    )>,
}

/// The summary text, one fact per line.
#[must_use]
pub fn render(run: &Run<'_>) -> String {
    let mut out = String::new();
    inputs(&mut out, run);
    if let Some(verification) = run.integrity {
        out.push_str(&verification.summary());
    }
    if let Some((delivery, files)) = run.completeness {
        out.push_str(&crate::source::delivery::line(delivery, files));
    }
    events(&mut out, run);
    actions(&mut out, run.discovery);
    super::denials::render(&mut out, &run.tally.denials);
    policy(&mut out, run);
    problems(&mut out, run);
    out
}

/// Files and records read and passed over.
fn inputs(out: &mut String, run: &Run<'_>) {
    let Run { listing, tally, .. } = run;
    let _ = writeln!(
        out,
        "read {} files ({} on disk, {} of JSON), {} records",
        tally.files_read,
        bytes(tally.bytes_read),
        bytes(tally.bytes_json),
        tally.records
    );
    for (reason, n) in &listing.ignored {
        let _ = writeln!(out, "  passed over {n} files: {}", reason.label());
    }
    let failed = listing.failed.len() + tally.failed.len();
    if failed > 0 {
        let _ = writeln!(
            out,
            "  NOT READ: {} inputs could not be fetched and {} listings or queries did not complete (failed reads, listed below)",
            tally.failed.len(),
            listing.failed.len()
        );
    }
    let unreadable = listing.problems.len() + tally.problems.len();
    if unreadable > 0 {
        let _ = writeln!(
            out,
            "  {unreadable} inputs unreadable or partly read (listed below)"
        );
    }
    for (reason, n) in &tally.bad_records {
        let _ = writeln!(out, "  skipped {n} records: {reason}");
    }
}

/// Events kept and excluded, by reason.
fn events(out: &mut String, run: &Run<'_>) {
    let Run { tally, filter, .. } = run;
    let _ = writeln!(
        out,
        "kept {} events; excluded {}",
        tally.kept,
        tally.excluded.values().sum::<u64>()
    );
    for (reason, n) in &tally.excluded {
        let _ = writeln!(out, "  {n} {}", reason.label());
    }
    if filter.principal_args.is_empty() {
        let principals: std::collections::BTreeSet<&String> = tally
            .calls
            .values()
            .flat_map(|seen| &seen.principals)
            .collect();
        let _ = writeln!(
            out,
            "  no --principal given: calls of every principal kept ({} seen)",
            principals.len()
        );
    }
}

/// Actions per service, and the calls that were denied, failed, free or not mapped.
fn actions(out: &mut String, discovery: &Discovery) {
    let mut per_service: BTreeMap<&str, usize> = BTreeMap::new();
    for action in discovery.actions.keys() {
        *per_service
            .entry(action.split(':').next().unwrap_or(action))
            .or_default() += 1;
    }
    let services: Vec<String> = per_service
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    let _ = writeln!(
        out,
        "actions: {} across {} services ({})",
        discovery.actions.len(),
        per_service.len(),
        services.join(", ")
    );
    let mut denied = Vec::new();
    let mut failed = Vec::new();
    for (action, evidence) in discovery.failed() {
        let codes: Vec<String> = evidence
            .errors
            .iter()
            .map(|(c, n)| format!("{c} ×{n}"))
            .collect();
        let line = format!("  {action} ({})", codes.join(", "));
        if evidence.errors.keys().any(|code| is_denial(code)) {
            denied.push(line);
        } else {
            failed.push(line);
        }
    }
    section(
        out,
        "denied to the principal, kept in the policy since it attempted them",
        &denied,
    );
    section(
        out,
        "allowed but returned an error, kept in the policy",
        &failed,
    );
    if !discovery.free.is_empty() {
        let free: Vec<String> = discovery
            .free
            .iter()
            .map(|(k, n)| format!("{k} ×{n}"))
            .collect();
        let _ = writeln!(out, "need no permission, left out: {}", free.join(", "));
    }
    if !discovery.unmapped.is_empty() {
        let _ = writeln!(
            out,
            "not mapped ({} calls, {} events) — not in the policy; check these by hand:",
            discovery.unmapped.len(),
            discovery.unmapped.values().sum::<u64>()
        );
        for (call, n) in &discovery.unmapped {
            let _ = writeln!(out, "  {} {} ×{n}: {}", call.source, call.name, call.reason);
        }
    }
}

/// How the policy came out: risky grants and how they are scoped, unscoped actions, splits.
fn policy(out: &mut String, run: &Run<'_>) {
    let policy = &run.built.policy;
    let mut risky = Vec::new();
    for statement in &policy.statements {
        for action in &statement.actions {
            let access = run.mapper.reference().action(action).map(|(_, a)| a.access);
            if access == Some(Access::PermissionsManagement) || run.mapper.rules().is_risky(action)
            {
                risky.push(format!(
                    "  {action} on {}",
                    statement.resource.patterns().join(", ")
                ));
            }
        }
    }
    risky.sort();
    section(
        out,
        "risky grants (permissions management or privilege escalation)",
        &risky,
    );
    let unscoped: Vec<String> = run
        .built
        .unscoped
        .iter()
        .map(|u| format!("  {}: {}", u.action, u.reason))
        .collect();
    section(
        out,
        "unscoped, granted on \"*\" although the action takes resources",
        &unscoped,
    );
    // Each wildcard with the conditioned statements that stand in for its identifier.
    let widened: Vec<String> = run
        .built
        .widened
        .iter()
        .map(|w| {
            let narrowed: Vec<&str> = policy
                .statements
                .iter()
                .filter(|s| {
                    !s.condition.is_empty() && s.resource.patterns().contains(&w.resource.as_str())
                })
                .map(|s| s.sid.as_str())
                .collect();
            let narrowed = if narrowed.is_empty() {
                "no condition stands in".to_owned()
            } else {
                format!("narrowed in {}", narrowed.join(", "))
            };
            format!("  {}: {}; {narrowed}", w.resource, w.why)
        })
        .collect();
    section(
        out,
        "wildcards for identifiers AWS generates (the next deploy gets new ones)",
        &widened,
    );
    let conditioned: Vec<String> = policy
        .statements
        .iter()
        .filter(|s| !s.condition.is_empty())
        .map(|s| format!("  {}: {}", s.sid, s.condition_lines().join("; ")))
        .collect();
    section(out, "conditions that narrow the grants", &conditioned);
    collapses(out, run);
    if let Some(refused) = run.refused {
        let _ = writeln!(out, "policy NOT written: {refused}");
    } else if run.documents > 1 {
        let _ = writeln!(
            out,
            "policy split into {} documents (along service boundaries, then statements), each at most {} characters without whitespace (--max-policy-size)",
            run.documents, run.max_policy_size
        );
    }
}

/// Each pattern resources collapsed to, with the actions and how many ARNs each covers,
/// then each further step taken to fit the quotas.
fn collapses(out: &mut String, run: &Run<'_>) {
    let mut by_pattern: BTreeMap<(&str, crate::resource::collapse::Level), Vec<String>> =
        BTreeMap::new();
    let mut samples: BTreeMap<&str, &[String]> = BTreeMap::new();
    for collapse in &run.built.collapses {
        by_pattern
            .entry((&collapse.pattern, collapse.level))
            .or_default()
            .push(format!("{} {}", collapse.action, collapse.counted()));
        samples.entry(&collapse.pattern).or_insert(&collapse.sample);
    }
    let lines: Vec<String> = by_pattern
        .into_iter()
        .map(|((pattern, level), actions)| {
            let sample = samples.get(pattern).map_or(String::new(), |s| {
                s.first()
                    .map_or(String::new(), |first| format!(" (e.g. {first})"))
            });
            format!(
                "  {pattern} [{}]: {}{sample}",
                level.label(),
                actions.join(", ")
            )
        })
        .collect();
    section(
        out,
        "resources collapsed to patterns (more of one type in a statement than --max-resources)",
        &lines,
    );
    for step in run.steps {
        let _ = writeln!(out, "to fit IAM's quotas: {step}");
    }
}

/// Every input that could not be read, by path.
fn problems(out: &mut String, run: &Run<'_>) {
    let Run { listing, tally, .. } = run;
    if !listing.failed.is_empty() || !tally.failed.is_empty() {
        let _ = writeln!(out, "failed reads:");
        for failed in listing.failed.iter().chain(&tally.failed) {
            let _ = writeln!(out, "  {}: {}", failed.path, failed.message);
        }
    }
    if listing.problems.is_empty() && tally.problems.is_empty() {
        return;
    }
    let _ = writeln!(out, "problems:");
    for problem in listing.problems.iter().chain(&tally.problems) {
        let _ = writeln!(out, "  {}: {}", problem.path, problem.message);
    }
}

/// Whether an error code says IAM (or an SCP, boundary or resource policy) refused the call
/// (`data/denials.toml`).
#[must_use]
pub fn is_denial(code: &str) -> bool {
    crate::denial::is_denial(code)
}
