//! A catalog proposal for people (markdown, pasted into a pull request) or machines (JSON):
//! what to add where, with the evidence; what is allowed on other resources; what this run
//! did not use.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::diff::{Evidence, Proposal};

fn evidence(e: Option<&Evidence>) -> (String, String, String) {
    e.map_or_else(
        || (String::new(), String::new(), String::new()),
        |e| {
            let events: Vec<String> = e.events.iter().map(|(n, c)| format!("{n} ×{c}")).collect();
            (
                e.calls.to_string(),
                events.join(", "),
                e.example_resource
                    .as_deref()
                    .map(|r| format!("`{r}`"))
                    .unwrap_or_default(),
            )
        },
    )
}

/// The proposal as markdown.
#[must_use]
pub fn markdown(proposal: &Proposal) -> String {
    let mut out = format!("# Catalog proposal for `{}`\n\n", proposal.catalog);
    let missing = proposal.count(|s| s.missing.len());
    let mismatched = proposal.count(|s| s.resource_mismatches.len());
    let conditioned = proposal.count(|s| s.condition_mismatches.len());
    let _ = write!(
        out,
        "**{missing} missing**, {mismatched} allowed only on other resources, "
    );
    if conditioned > 0 {
        let _ = write!(
            out,
            "{conditioned} allowed only under conditions the run's calls did not meet, "
        );
    }
    let _ = writeln!(
        out,
        "{} covered, {} not used in this run.",
        proposal.count(|s| s.covered.len()),
        proposal.count(|s| s.unused.len())
    );
    if missing > 0 {
        missing_section(&mut out, proposal);
    }
    if mismatched > 0 {
        mismatch_section(&mut out, proposal);
    }
    if conditioned > 0 {
        condition_section(&mut out, proposal);
    }
    rest(&mut out, proposal);
    if missing == 0 && mismatched == 0 && conditioned == 0 {
        out.push_str("\nThe catalog allows everything this run used.\n");
    }
    out
}

fn missing_section(out: &mut String, proposal: &Proposal) {
    out.push_str("\n## Missing: used by the deployment, not allowed by the catalog\n");
    for (service, diff) in proposal
        .services
        .iter()
        .filter(|(_, d)| !d.missing.is_empty())
    {
        let _ = writeln!(out, "\n### {service}\n");
        let mut by_statement: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for m in diff.missing.iter().filter(|m| m.denied_by.is_none()) {
            let target = m.statement.as_ref().map_or_else(
                || format!("a new `{service}` statement"),
                |s| format!("statement `{s}`"),
            );
            by_statement.entry(target).or_default().push(&m.action);
        }
        for (target, actions) in by_statement {
            let _ = writeln!(out, "Add to {target}:\n\n```hcl");
            for action in actions {
                let _ = writeln!(out, "\"{action}\",");
            }
            out.push_str("```\n\n");
        }
        out.push_str("| Action | Calls | Events | Example resource | Grant on | Note |\n|---|---|---|---|---|---|\n");
        for m in &diff.missing {
            let (calls, events, example) = evidence(m.evidence.as_ref());
            let mut notes = Vec::new();
            if m.deliberately_excluded {
                notes.push("commented out in the catalog: deliberately excluded, yet the deployment used it".to_owned());
            }
            if let Some(sid) = &m.denied_by {
                notes.push(format!("denied by statement `{sid}`"));
            }
            if let Some(message) = m.evidence.as_ref().and_then(|e| e.denial.as_ref()) {
                notes.push(format!(
                    "**proven missing: AWS refused it** (`{}`)",
                    shortened(message).replace('|', "\\|").replace('`', "'")
                ));
            }
            let grant: Vec<String> = m.grant_on.iter().map(|r| format!("`{r}`")).collect();
            let _ = writeln!(
                out,
                "| `{}` | {calls} | {events} | {example} | {} | {} |",
                m.action,
                grant.join("<br>"),
                notes.join("; ")
            );
        }
    }
}

/// Most characters of AWS's message a proposal quotes (an encoded authorization message runs
/// to a thousand; `minpriv explain` prints it whole).
const QUOTED: usize = 240;

fn shortened(message: &str) -> String {
    match message.char_indices().nth(QUOTED) {
        Some((at, _)) => format!("{}…", &message[..at]),
        None => message.to_owned(),
    }
}

fn mismatch_section(out: &mut String, proposal: &Proposal) {
    out.push_str("\n## Allowed, but not on the resources used\n\n| Action | Used on | Catalog allows on | Statements | Calls | Events |\n|---|---|---|---|---|---|\n");
    for m in proposal
        .services
        .values()
        .flat_map(|d| &d.resource_mismatches)
    {
        let (calls, events, _) = evidence(m.evidence.as_ref());
        let code = |items: &[String]| {
            items
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {calls} | {events} |",
            m.action,
            code(&m.used_on),
            code(&m.allowed_on),
            m.statements.join(", ")
        );
    }
}

fn condition_section(out: &mut String, proposal: &Proposal) {
    out.push_str("\n## Allowed, but not under the conditions of the calls made\n\n| Action | Statements | The calls' request context | Calls | Events |\n|---|---|---|---|---|\n");
    for m in proposal
        .services
        .values()
        .flat_map(|d| &d.condition_mismatches)
    {
        let (calls, events, _) = evidence(m.evidence.as_ref());
        let context: Vec<String> = m.context.iter().map(|c| format!("`{c}`")).collect();
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {calls} | {events} |",
            m.action,
            m.statements.join(", "),
            context.join("<br>")
        );
    }
}

/// Unused actions and notes on what was assumed.
fn rest(out: &mut String, proposal: &Proposal) {
    let unused: Vec<_> = proposal.services.values().flat_map(|d| &d.unused).collect();
    if !unused.is_empty() {
        out.push_str("\n## Not used in this run (candidates, not deletions: one run may not take every path)\n\n| Action | Statement |\n|---|---|\n");
        for u in unused {
            let _ = writeln!(out, "| `{}` | {} |", u.action, u.statement);
        }
    }
    if !proposal.placeholders.is_empty() || !proposal.conditional_statements.is_empty() {
        out.push_str("\n## Notes\n\n");
        if !proposal.placeholders.is_empty() {
            let _ = writeln!(
                out,
                "- Unresolved placeholders were taken to match anything (give them with `--var NAME=VALUE`): {}",
                proposal
                    .placeholders
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        if !proposal.conditional_statements.is_empty() {
            let _ = writeln!(
                out,
                "- Conditions on keys the trail cannot show were taken to hold; these statements were taken to apply: {}",
                proposal.conditional_statements.join(", ")
            );
        }
    }
}

/// The proposal as JSON.
///
/// # Errors
/// Only if serialisation fails.
pub fn json(proposal: &Proposal) -> serde_json::Result<String> {
    serde_json::to_string_pretty(proposal).map(|text| text + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_message_is_quoted_shortened_on_a_character_boundary() {
        let long = format!("User: é {}", "x".repeat(2_000));
        let quoted = shortened(&long);
        assert_eq!(quoted.chars().count(), QUOTED + 1);
        assert!(quoted.ends_with('…') && long.starts_with(quoted.trim_end_matches('…')));
        assert_eq!(shortened("Access Denied"), "Access Denied");
    }
}
