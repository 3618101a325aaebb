//! The catalog: the hand-kept least-privilege policy a project publishes for its deployers.
//! Read from IAM JSON or Terraform (`read`), compared with what a run needed the way IAM
//! evaluates (`diff`), the proposal that comparison makes written for people or machines
//! (`proposal`), and updated (`update`).

pub mod condition;
pub mod diff;
pub mod proposal;
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
    /// Whether it has a `Condition` block.
    pub conditional: bool,
    /// The condition, evaluated against the context a run observed (keys it cannot show
    /// are taken to hold; the proposal names the statements that needed them).
    pub condition: condition::Condition,
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
    /// Statements allow the action on the resource, but their conditions fail for the
    /// request the run made (a role passed to another service, other tags).
    ConditionFails {
        sids: Vec<String>,
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
    /// any statement allowing the action counts) in a request `context`: a statement whose
    /// condition fails for it does not apply, as in IAM.
    #[must_use]
    pub fn verdict(
        &self,
        action: &str,
        resource: Option<&str>,
        context: &condition::Context,
    ) -> Verdict {
        let applies =
            |s: &Statement| condition::evaluate(&s.condition, context) != condition::Outcome::Fails;
        let on = |s: &Statement| {
            s.names_action(action) && resource.is_none_or(|r| s.covers_resource(r)) && applies(s)
        };
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
        let covering: Vec<&Statement> = naming
            .iter()
            .copied()
            .filter(|s| resource.is_none_or(|r| s.covers_resource(r)))
            .collect();
        if !covering.is_empty() {
            // Allowed on these resources, but not in this request context.
            return Verdict::ConditionFails {
                sids: covering.iter().map(|s| s.label()).collect(),
            };
        }
        Verdict::OtherResources {
            sids: naming.iter().map(|s| s.label()).collect(),
            resources: naming
                .iter()
                .flat_map(|s| s.resources.iter().cloned())
                .collect(),
        }
    }

    /// Statements naming `action` whose condition needs a key the context does not show.
    #[must_use]
    pub fn undecided(&self, action: &str, context: &condition::Context) -> Vec<String> {
        self.statements
            .iter()
            .filter(|s| s.conditional && s.names_action(action))
            .filter(|s| condition::evaluate(&s.condition, context) == condition::Outcome::Unknown)
            .map(Statement::label)
            .collect()
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
            condition: condition::Condition::new(),
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
            c.verdict(
                "s3:GetBucketPolicy",
                Some("arn:aws:s3:::psoxy-a"),
                &condition::Context::new()
            ),
            Verdict::Allowed
        );
        assert_eq!(
            c.verdict(
                "lambda:CreateFunction",
                Some("arn:aws:lambda:*:1:function:psoxy-*"),
                &condition::Context::new()
            ),
            Verdict::Allowed
        );
        assert!(matches!(
            c.verdict(
                "s3:GetBucketPolicy",
                Some("arn:aws:s3:::other"),
                &condition::Context::new()
            ),
            Verdict::OtherResources { .. }
        ));
        assert_eq!(
            c.verdict(
                "s3:PutObject",
                Some("arn:aws:s3:::psoxy-a"),
                &condition::Context::new()
            ),
            Verdict::NotAllowed
        );
        assert_eq!(
            c.verdict("s3:GetObject", None, &condition::Context::new()),
            Verdict::Allowed
        );
        // A narrower catalog does not cover a broader request.
        let narrow = catalog(vec![statement(
            &["lambda:*"],
            &["arn:aws:lambda:*:*:function:psoxy-gcal"],
        )]);
        assert!(matches!(
            narrow.verdict(
                "lambda:GetFunction",
                Some("arn:aws:lambda:*:1:function:psoxy-*"),
                &condition::Context::new()
            ),
            Verdict::OtherResources { .. }
        ));
    }

    #[test]
    fn a_statement_whose_condition_fails_for_the_request_does_not_apply() {
        let mut pass = statement(&["iam:PassRole"], &["arn:aws:iam::1:role/psoxy-*"]);
        pass.conditional = true;
        pass.condition = condition::from_json(
            &serde_json::json!({"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
        );
        let c = catalog(vec![pass]);
        let to = |service: &str| -> condition::Context {
            [(
                "iam:passedtoservice".to_owned(),
                [service.to_owned()].into(),
            )]
            .into()
        };
        let role = Some("arn:aws:iam::1:role/psoxy-exec");
        assert_eq!(
            c.verdict("iam:PassRole", role, &to("ec2.amazonaws.com")),
            Verdict::Allowed
        );
        assert!(matches!(
            c.verdict("iam:PassRole", role, &to("lambda.amazonaws.com")),
            Verdict::ConditionFails { .. }
        ));
        // A context without the key: taken to apply, and named as undecided.
        let unknown = condition::Context::new();
        assert_eq!(c.verdict("iam:PassRole", role, &unknown), Verdict::Allowed);
        assert_eq!(c.undecided("iam:PassRole", &unknown), ["S"]);
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
            c.verdict(
                "iam:CreateRole",
                Some("arn:aws:iam::1:role/x"),
                &condition::Context::new()
            ),
            Verdict::Denied { .. }
        ));
        assert_eq!(
            c.verdict(
                "sqs:CreateQueue",
                Some("arn:aws:sqs:*:1:q"),
                &condition::Context::new()
            ),
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
                Some("arn:aws:ssm:eu-west-1:1:parameter/PSOXY_A"),
                &condition::Context::new()
            ),
            Verdict::Allowed
        );
    }
}
