//! How a run's denials are shown: the summary's sections (what AWS's error messages proved
//! missing and was added, what other policies refused — no catalog can fix it — and every
//! denial it could not read, each with its calls), and the evidence report's `denials`
//! entries, in the shape the tools that read the report rely on.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::denial::{Class, Denials, Entry, Key, NOT_ASKED};

/// The summary's sections, each only when it has lines.
pub fn render(out: &mut String, denials: &Denials) {
    let lines = |class: Class, line: fn(&Key, &Entry) -> String| -> Vec<String> {
        denials.of(class).map(|(k, e)| line(k, e)).collect()
    };
    section(
        out,
        "named by AWS as missing from the identity-based policy, added to the policy",
        &lines(Class::Fixable, |key, entry| {
            format!(
                "  {}{}: in the error of {}",
                action(key),
                on(key, entry),
                calls(key, entry)
            )
        }),
    );
    section(
        out,
        "REFUSED by other policies: the deployment needs these, and no identity policy makes them succeed",
        &lines(Class::Refused, denied),
    );
    section(
        out,
        "denied: AWS named the action, not which policy refused it (not added; check by hand)",
        &lines(Class::Undecided, denied),
    );
    section(
        out,
        "denied: AWS named an action the IAM reference does not have (not added)",
        &lines(Class::NotInReference, |key, entry| {
            format!("  {}: {}{}", calls(key, entry), action(key), on(key, entry))
        }),
    );
    let unnamed: Vec<(&Key, &Entry)> = denials.of(Class::Unnamed).collect();
    section(
        out,
        "denied, AWS did not say why",
        &unnamed
            .iter()
            .filter(|(_, e)| e.unexplained > 0)
            .map(|(key, entry)| {
                let message = entry
                    .message
                    .as_ref()
                    .map_or_else(String::new, |(_, m)| format!(": {m:?}"));
                format!(
                    "  {} {} ×{} ({}){message}",
                    key.source,
                    key.name,
                    entry.unexplained,
                    entry.error_code()
                )
            })
            .collect::<Vec<_>>(),
    );
    let encoded = |asked: bool| -> Vec<String> {
        unnamed
            .iter()
            .flat_map(|(key, entry)| {
                entry
                    .encoded
                    .iter()
                    .filter(move |(why, _)| (why.as_str() != NOT_ASKED) == asked)
                    .map(move |(why, n)| {
                        let why = if asked {
                            format!(": {why}")
                        } else {
                            String::new()
                        };
                        format!("  {} {} ×{n}{why}", key.source, key.name)
                    })
            })
            .collect()
    };
    section(
        out,
        &format!("denied with an encoded message only STS can read: {NOT_ASKED}"),
        &encoded(false),
    );
    section(out, "encoded messages STS did not decode", &encoded(true));
}

/// A titled list of lines with their count, only when there are lines.
pub(super) fn section(out: &mut String, title: &str, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title} ({}):", lines.len());
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
}

/// A denied call's line: its calls, the action and resource, and what refused it.
fn denied(key: &Key, entry: &Entry) -> String {
    format!(
        "  {}: {}{} ({})",
        calls(key, entry),
        action(key),
        on(key, entry),
        decision(key, entry)
    )
}

fn action(key: &Key) -> &str {
    key.action.as_deref().unwrap_or_default()
}

fn on(key: &Key, entry: &Entry) -> String {
    if key.folded {
        return format!(" on {}", folded(&resources(entry)));
    }
    key.resource
        .as_deref()
        .map_or_else(String::new, |r| format!(" on {r}"))
}

/// A folded denial's resources in words: `arn:aws:s3:::b/k/* (about 1990 resources)`, or
/// `about 2000 resources: arn:aws:s3:::b/k/* (about 1990), arn:aws:s3:::b/top, and 3 more`.
fn folded(resources: &[FoldedResource]) -> String {
    const SHOWN: usize = 3;
    let about = |estimated: bool| if estimated { "about " } else { "" };
    if let [only] = resources {
        return format!(
            "{} ({}{} resources)",
            only.pattern,
            about(only.estimated),
            only.count
        );
    }
    let shown: Vec<String> = resources
        .iter()
        .take(SHOWN)
        .map(|r| {
            if r.estimated {
                format!("{} (about {})", r.pattern, r.count)
            } else {
                r.pattern.clone()
            }
        })
        .collect();
    let more = resources.len().saturating_sub(SHOWN);
    format!(
        "{}{} resources: {}{}",
        about(resources.iter().any(|r| r.estimated)),
        resources.iter().map(|r| r.count).sum::<u64>(),
        shown.join(", "),
        if more > 0 {
            format!(", and {more} more")
        } else {
            String::new()
        }
    )
}

/// A folded denial's resources, from its tree.
fn resources(entry: &Entry) -> Vec<FoldedResource> {
    entry
        .resources
        .entries()
        .into_iter()
        .map(|e| FoldedResource {
            estimated: !e.sample.is_empty(),
            pattern: e.arn,
            count: e.count,
            sample: e.sample,
        })
        .collect()
}

/// `ec2.amazonaws.com RunInstances ×3 (Client.UnauthorizedOperation)`
fn calls(key: &Key, entry: &Entry) -> String {
    format!(
        "{} {} ×{} ({})",
        key.source,
        key.name,
        entry.seen.count,
        entry.error_code()
    )
}

