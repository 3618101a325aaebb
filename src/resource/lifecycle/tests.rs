//! Table-driven tests of the lifecycle: tag shapes, the order of changes, delays.

use super::*;
use serde_json::{Value, json};
use test_case::test_case;

fn id(value: &str) -> Id {
    ("kms".into(), value.into())
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect()
}

/// `10:MM:SS` on the sample's day.
fn at(minute_second: &str) -> Time {
    time_of(&format!("2026-11-20T10:{minute_second}Z")).unwrap()
}

fn dated(time: &str, event: &str, change: Change) -> Dated {
    Dated {
        time: at(time),
        event: event.into(),
        change,
    }
}

fn span(first: &str, last: &str) -> Span {
    Span {
        first: at(first),
        last: at(last),
    }
}

fn table() -> &'static Table {
    Table::embedded().unwrap()
}

/// The history of the key `k` after `changes`, with KMS's delay.
fn history(changes: Vec<Dated>) -> History {
    let lifecycle = Lifecycle {
        changes,
        spans: foldhash::HashMap::default(),
    };
    lifecycle.histories(table()).of[&id("k")].clone()
}

fn created(time: &str, pairs: &[(&str, &str)]) -> Dated {
    dated(
        time,
        "CreateKey",
        Change::Created {
            ids: vec![(id("k"), tags(pairs))],
        },
    )
}

#[test_case(&json!({"app": "psoxy"}), &[(None, "app", "psoxy")] ; "a map")]
#[test_case(&json!([{"key": "app", "value": "psoxy"}]), &[(None, "app", "psoxy")] ; "key and value")]
#[test_case(&json!([{"TagKey": "app", "TagValue": "psoxy"}]), &[(None, "app", "psoxy")] ; "kms pairs")]
#[test_case(&json!([{"tagKey": "app", "tagValue": "psoxy"}]), &[(None, "app", "psoxy")] ; "kms pairs as cloudtrail writes them")]
#[test_case(&json!({"items": [{"resourceType": "security-group", "tags": [{"key": "app", "value": "psoxy"}]}]}),
    &[(Some("security-group"), "app", "psoxy")] ; "ec2 tag specifications")]
#[test_case(&json!([{"resourceType": "volume", "tags": [{"key": "app", "value": "psoxy"}]}]),
    &[(Some("volume"), "app", "psoxy")] ; "tag specifications of a json protocol")]
#[test_case(&json!({"items": [{"key": "app", "value": "psoxy"}]}), &[(None, "app", "psoxy")] ; "cloudfront items")]
#[test_case(&json!({"items": [{"resourceType": "security-group"}]}), &[] ; "a specification without tags gives none")]
#[test_case(&json!([{"resourceType": "volume", "deleteOnTermination": true}]), &[] ; "other fields are not tags")]
#[test_case(&json!({"app": "psoxy", "nested": {"a": "b"}}), &[] ; "a map whose values are not all strings")]
#[test_case(&json!("text"), &[] ; "not tags")]
fn tag_shapes(value: &Value, expected: &[(Option<&str>, &str, &str)]) {
    let mut out = Vec::new();
    table().tag_shapes.tags_at(value, &mut out);
    let out: Vec<(Option<&str>, &str, &str)> = out
        .iter()
        .map(|(t, k, v)| (t.as_deref(), &**k, &**v))
        .collect();
    assert_eq!(out, expected);
}

#[test]
fn tags_given_on_create_hold_until_taken_away() {
    let history = history(vec![
        created("00:00", &[("app", "psoxy")]),
        dated(
            "05:00",
            "TagResource",
            Change::Tagged {
                ids: vec![id("k")],
                tags: tags(&[("team", "x")]),
            },
        ),
        dated(
            "20:00",
            "UntagResource",
            Change::Untagged { ids: vec![id("k")] },
        ),
    ]);
    assert!(history.created_by("CreateKey"));
    // Same second as the creation: covered (nothing names a key before it exists).
    assert_eq!(
        history.tags_over(&span("00:00", "04:00")),
        tags(&[("app", "psoxy")])
    );
    // KMS may take five minutes to authorise with a tag added later.
    assert_eq!(
        history.tags_over(&span("06:00", "08:00")),
        tags(&[("app", "psoxy")])
    );
    assert_eq!(
        history.tags_over(&span("10:01", "19:00")),
        tags(&[("app", "psoxy"), ("team", "x")])
    );
    // After the untagging: nothing is relied on.
    assert!(history.tags_over(&span("10:01", "20:00")).is_empty());
    assert_eq!(history.creation_tags(), tags(&[("app", "psoxy")]));
}

