//! Which calls change what a condition can rely on (`data/lifecycle.toml`, the SDK's tag
//! members, the reference's "Tagging" actions), and the change each one made: the tags a
//! creating call gave, tags added or taken away, aliases made or deleted.

use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::Value;

use super::{Change, Id, Tags};

const TABLE: &str = include_str!("../../../data/lifecycle.toml");

static PARSED: LazyLock<Result<Table, String>> =
    LazyLock::new(|| toml::from_str(TABLE).map_err(|e| format!("lifecycle.toml: {e}")));

/// `data/lifecycle.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    untag_verbs: Vec<String>,
    /// Tagging calls whose IAM action is not classed "Tagging" (API Gateway's verbs).
    tagging_events: Vec<TaggingEvent>,
    pub aliases: Vec<AliasRule>,
    delays: Vec<Delay>,
    pub tag_shapes: TagShapes,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaggingEvent {
    event: String,
    #[expect(dead_code, reason = "read by reviewers, kept in the data")]
    evidence: String,
}

/// How long a service may take to authorise with a changed tag or alias.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Delay {
    service: String,
    seconds: i64,
    #[expect(dead_code, reason = "read by reviewers, kept in the data")]
    evidence: String,
}

/// Calls that make an alias name a resource, or take it away.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AliasRule {
    source: String,
    create: Vec<String>,
    delete: Vec<String>,
    alias: String,
    /// The request field naming the resource the alias is made for.
    target: String,
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

    /// Seconds a change to a tag or alias of `service` may take to reach authorisation.
    #[must_use]
    pub fn delay(&self, service: &str) -> i64 {
        self.delays
            .iter()
            .find(|d| d.service == service)
            .map_or(0, |d| d.seconds)
    }

    /// What an event of `prefix` can change: `creates` (its response names what it made)
    /// and `tag_paths` (where its request gives tags) from the SDK tables, `tagging` from
    /// the reference.
    #[must_use]
    pub fn watch(
        &self,
        source: &str,
        key: (&str, &str),
        creates: bool,
        tag_paths: bool,
        tagging: bool,
    ) -> Option<Watch> {
        let (prefix, name) = key;
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
        let listed = self
            .tagging_events
            .iter()
            .any(|t| t.event.split_once(':') == Some((prefix, name)));
        if tagging || listed {
            if self
                .untag_verbs
                .iter()
                .any(|v| name.starts_with(v.as_str()))
            {
                return Some(Watch::Untags);
            }
            return Some(Watch::Tags);
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
    /// The call's IAM service prefix.
    pub service: &'a str,
    pub request: Option<&'a Value>,
    /// Request paths (dotted) that hold tags.
    pub tag_paths: &'a [&'a str],
    /// Identifiers the response named as created, with their template variable.
    pub created: Vec<(Id, Option<&'a str>)>,
    /// The call's resources that are themselves generated identifiers: (type, identifier).
    pub own: Vec<(&'a str, Id)>,
}

impl Observed<'_> {
    /// The tags of the request's tag members, with the resource type a tag specification
    /// limits each to.
    fn tags(&self, shapes: &TagShapes) -> Vec<Found> {
        let mut found = Vec::new();
        if let Some(request) = self.request {
            for path in self.tag_paths {
                let value = path
                    .split('.')
                    .try_fold(request, |value, segment| value.get(segment));
                if let Some(value) = value {
                    shapes.tags_at(value, &mut found);
                }
            }
        }
        found
    }

    /// The change the call made, if any.
    #[must_use]
    pub fn change(&self, watch: Watch, table: &Table) -> Option<Change> {
        let own_ids: Vec<Id> = self.own.iter().map(|(_, id)| id.clone()).collect();
        let change = match watch {
            Watch::Creates => {
                let found = self.tags(&table.tag_shapes);
                let ids = self
                    .created
                    .iter()
                    .map(|(id, variable)| {
                        let given = found
                            .iter()
                            .filter(|(kind, _, _)| {
                                kind.as_deref().is_none_or(|kind| {
                                    variable.is_some_and(|v| {
                                        v == format!("{}Id", crate::iam::pascal(kind))
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
            Watch::Tags => {
                let tags: Tags = self
                    .tags(&table.tag_shapes)
                    .into_iter()
                    .map(|(_, k, v)| (k, v))
                    .collect();
                if own_ids.is_empty() {
                    // Tagged something the trail cannot tie to a resource: it may be ours,
                    // with another value.
                    Change::Unmatched {
                        service: self.service.into(),
                        keys: Some(tags.into_keys().collect()),
                    }
                } else {
                    Change::Tagged { ids: own_ids, tags }
                }
            }
            Watch::Untags if own_ids.is_empty() => Change::Unmatched {
                service: self.service.into(),
                keys: None,
            },
            Watch::Untags => Change::Untagged { ids: own_ids },
            Watch::Aliases(index) | Watch::Unaliases(index) => {
                let rule = table.aliases.get(index)?;
                let text = |field: &str| {
                    self.request
                        .and_then(|r| r.get(field))
                        .and_then(Value::as_str)
                };
                let alias = text(&rule.alias)?;
                if let Watch::Unaliases(_) = watch {
                    Change::Unaliased {
                        alias: alias.into(),
                    }
                } else {
                    // The resource the request names as the target (an id or an ARN), not
                    // whichever the record lists first.
                    let target = text(&rule.target)?;
                    let (_, id) = self.own.iter().find(|(kind, id)| {
                        *kind == rule.target_kind
                            && (target == &*id.1 || target.ends_with(&format!("/{}", id.1)))
                    })?;
                    Change::Aliased {
                        id: id.clone(),
                        alias: alias.into(),
                    }
                }
            }
        };
        Some(change)
    }
}

/// A tag found in a request: the resource type a tag specification limits it to, key, value.
pub type Found = (Option<Box<str>>, Box<str>, Box<str>);

/// The field names tags come in (`[tag_shapes]` of `data/lifecycle.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagShapes {
    keys: Vec<String>,
    values: Vec<String>,
    inner: Vec<String>,
    items: String,
    resource_type: Vec<String>,
    #[expect(dead_code, reason = "read by reviewers, kept in the data")]
    evidence: String,
}

fn first<'m>(map: &'m serde_json::Map<String, Value>, names: &[String]) -> Option<&'m Value> {
    names.iter().find_map(|name| map.get(name))
}

impl TagShapes {
    /// Tags at a request's tag member, in the shapes the SDK models give them: a map
    /// (`{"app": "psoxy"}`, only as the member itself), a list of pairs (`key`/`value`,
    /// `Key`/`Value`, `tagKey`/`tagValue`), EC2's tag specifications (`{"items":
    /// [{"resourceType": …, "tags": [...]}]}`), CloudFront's `{"items": [...]}`.
    pub fn tags_at(&self, value: &Value, out: &mut Vec<Found>) {
        if let Value::Object(map) = value
            && first(map, &self.keys).is_none()
            && !map.contains_key(&self.items)
            && first(map, &self.inner).is_none()
        {
            // A plain map of key → value: every value a string, or it is not tags.
            if map.values().all(Value::is_string) {
                for (key, value) in map {
                    if let Some(value) = value.as_str() {
                        out.push((None, key.as_str().into(), value.into()));
                    }
                }
            }
            return;
        }
        self.tags_in(value, None, out);
    }

    /// Pairs, lists of pairs and tag specifications below a tag member. An object of none
    /// of these shapes holds no tags.
    fn tags_in(&self, value: &Value, resource_type: Option<&str>, out: &mut Vec<Found>) {
        match value {
            Value::Array(items) => {
                for item in items {
                    self.tags_in(item, resource_type, out);
                }
            }
            Value::Object(map) => {
                if let Some(key) = first(map, &self.keys).and_then(Value::as_str) {
                    let value = first(map, &self.values)
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    out.push((resource_type.map(Box::from), key.into(), value.into()));
                    return;
                }
                if let Some(items) = map.get(&self.items) {
                    self.tags_in(items, resource_type, out);
                    return;
                }
                let spec_type = first(map, &self.resource_type).and_then(Value::as_str);
                if let Some(inner) = first(map, &self.inner) {
                    self.tags_in(inner, spec_type.or(resource_type), out);
                }
            }
            _ => {}
        }
    }
}
