//! One `errorMessage` → AWS's verdict, read with the forms of `data/denials.toml`: the action
//! and resource AWS names, the kind of policy that refused them, whether the deny was
//! explicit, the policy's ARN and the authorization id when given, or EC2's encoded message.
//! A message no form reads whole is unexplained: nothing of it is guessed.

use super::table::Table;

/// What a denial's message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// AWS named the refused action (and what else it said of it).
    Named(Named),
    /// EC2's encoded authorization failure message, without a readable plain part: only
    /// STS `DecodeAuthorizationMessage` can read it.
    Encoded(String),
    /// A message in none of the documented forms (`Access Denied`).
    Unexplained,
}

/// A verdict that names the action.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Named {
    /// The action as AWS wrote it (`SNS:Publish`), or as a decoded message gives it.
    pub action: String,
    /// The resource: an ARN (a role named by name is given its ARN in the caller's account),
    /// or the text AWS wrote when it is not one.
    pub resource: Option<String>,
    /// The report's label of the kind of policy (`identity-based`, `service control`, …).
    pub decided_by: Option<String>,
    /// Whether that kind is the principal's own identity-based policies.
    pub identity: bool,
    /// `None` when AWS did not say.
    pub explicit: Option<bool>,
    pub policy_arn: Option<String>,
    pub authorization_id: Option<String>,
    /// Words naming a kind of policy the table does not know (reported as said).
    pub unknown_policy: Option<String>,
    /// The second policy of the chained form ("… transitively through a service control
    /// policy").
    pub through: Option<String>,
    /// The statements a decoded message says matched (their ids).
    pub statements: Vec<String>,
}

/// Reads one message.
#[must_use]
pub fn parse(message: &str, table: &Table) -> Verdict {
    // The pages wrap long messages; CloudTrail writes them on one line.
    let mut text = message.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut encoded = None;
    let mut authorization_id = None;
    for envelope in &table.envelopes {
        let Some(captures) = envelope.regex.captures(&text) else {
            continue;
        };
        if let Some(found) = captures.name("encoded") {
            encoded = Some(found.as_str().to_owned());
        }
        if let Some(found) = captures.name("authorization_id") {
            authorization_id = Some(found.as_str().to_owned());
        }
        text = captures
            .name("inner")
            .map_or_else(String::new, |inner| inner.as_str().to_owned());
    }
    let unread = || {
        encoded
            .clone()
            .map_or(Verdict::Unexplained, Verdict::Encoded)
    };
    let Some(verdict) = table.verdict.captures(&text) else {
        return unread();
    };
    let group = |name: &str| verdict.name(name).map(|m| m.as_str());
    let (Some(action), Some(rest)) = (group("action"), group("rest")) else {
        return unread();
    };
    let principal = group("principal").unwrap_or_default();
    for tail in &table.tails {
        let Some(clauses) = tail.regex.captures(rest) else {
            continue;
        };
        let clause = |name: &str| clauses.name(name).map(|m| m.as_str().to_owned());
        let kind = clause("policy").map(|words| (table.kind(&words), words));
        let resource = clause("resource")
            .or_else(|| clause("role").and_then(|role| role_arn(principal, &role)));
        return Verdict::Named(Named {
            action: action.to_owned(),
            resource,
            decided_by: kind
                .as_ref()
                .and_then(|(kind, _)| kind.map(|k| k.decided_by.to_owned())),
            identity: kind
                .as_ref()
                .is_some_and(|(kind, _)| kind.is_some_and(|k| k.identity)),
            explicit: tail.explicit,
            policy_arn: clause("policy_arn"),
            authorization_id,
            unknown_policy: kind.and_then(|(kind, words)| kind.is_none().then_some(words)),
            through: clause("through"),
            statements: Vec::new(),
        });
    }
    unread()
}

