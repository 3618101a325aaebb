//! The hand-kept mapping tables (`data/mapping.toml`, `data/services.toml`): event sources
//! whose IAM prefix differs, renamed events, name patterns, calls that need no permission,
//! and the dependent actions CloudTrail never shows.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

use serde::Deserialize;

const MAPPING: &str = include_str!("../../data/mapping.toml");
const SERVICES: &str = include_str!("../../data/services.toml");

static PARSED: LazyLock<Result<Rules, RulesError>> =
    LazyLock::new(|| Rules::parse(MAPPING, SERVICES));

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
    prefixes: Vec<PrefixRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Free {
    events: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    sources: BTreeMap<String, String>,
    renames: BTreeMap<String, Vec<String>>,
    patterns: Vec<Pattern>,
    free: Free,
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
struct Errors {
    denial: Vec<String>,
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
    errors: Errors,
    risky: Risky,
}

/// The tables, indexed for lookup.
#[derive(Debug)]
pub struct Rules {
    sources: HashMap<String, String>,
    renames: HashMap<String, Vec<String>>,
    patterns: HashMap<String, Vec<PrefixRule>>,
    free: HashSet<String>,
    dependents: HashMap<String, Vec<Dependent>>,
    sids: HashMap<String, String>,
    global_sources: HashSet<String>,
    pub global_region: String,
    /// Lower-cased well-known privilege-escalation actions.
    risky: HashSet<String>,
    /// Parts of error codes that mean the call was refused.
    denials: Vec<String>,
    /// The path of service-linked roles in their ARNs.
    service_linked_path: String,
}

impl Rules {
    /// The tables embedded in this binary.
    ///
    /// # Errors
    /// Only if an embedded table is malformed, which the tests rule out.
    pub fn embedded() -> Result<&'static Self, RulesError> {
        PARSED.as_ref().map_err(Clone::clone)
    }

    fn parse(mapping: &str, services: &str) -> Result<Self, RulesError> {
        let mapping: MappingFile =
            toml::from_str(mapping).map_err(|e| RulesError(format!("mapping.toml: {e}")))?;
        let services: ServicesFile =
            toml::from_str(services).map_err(|e| RulesError(format!("services.toml: {e}")))?;
        let mut dependents: HashMap<String, Vec<Dependent>> = HashMap::new();
        for dependent in mapping.dependents {
            dependents
                .entry(dependent.event.clone())
                .or_default()
                .push(dependent);
        }
        Ok(Self {
            sources: mapping.sources.into_iter().collect(),
            renames: mapping.renames.into_iter().collect(),
            patterns: mapping
                .patterns
                .into_iter()
                .map(|p| (p.service, p.prefixes))
                .collect(),
            free: mapping.free.events.into_iter().collect(),
            dependents,
            sids: services.sids.into_iter().collect(),
            global_sources: services.global.sources.into_iter().collect(),
            global_region: services.global.region,
            risky: services
                .risky
                .actions
                .iter()
                .map(|a| a.to_ascii_lowercase())
                .collect(),
            denials: services.errors.denial,
            service_linked_path: services.service_linked.role_path,
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

    /// Whether the call needs no IAM permission at all.
    #[must_use]
    pub fn is_free(&self, key: &str) -> bool {
        self.free.contains(key)
    }

    /// The conditional rules of one event key.
    #[must_use]
    pub fn dependents(&self, key: &str) -> &[Dependent] {
        self.dependents.get(key).map_or(&[], Vec::as_slice)
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

    /// Whether an error code says the call was refused (not allowed and failed).
    #[must_use]
    pub fn is_denial(&self, code: &str) -> bool {
        self.denials.iter().any(|word| code.contains(word.as_str()))
    }

    /// Whether an action is a well-known privilege-escalation path.
    #[must_use]
    pub fn is_risky(&self, action: &str) -> bool {
        self.risky.contains(&action.to_ascii_lowercase())
    }

    /// The statement id for a service prefix.
    #[must_use]
    pub fn sid(&self, prefix: &str) -> String {
        if let Some(sid) = self.sids.get(prefix) {
            return sid.clone();
        }
        pascal(prefix)
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

/// `resource-groups` → `ResourceGroups`, `code signing config` → `CodeSigningConfig`: the
/// form Sids take (letters and digits only).
#[must_use]
pub fn pascal(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
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
