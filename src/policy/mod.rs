//! The smallest deterministic policy: actions grouped per service and per distinct
//! resource set, resources generalised as the user asked, Sids named after the service
//! (and the resource types when a service needs several statements), split into several
//! documents when over the managed-policy size limit.

pub mod budget;
pub mod condition;
pub mod patterns;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use wildmatch::WildMatch;

use crate::evidence::Discovery;
use crate::iam::pascal;
use crate::mapping::Mapper;
use crate::resource::{Scoping, TypedArn};

/// Characters (whitespace not counted) a customer managed policy may hold.
pub const MANAGED_POLICY_LIMIT: usize = 6144;

/// An IAM policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    #[serde(rename = "Version")]
    pub version: &'static str,
    #[serde(rename = "Statement")]
    pub statements: Vec<Statement>,
}

/// One `Allow` statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    #[serde(rename = "Sid")]
    pub sid: String,
    #[serde(rename = "Effect")]
    pub effect: &'static str,
    #[serde(rename = "Action")]
    pub actions: Vec<String>,
    #[serde(rename = "Resource")]
    pub resource: Resource,
    /// Operator → condition key → values; empty for none.
    #[serde(rename = "Condition", skip_serializing_if = "Condition::is_empty")]
    pub condition: Condition,
}

impl Statement {
    /// Each condition as `StringEquals iam:PassedToService = lambda.amazonaws.com`.
    #[must_use]
    pub fn condition_lines(&self) -> Vec<String> {
        self.condition
            .iter()
            .flat_map(|(test, keys)| {
                keys.iter().map(move |(key, values)| {
                    let values: Vec<&str> = values.iter().map(String::as_str).collect();
                    format!("{test} {key} = {}", values.join(", "))
                })
            })
            .collect()
    }
}

/// A statement's `Condition` block: operator → key → values (all must hold).
pub type Condition = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// Which conditions the policy carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Conditions {
    /// Those the trail shows to hold (`data/conditions.toml`: `iam:PassedToService` on
    /// `iam:PassRole`, `ec2:CreateAction` on tag-on-create `ec2:CreateTags`, and tags or
    /// aliases standing in for generated identifiers).
    #[default]
    Auto,
    /// None.
    None,
}

/// `"*"` or a list of ARNs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Resource {
    One(String),
    Many(Vec<String>),
}

impl Resource {
    /// The resource patterns, `*` included.
    #[must_use]
    pub fn patterns(&self) -> Vec<&str> {
        match self {
            Self::One(one) => vec![one.as_str()],
            Self::Many(many) => many.iter().map(String::as_str).collect(),
        }
    }
}

/// An action that takes resources but is granted on `*`, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unscoped {
    pub action: String,
    pub reason: String,
}

/// The policy and what could not be scoped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    pub policy: Policy,
    pub unscoped: Vec<Unscoped>,
    /// Resources in which a generated identifier became a wildcard, and why.
    pub widened: Vec<crate::resource::Widened>,
    /// Resources of one type that collapsed to a pattern, per action.
    pub collapses: Vec<patterns::Collapse>,
}

/// Actions that share a service and a resource set, with the resource types behind it.
#[derive(Debug, Default)]
struct Group {
    actions: BTreeSet<String>,
    kinds: BTreeSet<String>,
}

/// (service prefix, resource set, condition) → the group granted on it.
type Groups = BTreeMap<(String, BTreeSet<String>, Condition), Group>;

impl Policy {
    /// Builds the policy for every action found, scoped as `scoping` says.
    #[must_use]
    pub fn build(
        discovery: &Discovery,
        mapper: &Mapper,
        scoping: &Scoping,
        conditions: Conditions,
    ) -> Built {
        let (groups, mut unscoped, widened, mut collapses) =
            group(discovery, mapper, scoping, conditions);
        let mut by_service: BTreeMap<&str, Vec<Keyed<'_>>> = BTreeMap::new();
        for ((prefix, resources, condition), group) in &groups {
            by_service
                .entry(prefix)
                .or_default()
                .push((resources, condition, group));
        }
        let statements = by_service
            .into_iter()
            .flat_map(|(prefix, groups)| statements(&mapper.rules().sid(prefix), &groups))
            .collect();
        unscoped.sort();
        collapses.sort();
        collapses.dedup();
        Built {
            policy: Self {
                version: "2012-10-17",
                statements,
            },
            unscoped,
            widened: widened.into_iter().collect(),
            collapses,
        }
    }

    /// Every action, in statement order.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.statements
            .iter()
            .flat_map(|s| s.actions.iter().map(String::as_str))
    }

    /// The size IAM counts: the JSON without whitespace.
    #[must_use]
    pub fn size(&self) -> usize {
        serde_json::to_string(self).map_or(0, |json| {
            json.chars().filter(|c| !c.is_whitespace()).count()
        })
    }
}

