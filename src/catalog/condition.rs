//! A catalog statement's `Condition`, evaluated as IAM would for the request context a run
//! observed (`iam:PassedToService`, `ec2:CreateAction`, request and resource tags, key
//! aliases: what the discovered policy's own conditions show held). A key the run cannot
//! show is neither true nor false: the statement is taken to apply and the proposal says so.

use std::collections::{BTreeMap, BTreeSet};

use wildmatch::WildMatch;

/// Operator → condition key → values, as a catalog writes them.
pub type Condition = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// Condition key → the values the request carried (keys compare without case, as in IAM).
pub type Context = BTreeMap<String, BTreeSet<String>>;

/// What a condition makes of a request context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Holds,
    Fails,
    /// It needs a key the context does not show, or an operator minpriv does not evaluate.
    Unknown,
}

/// The request context of `StringEquals iam:PassedToService = lambda.amazonaws.com` lines
/// (a report's conditions, or a statement's `condition_lines`).
#[must_use]
pub fn context_of_lines<'l>(lines: impl IntoIterator<Item = &'l String>) -> Context {
    let mut context = Context::new();
    for line in lines {
        let Some((head, values)) = line.split_once(" = ") else {
            continue;
        };
        let Some((operator, key)) = head.split_once(' ') else {
            continue;
        };
        // A pattern (`alias/psoxy-*`) says what held, not the value a call carried: the
        // key stays unknown.
        if operator.contains("Like") {
            continue;
        }
        context
            .entry(key.to_owned())
            .or_default()
            .extend(values.split(", ").map(str::to_owned));
    }
    context
}

/// Evaluates every operator and key of a condition (all must hold).
#[must_use]
pub fn evaluate(condition: &Condition, context: &Context) -> Outcome {
    let mut outcome = Outcome::Holds;
    for (operator, keys) in condition {
        for (key, values) in keys {
            let given = context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v);
            match test(operator, given, values) {
                Outcome::Fails => return Outcome::Fails,
                Outcome::Unknown => outcome = Outcome::Unknown,
                Outcome::Holds => {}
            }
        }
    }
    outcome
}

/// One operator on one key.
fn test(operator: &str, given: Option<&BTreeSet<String>>, values: &[String]) -> Outcome {
    let (set, operator) = match operator.split_once(':') {
        Some((set, rest)) => (Some(set), rest),
        None => (None, operator),
    };
    let operator = operator.strip_suffix("IfExists").unwrap_or(operator);
    let Some(given) = given else {
        return Outcome::Unknown;
    };
    let (negated, compare): (bool, fn(&str, &str) -> bool) = match operator {
        "StringEquals" | "ArnEquals" => (false, |v, g| v == g),
        "StringEqualsIgnoreCase" => (false, |v, g| v.eq_ignore_ascii_case(g)),
        "StringLike" | "ArnLike" => (false, |v, g| WildMatch::new(v).matches(g)),
        "StringNotEquals" | "ArnNotEquals" => (true, |v, g| v == g),
        "StringNotEqualsIgnoreCase" => (true, |v, g| v.eq_ignore_ascii_case(g)),
        "StringNotLike" | "ArnNotLike" => (true, |v, g| WildMatch::new(v).matches(g)),
        _ => return Outcome::Unknown,
    };
    // A policy variable (`${aws:PrincipalTag/app}`) has a value the trail does not show.
    if values.iter().any(|v| v.contains("${")) {
        return Outcome::Unknown;
    }
    let hit = |g: &String| values.iter().any(|v| compare(v, g));
    let holds = match set {
        Some("ForAllValues") => given.iter().all(|g| hit(g) != negated),
        Some("ForAnyValue") => given.iter().any(|g| hit(g) != negated),
        Some(_) => return Outcome::Unknown,
        // A single-valued key whose values are those of several calls: the condition must
        // hold for each (negated operators: no value matches).
        None => given.iter().all(|g| hit(g) != negated),
    };
    if holds {
        Outcome::Holds
    } else {
        Outcome::Fails
    }
}