/// What AWS said decided it: `explicit deny; decided by service control; policy arn:…`.
fn decision(key: &Key, entry: &Entry) -> String {
    let mut parts = vec![
        match key.explicit {
            Some(true) => "explicit deny",
            Some(false) => "implicit deny",
            None => "AWS did not say whether explicit",
        }
        .to_owned(),
    ];
    match &key.decided_by {
        Some(decided_by) => parts.push(format!("decided by {decided_by}")),
        None if entry.unknown_policies.is_empty() => {
            parts.push("AWS did not name the kind of policy".to_owned());
        }
        None => {}
    }
    for words in &entry.unknown_policies {
        parts.push(format!(
            "decided by a {words:?}, a kind minpriv does not know"
        ));
    }
    for through in &entry.through {
        parts.push(format!("through a {through}"));
    }
    if let Some(arn) = &key.policy_arn {
        parts.push(format!("policy {arn}"));
    }
    if !entry.statements.is_empty() {
        let statements: Vec<&str> = entry.statements.iter().map(String::as_str).collect();
        parts.push(format!("statements {}", statements.join(", ")));
    }
    if let Some((_, id)) = &entry.authorization_id {
        parts.push(format!("authorization id {id}"));
    }
    parts.join("; ")
}

/// One kind of denial, in the shape the tools that read the report rely on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenialReport {
    pub event_source: String,
    pub event_name: String,
    pub error_code: String,
    pub action: Option<String>,
    pub resource: Option<String>,
    /// When the denial named more than 64 distinct resources (`resource` is then null):
    /// all of them, as ARNs and the patterns the tally's prefix tree collapsed them to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub folded_resources: Vec<FoldedResource>,
    /// `identity-based`, `resource-based`, `service control`, `resource control`,
    /// `permissions boundary`, `session`, `VPC endpoint` or `role trust`.
    pub decided_by: Option<String>,
    pub explicit: Option<bool>,
    pub policy_arn: Option<String>,
    pub authorization_id: Option<String>,
    /// Only an implicit deny by the identity-based policy (of an action in the reference).
    pub fixable: bool,
    pub calls: u64,
    pub first: String,
    pub last: String,
}

/// Resources of a folded denial: one ARN, or a pattern standing for several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldedResource {
    /// The ARN, or `path*` for several.
    pub pattern: String,
    /// 1, or how many distinct ARNs the pattern stands for (`estimated`).
    pub count: u64,
    pub estimated: bool,
    /// The first concrete ARNs a pattern stands for (at most 5).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sample: Vec<String>,
}

/// The report's entries of a run's denials, in order.
#[must_use]
pub fn reports(denials: &Denials) -> Vec<DenialReport> {
    let text = |value: Option<&str>| value.map(str::to_owned);
    denials
        .entries
        .iter()
        .map(|(key, entry)| DenialReport {
            event_source: key.source.to_string(),
            event_name: key.name.to_string(),
            error_code: entry.error_code().to_owned(),
            action: text(key.action.as_deref()),
            resource: text(key.resource.as_deref()),
            folded_resources: resources(entry),
            decided_by: text(key.decided_by.as_deref()),
            explicit: key.explicit,
            policy_arn: text(key.policy_arn.as_deref()),
            authorization_id: entry.authorization_id.as_ref().map(|(_, id)| id.clone()),
            fixable: entry.class(key) == Class::Fixable,
            calls: entry.seen.count,
            first: entry.seen.first.clone(),
            last: entry.seen.last.clone(),
        })
        .collect()
}

/// The report's denials for people: one table row each, with what AWS said decided it.
pub fn markdown(out: &mut String, denials: &[DenialReport]) {
    if denials.is_empty() {
        return;
    }
    out.push_str("\n## Denials\n\n| Event | Error | Calls | Action | Resource | Decided by | Explicit | Policy | Fixable |\n|---|---|---|---|---|---|---|---|---|\n");
    let cell = |value: Option<&str>| value.map_or_else(String::new, |v| format!("`{v}`"));
    for d in denials {
        let _ = writeln!(
            out,
            "| {} {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            d.event_source,
            d.event_name,
            d.error_code,
            d.calls,
            d.action
                .as_deref()
                .map_or_else(|| "not named".to_owned(), |a| format!("`{a}`")),
            if d.folded_resources.is_empty() {
                cell(d.resource.as_deref())
            } else {
                cell(Some(&folded(&d.folded_resources)))
            },
            d.decided_by.as_deref().unwrap_or("not said"),
            d.explicit
                .map_or("not said", |e| if e { "yes" } else { "no" }),
            cell(d.policy_arn.as_deref()),
            if d.fixable { "added" } else { "no" }
        );
    }
}

impl DenialReport {
    /// One line: the call, what AWS said, and whether the policy has it.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut text = format!(
            "denied in {} {} ×{} ({}, {} to {})",
            self.event_source, self.event_name, self.calls, self.error_code, self.first, self.last
        );
        if let Some(resource) = &self.resource {
            let _ = write!(text, " on {resource}");
        }
        if !self.folded_resources.is_empty() {
            let _ = write!(text, " on {}", folded(&self.folded_resources));
        }
        let _ = write!(
            text,
            ": {}",
            match self.explicit {
                Some(true) => "an explicit deny",
                Some(false) => "an implicit deny",
                None => "AWS did not say whether explicit",
            }
        );
        match &self.decided_by {
            Some(kind) => {
                let _ = write!(text, " decided by the {kind} policy");
            }
            None => text.push_str(", the kind of policy not given"),
        }
        if let Some(arn) = &self.policy_arn {
            let _ = write!(text, " {arn}");
        }
        if let Some(id) = &self.authorization_id {
            let _ = write!(text, " (authorization id {id})");
        }
        text.push_str(if self.fixable {
            "; fixable: the grant is added to the policy"
        } else {
            "; not fixable by a grant: nothing added for it"
        });
        text
    }
}
