//! The hand-kept mapping tables (`data/mapping.toml`, `data/services.toml`): event sources
//! whose IAM prefix differs, renamed events, name patterns, calls that need no permission,
//! and the dependent actions CloudTrail never shows; plus the dependent rules derived from
//! the SDK's service models (`data/sdk/operations.tsv`): role ARNs passed, tags given.

use std::collections::BTreeMap;

use foldhash::{HashMap, HashSet};
use std::sync::LazyLock;

use serde::Deserialize;

/// The action that hands a role to a service.
pub const PASS_ROLE: &str = "iam:PassRole";

const MAPPING: &str = include_str!("../../data/mapping.toml");
const SERVICES: &str = include_str!("../../data/services.toml");
const OPERATIONS: &str = include_str!("../../data/sdk/operations.tsv");

static PARSED: LazyLock<Result<Rules, RulesError>> =
    LazyLock::new(|| Rules::parse(MAPPING, SERVICES, OPERATIONS));

/// A mapping table that does not parse.
#[derive(Debug, Clone, thiserror::Error)]
#[error("mapping tables: {0}")]
pub struct RulesError(String);

/// An action added because the request shows a condition (tags, a passed role, a version).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Dependent {
    /// `prefix:EventName` after normalisation.
    pub event: String,
    /// Request paths that must all be present and non-empty.
    #[serde(default)]
    pub when: Vec<String>,
    /// Fully qualified actions to add.
    pub actions: Vec<String>,
    /// The added actions stand instead of the event's own action.
    #[serde(default)]
    pub replace: bool,
    /// Why the action is needed, shown as evidence.
    pub why: String,
    /// For `iam:PassRole`: the service principal the role is passed to, when it is not the
    /// event source's own (`ecs-tasks.amazonaws.com` for an ECS task role). Becomes the
    /// `iam:PassedToService` condition.
    #[serde(default)]
    pub passed_to: Option<String>,
    /// A further condition on one field's values (the verb of a PartiQL statement, the
    /// service of an associated resource's ARN).
    #[serde(default)]
    pub word: Option<Word>,
    /// The documentation page or model fact the rule rests on.
    pub evidence: String,
}

/// A rule condition on a derived value of a request field.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Word {
    /// Request path whose values are looked at.
    pub path: String,
    /// What is taken of each value.
    pub of: WordOf,
    /// The rule applies when any value's word is one of these (upper case for verbs).
    pub is: Vec<String>,
}

/// The part of a value a [`Word`] condition compares.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WordOf {
    /// The first word, upper-cased (`SELECT` of `select * from t`).
    FirstWord,
    /// The service of an ARN (`elasticloadbalancing` of `arn:aws:elasticloadbalancing:…`).
    ArnService,
    /// The first segment of an ARN's resource (`apis` of `arn:aws:apigateway:r::/apis/a1`,
    /// `function` of `…:function:f`).
    ArnResource,
}

impl Word {
    /// The fact path under which a call keeps the derived words.
    #[must_use]
    pub fn fact_path(&self) -> String {
        let of = match self.of {
            WordOf::FirstWord => "first_word",
            WordOf::ArnService => "arn_service",
            WordOf::ArnResource => "arn_resource",
        };
        format!("{}#{of}", self.path)
    }

    /// The word of one value.
    #[must_use]
    pub fn word_of(&self, value: &str) -> Option<String> {
        match self.of {
            WordOf::FirstWord => value
                .split_whitespace()
                .next()
                .map(|w| w.trim_start_matches('(').to_ascii_uppercase()),
            WordOf::ArnService => crate::resource::arn::service(value).map(str::to_owned),
            WordOf::ArnResource => value
                .splitn(6, ':')
                .nth(5)
                .and_then(|resource| resource.trim_start_matches('/').split(['/', ':']).next())
                .filter(|segment| !segment.is_empty())
                .map(str::to_owned),
        }
    }
}

/// A call that needs no permission of the caller's own, and why.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FreeCall {
    event: String,
    evidence: String,
}

