//! `data/denials.toml`, parsed and compiled once: the denial error codes, and the patterns of
//! every form of AWS's access-denied message.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

const TABLE: &str = include_str!("../../data/denials.toml");

static PARSED: LazyLock<Result<Table, TableError>> = LazyLock::new(|| Table::parse(TABLE));

/// `data/denials.toml` does not parse or holds a pattern that does not compile (ruled out by
/// the tests).
#[derive(Debug, Clone, thiserror::Error)]
#[error("data/denials.toml: {0}")]
pub struct TableError(String);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    codes: Vec<Code>,
    envelopes: Vec<Form>,
    verdict: Verdict,
    resources: Vec<Form>,
    reasons: Vec<Form>,
    policies: Vec<Policy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Code {
    code: String,
    #[expect(dead_code, reason = "evidence for people, checked to be there")]
    evidence: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Verdict {
    pattern: String,
    #[expect(dead_code, reason = "evidence for people, checked to be there")]
    evidence: String,
}

/// One form of a part of the message, as the file gives it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Form {
    pub name: String,
    pub pattern: String,
    /// Whether the form is an explicit deny (reasons only).
    #[serde(default)]
    pub explicit: Option<bool>,
    /// A message AWS published in this form.
    pub example: String,
    pub evidence: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Policy {
    words: Vec<String>,
    decided_by: String,
    #[serde(default)]
    identity: bool,
    #[expect(dead_code, reason = "evidence for people, checked to be there")]
    evidence: String,
}

/// A form with its pattern compiled.
#[derive(Debug)]
pub struct Compiled {
    pub form: Form,
    pub regex: Regex,
}

/// A kind of policy: the report's `decided_by`, and whether it is the principal's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind<'t> {
    pub decided_by: &'t str,
    pub identity: bool,
}

/// The whole table, compiled.
#[derive(Debug)]
pub struct Table {
    codes: BTreeSet<String>,
    pub envelopes: Vec<Compiled>,
    pub verdict: Regex,
    /// Every (resource clause or none) × (reason clause or none), anchored at both ends, in
    /// the file's order with "none" last: the first that reads the rest of a verdict whole.
    pub tails: Vec<Tail>,
    /// Lower-cased words, the kind's `decided_by`, whether it is the principal's own.
    policies: Vec<(String, String, bool)>,
    /// The resource and reason forms, as the file gives them.
    pub clauses: Vec<Form>,
}

/// One way the rest of a verdict can read.
#[derive(Debug)]
pub struct Tail {
    pub regex: Regex,
    /// Whether the reason clause says explicit (`None`: no reason clause, or it does not say).
    pub explicit: Option<bool>,
}

impl Table {
    /// The table embedded in this binary.
    ///
    /// # Errors
    /// Only if the embedded file is malformed, which the tests rule out.
    pub fn embedded() -> Result<&'static Self, TableError> {
        PARSED.as_ref().map_err(Clone::clone)
    }

    fn parse(text: &str) -> Result<Self, TableError> {
        let file: File = toml::from_str(text).map_err(|e| TableError(e.to_string()))?;
        let compile = |pattern: &str| {
            Regex::new(pattern).map_err(|e| TableError(format!("pattern {pattern:?}: {e}")))
        };
        let envelopes = file
            .envelopes
            .into_iter()
            .map(|form| {
                Ok(Compiled {
                    regex: compile(&form.pattern)?,
                    form,
                })
            })
            .collect::<Result<Vec<_>, TableError>>()?;
        let mut tails = Vec::new();
        let resources: Vec<Option<&Form>> = file.resources.iter().map(Some).chain([None]).collect();
        let reasons: Vec<Option<&Form>> = file.reasons.iter().map(Some).chain([None]).collect();
        for resource in &resources {
            for reason in &reasons {
                let pattern = format!(
                    r"^{}{}\.?\s*$",
                    resource.map_or("", |f| f.pattern.as_str()),
                    reason.map_or("", |f| f.pattern.as_str())
                );
                tails.push(Tail {
                    regex: compile(&pattern)?,
                    explicit: reason.and_then(|f| f.explicit),
                });
            }
        }
        let policies = file
            .policies
            .iter()
            .flat_map(|policy| {
                policy.words.iter().map(|words| {
                    (
                        words.to_ascii_lowercase(),
                        policy.decided_by.clone(),
                        policy.identity,
                    )
                })
            })
            .collect();
        Ok(Self {
            codes: file.codes.into_iter().map(|c| c.code).collect(),
            envelopes,
            verdict: compile(&file.verdict.pattern)?,
            tails,
            policies,
            clauses: file.resources.into_iter().chain(file.reasons).collect(),
        })
    }

    /// Whether an error code means the call was refused.
    #[must_use]
    pub fn is_denial(&self, code: &str) -> bool {
        self.codes.contains(code)
    }

    /// The denial error codes, in order (for the SQL the engines run).
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.codes.iter().map(String::as_str)
    }

    /// The kind of policy AWS's words name, if the table knows them.
    #[must_use]
    pub fn kind(&self, words: &str) -> Option<Kind<'_>> {
        let words = words.to_ascii_lowercase();
        self.policies
            .iter()
            .find(|(known, _, _)| *known == words)
            .map(|(_, decided_by, identity)| Kind {
                decided_by,
                identity: *identity,
            })
    }

    /// Every form of the file with the message AWS published in it.
    pub fn forms(&self) -> impl Iterator<Item = &Form> {
        self.envelopes.iter().map(|c| &c.form).chain(&self.clauses)
    }
}
