//! The `--principal` record search against the plain decoder, over generated documents.
//!
//! Each case is a small trail written the way other tools write trails, not the way
//! CloudTrail (or minpriv's own generator) does: keys in random order at every level,
//! whitespace of every kind (compact, pretty, CRLF, tabs), characters escaped as `\uXXXX`
//! and `/` as `\/`, `eventVersion` first, later or absent, `"eventVersion"` as the first key
//! of nested objects inside arrays of objects, strings holding `{"eventVersion":`, and the
//! principal's name in other principals' records. Each is read in each input shape
//! (`{"Records":[…]}` with `Records` first or not, a bare array, JSON lines, LookupEvents
//! output), once with the search and once with the plain decoder followed by the filter:
//! the records read, the events kept, the tally and the policy's bytes must be the same.
//!
//! `MINPRIV_FAST_PATH_CASES` sets the number of cases (default 256; with the search as it was
//! before records in other key orders were handled, the first failure came within about
//! ten cases).

use std::fmt::Write as _;

use minpriv::evidence::Discovery;
use minpriv::filter::{Criteria, Filter};
use minpriv::mapping::Mapper;
use minpriv::parse::Prefilter;
use minpriv::policy::{Conditions, Policy};
use minpriv::resource::Scoping;
use minpriv::scan::{Context, Tally, scan};
use minpriv::source::Blob;
use proptest::prelude::*;
use serde_json::{Value, json};

const ACCOUNT: &str = "111122223333";
const PRINCIPAL: &str = "arn:aws:iam::111122223333:role/ci-provisioner";

fn cases() -> u32 {
    std::env::var("MINPRIV_FAST_PATH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Who made a call. Some are the principal; others share its name in another form.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// A session of the principal's role.
    Principal,
    /// Another role.
    Other,
    /// A role whose name holds the principal's (`ci-provisioner-old`).
    Lookalike,
    /// An IAM user with the principal's role's name.
    User,
    /// An AWS service on its own behalf.
    Service,
}

fn identity(who: Who, session: u8) -> Value {
    let role = |name: &str| {
        json!({
            "type": "AssumedRole",
            "principalId": format!("AROAEXAMPLE:{name}-{session}"),
            "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{name}/s{session}"),
            "accountId": ACCOUNT,
            "accessKeyId": "ASIAEXAMPLE",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLE",
                    "arn": format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
                    "accountId": ACCOUNT,
                    "userName": name
                },
                "attributes": {"creationDate": "2026-11-20T09:59:00Z", "mfaAuthenticated": "false"}
            }
        })
    };
    match who {
        Who::Principal => role("ci-provisioner"),
        Who::Other => role("developer"),
        Who::Lookalike => role("ci-provisioner-old"),
        Who::User => json!({
            "type": "IAMUser",
            "principalId": "AIDAEXAMPLE",
            "arn": format!("arn:aws:iam::{ACCOUNT}:user/ci-provisioner"),
            "accountId": ACCOUNT,
            "userName": "ci-provisioner"
        }),
        Who::Service => json!({"type": "AWSService", "invokedBy": "lambda.amazonaws.com"}),
    }
}

/// (event source, event name, request parameters); `{name}` is a resource name.
const CALLS: &[(&str, &str, &str)] = &[
    (
        "lambda.amazonaws.com",
        "CreateFunction20150331",
        r#"{"functionName":"{name}","role":"arn:aws:iam::111122223333:role/{name}-exec","tags":{"app":"psoxy"},"environment":{"variables":{"K":"v"}}}"#,
    ),
    (
        "iam.amazonaws.com",
        "CreateRole",
        r#"{"roleName":"{name}","assumeRolePolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}","tags":[{"key":"app","value":"psoxy"},{"eventVersion":"1.0","key":"b"}]}"#,
    ),
    (
        "iam.amazonaws.com",
        "GetRole",
        r#"{"roleName":"ci-provisioner"}"#,
    ),
    (
        "s3.amazonaws.com",
        "GetObject",
        r#"{"bucketName":"{name}","Host":"{name}.s3.us-east-1.amazonaws.com","key":"k/{name}.txt"}"#,
    ),
    (
        "s3.amazonaws.com",
        "PutBucketPolicy",
        r#"{"bucketName":"{name}","bucketPolicy":{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*"},{"eventVersion":"x","Effect":"Allow"}]},"note":"},{\"eventVersion\":\"1.09\"}]"}"#,
    ),
    (
        "sns.amazonaws.com",
        "CreateTopic",
        r#"{"name":"{name}","attributes":{"DisplayName":"caf\u00e9 \ud83d\ude00"}}"#,
    ),
    (
        "kms.amazonaws.com",
        "CreateAlias",
        r#"{"aliasName":"alias/{name}","targetKeyId":"1234abcd-12ab-34cd-56ef-1234567890ab"}"#,
    ),
    (
        "logs.amazonaws.com",
        "CreateLogGroup",
        r#"{"logGroupName":"/aws/lambda/{name}","tags":{"app":"psoxy"}}"#,
    ),
    ("sts.amazonaws.com", "GetCallerIdentity", "null"),
];