#[test]
fn a_changed_value_ends_the_old_one() {
    let history = history(vec![
        created("00:00", &[("app", "psoxy")]),
        dated(
            "05:00",
            "TagResource",
            Change::Tagged {
                ids: vec![id("k")],
                tags: tags(&[("app", "billing")]),
            },
        ),
    ]);
    assert!(history.tags_over(&span("01:00", "10:00")).is_empty());
    assert_eq!(
        history.tags_over(&span("01:00", "04:00")),
        tags(&[("app", "psoxy")])
    );
}

#[test]
fn the_same_value_set_again_changes_nothing() {
    let history = history(vec![
        created("00:00", &[("app", "psoxy")]),
        dated(
            "05:00",
            "TagResource",
            Change::Tagged {
                ids: vec![id("k")],
                tags: tags(&[("app", "psoxy")]),
            },
        ),
    ]);
    assert_eq!(
        history.tags_over(&span("01:00", "06:00")),
        tags(&[("app", "psoxy")])
    );
}

#[test]
fn two_values_set_in_the_same_second_are_neither_relied_on() {
    let retag = |value: &str| {
        dated(
            "05:00",
            "TagResource",
            Change::Tagged {
                ids: vec![id("k")],
                tags: tags(&[("app", value)]),
            },
        )
    };
    let history = history(vec![
        created("00:00", &[]),
        retag("psoxy"),
        retag("billing"),
    ]);
    assert!(history.tags_over(&span("20:00", "30:00")).is_empty());
}

#[test]
fn a_tag_change_the_trail_cannot_tie_to_a_resource_ends_the_services_tags() {
    let unmatched = |keys: Option<Vec<Box<str>>>| {
        dated(
            "05:00",
            "UntagResource",
            Change::Unmatched {
                service: "kms".into(),
                keys,
            },
        )
    };
    let all = history(vec![
        created("00:00", &[("app", "psoxy"), ("team", "x")]),
        unmatched(None),
    ]);
    assert!(all.tags_over(&span("01:00", "06:00")).is_empty());
    let some = history(vec![
        created("00:00", &[("app", "psoxy"), ("team", "x")]),
        unmatched(Some(vec!["app".into()])),
    ]);
    assert_eq!(
        some.tags_over(&span("01:00", "06:00")),
        tags(&[("team", "x")])
    );
}

#[test]
fn an_alias_names_its_key_only_between_its_creation_and_deletion() {
    let history = history(vec![
        created("00:00", &[]),
        dated(
            "01:00",
            "CreateAlias",
            Change::Aliased {
                id: id("k"),
                alias: "alias/psoxy-key".into(),
            },
        ),
        dated(
            "30:00",
            "DeleteAlias",
            Change::Unaliased {
                alias: "alias/psoxy-key".into(),
            },
        ),
    ]);
    let named = |first, last| history.aliases_over(&span(first, last)).len();
    assert_eq!(named("06:01", "29:00"), 1);
    assert_eq!(
        named("02:00", "29:00"),
        0,
        "within KMS's five minutes of the alias"
    );
    assert_eq!(named("00:30", "29:00"), 0, "before the alias");
    assert_eq!(named("06:01", "31:00"), 0, "after it was deleted");
}

#[test]
fn times_with_an_offset_are_the_same_instant() {
    assert_eq!(
        time_of("2026-11-20T10:05:00-01:00"),
        time_of("2026-11-20T11:05:00Z")
    );
    assert_eq!(time_of("yesterday"), None);
}

