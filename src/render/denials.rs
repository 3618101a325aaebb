//! The denials part of the run summary: what AWS's error messages proved missing and was
//! added, what other policies refused (no catalog can fix it), and every denial it could not
//! read, each with its calls.

use std::fmt::Write;

use crate::denial::{Class, Denials, Entry, Key, NOT_ASKED};

/// The sections, each only when it has lines.
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
                on(key),
                calls(key, entry)
            )
        }),
    );
    section(
        out,
        "REFUSED by other policies: the deployment needs these, and no identity policy makes them succeed",
        &lines(Class::Refused, |key, entry| {
            format!(
                "  {}: {}{} ({})",
                calls(key, entry),
                action(key),
                on(key),
                decision(key, entry)
            )
        }),
    );
    section(
        out,
        "denied: AWS named the action, not which policy refused it (not added; check by hand)",
        &lines(Class::Undecided, |key, entry| {
            format!(
                "  {}: {}{} ({})",
                calls(key, entry),
                action(key),
                on(key),
                decision(key, entry)
            )
        }),
    );
    section(
        out,
        "denied: AWS named an action the IAM reference does not have (not added)",
        &lines(Class::NotInReference, |key, entry| {
            format!("  {}: {}{}", calls(key, entry), action(key), on(key))
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

fn section(out: &mut String, title: &str, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title} ({}):", lines.len());
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
}

fn action(key: &Key) -> &str {
    key.action.as_deref().unwrap_or_default()
}

fn on(key: &Key) -> String {
    key.resource
        .as_deref()
        .map_or_else(String::new, |r| format!(" on {r}"))
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