/// A service principal a role is passed to that is not the event source.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PassedTo {
    event: String,
    path: String,
    service: String,
    evidence: String,
}

/// How the SDK-derived rules are made.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Derive {
    /// Operation-name prefixes that never pass a role or tag a new resource.
    skip_verbs: Vec<String>,
    /// Events whose role ARN member is not a role handed to the service.
    not_passed: Vec<FreeCall>,
    /// The tagging actions tried in order when a service has no override.
    tag_actions: Vec<String>,
    /// Per-prefix tagging action where the first candidate is not the right one.
    tag_action_of: Vec<TagActionOf>,
    /// Services with one tagging action per resource type, named after the resource the
    /// operation creates (IAM: `CreateRole` → `TagRole`, `UploadServerCertificate` →
    /// `TagServerCertificate`).
    tag_action_by_noun: Vec<TagByNoun>,
    passed_to: Vec<PassedTo>,
    /// Why the derivation holds, shown with each derived rule.
    role_evidence: String,
    tag_evidence: String,
}

/// A service whose tagging actions are named after the resource (`Tag` + noun).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TagByNoun {
    service: String,
    /// The verbs the operation name starts with, before the noun.
    verbs: Vec<String>,
    #[expect(dead_code, reason = "read by reviewers, kept in the data")]
    evidence: String,
}

