//! Conditions that narrow a grant (`data/conditions.toml`): the service a role is passed to,
//! the creating call a tag-on-create permission is limited to. Each is added only where the
//! trail shows it held for every call of the action.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde::Deserialize;

use super::{Condition, Conditions};
use crate::evidence::ActionEvidence;
use crate::iam::Reason;

const TABLE: &str = include_str!("../../data/conditions.toml");

static PARSED: LazyLock<Option<Table>> = LazyLock::new(|| toml::from_str(TABLE).ok());

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    passed_to: Vec<Rule>,
    created_by: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    action: String,
    key: String,
    #[expect(dead_code, reason = "read by reviewers, kept in the data")]
    evidence: String,
}

/// `StringEquals`, the operator every rule uses.
const EQUALS: &str = "StringEquals";

/// The conditions the trail shows held for every call of `action`.
pub fn of(action: &str, evidence: &ActionEvidence, conditions: Conditions) -> Condition {
    let mut condition = Condition::new();
    let Some(table) = PARSED.as_ref() else {
        return condition;
    };
    if conditions == Conditions::None {
        return condition;
    }
    // Every grant came from a mapping rule (a creating call, a passed role), none from an
    // event of the action itself.
    let dependent_only = !evidence.reasons.is_empty()
        && evidence
            .reasons
            .iter()
            .all(|r| matches!(r, Reason::Dependent { .. }));
    if !dependent_only {
        return condition;
    }
    let mut add = |key: &str, values: BTreeSet<String>| {
        if !values.is_empty() {
            condition
                .entry(EQUALS.to_owned())
                .or_default()
                .insert(key.to_owned(), values);
        }
    };
    for rule in table.passed_to.iter().filter(|r| r.action == action) {
        add(&rule.key, evidence.passed_to.clone());
    }
    for rule in table.created_by.iter().filter(|r| r.action == action) {
        add(&rule.key, evidence.events.keys().cloned().collect());
    }
    condition
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::Reference;
    use test_case::test_case;

    #[test]
    fn the_table_parses_and_names_real_actions() {
        let table = PARSED.as_ref().unwrap();
        let reference = Reference::embedded().unwrap();
        for rule in table.passed_to.iter().chain(&table.created_by) {
            assert!(reference.action(&rule.action).is_some(), "{}", rule.action);
        }
    }

    fn evidence(reasons: &[Reason], events: &[&str], passed_to: &[&str]) -> ActionEvidence {
        ActionEvidence {
            reasons: reasons.iter().cloned().collect(),
            events: events.iter().map(|e| ((*e).to_owned(), 1)).collect(),
            passed_to: passed_to.iter().map(|s| (*s).to_owned()).collect(),
            ..ActionEvidence::default()
        }
    }

    fn dependent() -> Reason {
        Reason::Dependent { why: "w".into() }
    }

    #[test_case("iam:PassRole", &[dependent()], &["CreateFunction20150331"], &["lambda.amazonaws.com"], Conditions::Auto,
        &["StringEquals iam:PassedToService = lambda.amazonaws.com"] ; "pass role to lambda")]
    #[test_case("iam:PassRole", &[dependent()], &["RegisterTaskDefinition", "RunInstances"], &["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"], Conditions::Auto,
        &["StringEquals iam:PassedToService = ec2.amazonaws.com, ecs-tasks.amazonaws.com"] ; "pass role to two services")]
    #[test_case("iam:PassRole", &[dependent(), Reason::Direct], &["PassRole"], &["lambda.amazonaws.com"], Conditions::Auto,
        &[] ; "a direct pass role event has no service")]
    #[test_case("iam:PassRole", &[dependent()], &["CreateFunction"], &["lambda.amazonaws.com"], Conditions::None,
        &[] ; "conditions off")]
    #[test_case("ec2:CreateTags", &[dependent()], &["CreateSecurityGroup", "RunInstances"], &[], Conditions::Auto,
        &["StringEquals ec2:CreateAction = CreateSecurityGroup, RunInstances"] ; "tag on create")]
    #[test_case("ec2:CreateTags", &[dependent(), Reason::Direct], &["CreateTags", "RunInstances"], &[], Conditions::Auto,
        &[] ; "a plain create tags call has no creating action")]
    #[test_case("kms:Decrypt", &[Reason::Direct], &["Decrypt"], &[], Conditions::Auto, &[] ; "other actions")]
    fn condition_rules(
        action: &str,
        reasons: &[Reason],
        events: &[&str],
        passed_to: &[&str],
        conditions: Conditions,
        expected: &[&str],
    ) {
        let statement = super::super::Statement {
            sid: String::new(),
            effect: "Allow",
            actions: Vec::new(),
            resource: super::super::Resource::One("*".into()),
            condition: of(action, &evidence(reasons, events, passed_to), conditions),
        };
        assert_eq!(statement.condition_lines(), expected);
    }
}
