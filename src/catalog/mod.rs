//! The catalog: the hand-kept least-privilege policy a project publishes for its deployers.
//! Read from IAM JSON or Terraform (`read`), compared with what a run needed the way IAM
//! evaluates (`diff`), and updated (`update`).

pub mod diff;
pub mod read;
pub mod update;

use std::collections::BTreeSet;
use std::path::PathBuf;

use wildmatch::WildMatch;

/// Where a catalog came from, which decides whether it can be rewritten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Terraform,
}

/// One catalog statement, as IAM reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub allow: bool,
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub resources: Vec<String>,
    pub not_resources: Vec<String>,
    /// Conditions are not evaluated; the proposal says so.
    pub conditional: bool,
    /// Which document (file, or element of an array) it came from.
    pub document: usize,
    /// Its index within that document's `Statement` list.
    pub index: usize,
}

/// A whole catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub path: PathBuf,
    pub format: Format,
    pub statements: Vec<Statement>,
    /// Actions written in the catalog but commented out: known and deliberately excluded.
    pub excluded: BTreeSet<String>,
    /// `${...}` placeholders left after `--var` substitution; they match anything.
    pub placeholders: BTreeSet<String>,
    /// The documents as JSON, for rewriting (JSON catalogs only).
    pub documents: Vec<serde_json::Value>,
    /// Files the documents were read from (one per document; the same file for an array).
    pub files: Vec<PathBuf>,
}

/// How a catalog treats one (action, resource) request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// A `Deny` statement matches.
    Denied {
        sid: String,
    },
    /// Some statement allows the action, but on other resources.
    OtherResources {
        sids: Vec<String>,
        resources: Vec<String>,
    },
    NotAllowed,
}

/// IAM's wildcard match: `*` any run, `?` one character.
fn matches(pattern: &str, text: &str, ignore_case: bool) -> bool {
    if ignore_case {
        WildMatch::new(&pattern.to_ascii_lowercase()).matches(&text.to_ascii_lowercase())
    } else {
        WildMatch::new(pattern).matches(text)
    }
}

/// Unresolved `${...}` placeholders match anything.
fn resource_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some((before, after)) = rest.split_once("${") {
        out.push_str(before);
        let Some((_, tail)) = after.split_once('}') else {
            out.push_str("${");
            rest = after;
            break;
        };
        out.push('*');
        rest = tail;
    }
    out.push_str(rest);
    out
}

impl Statement {
    /// Whether the statement names the action (Action, or everything but NotAction).
    #[must_use]
    pub fn names_action(&self, action: &str) -> bool {
        if self.not_actions.is_empty() {
            self.actions.iter().any(|p| matches(p, action, true))
        } else {
            !self.not_actions.iter().any(|p| matches(p, action, true))
        }
    }

    /// Whether the statement covers the resource. A requested resource that is itself a
    /// pattern (`…:function:psoxy-*`) is covered when the statement's pattern matches its
    /// text, `*` included: a pattern covers what it matches.
    #[must_use]
    pub fn covers_resource(&self, resource: &str) -> bool {
        if self.not_resources.is_empty() {
            self.resources
                .iter()
                .any(|p| matches(&resource_pattern(p), resource, false))
        } else {
            !self
                .not_resources
                .iter()
                .any(|p| matches(&resource_pattern(p), resource, false))
        }
    }

    /// The service most of its actions belong to.
    #[must_use]
    pub fn service(&self) -> Option<String> {
        let mut counts: std::collections::BTreeMap<String, usize> =
            std::collections::BTreeMap::new();
        for action in &self.actions {
            if let Some((prefix, _)) = action.split_once(':') {
                *counts.entry(prefix.to_ascii_lowercase()).or_default() += 1;
            }
        }
        counts
            .into_iter()
            .max_by_key(|(_, n)| *n)
            .map(|(prefix, _)| prefix)
    }

    /// The Sid, or the statement's place when it has none.
    #[must_use]
    pub fn label(&self) -> String {
        self.sid
            .clone()
            .unwrap_or_else(|| format!("statement {}", self.index + 1))
    }
}

