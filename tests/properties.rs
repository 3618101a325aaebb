//! Properties of the whole pipeline over generated calls: the emitted policy allows every
//! observed (action, resource) pair — checked with an evaluator of IAM `Allow` statements —
//! whatever the scoping choices, every action exists in the reference, and the policy does
//! not depend on the order of the input.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly")]

use minpriv::evidence::Discovery;
use minpriv::filter::{Criteria, Filter};
use minpriv::iam::Reference;
use minpriv::mapping::Mapper;
use minpriv::policy::{Conditions, Policy, Resource};
use minpriv::resource::{Mode, Scoping};
use minpriv::scan::{Context, scan};
use minpriv::source::Blob;
use minpriv_synth::deploy::{self, Ids};
use proptest::prelude::*;
use wildmatch::WildMatch;

#[path = "properties/fast_path.rs"]
mod fast_path;

#[path = "properties/collapse.rs"]
mod collapse;

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
/// resource-level permissions) in a request `context` of condition keys: actions match
/// case-insensitively, resources case-sensitively, both with `*` and `?` wildcards; every
/// condition of a statement must hold, and a condition on a key the context lacks fails, as
/// IAM evaluates `StringEquals` and `StringLike`.
fn allows(policies: &[Policy], action: &str, resource: &str, context: &[(&str, &str)]) -> bool {
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
            let conditions_hold = statement.condition.iter().all(|(operator, keys)| {
                keys.iter().all(|(key, values)| {
                    let given: Vec<&str> = context
                        .iter()
                        .filter(|(k, _)| k.eq_ignore_ascii_case(key))
                        .map(|(_, v)| *v)
                        .collect();
                    let like = |g: &str| values.iter().any(|v| WildMatch::new(v).matches(g));
                    match operator.as_str() {
                        "StringEquals" => given.iter().any(|g| values.contains(*g)),
                        "StringLike" => given.iter().any(|g| like(g)),
                        // Multi-valued keys: every value in the set (none at all holds too),
                        // or one value that matches.
                        "ForAllValues:StringEquals" => given.iter().all(|g| values.contains(*g)),
                        "ForAnyValue:StringLike" => given.iter().any(|g| like(g)),
                        _ => false,
                    }
                })
            });
            action_ok
                && conditions_hold
                && patterns.iter().any(|p| WildMatch::new(p).matches(resource))
        })
}

