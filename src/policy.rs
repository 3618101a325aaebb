//! The smallest deterministic policy: one `Allow` statement per service, actions sorted and
//! de-duplicated, statements in service order with Sids named after the service.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::iam::Rules;

/// An IAM policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    #[serde(rename = "Version")]
    pub version: &'static str,
    #[serde(rename = "Statement")]
    pub statements: Vec<Statement>,
}

/// One `Allow` statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    #[serde(rename = "Sid")]
    pub sid: String,
    #[serde(rename = "Effect")]
    pub effect: &'static str,
    #[serde(rename = "Action")]
    pub actions: Vec<String>,
    #[serde(rename = "Resource")]
    pub resource: Resource,
}

/// `"*"` or a list of ARNs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Resource {
    One(String),
    Many(Vec<String>),
}

impl Policy {
    /// Groups `prefix:Action` names into one statement per service, on all resources.
    #[must_use]
    pub fn from_actions<'a>(actions: impl IntoIterator<Item = &'a str>, rules: &Rules) -> Self {
        let mut by_service: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for action in actions {
            let prefix = action.split(':').next().unwrap_or(action);
            by_service.entry(prefix).or_default().insert(action);
        }
        let statements = by_service
            .into_iter()
            .map(|(prefix, actions)| Statement {
                sid: rules.sid(prefix),
                effect: "Allow",
                actions: actions.into_iter().map(str::to_owned).collect(),
                resource: Resource::One("*".to_owned()),
            })
            .collect();
        Self {
            version: "2012-10-17",
            statements,
        }
    }

    /// Every action, in statement order.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.statements
            .iter()
            .flat_map(|s| s.actions.iter().map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sorted_statement_per_service() {
        let rules = Rules::embedded().unwrap();
        let policy = Policy::from_actions(
            [
                "s3:PutObject",
                "iam:CreateRole",
                "s3:GetObject",
                "s3:PutObject",
                "lambda:CreateFunction",
            ],
            rules,
        );
        let sids: Vec<&str> = policy.statements.iter().map(|s| s.sid.as_str()).collect();
        assert_eq!(sids, ["IAM", "Lambda", "S3"]);
        assert_eq!(
            policy.statements[2].actions,
            ["s3:GetObject", "s3:PutObject"]
        );
        let json = serde_json::to_string(&policy.statements[0]).unwrap();
        assert_eq!(
            json,
            r#"{"Sid":"IAM","Effect":"Allow","Action":["iam:CreateRole"],"Resource":"*"}"#
        );
    }
}