impl Catalog {
    /// How the catalog treats `action` on `resource` (`None`: the resource is unknown, and
    /// any statement allowing the action counts).
    #[must_use]
    pub fn verdict(&self, action: &str, resource: Option<&str>) -> Verdict {
        let on =
            |s: &Statement| s.names_action(action) && resource.is_none_or(|r| s.covers_resource(r));
        if let Some(deny) = self.statements.iter().find(|s| !s.allow && on(s)) {
            return Verdict::Denied { sid: deny.label() };
        }
        if self.statements.iter().any(|s| s.allow && on(s)) {
            return Verdict::Allowed;
        }
        let naming: Vec<&Statement> = self
            .statements
            .iter()
            .filter(|s| s.allow && s.names_action(action))
            .collect();
        if naming.is_empty() {
            return Verdict::NotAllowed;
        }
        Verdict::OtherResources {
            sids: naming.iter().map(|s| s.label()).collect(),
            resources: naming
                .iter()
                .flat_map(|s| s.resources.iter().cloned())
                .collect(),
        }
    }

    /// Whether a commented-out line of the catalog names this action.
    #[must_use]
    pub fn excludes(&self, action: &str) -> bool {
        self.excluded.iter().any(|a| a.eq_ignore_ascii_case(action))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(actions: &[&str], resources: &[&str]) -> Statement {
        Statement {
            sid: Some("S".into()),
            allow: true,
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            not_actions: Vec::new(),
            resources: resources.iter().map(|a| (*a).to_owned()).collect(),
            not_resources: Vec::new(),
            conditional: false,
            document: 0,
            index: 0,
        }
    }

    fn catalog(statements: Vec<Statement>) -> Catalog {
        Catalog {
            path: PathBuf::new(),
            format: Format::Json,
            statements,
            excluded: BTreeSet::new(),
            placeholders: BTreeSet::new(),
            documents: Vec::new(),
            files: Vec::new(),
        }
    }

    #[test]
    fn coverage_follows_iam_wildcards_and_case() {
        let c = catalog(vec![statement(
            &["s3:Get*", "LAMBDA:createfunction"],
            &[
                "arn:aws:s3:::psoxy-*",
                "arn:aws:lambda:*:*:function:psoxy-*",
            ],
        )]);
        assert_eq!(
            c.verdict("s3:GetBucketPolicy", Some("arn:aws:s3:::psoxy-a")),
            Verdict::Allowed
        );
        assert_eq!(
            c.verdict(
                "lambda:CreateFunction",
                Some("arn:aws:lambda:*:1:function:psoxy-*")
            ),
            Verdict::Allowed
        );
        assert!(matches!(
            c.verdict("s3:GetBucketPolicy", Some("arn:aws:s3:::other")),
            Verdict::OtherResources { .. }
        ));
        assert_eq!(
            c.verdict("s3:PutObject", Some("arn:aws:s3:::psoxy-a")),
            Verdict::NotAllowed
        );
        assert_eq!(c.verdict("s3:GetObject", None), Verdict::Allowed);
        // A narrower catalog does not cover a broader request.
        let narrow = catalog(vec![statement(
            &["lambda:*"],
            &["arn:aws:lambda:*:*:function:psoxy-gcal"],
        )]);
        assert!(matches!(
            narrow.verdict(
                "lambda:GetFunction",
                Some("arn:aws:lambda:*:1:function:psoxy-*")
            ),
            Verdict::OtherResources { .. }
        ));
    }

    #[test]
    fn deny_wins_and_not_action_inverts() {
        let mut deny = statement(&["iam:*"], &["*"]);
        deny.allow = false;
        let mut everything_but = statement(&[], &["*"]);
        everything_but.not_actions = vec!["iam:*".into()];
        let c = catalog(vec![
            statement(&["iam:CreateRole"], &["*"]),
            deny,
            everything_but,
        ]);
        assert!(matches!(
            c.verdict("iam:CreateRole", Some("arn:aws:iam::1:role/x")),
            Verdict::Denied { .. }
        ));
        assert_eq!(
            c.verdict("sqs:CreateQueue", Some("arn:aws:sqs:*:1:q")),
            Verdict::Allowed
        );
    }

    #[test]
    fn unresolved_placeholders_match_anything() {
        assert_eq!(
            resource_pattern("arn:aws:ssm:*:${local.account}:parameter/${var.p}*"),
            "arn:aws:ssm:*:*:parameter/**"
        );
        let c = catalog(vec![statement(
            &["ssm:GetParameter"],
            &["arn:aws:ssm:*:${local.account}:parameter/PSOXY_*"],
        )]);
        assert_eq!(
            c.verdict(
                "ssm:GetParameter",
                Some("arn:aws:ssm:eu-west-1:1:parameter/PSOXY_A")
            ),
            Verdict::Allowed
        );
    }
}
