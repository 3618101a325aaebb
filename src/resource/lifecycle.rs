//! What the trail shows of the life of the resources a run created: the tags they were
//! given (on create or later) and taken, the aliases that named them, and when each call
//! touched them. A condition (`aws:ResourceTag/…`, `kms:ResourceAliases`) may stand in for a
//! generated identifier only where this shows it held for every call.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::Value;

use super::TypedArn;

const TABLE: &str = include_str!("../../data/lifecycle.toml");

static PARSED: LazyLock<Result<Table, String>> =
    LazyLock::new(|| toml::from_str(TABLE).map_err(|e| format!("lifecycle.toml: {e}")));

/// `data/lifecycle.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    untag_verbs: Vec<String>,
    pub aliases: Vec<AliasRule>,
}

/// Calls that make an alias name a resource, or take it away.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AliasRule {
    source: String,
    create: Vec<String>,
    delete: Vec<String>,
    alias: String,
    pub target_kind: String,
    pub condition_key: String,
    #[expect(dead_code, reason = "read by reviewers, kept in the data")]
    evidence: String,
}

impl Table {
    /// The table embedded in this binary (`None` only if it is malformed, which the tests
    /// rule out).
    #[must_use]
    pub fn embedded() -> Option<&'static Self> {
        PARSED.as_ref().ok()
    }

    /// What an event can change: `creates` (its response names what it made) and `tag_paths`
    /// (where its request gives tags) from the SDK tables, `tagging` from the reference.
    #[must_use]
    pub fn watch(
        &self,
        source: &str,
        name: &str,
        creates: bool,
        tag_paths: bool,
        tagging: bool,
    ) -> Option<Watch> {
        for (index, rule) in self.aliases.iter().enumerate() {
            if rule.source == source {
                if rule.create.iter().any(|c| c == name) {
                    return Some(Watch::Aliases(index));
                }
                if rule.delete.iter().any(|c| c == name) {
                    return Some(Watch::Unaliases(index));
                }
            }
        }
        if tagging {
            if self
                .untag_verbs
                .iter()
                .any(|v| name.starts_with(v.as_str()))
            {
                return Some(Watch::Untags);
            }
            return tag_paths.then_some(Watch::Tags);
        }
        (creates && tag_paths).then_some(Watch::Creates)
    }
}

/// The kind of change a call can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// A creating call that can give tags.
    Creates,
    Tags,
    Untags,
    /// An alias made (the rule's index in the table).
    Aliases(usize),
    Unaliases(usize),
}

/// One watched call, as the scan hands it over.
#[derive(Debug)]
pub struct Observed<'a> {
    pub event: &'a str,
    pub time: &'a str,
    pub request: Option<&'a Value>,
    /// Request paths (dotted) that hold tags.
    pub tag_paths: &'a [String],
    /// Identifiers the response named as created, with their template variable.
    pub created: Vec<(Id, Option<&'a str>)>,
    /// The call's resources that are themselves generated identifiers: (type, identifier).
    pub own: Vec<(&'a str, Id)>,
}

impl Observed<'_> {
    /// The change the call made, if any.
    #[must_use]
    pub fn change(&self, watch: Watch, table: &Table) -> Option<Dated> {
        let tags = || {
            let mut found = Vec::new();
            if let Some(request) = self.request {
                for path in self.tag_paths {
                    let value = path
                        .split('.')
                        .try_fold(request, |value, segment| value.get(segment));
                    if let Some(value) = value {
                        tags_in(value, None, &mut found);
                    }
                }
            }
            found
        };
        let own_ids = || {
            self.own
                .iter()
                .map(|(_, id)| id.clone())
                .collect::<Vec<_>>()
        };
        let change = match watch {
            Watch::Creates => {
                let found = tags();
                let ids = self
                    .created
                    .iter()
                    .map(|(id, variable)| {
                        let given = found
                            .iter()
                            .filter(|(kind, _, _)| {
                                kind.as_deref().is_none_or(|kind| {
                                    variable.is_some_and(|v| {
                                        v == format!("{}Id", crate::iam::rules::pascal(kind))
                                    })
                                })
                            })
                            .map(|(_, k, v)| (k.clone(), v.clone()))
                            .collect();
                        (id.clone(), given)
                    })
                    .collect::<Vec<_>>();
                if ids.is_empty() {
                    return None;
                }
                Change::Created { ids }
            }
            Watch::Tags => Change::Tagged {
                ids: own_ids(),
                tags: tags().into_iter().map(|(_, k, v)| (k, v)).collect(),
            },
            Watch::Untags => Change::Untagged { ids: own_ids() },
            Watch::Aliases(index) | Watch::Unaliases(index) => {
                let rule = table.aliases.get(index)?;
                let alias = self
                    .request
                    .and_then(|r| r.get(rule.alias.as_str()))
                    .and_then(Value::as_str)?;
                if let Watch::Unaliases(_) = watch {
                    Change::Unaliased {
                        alias: alias.into(),
                    }
                } else {
                    let (_, id) = self
                        .own
                        .iter()
                        .find(|(kind, _)| *kind == rule.target_kind)?;
                    Change::Aliased {
                        id: id.clone(),
                        alias: alias.into(),
                    }
                }
            }
        };
        Some(Dated {
            time: self.time.into(),
            event: self.event.into(),
            change,
        })
    }
}

