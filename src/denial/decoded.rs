//! The JSON STS `DecodeAuthorizationMessage` returns for an encoded message → a verdict:
//! the action and resource the request was refused, whether an explicit deny refused it,
//! and the statements that matched. The shape, as the STS API reference and the AWS CLI's
//! example print it: `{"allowed":false,"explicitDeny":true,"matchedStatements":{"items":
//! [{"statementId":"…","effect":"DENY",…}]},"failures":{"items":[]},"context":{"principal":
//! {…},"action":"RunInstances","resource":"arn:aws:ec2:…","conditions":{"items":[…]}}}`.
//! It does not say which kind of policy decided: `decided_by` stays unknown.

use serde::Deserialize;

use super::message::{Named, Verdict};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Decoded {
    allowed: Option<bool>,
    explicit_deny: Option<bool>,
    matched_statements: Option<Items<Statement>>,
    context: Option<Context>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Items<T> {
    items: Vec<T>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Statement {
    statement_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Context {
    action: Option<String>,
    resource: Option<String>,
}

/// Why a decoded message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodedError {
    #[error("the decoded message is not the JSON STS documents: {0}")]
    Json(String),
    #[error("the decoded message names no action")]
    NoAction,
    #[error("the decoded message says the request was allowed")]
    Allowed,
}

/// Reads the decoded message. An action without its service prefix (`RunInstances`, as the
/// CLI's example prints it) is left for the caller to qualify with the call's service.
///
/// # Errors
/// Not JSON of that shape, no action, or a request it says was allowed.
pub fn parse(decoded: &str) -> Result<Verdict, DecodedError> {
    let decoded: Decoded =
        serde_json::from_str(decoded).map_err(|e| DecodedError::Json(e.to_string()))?;
    if decoded.allowed == Some(true) {
        return Err(DecodedError::Allowed);
    }
    let context = decoded.context.unwrap_or_default();
    let action = context
        .action
        .filter(|a| !a.trim().is_empty())
        .ok_or(DecodedError::NoAction)?;
    let mut statements: Vec<String> = decoded
        .matched_statements
        .unwrap_or_default()
        .items
        .into_iter()
        .filter_map(|s| s.statement_id)
        .collect();
    statements.sort();
    statements.dedup();
    Ok(Verdict::Named(Named {
        action: action.trim().to_owned(),
        resource: context.resource.filter(|r| !r.is_empty()),
        explicit: decoded.explicit_deny,
        statements,
        ..Named::default()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AWS CLI reference's example output of `aws sts decode-authorization-message`
    /// (its `DecodedMessage`).
    const CLI_EXAMPLE: &str = r#"{"allowed":false,"explicitDeny":true,"matchedStatements":{"items":[{"statementId":"VisualEditor0","effect":"DENY","principals":{"items":[{"value":"AROA123456789EXAMPLE"}]},"principalGroups":{"items":[]},"actions":{"items":[{"value":"ec2:RunInstances"}]},"resources":{"items":[{"value":"*"}]},"conditions":{"items":[]}}]},"failures":{"items":[]},"context":{"principal":{"id":"AROA123456789EXAMPLE:Ana","arn":"arn:aws:sts::111122223333:assumed-role/Developer/Ana"},"action":"RunInstances","resource":"arn:aws:ec2:us-east-1:111122223333:instance/*","conditions":{"items":[]}}}"#;

    /// The re:Post knowledge center's example ("How do I decode and analyze … EC2 instance
    /// launch failures?"): an implicit deny of the role passed to the instance.
    const KNOWLEDGE_CENTER: &str = r#"{"allowed":false,"explicitDeny":false,"matchedStatements":{"items":[]},"failures":{"items":[]},"context":{"principal":{"id":"ABCDEFGHIJKLMNO","name":"AWS-User","arn":"arn:aws:iam::accountID:user/test-user"},"action":"iam:PassRole","resource":"arn:aws:iam::accountID:role/EC2_instance_Profile_role","conditions":{"items":[{"key":"aws:Region","values":{"items":[{"value":"us-east-2"}]}},{"key":"aws:Service","values":{"items":[{"value":"ec2"}]}}]}}}"#;

    #[test]
    fn the_cli_example_is_an_explicit_deny_by_a_named_statement() {
        let Verdict::Named(named) = parse(CLI_EXAMPLE).unwrap() else {
            panic!()
        };
        assert_eq!(named.action, "RunInstances");
        assert_eq!(
            named.resource.as_deref(),
            Some("arn:aws:ec2:us-east-1:111122223333:instance/*")
        );
        assert_eq!(named.explicit, Some(true));
        assert_eq!(named.statements, ["VisualEditor0"]);
        assert_eq!(named.decided_by, None);
    }

    #[test]
    fn the_knowledge_center_example_is_an_implicit_deny_of_pass_role() {
        let Verdict::Named(named) = parse(KNOWLEDGE_CENTER).unwrap() else {
            panic!()
        };
        assert_eq!(named.action, "iam:PassRole");
        assert_eq!(named.explicit, Some(false));
        assert!(named.statements.is_empty());
    }

    #[test]
    fn other_json_is_refused_with_a_reason() {
        assert!(matches!(parse("not json"), Err(DecodedError::Json(_))));
        assert_eq!(parse("{}"), Err(DecodedError::NoAction));
        assert_eq!(
            parse(r#"{"allowed":true,"context":{"action":"s3:GetObject"}}"#),
            Err(DecodedError::Allowed)
        );
        // Wrong types are errors, not panics.
        assert!(parse(r#"{"context":{"action":7}}"#).is_err());
    }
}
