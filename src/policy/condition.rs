//! Conditions that narrow a grant (`data/conditions.toml`): the service a role is passed to,
//! the creating call a tag-on-create permission is limited to, and — where an identifier AWS
//! generates became a wildcard — the tags or aliases of the run's own resources. Each is
//! added only where the trail shows it held for every call of the action.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use super::{Condition, Conditions};
use crate::evidence::ActionEvidence;
use crate::iam::reference::{Action, Service};
use crate::mapping::Reason;
use crate::resource::lifecycle::{Change, Histories, Lifecycle, Span, Tags};
use crate::resource::{Locator, TypedArn};

const TABLE: &str = include_str!("../../data/conditions.toml");

static PARSED: LazyLock<Option<Table>> = LazyLock::new(|| toml::from_str(TABLE).ok());

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    passed_to: Vec<Rule>,
    created_by: Vec<Rule>,
    tags: TagKeys,
}

/// The tag condition keys, and the tag values never relied on.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TagKeys {
    resource: String,
    request: String,
    keys: String,
    unstable: Vec<String>,
    #[expect(dead_code, reason = "read by reviewers, kept in the data")]
    evidence: String,
}

static UNSTABLE: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    PARSED.as_ref().map_or_else(Vec::new, |table| {
        table
            .tags
            .unstable
            .iter()
            .filter_map(|p| Regex::new(p).ok())
            .collect()
    })
});

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    action: String,
    key: String,
    #[expect(dead_code, reason = "read by reviewers, kept in the data")]
    evidence: String,
}

/// `StringEquals`, the operator every rule uses.
const EQUALS: &str = "StringEquals";

/// The conditions the trail shows held for every call of `action`.
pub fn of(action: &str, evidence: &ActionEvidence, conditions: Conditions) -> Condition {
    let mut condition = Condition::new();
    let Some(table) = PARSED.as_ref() else {
        return condition;
    };
    if conditions == Conditions::None {
        return condition;
    }
    // Every grant came from a mapping rule (a creating call, a passed role), none from an
    // event of the action itself.
    let dependent_only = !evidence.reasons.is_empty()
        && evidence
            .reasons
            .iter()
            .all(|r| matches!(r, Reason::Dependent { .. }));
    if !dependent_only {
        return condition;
    }
    let mut add = |key: &str, values: BTreeSet<String>| {
        if !values.is_empty() {
            condition
                .entry(EQUALS.to_owned())
                .or_default()
                .insert(key.to_owned(), values);
        }
    };
    for rule in table.passed_to.iter().filter(|r| r.action == action) {
        add(&rule.key, evidence.passed_to.clone());
    }
    for rule in table.created_by.iter().filter(|r| r.action == action) {
        add(&rule.key, evidence.events.keys().cloned().collect());
    }
    condition
}

/// `ForAllValues:StringEquals`: every tag key of the request is one of these.
const FOR_ALL_EQUALS: &str = "ForAllValues:StringEquals";
/// `ForAnyValue:StringLike`: one alias of the key matches.
const FOR_ANY_LIKE: &str = "ForAnyValue:StringLike";

/// What the trail shows of the run's created resources, read once per policy.
#[derive(Debug, Default)]
pub struct Story<'l> {
    histories: Histories,
    lifecycle: Option<&'l Lifecycle>,
}

impl<'l> Story<'l> {
    #[must_use]
    pub fn new(lifecycle: &'l Lifecycle) -> Self {
        Self {
            histories: crate::resource::lifecycle::Table::embedded()
                .map(|table| lifecycle.histories(table))
                .unwrap_or_default(),
            lifecycle: Some(lifecycle),
        }
    }

    fn span(&self, event: &str, arn: &TypedArn) -> Option<&Span> {
        self.lifecycle?.span(event, arn)
    }

    /// Creating calls of this event name that the trail shows, with what each created.
    fn creations(&self, event: &str) -> impl Iterator<Item = &Change> {
        self.lifecycle
            .into_iter()
            .flat_map(|l| &l.changes)
            .filter(move |d| &*d.event == event && matches!(d.change, Change::Created { .. }))
            .map(|d| &d.change)
    }
}