/// An event time as CloudTrail writes it (`2026-11-20T10:05:00Z`): such times sort as text.
pub type Time = Box<str>;

/// A generated identifier: (service prefix, value), as in [`super::generated::Created`].
pub type Id = (Box<str>, Box<str>);

/// Tag key → value.
pub type Tags = BTreeMap<Box<str>, Box<str>>;

/// A change to created resources that one call made.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// A creating call: the tags its request gave each identifier its response named.
    Created { ids: Vec<(Id, Tags)> },
    /// Tags added to existing resources.
    Tagged { ids: Vec<Id>, tags: Tags },
    /// Tags taken from resources (which, is not needed: no tag of theirs is relied on).
    Untagged { ids: Vec<Id> },
    /// An alias made to name a resource (or moved to it).
    Aliased { id: Id, alias: Box<str> },
    /// An alias deleted (or moved away).
    Unaliased { alias: Box<str> },
}

/// A change and the call that made it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Dated {
    pub time: Time,
    pub event: Box<str>,
    pub change: Change,
}

/// First and last time calls of one event name named a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub first: Time,
    pub last: Time,
}

/// The changes and spans of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lifecycle {
    pub changes: Vec<Dated>,
    /// (event name, resource) → when calls of that name named it.
    pub spans: HashMap<(Box<str>, TypedArn), Span>,
}

impl Lifecycle {
    /// Notes that a call named `arn` at `time`.
    pub fn touch(&mut self, event: &str, arn: &TypedArn, time: &str) {
        match self.spans.get_mut(&(event.into(), arn.clone())) {
            Some(span) => {
                if time < &*span.first {
                    span.first = time.into();
                }
                if time > &*span.last {
                    span.last = time.into();
                }
            }
            None => {
                self.spans.insert(
                    (event.into(), arn.clone()),
                    Span {
                        first: time.into(),
                        last: time.into(),
                    },
                );
            }
        }
    }

    /// Folds another worker's findings in.
    pub fn merge(&mut self, other: Self) {
        self.changes.extend(other.changes);
        for ((event, arn), span) in other.spans {
            self.touch(&event, &arn, &span.first);
            self.touch(&event, &arn, &span.last);
        }
    }

    /// The story of each identifier, in time order (same-time changes in a fixed order).
    #[must_use]
    pub fn histories(&self) -> Histories {
        let mut changes: Vec<&Dated> = self.changes.iter().collect();
        changes.sort();
        let mut histories = Histories::default();
        let mut aliases: HashMap<&str, Id> = HashMap::new();
        for dated in changes {
            match &dated.change {
                Change::Created { ids } => {
                    for (id, tags) in ids {
                        let history = histories.of.entry(id.clone()).or_default();
                        history
                            .created
                            .push((dated.time.clone(), dated.event.clone()));
                        history.hold(tags, &dated.time, true);
                    }
                }
                Change::Tagged { ids, tags } => {
                    for id in ids {
                        let history = histories.of.entry(id.clone()).or_default();
                        history.hold(tags, &dated.time, false);
                    }
                }
                Change::Untagged { ids } => {
                    for id in ids {
                        let history = histories.of.entry(id.clone()).or_default();
                        for held in history.tags.iter_mut().filter(|h| h.until.is_none()) {
                            held.until = Some(dated.time.clone());
                        }
                    }
                }
                Change::Aliased { id, alias } => {
                    end_alias(&mut histories, &mut aliases, alias, &dated.time);
                    aliases.insert(alias, id.clone());
                    histories
                        .of
                        .entry(id.clone())
                        .or_default()
                        .aliases
                        .push(Held {
                            key: alias.clone(),
                            value: alias.clone(),
                            from: dated.time.clone(),
                            at_creation: false,
                            until: None,
                        });
                }
                Change::Unaliased { alias } => {
                    end_alias(&mut histories, &mut aliases, alias, &dated.time);
                }
            }
        }
        histories
    }
}

