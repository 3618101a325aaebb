//! A stable fuzz harness (no nightly needed, so it runs in CI): proptest over raw bytes and
//! over CloudTrail-shaped JSON with hostile strings (non-ASCII, empty, `:` and `${`), huge
//! numbers and deep nesting, through the whole `parse → filter → map → resource → policy`
//! path, over the catalog readers (JSON and Terraform), and over the denial readers (AWS's
//! error messages, pieced together from the fragments of every documented form, and STS's
//! decoded messages). Nothing may panic.
//!
//! `MINPRIV_FUZZ_CASES` sets the number of cases per target (default 256, about a minute on
//! two cores in all). `tests/fixtures/fuzz/` holds inputs that once broke something; they
//! are replayed by a plain test on every run.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::io::Write as _;
use std::path::Path;

use minpriv::evidence::Discovery;
use minpriv::filter::{Criteria, Filter};
use minpriv::mapping::Mapper;
use minpriv::policy::{Conditions, Policy};
use minpriv::resource::{Mode, Scoping};
use minpriv::scan::{Context, scan};
use minpriv::source::Blob;
use proptest::prelude::*;
use serde_json::{Value, json};

fn cases() -> u32 {
    std::env::var("MINPRIV_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256)
}

/// Runs bytes through the whole pipeline, under every scoping mode.
fn pipeline(bytes: &[u8]) {
    let filter = Filter::new(&Criteria::default()).unwrap();
    let mapper = Mapper::embedded().unwrap();
    let blobs = vec![Blob::Memory {
        name: "fuzz.json".to_owned(),
        bytes: bytes.to_vec(),
    }];
    let mut tally = scan(&blobs, &Context::new(&filter, mapper, 1 << 20, false));
    tally
        .denials
        .settle(&std::collections::BTreeMap::new(), &mapper);
    let mut discovery = Discovery::from_calls(&tally.calls, &mapper);
    discovery.add_denials(&tally.denials, &mapper);
    let _ = minpriv::render::denials::reports(&tally.denials);
    minpriv::render::denials::render(&mut String::new(), &tally.denials);
    let created = std::sync::Arc::new(tally.created.clone());
    for mode in [Mode::Scoped, Mode::Exact, Mode::Wildcard] {
        for portable in [false, true] {
            let scoping = Scoping {
                mode,
                name_prefixes: vec!["psoxy-".to_owned()],
                portable,
                created: created.clone(),
                ..Scoping::default()
            };
            let built = Policy::build(&discovery, &mapper, &scoping, Conditions::Auto);
            let policies = built.policy.split(6144);
            let _ = minpriv::render::json::policies(&policies);
            let _ = minpriv::render::hcl::documents(&policies);
            let _ = minpriv::render::hcl::jsonencode(&policies);
            let _ = minpriv::render::cloudformation::render(&policies);
        }
    }
}

/// Reads bytes as a catalog file with the given extension.
fn catalog(bytes: &[u8], extension: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("catalog.{extension}"));
    std::fs::write(&path, bytes).unwrap();
    let _ = minpriv::catalog::read::read(&path, None, &std::collections::BTreeMap::new());
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Strings an attacker would pick: non-ASCII, separators, template syntax, empty.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,12}",
        "[a-z0-9:/*${}-]{0,16}",
        Just(String::new()),
        Just("é".to_owned()),
        Just("\u{1F600}:\u{301}".to_owned()),
        Just("${Region}".to_owned()),
        Just("arn:aws:lambda:é:é:function:é".to_owned()),
    ]
}

/// JSON values with huge numbers and deep nesting.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        hostile().prop_map(Value::String),
    ];
    leaf.prop_recursive(24, 96, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map(hostile(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const SOURCES: &[&str] = &[
    "lambda.amazonaws.com",
    "iam.amazonaws.com",
    "s3.amazonaws.com",
    "sqs.amazonaws.com",
    "ssm.amazonaws.com",
    "sts.amazonaws.com",
    "logs.amazonaws.com",
];
const NAMES: &[&str] = &[
    "CreateFunction20150331",
    "GetFunction20150331v2",
    "CreateRole",
    "PassRole",
    "AttachRolePolicy",
    "PutObject",
    "GetObject",
    "CreateQueue",
    "GetParameter",
    "AssumeRole",
    "CreateLogGroup",
];

/// Pieces of every documented form of an access-denied message (`data/denials.toml`).
const FRAGMENTS: &[&str] = &[
    "User: ",
    "User:",
    "arn:aws:sts::111122223333:assumed-role/r/s",
    "arn:aws:iam::1:user/u",
    " is not authorized to perform: ",
    "iam:PassRole",
    "SNS:Publish",
    "ec2:RunInstances",
    " on resource: ",
    "arn:aws:iam::111122223333:role/app",
    " on \"",
    "\"",
    "role ",
    " because no ",
    " because the ",
    "identity-based policy",
    "service control policy",
    "permissions boundary",
    " allows the ",
    " action",
    " with an explicit deny",
    " in a ",
    " in the ",
    " transitively through a ",
    ": arn:aws:organizations::1:policy/o-1/service_control_policy/p-1",
    ".",
    " Go to https://x for complete details, or call the GetRequestAuthorizationDetails API with the following authorization id: ",
    "EXAMPLE1a2b",
    "You are not authorized to perform this operation.",
    " Encoded authorization failure message: ",
    "Access Denied",
];

/// Messages pieced together from the fragments and hostile strings.
fn message() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            3 => proptest::sample::select(FRAGMENTS).prop_map(str::to_owned),
            1 => hostile(),
        ],
        0..14,
    )
    .prop_map(|pieces| pieces.concat())
}