const NAMES: &[&str] = &["psoxy-dev", "psoxy-prod-x", "other", "ci-provisioner"];

/// One generated call.
#[derive(Debug, Clone)]
struct Call {
    who: Who,
    /// Index into [`CALLS`].
    kind: usize,
    name: usize,
    session: u8,
    minute: u8,
    /// Where `eventVersion` goes among the record's keys (past the end: absent).
    version_at: usize,
    /// Seed of a random key order at every level of the record (`None`: CloudTrail's).
    shuffle: Option<u64>,
    resources: bool,
    failed: bool,
}

fn call() -> impl Strategy<Value = Call> {
    (
        prop_oneof![
            4 => Just(Who::Principal),
            3 => Just(Who::Other),
            1 => Just(Who::Lookalike),
            1 => Just(Who::User),
            1 => Just(Who::Service),
        ],
        0..CALLS.len(),
        0..NAMES.len(),
        0_u8..3,
        0_u8..50,
        // Mostly as CloudTrail writes records, some not: the mix the search must survive.
        prop_oneof![7 => Just(0_usize), 3 => 1_usize..20],
        proptest::option::weighted(0.2, any::<u64>()),
        any::<bool>(),
        proptest::bool::weighted(0.1),
    )
        .prop_map(
            |(who, kind, name, session, minute, version_at, shuffle, resources, failed)| Call {
                who,
                kind,
                name,
                session,
                minute,
                version_at,
                shuffle,
                resources,
                failed,
            },
        )
}

/// The record of a call, its keys in CloudTrail's order but for `eventVersion`.
fn record(call: &Call) -> Value {
    let (source, event, request) = CALLS[call.kind];
    let name = NAMES[call.name];
    let request: Value = serde_json::from_str(&request.replace("{name}", name)).unwrap();
    let mut fields: Vec<(&str, Value)> = vec![
        ("userIdentity", identity(call.who, call.session)),
        (
            "eventTime",
            json!(format!("2026-11-20T10:{:02}:00Z", call.minute)),
        ),
        ("eventSource", json!(source)),
        ("eventName", json!(event)),
        ("awsRegion", json!("us-east-1")),
        ("sourceIPAddress", json!("203.0.113.7")),
        (
            "userAgent",
            json!("APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io)"),
        ),
        ("requestParameters", request),
        ("responseElements", Value::Null),
        ("requestID", json!(format!("req-{}", call.minute))),
        (
            "eventID",
            json!(format!("id-{}-{}", call.minute, call.kind)),
        ),
        ("readOnly", json!(event.starts_with("Get"))),
        ("eventType", json!("AwsApiCall")),
        ("managementEvent", json!(true)),
        ("recipientAccountId", json!(ACCOUNT)),
        ("eventCategory", json!("Management")),
        (
            "tlsDetails",
            json!({"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256"}),
        ),
    ];
    if call.resources {
        fields.push((
            "resources",
            json!([
                {"accountId": ACCOUNT, "type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{name}/k")},
                {"eventVersion": "1.09", "accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{name}")}
            ]),
        ));
    }
    if call.failed {
        fields.push(("errorCode", json!("AccessDenied")));
        fields.push((
            "errorMessage",
            json!("User: ci-provisioner is not authorized"),
        ));
    }
    if call.version_at < fields.len() {
        fields.insert(call.version_at, ("eventVersion", json!("1.09")));
    }
    let record = Value::Object(
        fields
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
    );
    match call.shuffle {
        Some(seed) => shuffled(record, &mut seed.max(1)),
        None => record,
    }
}

/// `value` with the keys of every object in an order drawn from `state` (xorshift).
fn shuffled(value: Value, state: &mut u64) -> Value {
    match value {
        Value::Object(members) => {
            let mut members: Vec<(String, Value)> = members
                .into_iter()
                .map(|(key, value)| (key, shuffled(value, state)))
                .collect();
            for index in (1..members.len()).rev() {
                *state ^= *state << 13;
                *state ^= *state >> 7;
                *state ^= *state << 17;
                let other = usize::try_from(*state % (index as u64 + 1)).unwrap();
                members.swap(index, other);
            }
            Value::Object(members.into_iter().collect())
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| shuffled(v, state)).collect())
        }
        other => other,
    }
}