/// A need: action, resource, and the request context IAM evaluates it in.
type Need = (String, String, Vec<(&'static str, String)>);

/// What IAM sees of a deploy's tags, from its records: which events' requests carry tags,
/// the generated identifiers of the resources it created, and the tags it gave them (the
/// sample deploy gives every resource it creates the same tags, and never takes them away).
#[derive(Debug, Default)]
struct Tagged {
    requests: std::collections::BTreeSet<String>,
    /// (identifier, the event that created it)
    created: Vec<(String, &'static str)>,
    tags: Vec<(&'static str, &'static str)>,
}

/// The sample deploy's own tags.
const DEPLOY_TAGS: [(&str, &str); 2] = [("app", "psoxy"), ("managed-by", "terraform")];

/// A tag a customer adds to everything it deploys (Terraform's `default_tags`).
const CUSTOMER_TAG: (&str, &str) = ("env", "prod");

impl Tagged {
    fn of(trail: &minpriv_synth::Trail, ids: &Ids) -> Self {
        Self::with_tags(trail, ids, &[])
    }

    /// What IAM sees of a deploy that also gave its resources `extra` tags.
    fn with_tags(
        trail: &minpriv_synth::Trail,
        ids: &Ids,
        extra: &[(&'static str, &'static str)],
    ) -> Self {
        let requests = trail
            .records()
            .filter(|r| {
                r["requestParameters"].as_object().is_some_and(|p| {
                    p.contains_key("tags") || p.contains_key("tagSpecificationSet")
                })
            })
            .filter_map(|r| r["eventName"].as_str().map(str::to_owned))
            .collect();
        Self {
            requests,
            created: vec![
                (format!("key/{}", ids.key), "CreateKey"),
                (
                    format!("security-group/{}", ids.security_group),
                    "CreateSecurityGroup",
                ),
                (format!("-{}", ids.secret_suffix), "CreateSecret"),
                (format!("/apis/{}", ids.api), "CreateApi"),
            ],
            tags: DEPLOY_TAGS.iter().chain(extra).copied().collect(),
        }
    }

    /// The tag keys of the request context of `event` on `resource`: the request's tags,
    /// and the tags of a resource the deploy created (once it exists).
    fn context(&self, event: &str, resource: &str) -> Vec<(&'static str, String)> {
        let mut context = Vec::new();
        if self.requests.contains(event) {
            for &(key, value) in &self.tags {
                context.push((tag_key("aws:RequestTag/", key), value.to_owned()));
                context.push(("aws:TagKeys", key.to_owned()));
            }
        }
        let existing = self
            .created
            .iter()
            .any(|(id, creator)| resource.ends_with(id.as_str()) && *creator != event);
        if existing {
            for &(key, value) in &self.tags {
                context.push((tag_key("aws:ResourceTag/", key), value.to_owned()));
            }
        }
        context
    }
}

/// `aws:ResourceTag/app`, as a `'static` key of a request context.
fn tag_key(prefix: &str, key: &str) -> &'static str {
    Box::leak(format!("{prefix}{key}").into_boxed_str())
}

/// Every (action, resource, context) a discovery needed.
fn needs(discovery: &Discovery, tagged: &Tagged) -> Vec<Need> {
    let mut needs = Vec::new();
    for (action, evidence) in &discovery.actions {
        // The request context IAM evaluates: the service a role is passed to, the API
        // action that created a resource tagged on create, the tags of the request and of
        // the resource.
        let services: Vec<Option<&String>> = if evidence.passed_to.is_empty() {
            vec![None]
        } else {
            evidence.passed_to.iter().map(Some).collect()
        };
        let resources: Vec<String> = if evidence.resources.is_empty() {
            vec!["*".to_owned()]
        } else {
            evidence
                .resources
                .iter()
                .map(|r| r.arn.to_string())
                .collect()
        };
        for resource in &resources {
            for service in &services {
                for event in evidence.events.keys() {
                    let mut context = vec![("ec2:CreateAction", event.clone())];
                    if let Some(service) = service {
                        context.push(("iam:PassedToService", (*service).clone()));
                    }
                    context.extend(tagged.context(event, resource));
                    needs.push((action.clone(), resource.clone(), context));
                }
            }
        }
    }
    needs
}

fn allows_need(policies: &[Policy], (action, resource, context): &Need) -> bool {
    let context: Vec<(&str, &str)> = context.iter().map(|(k, v)| (*k, v.as_str())).collect();
    allows(policies, action, resource, &context)
}

fn run(picks: &[(usize, usize, usize)], scoping: &Scoping) -> (Vec<Policy>, Vec<Need>) {
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
    let observed = needs(&discovery, &Tagged::default());
    let scoping = Scoping {
        created: std::sync::Arc::new(tally.created.clone()),
        ..scoping.clone()
    };
    let policies = Policy::build(&discovery, &mapper, &scoping, Conditions::Auto)
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
            ..Scoping::default()
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
        for need in &observed {
            prop_assert!(allows_need(&policies, need), "{need:?} not allowed by {policies:#?}");
            prop_assert!(reference.action(&need.0).is_some(), "{} not in the reference", need.0);
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

// --- The next deploy --------------------------------------------------------------------
// A policy is learned from one run of the sample deployment and checked against another run
// of the same deployment: with new generated ids (key, security group, secret suffix,
// subscription, API), and with --portable in another account and region.

const OTHER_ACCOUNT: &str = "444455556666";
const OTHER_REGION: &str = "us-west-2";

/// The provisioner's discovery over a trail, with what its calls created and the story of
/// those resources.
fn discover(
    trail: minpriv_synth::Trail,
) -> (
    Discovery,
    minpriv::resource::generated::Created,
    minpriv::resource::lifecycle::Lifecycle,
) {
    let dir = tempfile::tempdir().unwrap();
    let paths = trail.write(dir.path(), "").unwrap();
    let blobs: Vec<Blob> = paths
        .into_iter()
        .map(|path| Blob::File { path, size: 0 })
        .collect();
    let principals = ["arn:aws:iam::*:role/ci-provisioner".to_owned()];
    let filter = Filter::new(&Criteria {
        principals: &principals,
        ..Criteria::default()
    })
    .unwrap();
    let mapper = Mapper::embedded().unwrap();
    let tally = scan(&blobs, &Context::new(&filter, mapper, 1 << 20, false));
    (
        Discovery::from_calls(&tally.calls, &mapper),
        tally.created,
        tally.lifecycle,
    )
}

/// The policy learned from a trail, scoped as the README's command does.
fn learn(trail: minpriv_synth::Trail, portable: bool) -> Vec<Policy> {
    let (discovery, created, lifecycle) = discover(trail);
    let scoping = Scoping {
        name_prefixes: vec!["psoxy-".into(), "PSOXY_".into()],
        portable,
        created: std::sync::Arc::new(created),
        lifecycle: std::sync::Arc::new(lifecycle),
        ..Scoping::default()
    };
    let mapper = Mapper::embedded().unwrap();
    Policy::build(&discovery, &mapper, &scoping, Conditions::Auto)
        .policy
        .split(minpriv::policy::MANAGED_POLICY_LIMIT)
}

/// Needs of the replay (a deploy with these generated ids) the policy does not allow.
fn refused(policies: &[Policy], replay: minpriv_synth::Trail, ids: &Ids) -> Vec<Need> {
    let tagged = Tagged::of(&replay, ids);
    refused_as(policies, replay, &tagged)
}

/// Needs of the replay, in the request contexts `tagged` describes, the policy refuses.
fn refused_as(policies: &[Policy], replay: minpriv_synth::Trail, tagged: &Tagged) -> Vec<Need> {
    let (discovery, _, _) = discover(replay);
    let needs = needs(&discovery, tagged);
    assert!(needs.len() > 100, "the replay needs {} grants", needs.len());
    needs
        .into_iter()
        .filter(|need| !allows_need(policies, need))
        .collect()
}

/// Other applications' resources in the account the policy is for.
fn assert_refuses_other_applications(policies: &[Policy], account: &str, region: &str) {
    let others = [
        (
            "iam:PassRole",
            format!("arn:aws:iam::{account}:role/billing-exec"),
            vec![("iam:PassedToService", "lambda.amazonaws.com")],
        ),
        (
            "lambda:UpdateFunctionConfiguration",
            format!("arn:aws:lambda:{region}:{account}:function:billing"),
            vec![],
        ),
        (
            "iam:AttachRolePolicy",
            format!("arn:aws:iam::{account}:role/billing-exec"),
            vec![],
        ),
        (
            "ssm:PutParameter",
            format!("arn:aws:ssm:{region}:{account}:parameter/BILLING_TOKEN"),
            vec![],
        ),
        (
            "s3:DeleteBucket",
            "arn:aws:s3:::billing-data".to_owned(),
            vec![],
        ),
        (
            "logs:DeleteLogGroup",
            format!("arn:aws:logs:{region}:{account}:log-group:/aws/lambda/billing"),
            vec![],
        ),
        (
            "secretsmanager:DeleteSecret",
            format!("arn:aws:secretsmanager:{region}:{account}:secret:billing-key-a1B2c3"),
            vec![],
        ),
        (
            "sqs:DeleteQueue",
            format!("arn:aws:sqs:{region}:{account}:billing-jobs"),
            vec![],
        ),
        (
            "sns:DeleteTopic",
            format!("arn:aws:sns:{region}:{account}:billing-alerts"),
            vec![],
        ),
        // Another application's key, security group, HTTP API and secret: the generated ids
        // are wildcards, the tags of our own resources stand in for them.
        (
            "kms:ScheduleKeyDeletion",
            format!("arn:aws:kms:{region}:{account}:key/5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"),
            vec![
                ("aws:ResourceTag/app", "billing"),
                ("aws:ResourceTag/managed-by", "terraform"),
            ],
        ),
        (
            "kms:Decrypt",
            format!("arn:aws:kms:{region}:{account}:key/5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"),
            vec![],
        ),
        (
            "ec2:DeleteSecurityGroup",
            format!("arn:aws:ec2:{region}:{account}:security-group/sg-0b1c2d3e4f5a6b7c8"),
            vec![
                ("aws:ResourceTag/app", "billing"),
                ("aws:ResourceTag/managed-by", "terraform"),
            ],
        ),
        (
            "apigateway:DELETE",
            format!("arn:aws:apigateway:{region}::/apis/b1l2l3n4g5"),
            vec![("aws:ResourceTag/app", "billing")],
        ),
        (
            "secretsmanager:PutSecretValue",
            format!("arn:aws:secretsmanager:{region}:{account}:secret:psoxy-dev-SALT-q9W8e7"),
            vec![("aws:ResourceTag/app", "billing")],
        ),
        // A key made for another application.
        (
            "kms:CreateKey",
            "*".to_owned(),
            vec![
                ("aws:RequestTag/app", "billing"),
                ("aws:RequestTag/managed-by", "terraform"),
                ("aws:TagKeys", "app"),
                ("aws:TagKeys", "managed-by"),
            ],
        ),
        // Our own role, passed to a service it was never passed to.
        (
            "iam:PassRole",
            format!("arn:aws:iam::{account}:role/psoxy-gcal-exec"),
            vec![("iam:PassedToService", "ec2.amazonaws.com")],
        ),
    ];
    for (action, resource, context) in &others {
        assert!(
            !allows(policies, action, resource, context),
            "{action} on {resource} {context:?} is allowed"
        );
    }
}

#[test]
fn the_learned_policy_provisions_the_next_deploy_with_new_generated_ids() {
    let policies = learn(deploy::sample(), false);
    for seed in [7, 8] {
        let ids = Ids::fresh(seed);
        let replay = deploy::sample_with(&ids, seed);
        let refused = refused(&policies, replay, &ids);
        assert!(
            refused.is_empty(),
            "refused on the next deploy: {refused:#?}"
        );
    }
    assert_refuses_other_applications(&policies, deploy::ACCOUNT, deploy::REGION);
}

#[test]
fn a_portable_policy_provisions_the_deploy_in_another_account_and_region() {
    let policies = learn(deploy::sample(), true);
    let ids = Ids::fresh(9);
    let elsewhere = deploy::sample_with(&ids, 9).relocate(
        (deploy::ACCOUNT, deploy::REGION),
        (OTHER_ACCOUNT, OTHER_REGION),
    );
    let refused = refused(&policies, elsewhere, &ids);
    assert!(
        refused.is_empty(),
        "refused in another account: {refused:#?}"
    );
    assert_refuses_other_applications(&policies, OTHER_ACCOUNT, OTHER_REGION);
}

#[test]
fn a_policy_that_is_not_portable_stays_in_its_account() {
    let policies = learn(deploy::sample(), false);
    let ids = Ids::fresh(9);
    let elsewhere = deploy::sample_with(&ids, 9).relocate(
        (deploy::ACCOUNT, deploy::REGION),
        (OTHER_ACCOUNT, OTHER_REGION),
    );
    assert!(!refused(&policies, elsewhere, &ids).is_empty());
}

// --- A customer's own tags and names (issue 22) ------------------------------------------

/// The sample deploy in another account and region, its deployer adding `env = prod` to
/// every resource, with the request contexts IAM evaluates its calls in.
fn tagged_elsewhere(seed: u64) -> (minpriv_synth::Trail, Tagged) {
    let ids = Ids::fresh(seed);
    let replay = deploy::sample_tagged(&ids, seed, &[CUSTOMER_TAG]).relocate(
        (deploy::ACCOUNT, deploy::REGION),
        (OTHER_ACCOUNT, OTHER_REGION),
    );
    let tagged = Tagged::with_tags(&replay, &ids, &[CUSTOMER_TAG]);
    (replay, tagged)
}

#[test]
fn a_portable_policy_allows_a_customers_own_tags() {
    let policies = learn(deploy::sample(), true);
    let (replay, tagged) = tagged_elsewhere(13);
    // The replay's creating calls carry a tag key the learned deploy never set.
    assert!(tagged.requests.contains("CreateKey"));
    let refused = refused_as(&policies, replay, &tagged);
    assert!(
        refused.is_empty(),
        "a customer's extra tag is refused: {refused:#?}"
    );
    assert_refuses_other_applications(&policies, OTHER_ACCOUNT, OTHER_REGION);
    // The module's own tags are still required: a key created without them is refused.
    assert!(!allows(
        &policies,
        "kms:CreateKey",
        "*",
        &[("aws:RequestTag/env", "prod"), ("aws:TagKeys", "env")]
    ));
}

#[test]
fn a_policy_that_is_not_portable_pins_the_tag_keys_of_its_own_deploy() {
    let policies = learn(deploy::sample(), false);
    let ids = Ids::fresh(14);
    let replay = deploy::sample_tagged(&ids, 14, &[CUSTOMER_TAG]);
    let tagged = Tagged::with_tags(&replay, &ids, &[CUSTOMER_TAG]);
    let refused = refused_as(&policies, replay, &tagged);
    // Exactly the calls that set tags are refused, and only for the key it never set.
    assert!(!refused.is_empty());
    for (action, resource, context) in &refused {
        assert!(
            context.contains(&("aws:TagKeys", CUSTOMER_TAG.0.to_owned())),
            "{action} on {resource} refused for another reason: {context:?}"
        );
        let without: Vec<(&str, &str)> = context
            .iter()
            .filter(|(k, v)| !(k.ends_with(CUSTOMER_TAG.0) || v == CUSTOMER_TAG.0))
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        assert!(
            allows(&policies, action, resource, &without),
            "{action} on {resource}"
        );
    }
}

#[test]
fn a_portable_policy_allows_a_secret_of_another_environment_under_the_prefix() {
    // Learned with `--name-prefix psoxy- --portable` from `psoxy-dev-SALT-Xy12Ab`; the
    // customer deploys the module as `prod`. The prefix was lost before the suffix.
    let policies = learn(deploy::sample(), true);
    let secret = format!(
        "arn:aws:secretsmanager:{OTHER_REGION}:{OTHER_ACCOUNT}:secret:psoxy-prod-SALT-x6MEOL"
    );
    let tags: Vec<(&str, &str)> = DEPLOY_TAGS
        .iter()
        .map(|&(k, v)| (tag_key("aws:ResourceTag/", k), v))
        .collect();
    let mut create: Vec<(&str, &str)> = DEPLOY_TAGS
        .iter()
        .map(|&(k, v)| (tag_key("aws:RequestTag/", k), v))
        .collect();
    create.extend(DEPLOY_TAGS.iter().map(|&(k, _)| ("aws:TagKeys", k)));
    assert!(allows(
        &policies,
        "secretsmanager:CreateSecret",
        &secret,
        &create
    ));
    for action in [
        "secretsmanager:DescribeSecret",
        "secretsmanager:PutSecretValue",
        "secretsmanager:DeleteSecret",
    ] {
        assert!(
            allows(&policies, action, &secret, &tags),
            "{action} on {secret}"
        );
    }
    // Another application's secret outside the prefix stays refused.
    let billing =
        format!("arn:aws:secretsmanager:{OTHER_REGION}:{OTHER_ACCOUNT}:secret:billing-SALT-x6MEOL");
    assert!(!allows(
        &policies,
        "secretsmanager:DeleteSecret",
        &billing,
        &tags
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn any_deploy_learns_a_policy_for_any_other(first in 0_u64..1_000_000, second in 0_u64..1_000_000) {
        let policies = learn(deploy::sample_with(&Ids::fresh(first), first), false);
        let ids = Ids::fresh(second);
        let refused = refused(&policies, deploy::sample_with(&ids, second), &ids);
        prop_assert!(refused.is_empty(), "{refused:#?}");
        // Generalising the policy's own resources again changes nothing.
        let mapper = Mapper::embedded().unwrap();
        let locator = mapper.locator();
        let scoping = Scoping {
            name_prefixes: vec!["psoxy-".into(), "PSOXY_".into()],
            ..Scoping::default()
        };
        for resource in policies.iter().flat_map(|p| &p.statements).flat_map(|s| s.resource.patterns()) {
            if let Some(typed) = locator.fit(resource) {
                prop_assert_eq!(locator.generalise(&typed, &scoping), resource);
            }
        }
    }
}