/// Ends the alias's current hold on the identifier it names.
fn end_alias<'a>(
    histories: &mut Histories,
    aliases: &mut HashMap<&'a str, Id>,
    alias: &'a str,
    time: &Time,
) {
    if let Some(id) = aliases.remove(alias)
        && let Some(history) = histories.of.get_mut(&id)
    {
        for held in history
            .aliases
            .iter_mut()
            .filter(|h| &*h.key == alias && h.until.is_none())
        {
            held.until = Some(time.clone());
        }
    }
}

/// A tag (or alias) an identifier carried from one time to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub key: Box<str>,
    pub value: Box<str>,
    pub from: Time,
    /// Given by the creating call: it holds for every later call that names the resource,
    /// even one in the same second (nothing can name an identifier before it exists).
    pub at_creation: bool,
    pub until: Option<Time>,
}

impl Held {
    /// Whether it held for every call from `first` to `last`. Calls in the same second as a
    /// change cannot be ordered against it, so they do not count as covered.
    fn covers(&self, span: &Span) -> bool {
        let started = if self.at_creation {
            self.from <= span.first
        } else {
            self.from < span.first
        };
        started && self.until.as_ref().is_none_or(|until| span.last < *until)
    }
}

/// One identifier's story.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// When it was created, and by which event.
    pub created: Vec<(Time, Box<str>)>,
    pub tags: Vec<Held>,
    pub aliases: Vec<Held>,
}

impl History {
    /// Notes tags given at `from` (by its creating call, or a later tagging call).
    fn hold(&mut self, tags: &Tags, from: &Time, at_creation: bool) {
        for (key, value) in tags {
            self.tags.push(Held {
                key: key.clone(),
                value: value.clone(),
                from: from.clone(),
                at_creation,
                until: None,
            });
        }
    }

    /// Whether an event of this name created it.
    #[must_use]
    pub fn created_by(&self, event: &str) -> bool {
        self.created.iter().any(|(_, e)| &**e == event)
    }

    /// The tags it carried for every call of `span`.
    #[must_use]
    pub fn tags_over(&self, span: &Span) -> Tags {
        let mut out = Tags::new();
        for held in self.tags.iter().filter(|h| h.covers(span)) {
            out.insert(held.key.clone(), held.value.clone());
        }
        out
    }

    /// The tags its creating call gave it.
    #[must_use]
    pub fn creation_tags(&self) -> Tags {
        self.tags
            .iter()
            .filter(|h| h.at_creation)
            .map(|h| (h.key.clone(), h.value.clone()))
            .collect()
    }

    /// The aliases that named it for every call of `span`.
    #[must_use]
    pub fn aliases_over(&self, span: &Span) -> BTreeSet<Box<str>> {
        self.aliases
            .iter()
            .filter(|h| h.covers(span))
            .map(|h| h.key.clone())
            .collect()
    }
}

/// Every identifier's story.
#[derive(Debug, Clone, Default)]
pub struct Histories {
    pub of: BTreeMap<Id, History>,
}

/// A tag found in a request: the resource type a tag specification limits it to, key, value.
pub type Found = (Option<Box<str>>, Box<str>, Box<str>);