/// How a document is written.
#[derive(Debug, Clone)]
struct Layout {
    /// Whitespace between tokens, taken in turn.
    spaces: Vec<&'static str>,
    /// Every `escape`-th character of a string as `\uXXXX` (0: none).
    escape: usize,
    /// `/` written `\/`.
    slashes: bool,
}

fn layout(newlines: bool) -> impl Strategy<Value = Layout> {
    let spaces: Vec<&'static str> = if newlines {
        vec!["", " ", "\n", "\r\n", "\t", "\n    "]
    } else {
        vec!["", " ", "\t", "  "]
    };
    (
        // Compact, as CloudTrail writes, half the time.
        prop_oneof![Just(vec![""]), proptest::sample::subsequence(spaces, 1..4),],
        prop_oneof![3 => Just(0_usize), 1 => 1_usize..9],
        any::<bool>(),
    )
        .prop_map(|(spaces, escape, slashes)| Layout {
            spaces,
            escape,
            slashes,
        })
}

struct Writer<'l> {
    layout: &'l Layout,
    turn: usize,
    out: String,
}

impl<'l> Writer<'l> {
    fn new(layout: &'l Layout) -> Self {
        Self {
            layout,
            turn: 0,
            out: String::new(),
        }
    }

    fn space(&mut self) {
        self.turn += 1;
        let spaces = &self.layout.spaces;
        self.out.push_str(spaces[self.turn % spaces.len()]);
    }

    fn string(&mut self, text: &str) {
        self.out.push('"');
        for (index, c) in text.chars().enumerate() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '/' if self.layout.slashes => self.out.push_str("\\/"),
                c if c.is_control()
                    || (self.layout.escape > 0 && index % self.layout.escape == 0) =>
                {
                    let mut units = [0_u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        let _ = write!(self.out, "\\u{unit:04x}");
                    }
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Array(items) => {
                self.out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        self.out.push(',');
                    }
                    self.space();
                    self.value(item);
                }
                self.space();
                self.out.push(']');
            }
            Value::Object(members) => {
                self.out.push('{');
                for (index, (key, item)) in members.iter().enumerate() {
                    if index > 0 {
                        self.out.push(',');
                    }
                    self.space();
                    self.string(key);
                    self.space();
                    self.out.push(':');
                    self.space();
                    self.value(item);
                }
                self.space();
                self.out.push('}');
            }
            Value::String(text) => self.string(text),
            scalar => self.out.push_str(&scalar.to_string()),
        }
    }
}

/// The input shapes minpriv reads.
#[derive(Debug, Clone, Copy)]
enum Shape {
    /// `{"Records":[…]}`, as CloudTrail lays it out.
    Trail,
    /// `{"x":…,"Records":[…]}`: another key first.
    TrailRecordsLater,
    /// `[…]`
    Array,
    /// One record per line.
    Lines,
    /// `aws cloudtrail lookup-events` output.
    Lookup,
}

fn document(shape: Shape, records: &[Value], layout: &Layout) -> String {
    let mut writer = Writer::new(layout);
    match shape {
        Shape::Trail | Shape::TrailRecordsLater => {
            writer.out.push('{');
            writer.space();
            if matches!(shape, Shape::TrailRecordsLater) {
                writer.out.push_str("\"digest\":{\"eventVersion\":\"1\"},");
            }
            writer.out.push_str("\"Records\"");
            writer.space();
            writer.out.push(':');
            writer.value(&Value::Array(records.to_vec()));
            writer.space();
            writer.out.push('}');
            writer.space();
        }
        Shape::Array => writer.value(&Value::Array(records.to_vec())),
        Shape::Lines => {
            for record in records {
                writer.value(record);
                writer
                    .out
                    .push_str(if layout.slashes { "\r\n" } else { "\n" });
            }
        }
        Shape::Lookup => {
            let events: Vec<Value> = records
                .iter()
                .enumerate()
                .map(|(index, record)| {
                    let mut inner = Writer::new(layout);
                    inner.value(record);
                    json!({"EventId": index.to_string(), "EventName": record["eventName"], "CloudTrailEvent": inner.out})
                })
                .collect();
            writer.value(&json!({"Events": events}));
        }
    }
    writer.out
}