/// A CloudTrail-shaped record whose every field may be hostile.
fn record() -> impl Strategy<Value = Value> {
    (
        proptest::sample::select(SOURCES),
        proptest::sample::select(NAMES),
        hostile(),
        hostile(),
        hostile(),
        value(),
        value(),
        proptest::collection::vec(hostile(), 0..3),
        (proptest::sample::select(CODES), message()),
    )
        .prop_map(
            |(source, name, region, account, resource, request, response, arns, (code, message))| {
                json!({
                    "eventVersion": "1.08",
                    "eventTime": "2026-11-20T10:10:00Z",
                    "eventSource": source,
                    "eventName": name,
                    "awsRegion": region,
                    "recipientAccountId": account,
                    "userIdentity": {
                        "type": "AssumedRole",
                        "arn": format!("arn:aws:sts::{account}:assumed-role/r/{resource}"),
                        "accountId": account,
                        "sessionContext": {"sessionIssuer": {"arn": format!("arn:aws:iam::{account}:role/r")}},
                    },
                    "eventType": "AwsApiCall",
                    "requestParameters": request,
                    "responseElements": response,
                    "resources": arns.iter().map(|a| json!({"ARN": format!("arn:aws:lambda:{region}:{account}:function:{a}"), "accountId": account})).collect::<Vec<_>>(),
                    "errorCode": if resource.is_empty() { Value::Null } else { Value::String(code.to_owned()) },
                    "errorMessage": message,
                })
            },
        )
}

/// Error codes: denials, and another failure.
const CODES: &[&str] = &[
    "AccessDenied",
    "Client.UnauthorizedOperation",
    "AuthorizationError",
    "NoSuchBucketPolicy",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn denial_messages_never_panic_their_readers(
        message in message(),
        decoded in value(),
        text in "\\PC{0,200}",
    ) {
        for message in [&message, &text] {
            if let minpriv::denial::Verdict::Named(named) = minpriv::denial::parse(message) {
                // What is read comes from the message, never from elsewhere.
                prop_assert!(message.contains(named.action.as_str()));
            }
        }
        let _ = minpriv::denial::decoded::parse(&decoded.to_string());
        let _ = minpriv::denial::decoded::parse(&text);
        let decoded_like = json!({"allowed": false, "explicitDeny": decoded.clone(),
            "matchedStatements": {"items": [decoded.clone()]},
            "context": {"action": decoded.clone(), "resource": decoded}});
        let _ = minpriv::denial::decoded::parse(&decoded_like.to_string());
    }

    #[test]
    fn arbitrary_bytes_do_not_panic_the_pipeline(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        pipeline(&bytes);
        pipeline(&gz(&bytes));
    }

    #[test]
    fn hostile_cloudtrail_records_do_not_panic_the_pipeline(
        records in proptest::collection::vec(record(), 1..8),
        lines in any::<bool>(),
    ) {
        let text = if lines {
            records.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")
        } else {
            json!({"Records": records}).to_string()
        };
        pipeline(text.as_bytes());
        pipeline(&gz(text.as_bytes()));
    }

    #[test]
    fn arn_templates_fit_hostile_arns_without_panic(
        region in hostile(),
        account in hostile(),
        name in hostile(),
        raw in "\\PC{0,40}",
    ) {
        // The crash this would have found: a non-ASCII region split at a byte index.
        let template = minpriv::resource::arn::Template::parse(
            "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}",
        );
        let arn = format!("arn:aws:lambda:{region}:{account}:function:{name}");
        let _ = template.fit(&arn);
        let _ = template.matches(&raw);
        let _ = minpriv::resource::arn::Template::parse(&raw).fit(&arn);
    }

    #[test]
    fn arbitrary_catalogs_do_not_panic_the_readers(
        bytes in proptest::collection::vec(any::<u8>(), 0..1024),
        document in value(),
        actions in proptest::collection::vec(hostile(), 0..4),
    ) {
        catalog(&bytes, "json");
        catalog(&bytes, "tf");
        let policy = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": document},
        ]});
        catalog(policy.to_string().as_bytes(), "json");
        let tf = format!(
            "resource \"aws_iam_policy\" \"p\" {{\n  policy = jsonencode({policy})\n}}\n# \"{}\"\n",
            actions.join("\",\n# \"")
        );
        catalog(tf.as_bytes(), "tf");
    }
}

/// Every input under `tests/fixtures/fuzz/` once broke something (its name says what); each
/// is run through the pipeline and, by extension, the catalog readers.
#[test]
fn the_fuzz_corpus_replays_without_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    assert!(!entries.is_empty());
    for path in entries {
        let bytes = std::fs::read(&path).unwrap();
        match path.extension().and_then(|e| e.to_str()) {
            Some("tf") => catalog(&bytes, "tf"),
            Some("catalog") => catalog(&bytes, "json"),
            _ => pipeline(&bytes),
        }
    }
}