/// Each action's resource set: generalised ARNs, or `*` when it takes no resources, the
/// user asked for wildcards, or the calls did not name every required resource type.
#[expect(
    clippy::too_many_lines,
    reason = "one pass per action; the collapse added its bookkeeping"
)]
fn group(
    discovery: &Discovery,
    mapper: &Mapper,
    scoping: &Scoping,
    conditions: Conditions,
) -> (
    Groups,
    Vec<Unscoped>,
    BTreeSet<crate::resource::Widened>,
    Vec<patterns::Collapse>,
) {
    let mut groups = Groups::new();
    let mut collapses = Vec::new();
    let mut unscoped = Vec::new();
    let mut widened = BTreeSet::new();
    let story = condition::Story::new(&scoping.lifecycle);
    let star = || BTreeSet::from(["*".to_owned()]);
    for (action, evidence) in &discovery.actions {
        let prefix = action.split(':').next().unwrap_or(action).to_owned();
        let reference = mapper.reference().action(action);
        let types = reference
            .map(|(_, a)| a.resource_types.as_slice())
            .unwrap_or_default();
        let found: BTreeSet<&str> = evidence.resources.iter().map(|r| &*r.kind).collect();
        let missing: Vec<&str> = types
            .iter()
            .filter(|t| t.required && !found.contains(&*t.name))
            .map(|t| &*t.name)
            .collect();
        // (resources, resource types, the resources whose generated identifier went)
        let mut sets: Vec<(BTreeSet<String>, BTreeSet<String>, Vec<&TypedArn>)> = Vec::new();
        // Each generalised resource's type, and what it stands for (for a collapse).
        let mut origins: BTreeMap<String, patterns::Origin> = BTreeMap::new();
        if scoping.mode == crate::resource::Mode::Wildcard || types.is_empty() {
            sets.push((star(), BTreeSet::new(), Vec::new()));
        } else if evidence.resources.is_empty() || !missing.is_empty() {
            let names: Vec<&str> = if missing.is_empty() {
                types.iter().map(|t| &*t.name).collect()
            } else {
                missing
            };
            unscoped.push(Unscoped {
                action: action.clone(),
                reason: format!("the calls name no {} resource", names.join(" or ")),
            });
            sets.push((star(), BTreeSet::new(), Vec::new()));
        } else {
            let (mut kept, mut kept_kinds) = (BTreeSet::new(), BTreeSet::new());
            let (mut gone, mut gone_kinds, mut gone_arns) =
                (BTreeSet::new(), BTreeSet::new(), Vec::new());
            for r in &evidence.resources {
                let (resource, why) = mapper.locator().widen(r, scoping);
                let origin = origins.entry(resource.clone()).or_default();
                origin.service = r.service.to_string();
                origin.kind = r.kind.to_string();
                origin.add(&r.arn, evidence.scanned.get(&*r.arn));
                if why.is_empty() {
                    kept.insert(resource);
                    kept_kinds.insert(r.kind.to_string());
                } else {
                    for why in why {
                        widened.insert(crate::resource::Widened {
                            resource: resource.clone(),
                            why,
                        });
                    }
                    gone.insert(resource);
                    gone_kinds.insert(r.kind.to_string());
                    gone_arns.push(r);
                }
            }
            if !gone.is_empty() {
                sets.push((gone, gone_kinds, gone_arns));
            }
            if !kept.is_empty() {
                sets.push((kept, kept_kinds, Vec::new()));
            }
        }
        let base = condition::of(action, evidence, conditions);
        let grant = reference.map(|(service, definition)| condition::Grant {
            service,
            action: definition,
            evidence,
            locator: mapper.locator(),
            name_prefixes: &scoping.name_prefixes,
            portable: scoping.portable,
        });
        // A set whose generated identifiers no condition can stand in for joins the rest.
        let mut plain: (BTreeSet<String>, BTreeSet<String>) = (BTreeSet::new(), BTreeSet::new());
        for (resources, kinds, gone) in sets {
            let narrowing = grant.as_ref().map_or_else(Condition::new, |g| {
                if is_star(&resources) || !gone.is_empty() {
                    g.standing_in(&gone, &story, conditions)
                } else {
                    Condition::new()
                }
            });
            if narrowing.is_empty() {
                plain.0.extend(resources);
                plain.1.extend(kinds);
                continue;
            }
            let mut condition = base.clone();
            condition::merge(&mut condition, narrowing);
            let resources = patterns::shrink(
                action,
                minimal(resources),
                &origins,
                scoping.collapsing,
                *mapper.locator(),
                &mut collapses,
            );
            let group = groups
                .entry((prefix.clone(), resources, condition))
                .or_default();
            group.actions.insert(action.clone());
            group.kinds.extend(kinds);
        }
        if !plain.0.is_empty() {
            let resources = patterns::shrink(
                action,
                minimal(plain.0),
                &origins,
                scoping.collapsing,
                *mapper.locator(),
                &mut collapses,
            );
            let group = groups.entry((prefix, resources, base)).or_default();
            group.actions.insert(action.clone());
            group.kinds.extend(plain.1);
        }
    }
    (groups, unscoped, widened, collapses)
}