/// A JSON `Condition` block: values may be a string or a list.
#[must_use]
pub fn from_json(value: &serde_json::Value) -> Condition {
    let mut condition = Condition::new();
    let Some(operators) = value.as_object() else {
        return condition;
    };
    for (operator, keys) in operators {
        let Some(keys) = keys.as_object() else {
            continue;
        };
        for (key, values) in keys {
            let values = match values {
                serde_json::Value::Array(list) => list
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect(),
                serde_json::Value::String(one) => vec![one.clone()],
                other => vec![other.to_string()],
            };
            condition
                .entry(operator.clone())
                .or_default()
                .entry(key.clone())
                .or_default()
                .extend(values);
        }
    }
    condition
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn context(pairs: &[(&str, &[&str])]) -> Context {
        pairs
            .iter()
            .map(|(k, vs)| {
                (
                    (*k).to_owned(),
                    vs.iter().map(|v| (*v).to_owned()).collect(),
                )
            })
            .collect()
    }

    fn condition(json: &str) -> Condition {
        from_json(&serde_json::from_str(json).unwrap())
    }

    #[test_case(r#"{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}"#, &[("iam:PassedToService", &["lambda.amazonaws.com"])], Outcome::Holds ; "equals")]
    #[test_case(r#"{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}"#, &[("iam:PassedToService", &["lambda.amazonaws.com"])], Outcome::Fails ; "passed to another service")]
    #[test_case(r#"{"StringLike":{"iam:PassedToService":["lambda.*", "ecs-tasks.*"]}}"#, &[("iam:PassedToService", &["lambda.amazonaws.com"])], Outcome::Holds ; "like")]
    #[test_case(r#"{"StringEquals":{"aws:SourceIp":"10.0.0.1"}}"#, &[("iam:PassedToService", &["x"])], Outcome::Unknown ; "a key the trail cannot show")]
    #[test_case(r#"{"IpAddress":{"iam:PassedToService":"10.0.0.0/8"}}"#, &[("iam:PassedToService", &["x"])], Outcome::Unknown ; "an operator not evaluated")]
    #[test_case(r#"{"StringNotEquals":{"aws:ResourceTag/app":"billing"}}"#, &[("aws:ResourceTag/app", &["psoxy"])], Outcome::Holds ; "not equals")]
    #[test_case(r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["app","managed-by","owner"]}}"#, &[("aws:TagKeys", &["app", "managed-by"])], Outcome::Holds ; "for all values")]
    #[test_case(r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["app"]}}"#, &[("aws:TagKeys", &["app", "managed-by"])], Outcome::Fails ; "a tag key the catalog does not allow")]
    #[test_case(r#"{"ForAnyValue:StringLike":{"kms:ResourceAliases":"alias/psoxy-*"}}"#, &[("kms:ResourceAliases", &["alias/psoxy-key"])], Outcome::Holds ; "for any value")]
    #[test_case(r#"{"StringEquals":{"AWS:RESOURCETAG/app":"psoxy"}, "StringEqualsIfExists":{"aws:SourceIp":"x"}}"#, &[("aws:ResourceTag/app", &["psoxy"])], Outcome::Unknown ; "keys compare without case and all must hold")]
    #[test_case(r#"{"StringEquals":{"iam:PassedToService":"lambda.amazonaws.com"}}"#, &[("iam:PassedToService", &["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"])], Outcome::Fails ; "one call passed the role to another service")]
    #[test_case(r#"{"StringEquals":{"aws:ResourceTag/app":"${aws:PrincipalTag/app}"}}"#, &[("aws:ResourceTag/app", &["psoxy"])], Outcome::Unknown ; "a policy variable")]
    fn conditions_as_iam_evaluates_them(json: &str, pairs: &[(&str, &[&str])], expected: Outcome) {
        assert_eq!(evaluate(&condition(json), &context(pairs)), expected);
    }

    #[test]
    fn a_context_from_condition_lines() {
        let lines = vec![
            "StringEquals iam:PassedToService = lambda.amazonaws.com, ecs-tasks.amazonaws.com"
                .to_owned(),
            "ForAllValues:StringEquals aws:TagKeys = app".to_owned(),
            "ForAnyValue:StringLike kms:ResourceAliases = alias/psoxy-*".to_owned(),
        ];
        assert_eq!(
            context_of_lines(&lines),
            context(&[
                ("aws:TagKeys", &["app"]),
                (
                    "iam:PassedToService",
                    &["ecs-tasks.amazonaws.com", "lambda.amazonaws.com"]
                ),
            ])
        );
    }
}