#[test]
fn spans_merge_to_the_widest() {
    let arn = TypedArn {
        service: "kms".into(),
        kind: "key".into(),
        arn: "arn:aws:kms:eu-west-1:1:key/k".into(),
    };
    let mut a = Lifecycle::default();
    a.touch("DescribeKey", &arn, at("05:00"));
    let mut b = Lifecycle::default();
    b.touch("DescribeKey", &arn, at("01:00"));
    b.touch("DescribeKey", &arn, at("09:00"));
    a.merge(b);
    assert_eq!(
        *a.span("DescribeKey", &arn).unwrap(),
        span("01:00", "09:00")
    );
}

#[test]
fn the_table_parses() {
    let table = table();
    let kms = |name| ("kms", name);
    assert_eq!(
        table.watch("kms.amazonaws.com", kms("CreateAlias"), false, false, false),
        Some(Watch::Aliases(0))
    );
    assert_eq!(
        table.watch("kms.amazonaws.com", kms("DeleteAlias"), false, false, false),
        Some(Watch::Unaliases(0))
    );
    assert_eq!(
        table.watch("kms.amazonaws.com", kms("UntagResource"), false, true, true),
        Some(Watch::Untags)
    );
    assert_eq!(
        table.watch("kms.amazonaws.com", kms("TagResource"), false, true, true),
        Some(Watch::Tags)
    );
    assert_eq!(
        table.watch("kms.amazonaws.com", kms("CreateKey"), true, true, false),
        Some(Watch::Creates)
    );
    assert_eq!(
        table.watch("kms.amazonaws.com", kms("CreateKey"), true, false, false),
        None
    );
    // API Gateway's tagging calls are its verbs, not "Tagging" actions: listed.
    assert_eq!(
        table.watch(
            "apigateway.amazonaws.com",
            ("apigateway", "UntagResource"),
            false,
            true,
            false
        ),
        Some(Watch::Untags)
    );
    assert_eq!(table.delay("kms"), 300);
    assert_eq!(table.delay("ec2"), 0);
}

fn observed<'a>(request: &'a Value, own: Vec<(&'a str, Id)>) -> Observed<'a> {
    Observed {
        service: "kms",
        request: Some(request),
        tag_paths: &[],
        created: Vec::new(),
        own,
    }
}

#[test]
fn tag_specifications_tag_only_the_resource_type_they_name() {
    let request = json!({"tagSpecificationSet": {"items": [
        {"resourceType": "instance", "tags": [{"key": "app", "value": "psoxy"}]}]},
        "tags": [{"key": "all", "value": "yes"}]});
    let paths = ["tagSpecificationSet", "tags"];
    let observed = Observed {
        service: "ec2",
        tag_paths: &paths,
        created: vec![
            (
                ("ec2".into(), "i-0123456789abcdef0".into()),
                Some("InstanceId"),
            ),
            (
                ("ec2".into(), "vol-0123456789abcdef0".into()),
                Some("VolumeId"),
            ),
        ],
        ..observed(&request, Vec::new())
    };
    let Some(Change::Created { ids }) = observed.change(Watch::Creates, table()) else {
        panic!("no creation");
    };
    assert_eq!(ids[0].1, tags(&[("all", "yes"), ("app", "psoxy")]));
    assert_eq!(ids[1].1, tags(&[("all", "yes")]));
}

#[test]
fn an_alias_is_made_for_the_key_the_request_targets() {
    let request = json!({"aliasName": "alias/psoxy-key", "targetKeyId": "new"});
    let own = vec![("key", id("old")), ("key", id("new"))];
    let Some(Change::Aliased { id: target, .. }) =
        observed(&request, own).change(Watch::Aliases(0), table())
    else {
        panic!("no alias");
    };
    assert_eq!(target, id("new"));
}

#[test]
fn an_untagging_call_on_a_resource_named_by_name_is_unmatched() {
    let request = json!({"secretId": "psoxy-dev-SALT", "tagKeys": ["app"]});
    let change = observed(&request, Vec::new()).change(Watch::Untags, table());
    assert!(matches!(change, Some(Change::Unmatched { keys: None, .. })));
}