/// The action a service authorises tags given on create with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TagActionOf {
    service: String,
    action: String,
    #[expect(dead_code, reason = "read by reviewers, kept in the data")]
    evidence: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefixRule {
    pub prefix: String,
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pattern {
    service: String,
    #[expect(dead_code, reason = "read by reviewers, kept in the data")]
    evidence: String,
    prefixes: Vec<PrefixRule>,
}

/// An event whose actions are not its own name, with the evidence for them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rename {
    actions: Vec<String>,
    #[expect(dead_code, reason = "read by reviewers, kept in the data")]
    evidence: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    sources: BTreeMap<String, String>,
    renames: BTreeMap<String, Rename>,
    patterns: Vec<Pattern>,
    free: Vec<FreeCall>,
    /// Operations that have no IAM action at all (checked by no policy).
    #[serde(default)]
    no_action: Vec<FreeCall>,
    derive: Derive,
    dependents: Vec<Dependent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Global {
    sources: Vec<String>,
    region: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Risky {
    actions: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceLinked {
    role_path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServicesFile {
    sids: BTreeMap<String, String>,
    global: Global,
    service_linked: ServiceLinked,
    risky: Risky,
    terraform: Terraform,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Terraform {
    services: Vec<String>,
}

/// What the SDK models say of one operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Operation {
    /// The CloudTrail event source. (The table's text is embedded: its entries borrow it.)
    pub source: &'static str,
    /// The operation is an action of the same name in the IAM reference.
    pub is_action: bool,
    /// The model marks the operation unsigned: it needs no IAM permission.
    pub unsigned: bool,
    /// Request paths holding a role ARN, and whether a rule covers each.
    pub roles: Vec<&'static str>,
    /// Request paths holding tags.
    pub tags: Vec<&'static str>,
}

/// The tables, indexed for lookup.
#[derive(Debug)]
pub struct Rules {
    sources: HashMap<String, String>,
    renames: HashMap<String, Vec<String>>,
    patterns: HashMap<String, Vec<PrefixRule>>,
    free: HashSet<String>,
    no_action: HashSet<String>,
    dependents: HashMap<String, Vec<Dependent>>,
    /// Event keys of the SDK operations, with whether each passes a role or takes tags.
    operations: BTreeMap<String, Operation>,
    sids: HashMap<String, String>,
    /// Event sources of global services, recorded in `global_region`.
    pub global_sources: HashSet<String>,
    pub global_region: String,
    /// Lower-cased well-known privilege-escalation actions.
    risky: HashSet<String>,
    /// The path of service-linked roles in their ARNs.
    pub service_linked_path: String,
    /// The services a typical Terraform deployment touches (coverage reports).
    terraform: Vec<String>,
}

impl Rules {
    /// The tables embedded in this binary.
    ///
    /// # Errors
    /// Only if an embedded table is malformed, which the tests rule out.
    pub fn embedded() -> Result<&'static Self, RulesError> {
        PARSED.as_ref().map_err(Clone::clone)
    }

    fn parse(mapping: &str, services: &str, operations: &'static str) -> Result<Self, RulesError> {
        let mapping: MappingFile =
            toml::from_str(mapping).map_err(|e| RulesError(format!("mapping.toml: {e}")))?;
        let services: ServicesFile =
            toml::from_str(services).map_err(|e| RulesError(format!("services.toml: {e}")))?;
        let operations = parse_operations(operations)?;
        let unsupported = mapping
            .free
            .iter()
            .map(|f| (&f.event, &f.evidence))
            .chain(
                mapping
                    .derive
                    .not_passed
                    .iter()
                    .map(|f| (&f.event, &f.evidence)),
            )
            .chain(
                mapping
                    .derive
                    .passed_to
                    .iter()
                    .map(|f| (&f.event, &f.evidence)),
            )
            .chain(mapping.dependents.iter().map(|f| (&f.event, &f.evidence)))
            .find(|(_, evidence)| evidence.trim().is_empty());
        if let Some((event, _)) = unsupported {
            return Err(RulesError(format!("mapping.toml: {event} has no evidence")));
        }
        let mut dependents: HashMap<String, Vec<Dependent>> = HashMap::default();
        for dependent in mapping.dependents {
            dependents
                .entry(dependent.event.clone())
                .or_default()
                .push(dependent);
        }
        derive(&mapping.derive, &operations, &mut dependents);
        Ok(Self {
            sources: mapping.sources.into_iter().collect(),
            renames: mapping
                .renames
                .into_iter()
                .map(|(key, rename)| (key, rename.actions))
                .collect(),
            patterns: mapping
                .patterns
                .into_iter()
                .map(|p| (p.service, p.prefixes))
                .collect(),
            free: mapping.free.into_iter().map(|f| f.event).collect(),
            no_action: mapping.no_action.into_iter().map(|f| f.event).collect(),
            dependents,
            operations,
            sids: services.sids.into_iter().collect(),
            global_sources: services.global.sources.into_iter().collect(),
            global_region: services.global.region,
            risky: services
                .risky
                .actions
                .iter()
                .map(|a| a.to_ascii_lowercase())
                .collect(),
            service_linked_path: services.service_linked.role_path,
            terraform: services.terraform.services,
        })
    }

    /// The IAM prefix for an event source that does not follow the `<prefix>.amazonaws.com` rule.
    #[must_use]
    pub fn source_prefix(&self, source: &str) -> Option<&str> {
        self.sources.get(source).map(String::as_str)
    }

    /// Actions for an event whose name is not its action's name.
    #[must_use]
    pub fn renamed(&self, key: &str) -> Option<&[String]> {
        self.renames.get(key).map(Vec::as_slice)
    }

    /// Actions for an event of a service whose actions follow a naming pattern.
    #[must_use]
    pub fn patterned(&self, prefix: &str, name: &str) -> Option<&[String]> {
        let rules = self.patterns.get(prefix)?;
        rules
            .iter()
            .find(|rule| name.starts_with(&rule.prefix))
            .map(|rule| rule.actions.as_slice())
    }

    #[must_use]
    pub fn has_patterns(&self, prefix: &str) -> bool {
        self.patterns.contains_key(prefix)
    }

    /// Whether the call needs no IAM permission at all: listed in `[[free]]`, or an
    /// operation the SDK model marks unsigned.
    #[must_use]
    pub fn is_free(&self, key: &str) -> bool {
        self.free.contains(key) || self.operations.get(key).is_some_and(|op| op.unsigned)
    }

    /// Whether an SDK operation has no IAM action at all (unauthenticated, deprecated).
    #[must_use]
    pub fn has_no_action(&self, key: &str) -> bool {
        self.no_action.contains(key)
    }

    /// The conditional rules of one event key.
    #[must_use]
    pub fn dependents(&self, key: &str) -> &[Dependent] {
        self.dependents.get(key).map_or(&[], Vec::as_slice)
    }

    /// The SDK operations by event key (`prefix:Operation`).
    #[must_use]
    pub fn operations(&self) -> &BTreeMap<String, Operation> {
        &self.operations
    }

    /// Whether CloudTrail records this source's calls in the global region only.
    #[must_use]
    pub fn is_global(&self, source: &str) -> bool {
        self.global_sources.contains(source)
    }

    /// Whether a role ARN is a service-linked role's (AWS acting on its own behalf).
    #[must_use]
    pub fn is_service_linked(&self, role_arn: &str) -> bool {
        role_arn.contains(self.service_linked_path.as_str())
    }

    /// Whether an action is a well-known privilege-escalation path.
    #[must_use]
    pub fn is_risky(&self, action: &str) -> bool {
        self.risky.contains(&action.to_ascii_lowercase())
    }

    /// The IAM prefixes of the services a typical Terraform deployment touches.
    #[must_use]
    pub fn terraform_services(&self) -> &[String] {
        &self.terraform
    }

    /// The statement id for a service prefix.
    #[must_use]
    pub fn sid(&self, prefix: &str) -> String {
        if let Some(sid) = self.sids.get(prefix) {
            return sid.clone();
        }
        crate::iam::pascal(prefix)
    }

    /// Every fully qualified action the tables can emit, for validation.
    #[cfg(test)]
    pub(crate) fn named_actions(&self) -> Vec<String> {
        let mut names = Vec::new();
        for (key, actions) in &self.renames {
            let prefix = key.split(':').next().unwrap_or_default();
            names.extend(actions.iter().map(|a| qualify(prefix, a)));
        }
        for (prefix, rules) in &self.patterns {
            for rule in rules {
                names.extend(rule.actions.iter().map(|a| qualify(prefix, a)));
            }
        }
        for rules in self.dependents.values() {
            for rule in rules {
                names.extend(rule.actions.iter().cloned());
            }
        }
        names.extend(self.risky.iter().cloned());
        names
    }
}

/// Reads `data/sdk/operations.tsv`.
fn parse_operations(text: &'static str) -> Result<BTreeMap<String, Operation>, RulesError> {
    let split = |s: &'static str| s.split(',').filter(|p| !p.is_empty());
    let mut out: BTreeMap<String, Operation> = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let cols: Vec<&'static str> = line.split('\t').collect();
        let [prefix, source, name, known, roles, tags] = cols.as_slice() else {
            return Err(RulesError(format!("operations.tsv: bad line {line:?}")));
        };
        let entry = out.entry(format!("{prefix}:{name}")).or_default();
        if entry.source.is_empty() {
            entry.source = source;
        }
        entry.is_action |= *known == "A";
        entry.unsigned |= *known == "U";
        entry.roles.extend(split(roles));
        entry.tags.extend(split(tags));
        entry.roles.sort_unstable();
        entry.roles.dedup();
        entry.tags.sort_unstable();
        entry.tags.dedup();
    }
    Ok(out)
}

/// Adds the rules the SDK models imply: a role ARN member passes the role (`iam:PassRole`),
/// a tag member needs the service's tagging action. A hand rule on the same event and path
/// wins.
fn derive(
    how: &Derive,
    operations: &BTreeMap<String, Operation>,
    dependents: &mut HashMap<String, Vec<Dependent>>,
) {
    let reference = crate::iam::reference::Reference::embedded().ok();
    let not_passed: HashSet<&str> = how.not_passed.iter().map(|n| n.event.as_str()).collect();
    for (key, op) in operations {
        let Some((prefix, name)) = key.split_once(':') else {
            continue;
        };
        if how.skip_verbs.iter().any(|v| name.starts_with(v.as_str())) {
            continue;
        }
        let hand: Vec<String> = dependents
            .get(key)
            .map(|rules| rules.iter().flat_map(|r| r.when.clone()).collect())
            .unwrap_or_default();
        let mut derived = Vec::new();
        if !not_passed.contains(key.as_str()) {
            for path in op.roles.iter().filter(|p| !hand.iter().any(|h| h == **p)) {
                let passed_to = how
                    .passed_to
                    .iter()
                    .find(|p| p.event == *key && path.ends_with(p.path.as_str()))
                    .map(|p| p.service.clone());
                derived.push(Dependent {
                    event: key.clone(),
                    when: vec![(*path).to_owned()],
                    actions: vec![PASS_ROLE.to_owned()],
                    replace: false,
                    why: format!("the role in `{path}` is passed to the service"),
                    passed_to,
                    word: None,
                    evidence: format!("SDK model: {key} member {path}; {}", how.role_evidence),
                });
            }
        }
        let tag_action = reference.and_then(|r| {
            // The call is itself a tagging action: nothing to add.
            if r.action(key)
                .is_some_and(|(_, a)| a.access == crate::iam::reference::Access::Tagging)
            {
                return None;
            }
            let by_noun = how
                .tag_action_by_noun
                .iter()
                .filter(|t| t.service == prefix)
                .flat_map(|t| &t.verbs)
                .find_map(|verb| name.strip_prefix(verb.as_str()))
                .map(|noun| format!("Tag{noun}"));
            // The resource's own tagging action first, then the service's, then the usual
            // names.
            by_noun
                .into_iter()
                .chain(
                    how.tag_action_of
                        .iter()
                        .filter(|t| t.service == prefix)
                        .map(|t| t.action.clone()),
                )
                .chain(how.tag_actions.iter().cloned())
                .map(|a| qualify(prefix, &a))
                .find(|a| r.action(a).is_some())
        });
        if let Some(action) = tag_action {
            for path in op.tags.iter().filter(|p| !hand.iter().any(|h| h == **p)) {
                derived.push(Dependent {
                    event: key.clone(),
                    when: vec![(*path).to_owned()],
                    actions: vec![action.clone()],
                    replace: false,
                    why: "tags given on create need the tagging permission".to_owned(),
                    passed_to: None,
                    word: None,
                    evidence: format!("SDK model: {key} member {path}; {}", how.tag_evidence),
                });
            }
        }
        if !derived.is_empty() {
            dependents.entry(key.clone()).or_default().extend(derived);
        }
    }
}

/// `prefix:Action`, unless `action` is already qualified.
#[must_use]
pub fn qualify(prefix: &str, action: &str) -> String {
    if action.contains(':') {
        action.to_owned()
    } else {
        format!("{prefix}:{action}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::reference::Reference;

    #[test]
    fn every_action_in_the_tables_exists_in_the_reference() {
        let rules = Rules::embedded().unwrap();
        let reference = Reference::embedded().unwrap();
        let missing: Vec<String> = rules
            .named_actions()
            .into_iter()
            .filter(|name| reference.action(name).is_none())
            .collect();
        assert!(missing.is_empty(), "not in the IAM reference: {missing:?}");
    }

    #[test]
    fn every_source_exception_names_a_known_service() {
        let rules = Rules::embedded().unwrap();
        let reference = Reference::embedded().unwrap();
        for prefix in rules.sources.values() {
            assert!(reference.service(prefix).is_some(), "{prefix}");
        }
    }

    #[test]
    fn rules_keys_are_qualified_event_keys() {
        let rules = Rules::embedded().unwrap();
        for key in rules
            .renames
            .keys()
            .chain(rules.dependents.keys())
            .chain(&rules.free)
        {
            assert!(key.split_once(':').is_some(), "{key}");
        }
    }

    #[test]
    fn sids_fall_back_to_pascal_case() {
        let rules = Rules::embedded().unwrap();
        assert_eq!(rules.sid("iam"), "IAM");
        assert_eq!(rules.sid("lambda"), "Lambda");
        assert_eq!(rules.sid("resource-groups"), "ResourceGroups");
        assert_eq!(rules.sid("logs"), "Logs");
    }
}