/// One group of a service: its resources, condition and actions.
type Keyed<'g> = (&'g BTreeSet<String>, &'g Condition, &'g Group);

/// One service's statements. Its only statement is named after the service; with several,
/// the `*` one is `…AccountLevel` and the others are named after their resource types.
fn statements(base: &str, groups: &[Keyed<'_>]) -> Vec<Statement> {
    let scoped = groups.iter().filter(|(r, _, _)| !is_star(r)).count();
    let mut named: Vec<Statement> = groups
        .iter()
        .map(|(resources, condition, group)| {
            let sid = if groups.len() == 1 || (scoped == 1 && !is_star(resources)) {
                base.to_owned()
            } else if is_star(resources) {
                format!("{base}AccountLevel")
            } else {
                format!(
                    "{base}{}",
                    group.kinds.iter().map(|k| pascal(k)).collect::<String>()
                )
            };
            // A conditioned statement is named after its condition keys too (a tag key
            // once, whichever tags: `…ResourceTag`).
            let keys: BTreeSet<String> = condition
                .values()
                .flat_map(BTreeMap::keys)
                .map(|key| {
                    let key = key.split('/').next().unwrap_or(key);
                    pascal(key.rsplit(':').next().unwrap_or(key))
                })
                .collect();
            let sid = sid + &keys.into_iter().collect::<String>();
            Statement {
                sid,
                effect: "Allow",
                actions: group.actions.iter().cloned().collect(),
                resource: if is_star(resources) {
                    Resource::One("*".to_owned())
                } else {
                    Resource::Many(resources.iter().cloned().collect())
                },
                condition: (*condition).clone(),
            }
        })
        .collect();
    named.sort_by(|a, b| {
        (is_star_resource(&a.resource), &a.sid).cmp(&(is_star_resource(&b.resource), &b.sid))
    });
    unique_sids(&mut named);
    named
}

fn is_star(resources: &BTreeSet<String>) -> bool {
    resources.contains("*")
}

fn is_star_resource(resource: &Resource) -> bool {
    matches!(resource, Resource::One(one) if one == "*")
}

/// Drops resources that another, wildcarded resource of the set already covers.
fn minimal(resources: BTreeSet<String>) -> BTreeSet<String> {
    // (Takes the set by value: the common case returns it as it is.)
    if resources.contains("*") {
        return BTreeSet::from(["*".to_owned()]);
    }
    // Only a name generalised to `prefix*` can cover another entry: every entry had its
    // region and account treated alike, so a region wildcard never covers a sibling.
    let patterns: Vec<WildMatch> = resources
        .iter()
        .filter(|r| r.ends_with('*'))
        .map(|r| WildMatch::new(r))
        .collect();
    if patterns.is_empty() {
        return resources;
    }
    resources
        .iter()
        .filter(|r| {
            !patterns
                .iter()
                .any(|p| p.matches(r) && p.to_string() != **r)
        })
        .cloned()
        .collect()
}

fn unique_sids(statements: &mut [Statement]) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for statement in statements {
        let count = seen.entry(statement.sid.clone()).or_default();
        *count += 1;
        if *count > 1 {
            statement.sid = format!("{}{}", statement.sid, count);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(sid: &str, actions: &[&str]) -> Statement {
        Statement {
            sid: sid.to_owned(),
            effect: "Allow",
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            resource: Resource::One("*".to_owned()),
            condition: Condition::new(),
        }
    }

    #[test]
    fn wildcard_resources_absorb_the_ones_they_cover() {
        let set: BTreeSet<String> = [
            "arn:aws:s3:::psoxy-*",
            "arn:aws:s3:::psoxy-a",
            "arn:aws:s3:::other",
        ]
        .map(String::from)
        .into();
        let kept: Vec<String> = minimal(set).into_iter().collect();
        assert_eq!(kept, ["arn:aws:s3:::other", "arn:aws:s3:::psoxy-*"]);
    }

    #[test]
    fn pascal_case_of_resource_types() {
        assert_eq!(pascal("log-group"), "LogGroup");
        assert_eq!(pascal("code signing config"), "CodeSigningConfig");
    }

    #[test]
    fn large_policies_split_on_service_boundaries() {
        let many: Vec<String> = (0..400).map(|i| format!("s3:Action{i:03}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let policy = Policy {
            version: "2012-10-17",
            statements: vec![
                statement("IAM", &["iam:GetRole"]),
                statement("S3", &refs),
                statement("SQS", &["sqs:GetQueueUrl"]),
            ],
        };
        let documents = policy.clone().split(MANAGED_POLICY_LIMIT);
        assert!(documents.len() >= 2);
        for doc in &documents {
            assert!(doc.size() <= MANAGED_POLICY_LIMIT || doc.statements.len() == 1);
        }
        let all: Vec<&str> = documents.iter().flat_map(Policy::actions).collect();
        assert_eq!(all, policy.actions().collect::<Vec<_>>());
        assert_eq!(policy.clone().split(usize::MAX), vec![policy]);
    }
}
