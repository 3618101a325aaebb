//! Properties of the whole pipeline over generated calls: the emitted policy allows every
//! observed (action, resource) pair — checked with an evaluator of IAM `Allow` statements —
//! whatever the scoping choices, every action exists in the reference, and the policy does
//! not depend on the order of the input.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly")]

use minpriv::evidence::Discovery;
use minpriv::filter::{Criteria, Filter};
use minpriv::iam::{Mapper, Reference};
use minpriv::policy::{Policy, Resource};
use minpriv::resource::{Mode, Scoping};
use minpriv::scan::{Context, scan};
use minpriv::source::Blob;
use proptest::prelude::*;
use wildmatch::WildMatch;

/// (event source, event name, request parameters with `{name}` placeholders)
const CALLS: &[(&str, &str, &str)] = &[
    (
        "lambda.amazonaws.com",
        "CreateFunction20150331",
        r#"{"functionName":"{name}","role":"arn:aws:iam::111122223333:role/{name}-exec","tags":{"a":"b"}}"#,
    ),
    (
        "lambda.amazonaws.com",
        "GetFunction20150331v2",
        r#"{"functionName":"{name}"}"#,
    ),
    (
        "iam.amazonaws.com",
        "CreateRole",
        r#"{"roleName":"{name}","tags":[{"key":"a","value":"b"}]}"#,
    ),
    (
        "iam.amazonaws.com",
        "AttachRolePolicy",
        r#"{"roleName":"{name}","policyArn":"arn:aws:iam::111122223333:policy/{name}-p"}"#,
    ),
    (
        "s3.amazonaws.com",
        "HeadBucket",
        r#"{"bucketName":"{name}"}"#,
    ),
    (
        "s3.amazonaws.com",
        "GetObject",
        r#"{"bucketName":"{name}","key":"k/{name}.txt","versionId":"v"}"#,
    ),
    ("s3.amazonaws.com", "ListBuckets", "{}"),
    (
        "kms.amazonaws.com",
        "CreateAlias",
        r#"{"aliasName":"alias/{name}","targetKeyId":"1234abcd-12ab"}"#,
    ),
    (
        "kms.amazonaws.com",
        "Encrypt",
        r#"{"keyId":"alias/{name}"}"#,
    ),
    (
        "sqs.amazonaws.com",
        "CreateQueue",
        r#"{"queueName":"{name}","tags":{"a":"b"}}"#,
    ),
    (
        "ssm.amazonaws.com",
        "PutParameter",
        r#"{"name":"/{name}/x","tags":[{"key":"a"}]}"#,
    ),
    (
        "logs.amazonaws.com",
        "CreateLogGroup",
        r#"{"logGroupName":"/aws/lambda/{name}","tags":{"a":"b"}}"#,
    ),
    (
        "events.amazonaws.com",
        "PutTargets",
        r#"{"rule":"{name}","targets":[{"roleArn":"arn:aws:iam::111122223333:role/{name}"}]}"#,
    ),
    ("monitoring.amazonaws.com", "PutMetricAlarm", "{}"),
    ("sts.amazonaws.com", "GetCallerIdentity", "null"),
    ("nosuch.amazonaws.com", "Whatever", "{}"),
];
const NAMES: &[&str] = &["psoxy-a", "psoxy-b", "other", "PSOXY_X"];
const REGIONS: &[&str] = &["eu-west-1", "us-east-1"];

/// Whether an `Allow` policy allows `action` on `resource` (`*` for actions without
/// resource-level permissions): actions match case-insensitively, resources
/// case-sensitively, both with `*` and `?` wildcards.
fn allows(policies: &[Policy], action: &str, resource: &str) -> bool {
    policies
        .iter()
        .flat_map(|p| &p.statements)
        .any(|statement| {
            let action_ok = statement.actions.iter().any(|p| {
                WildMatch::new(&p.to_ascii_lowercase()).matches(&action.to_ascii_lowercase())
            });
            let patterns = match &statement.resource {
                Resource::One(one) => vec![one.clone()],
                Resource::Many(many) => many.clone(),
            };
            action_ok && patterns.iter().any(|p| WildMatch::new(p).matches(resource))
        })
}

fn run(picks: &[(usize, usize, usize)], scoping: &Scoping) -> (Vec<Policy>, Vec<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<String> = picks
        .iter()
        .map(|&(call, name, region)| {
            let (source, event, request) = CALLS[call % CALLS.len()];
            let request = request.replace("{name}", NAMES[name % NAMES.len()]);
            format!(
                r#"{{"eventTime":"2026-11-20T10:00:00Z","eventSource":"{source}","eventName":"{event}","awsRegion":"{}","recipientAccountId":"111122223333","requestParameters":{request}}}"#,
                REGIONS[region % REGIONS.len()]
            )
        })
        .collect();
    // Split across files so the parallel merge is exercised.
    let blobs: Vec<Blob> = records
        .chunks(3)
        .enumerate()
        .map(|(n, chunk)| {
            let path = dir.path().join(format!("{n}.json"));
            std::fs::write(&path, format!(r#"{{"Records":[{}]}}"#, chunk.join(","))).unwrap();
            Blob::File { path, size: 0 }
        })
        .collect();
    let filter = Filter::new(&Criteria::default()).unwrap();
    let mapper = Mapper::embedded().unwrap();
    let tally = scan(&blobs, &Context::new(&filter, mapper, 1 << 20, false));
    let discovery = Discovery::from_calls(&tally.calls, &mapper);
    let mut observed = Vec::new();
    for (action, evidence) in &discovery.actions {
        if evidence.resources.is_empty() {
            observed.push((action.clone(), "*".to_owned()));
        }
        for resource in &evidence.resources {
            observed.push((action.clone(), resource.arn.to_string()));
        }
    }
    let policies = Policy::build(&discovery, &mapper, scoping)
        .policy
        .split(1500);
    (policies, observed)
}

fn scoping() -> impl Strategy<Value = Scoping> {
    (
        0_usize..3,
        any::<bool>(),
        any::<bool>(),
        proptest::sample::subsequence(vec!["psoxy-", "PSOXY_", "oth"], 0..=3),
    )
        .prop_map(|(mode, keep_region, any_account, prefixes)| Scoping {
            mode: [Mode::Scoped, Mode::Exact, Mode::Wildcard][mode],
            keep_region,
            any_account,
            name_prefixes: prefixes.into_iter().map(str::to_owned).collect(),
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_policy_allows_every_observed_action_and_resource(
        picks in proptest::collection::vec((0_usize..64, 0_usize..8, 0_usize..4), 1..30),
        scoping in scoping(),
    ) {
        let (policies, observed) = run(&picks, &scoping);
        let reference = Reference::embedded().unwrap();
        for (action, resource) in &observed {
            prop_assert!(allows(&policies, action, resource), "{action} on {resource} not allowed by {policies:#?}");
            prop_assert!(reference.action(action).is_some(), "{action} not in the reference");
        }
        for policy in &policies {
            prop_assert!(policy.size() <= 1500 || policy.statements.len() == 1);
        }
    }

    #[test]
    fn the_policy_does_not_depend_on_input_order(
        picks in proptest::collection::vec((0_usize..64, 0_usize..8, 0_usize..4), 1..30),
        scoping in scoping(),
    ) {
        let mut reversed = picks.clone();
        reversed.reverse();
        prop_assert_eq!(run(&picks, &scoping).0, run(&reversed, &scoping).0);
    }
}