/// Where one action is granted: its service and reference entry, the run's evidence, the
/// name prefixes the user chose, and whether the policy is for other accounts.
pub struct Grant<'g> {
    pub service: &'g Service,
    pub action: &'g Action,
    pub evidence: &'g ActionEvidence,
    pub locator: &'g Locator,
    pub name_prefixes: &'g [String],
    /// A `--portable` policy: creating calls must carry the module's own tags, and may carry
    /// others (a customer's `default_tags`); the set of tag keys is not pinned.
    pub portable: bool,
}

impl Grant<'_> {
    /// The condition that stands in for the generated identifiers of `widened` (resources
    /// whose identifier became a wildcard; none for an action granted on `*`): the tags or
    /// aliases that held for every call, or nothing when the trail does not show one.
    #[must_use]
    pub fn standing_in(
        &self,
        widened: &[&TypedArn],
        story: &Story<'_>,
        conditions: Conditions,
    ) -> Condition {
        let mut condition = Condition::new();
        let Some(table) = PARSED.as_ref() else {
            return condition;
        };
        if conditions == Conditions::None {
            return condition;
        }
        if widened.is_empty() {
            if !self.action.resource_types.is_empty() {
                return condition;
            }
            return self.created_on_star(story, &table.tags);
        }
        let (mut creating, mut using) = (0_usize, 0_usize);
        let mut request: Option<Tags> = None;
        let mut tag_keys = BTreeSet::new();
        let mut resource: Option<Tags> = None;
        let mut aliases: Option<BTreeSet<String>> = None;
        for arn in widened {
            let Some(id) = self.locator.own_id(arn) else {
                return condition;
            };
            let Some(history) = story.histories.of.get(&id) else {
                return condition;
            };
            let mut named = false;
            for event in self.evidence.events.keys() {
                let Some(span) = story.span(event, arn) else {
                    continue;
                };
                named = true;
                if history.created_by(event) {
                    creating += 1;
                    let given = history.creation_tags();
                    tag_keys.extend(given.keys().cloned());
                    intersect(&mut request, given);
                } else {
                    using += 1;
                    intersect(&mut resource, history.tags_over(span));
                    let over: BTreeSet<String> = history
                        .aliases_over(span)
                        .iter()
                        .map(|a| self.general_alias(a))
                        .collect();
                    aliases = Some(match aliases {
                        Some(held) => held.intersection(&over).cloned().collect(),
                        None => over,
                    });
                }
            }
            if !named {
                return condition;
            }
        }
        let kinds: BTreeSet<&str> = widened.iter().map(|a| &*a.kind).collect();
        if creating > 0 && using == 0 {
            self.request_tags(
                &mut condition,
                request.unwrap_or_default(),
                &tag_keys,
                &kinds,
                &table.tags,
            );
        } else if using > 0 && creating == 0 {
            let supported =
                |key: &str| kinds.iter().all(|k| self.service.resource_supports(k, key));
            for (key, value) in stable(resource.unwrap_or_default()) {
                let key = format!("{}{key}", table.tags.resource);
                if supported(&key) {
                    add(&mut condition, EQUALS, &key, [value.to_string()].into());
                }
            }
            if condition.is_empty()
                && let Some(aliases) = aliases.filter(|a| !a.is_empty())
                && let Some(rules) = crate::resource::lifecycle::Table::embedded()
            {
                for rule in rules
                    .aliases
                    .iter()
                    .filter(|r| kinds.iter().all(|k| *k == r.target_kind))
                {
                    if supported(&rule.condition_key) {
                        add(
                            &mut condition,
                            FOR_ANY_LIKE,
                            &rule.condition_key,
                            aliases.clone(),
                        );
                    }
                }
            }
        }
        condition
    }

    /// An action that takes no resource type (`kms:CreateKey`), granted on `*`, whose every
    /// call was a creating call that gave tags: the request tags every created resource was
    /// given. (An action with resource types on `*` is unscoped: its statement authorises
    /// other resources of the request too, which may carry no such tags.)
    fn created_on_star(&self, story: &Story<'_>, keys: &TagKeys) -> Condition {
        let mut condition = Condition::new();
        let mut request: Option<Tags> = None;
        let mut tag_keys = BTreeSet::new();
        for (event, count) in &self.evidence.events {
            let mut seen = 0_u64;
            for change in story.creations(event) {
                let Change::Created { ids } = change else {
                    continue;
                };
                seen += 1;
                // Each resource the call created is authorised with the tags it was given.
                for (_, given) in ids {
                    tag_keys.extend(given.keys().cloned());
                    intersect(&mut request, given.clone());
                }
            }
            // A call the trail does not show creating anything (it failed, it is another
            // kind of call): its request tags are unknown.
            if seen != *count {
                return condition;
            }
        }
        self.request_tags(
            &mut condition,
            request.unwrap_or_default(),
            &tag_keys,
            &BTreeSet::new(),
            keys,
        );
        condition
    }

    fn request_tags(
        &self,
        condition: &mut Condition,
        given: Tags,
        tag_keys: &BTreeSet<Box<str>>,
        kinds: &BTreeSet<&str>,
        keys: &TagKeys,
    ) {
        let supported = |key: &str| {
            self.action.supports(key)
                || (!kinds.is_empty()
                    && kinds.iter().all(|k| self.service.resource_supports(k, key)))
        };
        for (key, value) in stable(given) {
            let key = format!("{}{key}", keys.request);
            if supported(&key) {
                add(condition, EQUALS, &key, [value.to_string()].into());
            }
        }
        // The request tags keep the wildcard to the deployment's own resources. Pinning the
        // set of keys as well keeps the deployer from setting tags it never set — which a
        // customer's own tags (Terraform's `default_tags`) are: not for a portable policy.
        if !self.portable && !condition.is_empty() && supported(&keys.keys) {
            add(
                condition,
                FOR_ALL_EQUALS,
                &keys.keys,
                tag_keys.iter().map(ToString::to_string).collect(),
            );
        }
    }

    /// An alias under a name prefix becomes `alias/prefix*`.
    fn general_alias(&self, alias: &str) -> String {
        let name = alias.strip_prefix("alias/").unwrap_or(alias);
        crate::resource::under_prefix(name, self.name_prefixes)
            .map_or_else(|| alias.to_owned(), |general| format!("alias/{general}"))
    }
}

