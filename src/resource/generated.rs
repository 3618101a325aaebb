//! Identifiers AWS generates (`data/identifiers.toml`): which ARN template variables hold them
//! and what they look like, which calls create them, and how a generated value is generalised
//! so a policy provisions the next deploy rather than the one observed.

use std::collections::BTreeSet;

use foldhash::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;
use serde_json::Value;

const TABLE: &str = include_str!("../../data/identifiers.toml");

static PARSED: LazyLock<Result<Generated, GeneratedError>> =
    LazyLock::new(|| Generated::parse(TABLE));

/// The identifier table does not parse.
#[derive(Debug, Clone, thiserror::Error)]
#[error("identifiers.toml: {0}")]
pub struct GeneratedError(String);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    creators: Vec<String>,
    generated: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    service: String,
    variable: String,
    what: String,
    pattern: String,
    examples: Vec<String>,
    #[expect(dead_code, reason = "read by reviewers, kept in the data")]
    evidence: String,
}

/// One kind of generated identifier.
#[derive(Debug)]
pub struct Shape {
    pub service: String,
    pub variable: String,
    /// What it is, for the summary ("KMS key id").
    pub what: String,
    pattern: Regex,
    pub examples: Vec<String>,
}

impl Shape {
    /// Whether `value` has this shape.
    #[must_use]
    pub fn matches(&self, value: &str) -> bool {
        self.pattern.is_match(value)
    }

    /// Whether only a part of the value is generated (a suffix).
    fn partial(&self) -> bool {
        self.pattern
            .capture_names()
            .flatten()
            .any(|n| n == "generated")
    }

    /// The value with its generated part replaced: `*` for a wholly generated value, one `?`
    /// per character for a generated part. A name beside the generated part (the `name`
    /// group) under one of `prefixes` becomes that prefix and `*`, as any other name does:
    /// `psoxy-dev-SALT-a1B2c3` → `psoxy-*-??????` under `psoxy-`. `None` if the value is not
    /// of this shape.
    #[must_use]
    pub fn generalise(&self, value: &str, prefixes: &[String]) -> Option<String> {
        let captures = self.pattern.captures(value)?;
        let Some(part) = captures.name("generated") else {
            return Some("*".to_owned());
        };
        let mut out = String::with_capacity(value.len());
        let named = captures.name("name").and_then(|name| {
            super::under_prefix(name.as_str(), prefixes).map(|general| (name, general))
        });
        match named {
            Some((name, general)) => {
                out.push_str(value.get(..name.start())?);
                out.push_str(&general);
                out.push_str(value.get(name.end()..part.start())?);
            }
            None => out.push_str(value.get(..part.start())?),
        }
        out.extend(std::iter::repeat_n('?', part.as_str().chars().count()));
        out.push_str(value.get(part.end()..)?);
        Some(out)
    }
}

/// The table, indexed by service, then variable (looked up without allocating).
#[derive(Debug)]
pub struct Generated {
    creators: Vec<String>,
    shapes: Vec<Shape>,
    index: HashMap<String, HashMap<String, usize>>,
    /// The services with a generated identifier.
    services: BTreeSet<String>,
}

/// Generated identifiers a run saw created: (service prefix, value).
pub type Created = BTreeSet<(Box<str>, Box<str>)>;