/// Tags in a request value, in the shapes the SDK models give them: a map (`{"app":
/// "psoxy"}`), a list of pairs (`key`/`value`, `Key`/`Value`, `tagKey`/`tagValue`), EC2's
/// tag specifications (`{"items": [{"resourceType": …, "tags": [...]}]}`). Each tag comes
/// with the resource type a specification limits it to.
pub fn tags_in(value: &Value, resource_type: Option<&str>, out: &mut Vec<Found>) {
    const KEYS: [&str; 4] = ["key", "Key", "tagKey", "TagKey"];
    const VALUES: [&str; 4] = ["value", "Value", "tagValue", "TagValue"];
    match value {
        Value::Array(items) => {
            for item in items {
                tags_in(item, resource_type, out);
            }
        }
        Value::Object(map) => {
            let key = KEYS
                .iter()
                .find_map(|k| map.get(*k))
                .and_then(Value::as_str);
            if let Some(key) = key {
                let value = VALUES
                    .iter()
                    .find_map(|v| map.get(*v))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                out.push((resource_type.map(Box::from), key.into(), value.into()));
                return;
            }
            if let Some(items) = map.get("items") {
                tags_in(items, resource_type, out);
                return;
            }
            let spec_type = map
                .get("resourceType")
                .or_else(|| map.get("ResourceType"))
                .and_then(Value::as_str);
            let inner = ["tags", "Tags", "tagSet", "tag", "Tag"]
                .iter()
                .find_map(|k| map.get(*k));
            if let Some(inner) = inner {
                tags_in(inner, spec_type.or(resource_type), out);
                return;
            }
            // A plain map of key → value.
            for (key, value) in map {
                if let Some(value) = value.as_str() {
                    out.push((
                        resource_type.map(Box::from),
                        key.as_str().into(),
                        value.into(),
                    ));
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
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

    fn dated(time: &str, event: &str, change: Change) -> Dated {
        Dated {
            time: time.into(),
            event: event.into(),
            change,
        }
    }

    fn span(first: &str, last: &str) -> Span {
        Span {
            first: first.into(),
            last: last.into(),
        }
    }

    #[test_case(&json!({"app": "psoxy"}), &[(None, "app", "psoxy")] ; "a map")]
    #[test_case(&json!([{"key": "app", "value": "psoxy"}]), &[(None, "app", "psoxy")] ; "key and value")]
    #[test_case(&json!([{"TagKey": "app", "TagValue": "psoxy"}]), &[(None, "app", "psoxy")] ; "kms pairs")]
    #[test_case(&json!([{"tagKey": "app", "tagValue": "psoxy"}]), &[(None, "app", "psoxy")] ; "kms pairs as cloudtrail writes them")]
    #[test_case(&json!({"items": [{"resourceType": "security-group", "tags": [{"key": "app", "value": "psoxy"}]}]}),
        &[(Some("security-group"), "app", "psoxy")] ; "ec2 tag specifications")]
    #[test_case(&json!([{"resourceType": "volume", "tags": [{"key": "app", "value": "psoxy"}]}]),
        &[(Some("volume"), "app", "psoxy")] ; "tag specifications of a json protocol")]
    #[test_case(&json!("text"), &[] ; "not tags")]
    fn tag_shapes(value: &Value, expected: &[(Option<&str>, &str, &str)]) {
        let mut out = Vec::new();
        tags_in(value, None, &mut out);
        let out: Vec<(Option<&str>, &str, &str)> = out
            .iter()
            .map(|(t, k, v)| (t.as_deref(), &**k, &**v))
            .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn tags_given_on_create_hold_until_taken_away() {
        let lifecycle = Lifecycle {
            changes: vec![
                dated(
                    "2026-11-20T10:00:00Z",
                    "CreateKey",
                    Change::Created {
                        ids: vec![(id("k"), tags(&[("app", "psoxy")]))],
                    },
                ),
                dated(
                    "2026-11-20T10:05:00Z",
                    "TagResource",
                    Change::Tagged {
                        ids: vec![id("k")],
                        tags: tags(&[("team", "x")]),
                    },
                ),
                dated(
                    "2026-11-20T10:09:00Z",
                    "UntagResource",
                    Change::Untagged { ids: vec![id("k")] },
                ),
            ],
            spans: HashMap::new(),
        };
        let histories = lifecycle.histories();
        let history = &histories.of[&id("k")];
        assert!(history.created_by("CreateKey"));
        // Same second as the creation: still covered (nothing names a key before it exists).
        assert_eq!(
            history.tags_over(&span("2026-11-20T10:00:00Z", "2026-11-20T10:04:00Z")),
            tags(&[("app", "psoxy")])
        );
        // Same second as a later tagging: not covered.
        assert_eq!(
            history.tags_over(&span("2026-11-20T10:05:00Z", "2026-11-20T10:06:00Z")),
            tags(&[("app", "psoxy")])
        );
        assert_eq!(
            history.tags_over(&span("2026-11-20T10:06:00Z", "2026-11-20T10:08:00Z")),
            tags(&[("app", "psoxy"), ("team", "x")])
        );
        // After the untagging: nothing is relied on.
        assert!(
            history
                .tags_over(&span("2026-11-20T10:06:00Z", "2026-11-20T10:09:00Z"))
                .is_empty()
        );
        assert_eq!(history.creation_tags(), tags(&[("app", "psoxy")]));
    }

    #[test]
    fn an_alias_names_its_key_only_between_its_creation_and_deletion() {
        let lifecycle = Lifecycle {
            changes: vec![
                dated(
                    "2026-11-20T10:00:00Z",
                    "CreateKey",
                    Change::Created {
                        ids: vec![(id("k"), Tags::new())],
                    },
                ),
                dated(
                    "2026-11-20T10:01:00Z",
                    "CreateAlias",
                    Change::Aliased {
                        id: id("k"),
                        alias: "alias/psoxy-key".into(),
                    },
                ),
                dated(
                    "2026-11-20T10:30:00Z",
                    "DeleteAlias",
                    Change::Unaliased {
                        alias: "alias/psoxy-key".into(),
                    },
                ),
            ],
            spans: HashMap::new(),
        };
        let histories = lifecycle.histories();
        let history = &histories.of[&id("k")];
        let named = |first, last| history.aliases_over(&span(first, last)).len();
        assert_eq!(named("2026-11-20T10:02:00Z", "2026-11-20T10:29:00Z"), 1);
        assert_eq!(
            named("2026-11-20T10:00:30Z", "2026-11-20T10:29:00Z"),
            0,
            "before the alias"
        );
        assert_eq!(
            named("2026-11-20T10:02:00Z", "2026-11-20T10:31:00Z"),
            0,
            "after it was deleted"
        );
        assert_eq!(
            named("2026-11-20T10:01:00Z", "2026-11-20T10:02:00Z"),
            0,
            "the same second"
        );
    }

    #[test]
    fn the_table_parses() {
        let table = Table::embedded().unwrap();
        assert_eq!(
            table.watch("kms.amazonaws.com", "CreateAlias", false, false, false),
            Some(Watch::Aliases(0))
        );
        assert_eq!(
            table.watch("kms.amazonaws.com", "DeleteAlias", false, false, false),
            Some(Watch::Unaliases(0))
        );
        assert_eq!(
            table.watch("kms.amazonaws.com", "UntagResource", false, true, true),
            Some(Watch::Untags)
        );
        assert_eq!(
            table.watch("kms.amazonaws.com", "TagResource", false, true, true),
            Some(Watch::Tags)
        );
        assert_eq!(
            table.watch("kms.amazonaws.com", "CreateKey", true, true, false),
            Some(Watch::Creates)
        );
        assert_eq!(
            table.watch("kms.amazonaws.com", "CreateKey", true, false, false),
            None
        );
        assert_eq!(
            table.watch("kms.amazonaws.com", "DescribeKey", false, false, false),
            None
        );
    }

    #[test]
    fn tag_specifications_tag_only_the_resource_type_they_name() {
        let request = json!({"tagSpecificationSet": {"items": [
            {"resourceType": "instance", "tags": [{"key": "app", "value": "psoxy"}]}]},
            "tags": [{"key": "all", "value": "yes"}]});
        let observed = Observed {
            event: "RunInstances",
            time: "t",
            request: Some(&request),
            tag_paths: &["tagSpecificationSet".to_owned(), "tags".to_owned()],
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
            own: Vec::new(),
        };
        let Some(Dated {
            change: Change::Created { ids },
            ..
        }) = observed.change(Watch::Creates, Table::embedded().unwrap())
        else {
            panic!("no creation");
        };
        assert_eq!(ids[0].1, tags(&[("all", "yes"), ("app", "psoxy")]));
        assert_eq!(ids[1].1, tags(&[("all", "yes")]));
    }

    #[test]
    fn spans_merge_to_the_widest() {
        let arn = TypedArn {
            service: "kms".into(),
            kind: "key".into(),
            arn: "arn:aws:kms:eu-west-1:1:key/k".into(),
        };
        let mut a = Lifecycle::default();
        a.touch("DescribeKey", &arn, "2026-11-20T10:05:00Z");
        let mut b = Lifecycle::default();
        b.touch("DescribeKey", &arn, "2026-11-20T10:01:00Z");
        b.touch("DescribeKey", &arn, "2026-11-20T10:09:00Z");
        a.merge(b);
        assert_eq!(
            a.spans[&("DescribeKey".into(), arn)],
            span("2026-11-20T10:01:00Z", "2026-11-20T10:09:00Z")
        );
    }
}