/// Keeps in `held` only the tags `more` also has with the same value.
fn intersect(held: &mut Option<Tags>, more: Tags) {
    *held = Some(match held.take() {
        Some(held) => held
            .into_iter()
            .filter(|(k, v)| more.get(k) == Some(v))
            .collect(),
        None => more,
    });
}

/// Tags whose values stay the same from one deploy to the next.
fn stable(tags: Tags) -> impl Iterator<Item = (Box<str>, Box<str>)> {
    tags.into_iter()
        .filter(|(_, value)| !value.is_empty() && !UNSTABLE.iter().any(|p| p.is_match(value)))
}

fn add(condition: &mut Condition, operator: &str, key: &str, values: BTreeSet<String>) {
    if !values.is_empty() {
        condition
            .entry(operator.to_owned())
            .or_default()
            .insert(key.to_owned(), values);
    }
}

/// Merges one condition into another (the keys differ: all must hold).
pub fn merge(into: &mut Condition, more: Condition) {
    for (operator, keys) in more {
        into.entry(operator).or_default().extend(keys);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::Reference;
    use test_case::test_case;

    #[test]
    fn the_table_parses_and_names_real_actions() {
        let table = PARSED.as_ref().unwrap();
        let reference = Reference::embedded().unwrap();
        for rule in table.passed_to.iter().chain(&table.created_by) {
            assert!(reference.action(&rule.action).is_some(), "{}", rule.action);
        }
    }

    fn evidence(reasons: &[Reason], events: &[&str], passed_to: &[&str]) -> ActionEvidence {
        ActionEvidence {
            reasons: reasons.iter().cloned().collect(),
            events: events.iter().map(|e| ((*e).to_owned(), 1)).collect(),
            passed_to: passed_to.iter().map(|s| (*s).to_owned()).collect(),
            ..ActionEvidence::default()
        }
    }

    fn dependent() -> Reason {
        Reason::Dependent { why: "w".into() }
    }

    #[test_case("iam:PassRole", &[dependent()], &["CreateFunction20150331"], &["lambda.amazonaws.com"], Conditions::Auto,
        &["StringEquals iam:PassedToService = lambda.amazonaws.com"] ; "pass role to lambda")]
    #[test_case("iam:PassRole", &[dependent()], &["RegisterTaskDefinition", "RunInstances"], &["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"], Conditions::Auto,
        &["StringEquals iam:PassedToService = ec2.amazonaws.com, ecs-tasks.amazonaws.com"] ; "pass role to two services")]
    #[test_case("iam:PassRole", &[dependent(), Reason::Direct], &["PassRole"], &["lambda.amazonaws.com"], Conditions::Auto,
        &[] ; "a direct pass role event has no service")]
    #[test_case("iam:PassRole", &[dependent()], &["CreateFunction"], &["lambda.amazonaws.com"], Conditions::None,
        &[] ; "conditions off")]
    #[test_case("ec2:CreateTags", &[dependent()], &["CreateSecurityGroup", "RunInstances"], &[], Conditions::Auto,
        &["StringEquals ec2:CreateAction = CreateSecurityGroup, RunInstances"] ; "tag on create")]
    #[test_case("ec2:CreateTags", &[dependent(), Reason::Direct], &["CreateTags", "RunInstances"], &[], Conditions::Auto,
        &[] ; "a plain create tags call has no creating action")]
    #[test_case("kms:Decrypt", &[Reason::Direct], &["Decrypt"], &[], Conditions::Auto, &[] ; "other actions")]
    fn condition_rules(
        action: &str,
        reasons: &[Reason],
        events: &[&str],
        passed_to: &[&str],
        conditions: Conditions,
        expected: &[&str],
    ) {
        let statement = super::super::Statement {
            sid: String::new(),
            effect: "Allow",
            actions: Vec::new(),
            resource: super::super::Resource::One("*".into()),
            condition: of(action, &evidence(reasons, events, passed_to), conditions),
        };
        assert_eq!(statement.condition_lines(), expected);
    }

    /// The story of one KMS key `k` (created at 10:00 by `CreateKey` with `create_tags`),
    /// a list of later changes, and the calls of the action: (event name, first, last).
    struct Case {
        create_tags: &'static [(&'static str, &'static str)],
        changes: Vec<(&'static str, &'static str, Change)>,
        calls: &'static [(&'static str, &'static str, &'static str)],
    }

    const KEY: &str = "arn:aws:kms:eu-west-1:111122223333:key/0f4d6a2e-5b7c-4e18-9a3d-2c61b8e7f905";
    const KEY_ID: &str = "0f4d6a2e-5b7c-4e18-9a3d-2c61b8e7f905";

    fn key_id() -> crate::resource::lifecycle::Id {
        ("kms".into(), KEY_ID.into())
    }

    fn at(minute: &str) -> crate::resource::lifecycle::Time {
        crate::resource::lifecycle::time_of(&format!("2026-11-20T10:{minute}Z")).unwrap()
    }

    fn narrowing(action: &str, case: Case, conditions: Conditions) -> Vec<String> {
        narrowing_for(action, case, conditions, false)
    }

    fn narrowing_for(
        action: &str,
        case: Case,
        conditions: Conditions,
        portable: bool,
    ) -> Vec<String> {
        let mapper = crate::mapping::Mapper::embedded().unwrap();
        let (service, definition) = mapper.reference().action(action).unwrap();
        let arn = TypedArn {
            service: "kms".into(),
            kind: "key".into(),
            arn: KEY.into(),
        };
        let tags: Tags = case
            .create_tags
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        let mut lifecycle = Lifecycle::default();
        lifecycle.changes.push(crate::resource::lifecycle::Dated {
            time: at("00:00"),
            event: "CreateKey".into(),
            change: Change::Created {
                ids: vec![(key_id(), tags)],
            },
        });
        for (minute, event, change) in case.changes {
            lifecycle.changes.push(crate::resource::lifecycle::Dated {
                time: at(minute),
                event: event.into(),
                change,
            });
        }
        let mut evidence = ActionEvidence::default();
        for (event, first, last) in case.calls {
            *evidence.events.entry((*event).to_owned()).or_default() += 1;
            lifecycle.touch(event, &arn, at(first));
            lifecycle.touch(event, &arn, at(last));
        }
        let story = Story::new(&lifecycle);
        let prefixes = ["psoxy-".to_owned()];
        let grant = Grant {
            service,
            action: definition,
            evidence: &evidence,
            locator: mapper.locator(),
            name_prefixes: &prefixes,
            portable,
        };
        let widened = if definition.resource_types.is_empty() {
            Vec::new()
        } else {
            vec![&arn]
        };
        let statement = super::super::Statement {
            sid: String::new(),
            effect: "Allow",
            actions: Vec::new(),
            resource: super::super::Resource::One("*".into()),
            condition: grant.standing_in(&widened, &story, conditions),
        };
        statement.condition_lines()
    }

    const TAGGED: &[(&str, &str)] = &[("app", "psoxy"), ("managed-by", "terraform")];

    fn alias(id: bool) -> Change {
        if id {
            Change::Aliased {
                id: key_id(),
                alias: "alias/psoxy-key".into(),
            }
        } else {
            Change::Unaliased {
                alias: "alias/psoxy-key".into(),
            }
        }
    }

    #[test_case("kms:DescribeKey", Case { create_tags: TAGGED, changes: vec![], calls: &[("DescribeKey", "01:00", "30:00")] },
        &["StringEquals aws:ResourceTag/app = psoxy", "StringEquals aws:ResourceTag/managed-by = terraform"] ; "tags given on create hold for later calls")]
    #[test_case("kms:DescribeKey", Case { create_tags: TAGGED, changes: vec![], calls: &[("DescribeKey", "00:00", "30:00")] },
        &["StringEquals aws:ResourceTag/app = psoxy", "StringEquals aws:ResourceTag/managed-by = terraform"] ; "even in the second of the creation")]
    #[test_case("kms:DescribeKey", Case { create_tags: &[("created", "2026-11-20"), ("run", "12345"), ("commit", "3f2a9c1"), ("version", "1.4.2")], changes: vec![], calls: &[("DescribeKey", "01:00", "30:00")] },
        &[] ; "dates and numbers change with every deploy")]
    #[test_case("kms:DescribeKey", Case { create_tags: TAGGED, changes: vec![("20:00", "UntagResource", Change::Untagged { ids: vec![key_id()] })], calls: &[("DescribeKey", "01:00", "30:00")] },
        &[] ; "tags taken away before the last call")]
    #[test_case("kms:DescribeKey", Case { create_tags: &[], changes: vec![("05:00", "TagResource", Change::Tagged { ids: vec![key_id()], tags: [("app".into(), "psoxy".into())].into() })], calls: &[("DescribeKey", "11:00", "30:00")] },
        &["StringEquals aws:ResourceTag/app = psoxy"] ; "tags added before the calls")]
    #[test_case("kms:DescribeKey", Case { create_tags: TAGGED, changes: vec![("05:00", "TagResource", Change::Tagged { ids: vec![key_id()], tags: [("app".into(), "billing".into())].into() })], calls: &[("DescribeKey", "01:00", "30:00")] },
        &["StringEquals aws:ResourceTag/managed-by = terraform"] ; "a tag whose value changed between the calls")]
    #[test_case("kms:DescribeKey", Case { create_tags: TAGGED, changes: vec![("05:00", "UntagResource", Change::Unmatched { service: "kms".into(), keys: None })], calls: &[("DescribeKey", "01:00", "30:00")] },
        &[] ; "an untagging call the trail cannot tie to a key")]
    #[test_case("kms:DescribeKey", Case { create_tags: &[], changes: vec![("05:00", "TagResource", Change::Tagged { ids: vec![key_id()], tags: [("app".into(), "psoxy".into())].into() })], calls: &[("DescribeKey", "05:00", "30:00")] },
        &[] ; "a call in the same second as the tagging cannot be ordered")]
    #[test_case("kms:Encrypt", Case { create_tags: &[], changes: vec![("01:00", "CreateAlias", alias(true)), ("30:00", "DeleteAlias", alias(false))], calls: &[("Encrypt", "07:00", "29:00")] },
        &["ForAnyValue:StringLike kms:ResourceAliases = alias/psoxy-*"] ; "an alias under a name prefix named the key for every call")]
    #[test_case("kms:Encrypt", Case { create_tags: &[], changes: vec![("01:00", "CreateAlias", alias(true))], calls: &[("Encrypt", "01:02", "29:00")] },
        &[] ; "within the five minutes KMS may take to authorise with a new alias")]
    #[test_case("kms:ScheduleKeyDeletion", Case { create_tags: &[], changes: vec![("01:00", "CreateAlias", alias(true)), ("30:00", "DeleteAlias", alias(false))], calls: &[("ScheduleKeyDeletion", "31:00", "31:00")] },
        &[] ; "deletion after the alias went")]
    #[test_case("kms:EnableKeyRotation", Case { create_tags: &[], changes: vec![("01:00", "CreateAlias", alias(true))], calls: &[("EnableKeyRotation", "00:30", "00:30")] },
        &[] ; "a call before the alias was made")]
    #[test_case("kms:TagResource", Case { create_tags: TAGGED, changes: vec![], calls: &[("CreateKey", "00:00", "00:00")] },
        &["ForAllValues:StringEquals aws:TagKeys = app, managed-by", "StringEquals aws:RequestTag/app = psoxy", "StringEquals aws:RequestTag/managed-by = terraform"] ; "tagging on create is narrowed by the request tags")]
    #[test_case("kms:TagResource", Case { create_tags: TAGGED, changes: vec![], calls: &[("CreateKey", "00:00", "00:00"), ("TagResource", "10:00", "10:00")] },
        &[] ; "on create and on its own: neither condition holds for both")]
    #[test_case("kms:CreateKey", Case { create_tags: TAGGED, changes: vec![], calls: &[("CreateKey", "00:00", "00:00")] },
        &["ForAllValues:StringEquals aws:TagKeys = app, managed-by", "StringEquals aws:RequestTag/app = psoxy", "StringEquals aws:RequestTag/managed-by = terraform"] ; "a create on star with tags")]
    #[test_case("kms:CreateKey", Case { create_tags: TAGGED, changes: vec![], calls: &[("CreateKey", "00:00", "00:00"), ("CreateKey", "00:00", "00:00")] },
        &[] ; "a create the trail does not show creating anything")]
    fn conditions_standing_in_for_generated_ids(action: &str, case: Case, expected: &[&str]) {
        assert_eq!(narrowing(action, case, Conditions::Auto), expected);
    }

    #[test_case("kms:CreateKey", Case { create_tags: TAGGED, changes: vec![], calls: &[("CreateKey", "00:00", "00:00")] },
        &["StringEquals aws:RequestTag/app = psoxy", "StringEquals aws:RequestTag/managed-by = terraform"] ; "a create on star")]
    #[test_case("kms:TagResource", Case { create_tags: TAGGED, changes: vec![], calls: &[("CreateKey", "00:00", "00:00")] },
        &["StringEquals aws:RequestTag/app = psoxy", "StringEquals aws:RequestTag/managed-by = terraform"] ; "tagging on create")]
    #[test_case("kms:DescribeKey", Case { create_tags: TAGGED, changes: vec![], calls: &[("DescribeKey", "01:00", "30:00")] },
        &["StringEquals aws:ResourceTag/app = psoxy", "StringEquals aws:ResourceTag/managed-by = terraform"] ; "later calls")]
    fn a_portable_policy_requires_the_modules_tags_and_allows_a_customers_own(
        action: &str,
        case: Case,
        expected: &[&str],
    ) {
        assert_eq!(
            narrowing_for(action, case, Conditions::Auto, true),
            expected
        );
    }

    #[test]
    fn conditions_none_turns_them_off() {
        let case = Case {
            create_tags: TAGGED,
            changes: vec![],
            calls: &[("DescribeKey", "01:00", "30:00")],
        };
        assert!(narrowing("kms:DescribeKey", case, Conditions::None).is_empty());
    }
}