/// The ARN of a role AWS named by name (`on resource: role NAME`): a role in the caller's
/// account and partition, as the caller's ARN gives them.
fn role_arn(principal: &str, role: &str) -> Option<String> {
    let mut parts = principal.split(':');
    let (Some("arn"), Some(partition), _, _, Some(account)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    (!partition.is_empty() && !account.is_empty())
        .then(|| format!("arn:{partition}:iam::{account}:role/{role}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn table() -> &'static Table {
        Table::embedded().unwrap()
    }

    fn named(message: &str) -> Named {
        match parse(message, table()) {
            Verdict::Named(named) => named,
            other => panic!("{message}: {other:?}"),
        }
    }

    /// (action, resource, decided_by, explicit, policy ARN)
    type Expected<'a> = (
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<bool>,
        Option<&'a str>,
    );

    // AWS's published examples, word for word (line breaks as the pages print them).
    #[test_case("User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: \ncodecommit:ListRepositories with an explicit deny in a service control policy",
        ("codecommit:ListRepositories", None, Some("service control"), Some(true), None) ; "iam guide scp")]
    #[test_case("User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \ncodecommit:ListRepositories because no VPC endpoint policy allows the codecommit:ListRepositories action",
        ("codecommit:ListRepositories", None, Some("VPC endpoint"), Some(false), None) ; "iam guide vpc endpoint implicit")]
    #[test_case("User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \ncodedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in a VPC endpoint policy",
        ("codedeploy:ListDeployments", Some("arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*"), Some("VPC endpoint"), Some(true), None) ; "iam guide vpc endpoint explicit")]
    #[test_case("User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \ncodedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* because no permissions boundary allows the codedeploy:ListDeployments action",
        ("codedeploy:ListDeployments", Some("arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*"), Some("permissions boundary"), Some(false), None) ; "iam guide boundary implicit")]
    #[test_case("User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: \nsagemaker:ListModels with an explicit deny in a permissions boundary",
        ("sagemaker:ListModels", None, Some("permissions boundary"), Some(true), None) ; "iam guide boundary explicit")]
    #[test_case("User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \ncodecommit:ListRepositories because no session policy allows the codecommit:ListRepositories action",
        ("codecommit:ListRepositories", None, Some("session"), Some(false), None) ; "iam guide session implicit")]
    #[test_case("User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \ncodedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in a sessions policy",
        ("codedeploy:ListDeployments", Some("arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*"), Some("session"), Some(true), None) ; "iam guide sessions policy explicit")]
    #[test_case("User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \nsecretsmanager:GetSecretValue because no resource-based policy allows the secretsmanager:GetSecretValue action",
        ("secretsmanager:GetSecretValue", None, Some("resource-based"), Some(false), None) ; "iam guide resource-based implicit")]
    #[test_case("User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \nsecretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:* with an explicit deny in a resource-based policy",
        ("secretsmanager:GetSecretValue", Some("arn:aws:secretsmanager:us-east-1:123456789012:secret:*"), Some("resource-based"), Some(true), None) ; "iam guide resource-based explicit")]
    #[test_case("User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \nsts:AssumeRole because the role trust policy allows the sts:AssumeRole action",
        ("sts:AssumeRole", None, Some("role trust"), Some(false), None) ; "iam guide role trust implicit as printed")]
    #[test_case("User: arn:aws:iam::777788889999:user/JohnDoe is not authorized to perform: \nsts:AssumeRole with an explicit deny in the role trust policy",
        ("sts:AssumeRole", None, Some("role trust"), Some(true), None) ; "iam guide role trust explicit")]
    #[test_case("User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \ncodecommit:ListRepositories because no identity-based policy allows the codecommit:ListRepositories action",
        ("codecommit:ListRepositories", None, Some("identity-based"), Some(false), None) ; "iam guide identity implicit")]
    #[test_case("User: arn:aws:iam::123456789012:user/JohnDoe is not authorized to perform: \ncodedeploy:ListDeployments on resource: arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:* with an explicit deny in an identity-based policy",
        ("codedeploy:ListDeployments", Some("arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:*"), Some("identity-based"), Some(true), None) ; "iam guide identity explicit")]
    #[test_case("User: arn:aws:sts::111122223333:assumed-role/role-name/role-session-name is not authorized to perform: \nSNS:Publish on resource: arn:aws:sns:us-east-1:444455556666:role-name-2 \nwith an explicit deny in a VPC endpoint policy transitively through a service control policy",
        ("SNS:Publish", Some("arn:aws:sns:us-east-1:444455556666:role-name-2"), Some("VPC endpoint"), Some(true), None) ; "iam guide chained")]
    #[test_case("User: arn:aws:iam::123456789012:user/Matt is not authorized to perform: iam:ListRoles on resource: arn:aws:iam::123456789012:role/* with an explicit deny in a service control policy: arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd",
        ("iam:ListRoles", Some("arn:aws:iam::123456789012:role/*"), Some("service control"), Some(true), Some("arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd")) ; "security blog scp with arn")]
    #[test_case("User: arn:aws:iam::123456789012:user/janedoe is not authorized to perform: iam:CreateInstanceProfile\non resource: arn:aws:iam::123456789012:instance-profile/my-instance-profile\nwith an explicit deny in an identity-based policy: arn:aws:iam::123456789012:policy/ExampleDenyPolicy.\nGo to https://us-east-1.console.aws.amazon.com/iam/home?region=us-east-1#/authorization-details/EXAMPLE1a2b3c4d5e6f7g8h9i0j for complete details,\nor call the GetRequestAuthorizationDetails API with the following authorization id: EXAMPLE1a2b3c4d5e6f7g8h9i0j",
        ("iam:CreateInstanceProfile", Some("arn:aws:iam::123456789012:instance-profile/my-instance-profile"), Some("identity-based"), Some(true), Some("arn:aws:iam::123456789012:policy/ExampleDenyPolicy")) ; "authorization id")]
    #[test_case("You are not authorized to perform this operation. User:arntest is not authorized to perform: ec2:RunInstances on resource: ARN* because no identity-based policy allows the ec2:RunInstances action. Encoded authorization failure message: - abcdefgh",
        ("ec2:RunInstances", Some("ARN*"), Some("identity-based"), Some(false), None) ; "ec2 plain part before the encoded message")]
    #[test_case("User: arn:aws:iam::444455556666:user/ExampleUser is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:444455556666:volume/* with an explicit deny",
        ("ec2:RunInstances", Some("arn:aws:ec2:us-east-1:444455556666:volume/*"), None, Some(true), None) ; "explicit deny without the policy")]
    #[test_case("User: arn:aws:iam::XXXXXXXX:user/tester is not authorized to perform: ec2:RunInstances on resource: role TestReadOnly with an explicit deny",
        ("ec2:RunInstances", Some("arn:aws:iam::XXXXXXXX:role/TestReadOnly"), None, Some(true), None) ; "a role by name")]
    #[test_case("User: arn:aws:iam::123456789012:user/mateojackson is not authorized to perform: s3:GetWidget on resource: my-example-widget",
        ("s3:GetWidget", Some("my-example-widget"), None, None, None) ; "no context")]
    #[test_case("User: arn:aws:iam::111122223333:user/JohnDoe is not authorized to perform: s3:GetObject on \"arn:aws:s3:::amzn-s3-demo-bucket/photos/cat.jpg\" because no identity-based policy allows the s3:GetObject action",
        ("s3:GetObject", Some("arn:aws:s3:::amzn-s3-demo-bucket/photos/cat.jpg"), Some("identity-based"), Some(false), None) ; "s3 quoted resource")]
    #[test_case("User: arn:aws:sts::111122223333:assumed-role/deployer/ci is not authorized to perform: iam:PassRole on resource: arn:aws:iam::111122223333:role/app-ec2 because no identity-based policy allows the iam:PassRole action",
        ("iam:PassRole", Some("arn:aws:iam::111122223333:role/app-ec2"), Some("identity-based"), Some(false), None) ; "the issue's pass role")]
    #[test_case("User: arn:aws:sts::111122223333:assumed-role/deployer/ci is not authorized to perform: lambda:CreateFunction on resource: arn:aws:lambda:eu-west-1:111122223333:function:psoxy-a because no resource control policy allows the lambda:CreateFunction action.",
        ("lambda:CreateFunction", Some("arn:aws:lambda:eu-west-1:111122223333:function:psoxy-a"), Some("resource control"), Some(false), None) ; "resource control and a full stop")]
    fn every_documented_form_reads(message: &str, expected: Expected<'_>) {
        let named = named(message);
        assert_eq!(
            (
                named.action.as_str(),
                named.resource.as_deref(),
                named.decided_by.as_deref(),
                named.explicit,
                named.policy_arn.as_deref(),
            ),
            expected,
            "{named:?}"
        );
        assert_eq!(
            named.identity,
            named.decided_by.as_deref() == Some("identity-based")
        );
    }

    #[test]
    fn the_authorization_id_and_the_second_policy_are_kept() {
        let with_id = named(
            "User: arn:aws:iam::123456789012:user/janedoe is not authorized to perform: iam:CreateInstanceProfile on resource: arn:aws:iam::123456789012:instance-profile/my-instance-profile with an explicit deny in an identity-based policy: arn:aws:iam::123456789012:policy/ExampleDenyPolicy. Go to https://us-east-1.console.aws.amazon.com/iam/home?region=us-east-1#/authorization-details/EXAMPLE1a2b3c4d5e6f7g8h9i0j for complete details, or call the GetRequestAuthorizationDetails API with the following authorization id: EXAMPLE1a2b3c4d5e6f7g8h9i0j",
        );
        assert_eq!(
            with_id.authorization_id.as_deref(),
            Some("EXAMPLE1a2b3c4d5e6f7g8h9i0j")
        );
        let chained = named(
            "User: arn:aws:sts::111122223333:assumed-role/role-name/role-session-name is not authorized to perform: SNS:Publish on resource: arn:aws:sns:us-east-1:444455556666:role-name-2 with an explicit deny in a VPC endpoint policy transitively through a service control policy",
        );
        assert_eq!(chained.through.as_deref(), Some("service control policy"));
    }

    #[test_case("Access Denied" ; "s3 bare")]
    #[test_case("You are not authorized to access this resource" ; "not authorized to access")]
    #[test_case("" ; "empty")]
    #[test_case("User: arn:aws:iam::1:user/u is not authorized to perform: iam:GetRole on resource: r because reasons" ; "an unknown context")]
    #[test_case("User: arn:aws:iam::1:user/u is not authorized to perform: iam:GetRole and then some" ; "trailing words")]
    fn other_messages_are_unexplained(message: &str) {
        assert_eq!(parse(message, table()), Verdict::Unexplained);
    }

    #[test]
    fn an_encoded_message_without_a_plain_part_is_kept_for_decoding() {
        assert_eq!(
            parse(
                "You are not authorized to perform this operation. Encoded authorization failure message: 4GIOHlTkIaWHQD0Q0m6XSnuUMCm-abcdefghijklmn-abcdefghijklmn-abcdefghijklmn",
                table()
            ),
            Verdict::Encoded(
                "4GIOHlTkIaWHQD0Q0m6XSnuUMCm-abcdefghijklmn-abcdefghijklmn-abcdefghijklmn"
                    .to_owned()
            )
        );
    }

    #[test]
    fn a_kind_of_policy_the_table_does_not_know_is_reported_as_said() {
        let named = named(
            "User: arn:aws:iam::1:user/u is not authorized to perform: iam:GetRole because no brand-new policy allows the iam:GetRole action",
        );
        assert_eq!(named.decided_by, None);
        assert_eq!(named.unknown_policy.as_deref(), Some("brand-new policy"));
        assert_eq!(named.explicit, Some(false));
    }

    #[test]
    fn every_example_in_the_data_file_holds_its_form_and_reads() {
        for form in table().forms() {
            let text = form
                .example
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let pattern = regex::Regex::new(&form.pattern).unwrap();
            assert!(pattern.is_match(&text), "{}: {text}", form.name);
            assert!(
                matches!(parse(&form.example, table()), Verdict::Named(_)),
                "{}",
                form.name
            );
            assert!(!form.evidence.is_empty(), "{}", form.name);
        }
    }
}