fn read(text: &str, search: bool) -> (Tally, String) {
    let principals = [PRINCIPAL.to_owned()];
    let filter = Filter::new(&Criteria {
        principals: &principals,
        ..Criteria::default()
    })
    .unwrap();
    let mapper = Mapper::embedded().unwrap();
    let mut context = Context::new(&filter, mapper, 1 << 24, false);
    assert!(!context.prefilter.is_empty());
    if !search {
        context.prefilter = Prefilter::none();
    }
    let blobs = [Blob::Memory {
        name: "trail.json".to_owned(),
        bytes: text.as_bytes().to_vec(),
    }];
    let tally = scan(&blobs, &context);
    let discovery = Discovery::from_calls(&tally.calls, &mapper);
    let scoping = Scoping {
        name_prefixes: vec!["psoxy-".to_owned()],
        created: std::sync::Arc::new(tally.created.clone()),
        lifecycle: std::sync::Arc::new(tally.lifecycle.clone()),
        ..Scoping::default()
    };
    let policies = Policy::build(&discovery, &mapper, &scoping, Conditions::Auto)
        .policy
        .split(minpriv::policy::MANAGED_POLICY_LIMIT);
    (tally, minpriv::render::json::policies(&policies).unwrap())
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        4 => Just(Shape::Trail),
        1 => Just(Shape::TrailRecordsLater),
        1 => Just(Shape::Array),
        1 => Just(Shape::Lines),
        1 => Just(Shape::Lookup),
    ]
}

/// The shape and layout together: JSON lines keep each record on one line.
fn shape_and_layout() -> impl Strategy<Value = (Shape, Layout)> {
    shape().prop_flat_map(|shape| {
        let newlines = !matches!(shape, Shape::Lines);
        layout(newlines).prop_map(move |layout| (shape, layout))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// Whatever the document looks like, `--principal` reads it as the plain decoder and
    /// the filter do: the same records read, events kept and excluded, the same calls and
    /// the same policy, byte for byte.
    #[test]
    fn the_record_search_reads_as_the_plain_decoder(
        calls in proptest::collection::vec(call(), 1..12),
        (shape, layout) in shape_and_layout(),
    ) {
        let records: Vec<Value> = calls.iter().map(record).collect();
        let text = document(shape, &records, &layout);
        let (fast, fast_policy) = read(&text, true);
        let (plain, plain_policy) = read(&text, false);
        prop_assert_eq!(plain.records, records.len() as u64, "{}", text);
        prop_assert!(plain.problems.is_empty(), "{:?}\n{}", plain.problems, text);
        prop_assert_eq!(fast.records, plain.records, "{}", text);
        prop_assert_eq!(fast.kept, plain.kept, "{}", text);
        prop_assert_eq!(&fast.excluded, &plain.excluded, "{}", text);
        prop_assert_eq!(&fast.bad_records, &plain.bad_records, "{}", text);
        prop_assert_eq!(&fast.calls, &plain.calls, "{}", text);
        prop_assert_eq!(fast.problems.len(), plain.problems.len(), "{}", text);
        prop_assert_eq!(fast_policy, plain_policy, "{}", text);
    }
}

/// The shape the issue found: three records of one role, the middle one written with
/// `awsRegion` first. The search read it as two records, one of them "not a JSON object",
/// and the policy lost an action.
#[test]
fn principal_fast_path_keeps_a_record_whose_keys_are_not_in_cloudtrails_order() {
    let record = |name: &str, first: &[&str]| {
        let call = Call {
            who: Who::Principal,
            kind: 5,
            name: 0,
            session: 0,
            minute: 1,
            version_at: 0,
            shuffle: None,
            resources: false,
            failed: false,
        };
        let mut value = record(&call);
        value["eventName"] = json!(name);
        let Value::Object(members) = value else {
            unreachable!()
        };
        let mut members: Vec<(String, Value)> = members.into_iter().collect();
        members.sort_by_key(|(key, _)| first.iter().position(|f| f == key).unwrap_or(first.len()));
        Value::Object(members.into_iter().collect())
    };
    let text = json!({"Records": [
        record("CreateTopic", &["eventVersion"]),
        record("ListTopics", &["awsRegion", "eventVersion"]),
        record("DeleteTopic", &["eventVersion"]),
    ]})
    .to_string();
    assert!(
        text.contains(r#"},{"awsRegion":"us-east-1","eventVersion":"1.09","#),
        "{text}"
    );
    let (fast, fast_policy) = read(&text, true);
    let (plain, plain_policy) = read(&text, false);
    assert_eq!((plain.records, plain.kept), (3, 3));
    assert_eq!((fast.records, fast.kept), (3, 3));
    assert!(fast.bad_records.is_empty(), "{:?}", fast.bad_records);
    assert_eq!(fast_policy, plain_policy);
    for action in ["sns:CreateTopic", "sns:ListTopics", "sns:DeleteTopic"] {
        assert!(fast_policy.contains(action), "{action}: {fast_policy}");
    }
}
