//! Properties of the whole pipeline over generated calls: every observed call's actions are
//! allowed by the emitted policy, and the policy does not depend on the order of the input.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::collections::BTreeSet;

use minpriv::evidence::Discovery;
use minpriv::filter::{Criteria, Filter};
use minpriv::iam::{Mapper, Mapping, Reference, Rules};
use minpriv::policy::Policy;
use minpriv::scan::{Context, scan};
use minpriv::source::Blob;
use proptest::prelude::*;
use wildmatch::WildMatch;

const CALLS: &[(&str, &str, &str)] = &[
    (
        "lambda.amazonaws.com",
        "CreateFunction20150331",
        r#"{"functionName":"f","role":"arn:aws:iam::1:role/r","tags":{"a":"b"}}"#,
    ),
    (
        "lambda.amazonaws.com",
        "GetFunction20150331v2",
        r#"{"functionName":"f"}"#,
    ),
    (
        "iam.amazonaws.com",
        "CreateRole",
        r#"{"roleName":"r","tags":[{"key":"a","value":"b"}]}"#,
    ),
    ("iam.amazonaws.com", "GetRole", r#"{"roleName":"r"}"#),
    ("s3.amazonaws.com", "HeadBucket", r#"{"bucketName":"b"}"#),
    (
        "s3.amazonaws.com",
        "GetObject",
        r#"{"bucketName":"b","key":"k","versionId":"v"}"#,
    ),
    (
        "s3.amazonaws.com",
        "PutBucketLifecycle",
        r#"{"bucketName":"b"}"#,
    ),
    ("kms.amazonaws.com", "ReEncrypt", "{}"),
    (
        "sqs.amazonaws.com",
        "CreateQueue",
        r#"{"queueName":"q","tags":{"a":"b"}}"#,
    ),
    (
        "events.amazonaws.com",
        "PutTargets",
        r#"{"targets":[{"roleArn":"arn:aws:iam::1:role/e"}]}"#,
    ),
    ("monitoring.amazonaws.com", "PutMetricAlarm", "{}"),
    ("sts.amazonaws.com", "GetCallerIdentity", "null"),
    ("nosuch.amazonaws.com", "Whatever", "{}"),
];

/// Whether an `Allow` policy allows an action on any resource: IAM's case-insensitive
/// action matching with `*` and `?` wildcards.
fn allows(policy: &Policy, action: &str) -> bool {
    policy.statements.iter().any(|statement| {
        statement.actions.iter().any(|pattern| {
            WildMatch::new(&pattern.to_ascii_lowercase()).matches(&action.to_ascii_lowercase())
        })
    })
}

fn run(picks: &[usize]) -> (Policy, BTreeSet<String>) {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<String> = picks
        .iter()
        .map(|&i| {
            let (source, name, request) = CALLS[i % CALLS.len()];
            format!(r#"{{"eventTime":"2026-11-20T10:00:00Z","eventSource":"{source}","eventName":"{name}","requestParameters":{request}}}"#)
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
    let filter = Filter::new(&Criteria {
        principals: &[],
        sessions: &[],
        since: None,
        until: None,
        regions: &[],
        accounts: &[],
        user_agents: &[],
        include_service_events: false,
    })
    .unwrap();
    let mapper = Mapper::new(Reference::embedded().unwrap(), Rules::embedded().unwrap());
    let tally = scan(&blobs, &Context::new(&filter, mapper, 1 << 20, false));
    let discovery = Discovery::from_calls(&tally.calls, &mapper);
    let mut needed = BTreeSet::new();
    for call in tally.calls.keys() {
        if let Mapping::Actions(grants) = mapper.map(call) {
            needed.extend(grants.into_iter().map(|g| g.action));
        }
    }
    let policy = Policy::from_actions(discovery.actions.keys().map(String::as_str), mapper.rules());
    (policy, needed)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_policy_allows_every_observed_action(picks in proptest::collection::vec(0_usize..100, 1..30)) {
        let (policy, needed) = run(&picks);
        for action in &needed {
            prop_assert!(allows(&policy, action), "{action} not allowed");
            prop_assert!(Reference::embedded().unwrap().action(action).is_some(), "{action} not in the reference");
        }
    }

    #[test]
    fn the_policy_does_not_depend_on_input_order(picks in proptest::collection::vec(0_usize..100, 1..30)) {
        let mut reversed = picks.clone();
        reversed.reverse();
        prop_assert_eq!(run(&picks).0, run(&reversed).0);
    }
}