impl Generated {
    /// The table embedded in this binary.
    ///
    /// # Errors
    /// Only if the embedded table is malformed, which the tests rule out.
    pub fn embedded() -> Result<&'static Self, GeneratedError> {
        PARSED.as_ref().map_err(Clone::clone)
    }

    fn parse(text: &str) -> Result<Self, GeneratedError> {
        let file: File = toml::from_str(text).map_err(|e| GeneratedError(e.to_string()))?;
        let mut shapes = Vec::new();
        let mut index: HashMap<String, HashMap<String, usize>> = HashMap::default();
        for entry in file.generated {
            let pattern = Regex::new(&entry.pattern).map_err(|e| {
                GeneratedError(format!("{}/{}: {e}", entry.service, entry.variable))
            })?;
            index
                .entry(entry.service.clone())
                .or_default()
                .insert(entry.variable.clone(), shapes.len());
            shapes.push(Shape {
                service: entry.service,
                variable: entry.variable,
                what: entry.what,
                pattern,
                examples: entry.examples,
            });
        }
        Ok(Self {
            creators: file.creators,
            services: shapes.iter().map(|s| s.service.clone()).collect(),
            shapes,
            index,
        })
    }

    /// The shape of a service's template variable, if AWS generates it.
    #[must_use]
    pub fn shape(&self, service: &str, variable: &str) -> Option<&Shape> {
        self.index
            .get(service)?
            .get(variable)
            .and_then(|&i| self.shapes.get(i))
    }

    /// Every shape, for tests and documentation.
    pub fn shapes(&self) -> impl Iterator<Item = &Shape> {
        self.shapes.iter()
    }

    /// The template variable a generated value of `service` is (`SecurityGroupId` for
    /// `sg-…`), if it has the shape of one.
    #[must_use]
    pub fn variable_of(&self, service: &str, value: &str) -> Option<&str> {
        self.shapes
            .iter()
            .find(|shape| shape.service == service && shape.matches(value))
            .map(|shape| shape.variable.as_str())
    }

    /// Whether any identifier of `service` is generated.
    #[must_use]
    pub fn has_service(&self, service: &str) -> bool {
        self.services.contains(service)
    }

    /// Whether an event of this name creates resources (its response names them).
    #[must_use]
    pub fn creates(&self, event_name: &str) -> bool {
        self.creators
            .iter()
            .any(|verb| event_name.starts_with(verb.as_str()))
    }

    /// Wholly generated identifiers of `service` among the strings of a response (values
    /// that are not ARNs); ARNs are handed to `arn` to be fitted by the caller.
    pub fn scan_response<'v>(
        &self,
        service: &str,
        response: &'v Value,
        created: &mut Created,
        arns: &mut Vec<&'v str>,
    ) {
        match response {
            Value::String(s) if s.starts_with("arn:") => arns.push(s),
            Value::String(s) => {
                if let Some(shape) = self
                    .shapes
                    .iter()
                    .find(|shape| shape.service == service && !shape.partial() && shape.matches(s))
                {
                    created.insert((shape.service.as_str().into(), s.as_str().into()));
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.scan_response(service, item, created, arns);
                }
            }
            Value::Object(map) => {
                for item in map.values() {
                    self.scan_response(service, item, created, arns);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::Reference;
    use crate::resource::arn::Template;
    use test_case::test_case;

    #[test]
    fn every_shape_names_a_variable_of_its_services_templates() {
        let reference = Reference::embedded().unwrap();
        for shape in Generated::embedded().unwrap().shapes() {
            let service = reference
                .service(&shape.service)
                .unwrap_or_else(|| panic!("{} is not in the reference", shape.service));
            let found = service.resource_types.values().any(|templates| {
                templates
                    .split(", ")
                    .any(|t| Template::parse(t).variables().any(|v| v == shape.variable))
            });
            assert!(
                found,
                "{}/{} is in no ARN template",
                shape.service, shape.variable
            );
        }
    }

    #[test]
    fn every_example_has_its_shape() {
        for shape in Generated::embedded().unwrap().shapes() {
            assert!(!shape.examples.is_empty(), "{}", shape.variable);
            for example in &shape.examples {
                assert!(shape.matches(example), "{}: {example}", shape.variable);
            }
        }
    }

    #[test_case("kms", "KeyId", "0f4d6a2e-5b7c-4e18-9a3d-2c61b8e7f905", Some("*") ; "kms key id")]
    #[test_case("kms", "KeyId", "mrk-0f4d6a2e5b7c4e189a3d2c61b8e7f905", Some("*") ; "multi region key")]
    #[test_case("kms", "KeyId", "psoxy-key", None ; "not a key id")]
    #[test_case("secretsmanager", "SecretId", "psoxy-dev-SALT-a1B2c3", Some("psoxy-dev-SALT-??????") ; "secret suffix")]
    #[test_case("secretsmanager", "SecretId", "plain", None ; "secret without suffix")]
    #[test_case("ec2", "SecurityGroupId", "sg-0a1b2c3d4e5f67890", Some("*") ; "security group")]
    #[test_case("ec2", "SecurityGroupId", "sg-xyz", None ; "not a security group id")]
    #[test_case("ec2", "VpcId", "vpc-1a2b3c4d", Some("*") ; "short vpc id")]
    #[test_case("apigateway", "ApiId", "a1b2c3d4e5", Some("*") ; "api id")]
    #[test_case("lambda", "Version", "12", Some("*") ; "lambda version")]
    #[test_case("ecs", "TaskDefinitionRevisionNumber", "3", Some("*") ; "task definition revision")]
    #[test_case("cloudfront", "DistributionId", "EDFDVBD6EXAMPLE", Some("*") ; "distribution")]
    #[test_case("cognito-idp", "UserPoolId", "eu-west-1_aBcDeFgHi", Some("*") ; "user pool")]
    fn generated_shapes(service: &str, variable: &str, value: &str, expected: Option<&str>) {
        let table = Generated::embedded().unwrap();
        let shape = table.shape(service, variable).unwrap();
        assert_eq!(shape.generalise(value, &[]).as_deref(), expected);
    }

    #[test_case("secretsmanager", "SecretId", "psoxy-dev-SALT-Ab12Cd", Some("psoxy-*-??????") ; "secret under the prefix")]
    #[test_case("secretsmanager", "SecretId", "psoxy-prod-SALT-x6MEOL", Some("psoxy-*-??????") ; "another environment's secret")]
    #[test_case("secretsmanager", "SecretId", "billing-key-a1B2c3", Some("billing-key-??????") ; "secret outside the prefix")]
    #[test_case("secretsmanager", "SecretId", "team/psoxy-dev-a1B2c3", Some("team/psoxy-*-??????") ; "path-like secret name")]
    #[test_case("sns", "TopicName", "psoxy-alerts:5c7e9a1b-3d4f-4a6b-8c9d-0e1f2a3b4c5d", Some("psoxy-*:????????????????????????????????????") ; "subscription of a topic under the prefix")]
    #[test_case("kms", "KeyId", "0f4d6a2e-5b7c-4e18-9a3d-2c61b8e7f905", Some("*") ; "a wholly generated id has no name")]
    fn names_beside_a_generated_part_keep_their_prefix(
        service: &str,
        variable: &str,
        value: &str,
        expected: Option<&str>,
    ) {
        let table = Generated::embedded().unwrap();
        let shape = table.shape(service, variable).unwrap();
        let prefixes = ["psoxy-".to_owned()];
        assert_eq!(shape.generalise(value, &prefixes).as_deref(), expected);
    }

    #[test]
    fn every_partial_shape_marks_the_name_beside_its_generated_part() {
        for shape in Generated::embedded().unwrap().shapes() {
            if shape.partial() {
                let names: Vec<&str> = shape.pattern.capture_names().flatten().collect();
                assert!(
                    names.contains(&"name"),
                    "{}/{}",
                    shape.service,
                    shape.variable
                );
            }
        }
    }

    #[test]
    fn responses_of_creations_name_what_was_created() {
        let table = Generated::embedded().unwrap();
        assert!(table.creates("CreateSecurityGroup"));
        assert!(table.creates("RunInstances"));
        assert!(!table.creates("DescribeKey"));
        let response = serde_json::json!({"keyMetadata": {"keyId": "0f4d6a2e-5b7c-4e18-9a3d-2c61b8e7f905",
            "arn": "arn:aws:kms:eu-west-1:1:key/0f4d6a2e-5b7c-4e18-9a3d-2c61b8e7f905", "description": "d"}});
        let (mut created, mut arns) = (Created::new(), Vec::new());
        table.scan_response("kms", &response, &mut created, &mut arns);
        assert_eq!(
            created.into_iter().collect::<Vec<_>>(),
            [("kms".into(), "0f4d6a2e-5b7c-4e18-9a3d-2c61b8e7f905".into())]
        );
        assert_eq!(arns.len(), 1);
    }
}

#[cfg(test)]
mod properties;
