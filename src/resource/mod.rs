//! Resources: the concrete ARNs an event names, typed by the reference's resource types
//! (`data/resources.toml` says where to look), and their generalisation for a policy —
//! region to `*`, account kept or `*`, names under a `--name-prefix` to `prefix*`.

pub mod arn;
pub mod collapse;
pub mod generated;
pub mod lifecycle;
pub mod path;
pub mod sketch;
pub mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use serde::Deserialize;

use crate::fields::Parts;
use crate::iam::Reference;
use crate::parse::Event;
use arn::{Template, Vars};
use generated::{Created, Generated};

const TABLE: &str = include_str!("../../data/resources.toml");

static PARSED: LazyLock<Result<Table, TableError>> =
    LazyLock::new(|| toml::from_str(TABLE).map_err(|e| TableError(format!("resources.toml: {e}"))));

/// Every service's resource types with their parsed ARN templates, built once.
static TEMPLATES: LazyLock<Templates> = LazyLock::new(|| {
    Reference::embedded().map_or_else(
        |_| Templates::default(),
        |reference| {
            reference
                .services()
                .map(|service| {
                    // A type may have several templates, joined with ", " in the reference
                    // (API Gateway's `Stage` of HTTP and of REST APIs).
                    let kinds = service
                        .resource_types
                        .iter()
                        .flat_map(|(kind, templates)| {
                            templates
                                .split(", ")
                                .map(|template| (kind.clone(), Template::parse(template)))
                        })
                        .collect();
                    (service.prefix.clone(), kinds)
                })
                .collect()
        },
    )
});

/// Service prefix → (resource type, template).
type Templates = foldhash::HashMap<Box<str>, Vec<(Box<str>, Template)>>;

/// The resource table does not parse.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TableError(String);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    arns: ArnPaths,
    variables: BTreeMap<String, BTreeMap<String, Vec<Source>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArnPaths {
    paths: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Source {
    Path(String),
    Rule(Rule),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    path: String,
    #[serde(default)]
    strip_prefix: Option<String>,
    #[serde(default)]
    skip_prefix: Option<String>,
    #[serde(default)]
    only_prefix: bool,
    #[serde(default)]
    last_segment: bool,
    #[serde(default)]
    when: Option<[String; 2]>,
    /// The keys of the object at `path`, not its values (DynamoDB's `requestItems`, a map
    /// of table name to requests).
    #[serde(default)]
    keys: bool,
}

impl Source {
    fn values(&self, parts: &Parts) -> Vec<String> {
        let rule = match self {
            Self::Path(path) => {
                return parts
                    .values(path)
                    .into_iter()
                    .filter(|v| !v.starts_with("arn:") && &**v != "…")
                    .map(String::from)
                    .collect();
            }
            Self::Rule(rule) => rule,
        };
        if let Some([path, wanted]) = &rule.when
            && !parts.values(path).iter().any(|v| &**v == wanted)
        {
            return Vec::new();
        }
        if rule.keys {
            return parts
                .keys(&rule.path)
                .into_iter()
                .filter(|k| !k.starts_with("arn:"))
                .map(String::from)
                .collect();
        }
        parts
            .values(&rule.path)
            .into_iter()
            .filter_map(|value| {
                let mut value: &str = &value;
                if rule
                    .skip_prefix
                    .as_deref()
                    .is_some_and(|p| value.starts_with(p))
                {
                    return None;
                }
                if let Some(prefix) = &rule.strip_prefix {
                    match value.strip_prefix(prefix.as_str()) {
                        Some(rest) => value = rest,
                        None if rule.only_prefix => return None,
                        None => {}
                    }
                }
                if rule.last_segment {
                    value = value.rsplit('/').next().unwrap_or(value);
                }
                (!value.is_empty() && !value.starts_with("arn:") && value != "…")
                    .then(|| value.to_owned())
            })
            .collect()
    }
}

/// A concrete ARN and the reference resource type it instantiates.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypedArn {
    pub service: Box<str>,
    pub kind: Box<str>,
    pub arn: Box<str>,
}

/// Finds the resources of events.
#[derive(Debug, Clone, Copy)]
pub struct Locator {
    reference: &'static Reference,
    table: &'static Table,
    templates: &'static Templates,
}

/// How far to generalise resources in the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Mode {
    /// Concrete ARNs generalised: region `*`, name prefixes `prefix*`.
    #[default]
    Scoped,
    /// The ARNs as observed.
    Exact,
    /// `*` everywhere.
    Wildcard,
}

/// The user's generalisation choices, and what the run created.
#[derive(Debug, Clone, Default)]
pub struct Scoping {
    pub mode: Mode,
    pub keep_region: bool,
    pub any_account: bool,
    pub name_prefixes: Vec<String>,
    /// Any account, any region, and every generated identifier generalised, created by the
    /// run or not: a policy for another account.
    pub portable: bool,
    /// Generated identifiers the run created (filled from the scan, not by the user).
    pub created: std::sync::Arc<Created>,
    /// The tags and aliases of what the run created, and when calls named it (from the
    /// scan): what conditions may stand in for a generated identifier.
    pub lifecycle: std::sync::Arc<lifecycle::Lifecycle>,
    /// When many resources of one type collapse to patterns (`--max-resources`).
    pub collapsing: collapse::Collapsing,
}

/// Why a position of a resource became a wildcard.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Widened {
    /// The generalised resource.
    pub resource: String,
    /// "generated by AWS: KMS key id (created by this run)".
    pub why: String,
}

/// Variables the event itself supplies to every template.
const CONTEXT: [&str; 3] = ["Partition", "Region", "Account"];

impl Locator {
    /// The locator over the embedded reference and table.
    ///
    /// # Errors
    /// Only if the embedded table is malformed, which the tests rule out.
    pub fn new(reference: &'static Reference) -> Result<Self, TableError> {
        let table = PARSED.as_ref().map_err(Clone::clone)?;
        Ok(Self {
            reference,
            table,
            templates: &TEMPLATES,
        })
    }

    /// Every resource an event of service `prefix` names, typed: complete ARNs fitted to
    /// their templates, and ARNs built for the resource `kinds` its actions take.
    #[must_use]
    pub fn arns(
        &self,
        prefix: &str,
        kinds: &BTreeSet<&str>,
        event: &Event<'_>,
        parts: &Parts,
    ) -> Vec<TypedArn> {
        let mut found = BTreeSet::new();
        let mut values = Vec::new();
        for path in &self.table.arns.paths {
            parts.values_into(path, &mut values);
        }
        let mut full: Vec<String> = values
            .into_iter()
            .filter(|v| v.starts_with("arn:"))
            .map(String::from)
            .collect();
        let mut vars: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        if let Some(table) = self.table.variables.get(prefix) {
            for (name, sources) in table {
                let values: Vec<String> = sources.iter().flat_map(|s| s.values(parts)).collect();
                if !values.is_empty() {
                    vars.insert(name, values);
                }
            }
        }
        let paths = path::Paths::embedded();
        if paths.covers(prefix) {
            full.extend(paths.arns(prefix, &event.name, partition(event), &event.region, parts));
        }
        full.sort();
        full.dedup();
        for arn in &full {
            if let Some(typed) = self.fit(arn) {
                found.insert(typed);
            }
        }
        if !vars.is_empty() {
            self.build(prefix, kinds, event, &vars, &mut found);
        }
        found.into_iter().collect()
    }

    /// Fits a complete ARN to the most specific template of its service.
    #[must_use]
    pub fn fit(&self, arn: &str) -> Option<TypedArn> {
        let service = self.reference.service(arn::service(arn)?)?;
        self.templates
            .get(&service.prefix)?
            .iter()
            .filter(|(_, template)| template.matches(arn))
            .max_by_key(|(_, template)| template.specificity())
            .map(|(kind, _)| TypedArn {
                service: service.prefix.clone(),
                kind: kind.clone(),
                arn: arn.into(),
            })
    }

    /// The template of `kind` that `arn` instantiates (a type may have several).
    fn template(&self, service: &str, kind: &str, arn: &str) -> Option<&'static Template> {
        self.templates
            .get(service)?
            .iter()
            .filter(|(k, _)| &**k == kind)
            .map(|(_, t)| t)
            .find(|t| t.matches(arn))
    }

    /// The resource type's wildcard (its ARN template with every variable `*`), the last
    /// step of a collapse; `*` for a type the reference has no template for.
    #[must_use]
    pub fn starred(&self, service: &str, kind: &str) -> String {
        self.templates
            .get(service)
            .and_then(|templates| templates.iter().find(|(k, _)| &**k == kind))
            .map_or_else(|| "*".to_owned(), |(_, template)| template.starred())
    }

    /// Generated identifiers named by a creating call's response, for `Scoping::created`.
    pub fn created(
        &self,
        prefix: &str,
        event_name: &str,
        response: &serde_json::Value,
        out: &mut Created,
    ) {
        let Ok(table) = Generated::embedded() else {
            return;
        };
        if !table.creates(event_name) {
            return;
        }
        let mut arns = Vec::new();
        table.scan_response(prefix, response, out, &mut arns);
        for arn in arns {
            let Some(typed) = self.fit(arn) else {
                continue;
            };
            let Some(vars) = self
                .template(&typed.service, &typed.kind, arn)
                .and_then(|t| t.fit(arn))
            else {
                continue;
            };
            for (name, value) in vars {
                if table
                    .shape(&typed.service, &name)
                    .is_some_and(|shape| shape.matches(&value))
                {
                    out.insert((typed.service.clone(), value.into()));
                }
            }
        }
    }

    /// Renders every template of the service whose variables the event supplies.
    fn build(
        &self,
        prefix: &str,
        kinds: &BTreeSet<&str>,
        event: &Event<'_>,
        vars: &BTreeMap<&str, Vec<String>>,
        found: &mut BTreeSet<TypedArn>,
    ) {
        let Some(service) = self.reference.service(prefix) else {
            return;
        };
        let partition = partition(event);
        let account = event
            .recipient_account
            .as_deref()
            .or(event.identity.account.as_deref())
            .unwrap_or_default();
        for (kind, template) in self.templates.get(&service.prefix).into_iter().flatten() {
            if !kinds.contains(&**kind) {
                continue;
            }
            let needed: Vec<&str> = template
                .variables()
                .filter(|v| !CONTEXT.contains(v))
                .collect();
            if needed.is_empty() || !needed.iter().all(|v| vars.contains_key(v)) {
                continue;
            }
            let mut combos = vec![Vars::from([
                ("Partition".to_owned(), partition.to_owned()),
                ("Region".to_owned(), event.region.to_string()),
                ("Account".to_owned(), account.to_owned()),
            ])];
            for name in needed {
                let mut next = Vec::new();
                for combo in &combos {
                    for value in vars.get(name).into_iter().flatten().take(16) {
                        let mut with = combo.clone();
                        with.insert(name.to_owned(), value.clone());
                        next.push(with);
                    }
                }
                combos = next;
            }
            for combo in combos.iter().take(64) {
                if let Some(arn) = template.render(combo) {
                    found.insert(TypedArn {
                        service: service.prefix.clone(),
                        kind: kind.clone(),
                        arn: arn.into(),
                    });
                }
            }
        }
    }

    /// The generated identifier that names the resource itself: the last variable of its
    /// template, when AWS generates it (`key/${KeyId}`, not `/apis/${ApiId}/stages`).
    #[must_use]
    pub fn own_id(&self, typed: &TypedArn) -> Option<lifecycle::Id> {
        let template = self.template(&typed.service, &typed.kind, &typed.arn)?;
        let last = template.variables().last()?;
        if !template.ends_with_variable() {
            return None;
        }
        // Most last variables are names the caller chose: asked first, before the fit.
        let shape = Generated::embedded().ok()?.shape(&typed.service, last)?;
        let vars = template.fit(&typed.arn)?;
        let value = vars.get(last).filter(|value| shape.matches(value))?;
        Some((typed.service.clone(), value.as_str().into()))
    }

    /// The policy resource for a concrete ARN under the user's scoping choices.
    #[must_use]
    pub fn generalise(&self, typed: &TypedArn, scoping: &Scoping) -> String {
        self.widen(typed, scoping).0
    }

    /// The policy resource for a concrete ARN, and why any generated identifier in it was
    /// replaced by a wildcard.
    #[must_use]
    pub fn widen(&self, typed: &TypedArn, scoping: &Scoping) -> (String, Vec<String>) {
        match scoping.mode {
            Mode::Wildcard => return ("*".to_owned(), Vec::new()),
            Mode::Exact => return (typed.arn.to_string(), Vec::new()),
            Mode::Scoped => {}
        }
        let Some(template) = self.template(&typed.service, &typed.kind, &typed.arn) else {
            return (typed.arn.to_string(), Vec::new());
        };
        let Some(mut vars) = template.fit(&typed.arn) else {
            return (typed.arn.to_string(), Vec::new());
        };
        let generated = Generated::embedded().ok();
        let mut why = Vec::new();
        let mut generalised_bucket = false;
        for (name, value) in &mut vars {
            match name.as_str() {
                "Partition" | "ObjectName" => {}
                "Region" => {
                    if (!scoping.keep_region || scoping.portable) && !value.is_empty() {
                        "*".clone_into(value);
                    }
                }
                "Account" => {
                    if (scoping.any_account || scoping.portable) && !value.is_empty() {
                        "*".clone_into(value);
                    }
                }
                _ => {
                    let shape = generated
                        .and_then(|g| g.shape(&typed.service, name))
                        .filter(|shape| shape.matches(value));
                    if let Some(shape) = shape {
                        let created = scoping
                            .created
                            .contains(&(typed.service.clone(), value.as_str().into()));
                        if (created || scoping.portable)
                            && let Some(general) = shape.generalise(value, &scoping.name_prefixes)
                        {
                            why.push(format!(
                                "generated by AWS: {} ({})",
                                shape.what,
                                if created {
                                    "created by this run"
                                } else {
                                    "--portable"
                                }
                            ));
                            *value = general;
                            continue;
                        }
                    }
                    // A value with a generated part already replaced (`name-??????`) is as
                    // general as it gets: generalising is idempotent.
                    if value.contains('?') {
                        continue;
                    }
                    if let Some(general) = under_prefix(value, &scoping.name_prefixes) {
                        generalised_bucket |= name == "BucketName";
                        *value = general;
                    }
                }
            }
        }
        if generalised_bucket && let Some(object) = vars.get_mut("ObjectName") {
            "*".clone_into(object);
        }
        let resource = template
            .render(&vars)
            .unwrap_or_else(|| typed.arn.to_string());
        (resource, why)
    }
}

/// The partition of the caller's ARN (`aws` when it names none).
fn partition<'e>(event: &'e Event<'_>) -> &'e str {
    event
        .identity
        .arn
        .as_deref()
        .and_then(|arn| arn.split(':').nth(1))
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
}

/// `psoxy-gcal` → `psoxy-*` for prefix `psoxy-`; path-like names are matched on their last
/// segment (`/aws/lambda/psoxy-gcal` → `/aws/lambda/psoxy-*`). The longest prefix wins.
pub fn under_prefix(value: &str, prefixes: &[String]) -> Option<String> {
    let (head, name) = match value.rfind('/') {
        Some(at) if !prefixes.iter().any(|p| value.starts_with(p.as_str())) => {
            value.split_at(at + 1)
        }
        _ => ("", value),
    };
    prefixes
        .iter()
        .filter(|p| !p.is_empty() && name.starts_with(p.as_str()))
        .max_by_key(|p| p.len())
        .map(|p| format!("{head}{p}*"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::RawRecord;
    use test_case::test_case;

    fn locator() -> Locator {
        Locator::new(Reference::embedded().unwrap()).unwrap()
    }

    /// The typed ARNs of one event given as (source prefix, request, response, resources).
    fn arns(prefix: &str, request: &str, response: &str) -> Vec<String> {
        let kinds: BTreeSet<&str> = [
            "function",
            "bucket",
            "object",
            "queue",
            "parameter",
            "alias",
            "key",
            "role",
            "policy",
            "log-group",
            "table",
        ]
        .into();
        let json = format!(
            r#"{{"eventTime":"t","eventSource":"x","eventName":"y","awsRegion":"eu-west-1","recipientAccountId":"111122223333",
            "userIdentity":{{"arn":"arn:aws:sts::111122223333:assumed-role/r/s"}},"requestParameters":{request},"responseElements":{response}}}"#
        );
        let event = Event::try_from(serde_json::from_str::<RawRecord>(&json).unwrap()).unwrap();
        let parts = Parts {
            request: event
                .request
                .and_then(|r| serde_json::from_str(r.get()).ok()),
            response: event
                .response
                .and_then(|r| serde_json::from_str(r.get()).ok()),
            resources: None,
        };
        locator()
            .arns(prefix, &kinds, &event, &parts)
            .into_iter()
            .map(|t| format!("{}/{} {}", t.service, t.kind, t.arn))
            .collect()
    }

    #[test_case("lambda", r#"{"functionName":"f","role":"arn:aws:iam::111122223333:role/exec"}"#, "null",
        &["iam/role arn:aws:iam::111122223333:role/exec", "lambda/function arn:aws:lambda:eu-west-1:111122223333:function:f"] ; "lambda function and passed role")]
    #[test_case("lambda", r#"{"functionName":"arn:aws:lambda:eu-west-1:111122223333:function:f"}"#, "null",
        &["lambda/function arn:aws:lambda:eu-west-1:111122223333:function:f"] ; "lambda function given as arn")]
    #[test_case("s3", r#"{"bucketName":"b","key":"a/b.txt"}"#, "null",
        &["s3/bucket arn:aws:s3:::b", "s3/object arn:aws:s3:::b/a/b.txt"] ; "s3 bucket and object")]
    #[test_case("sqs", r#"{"queueUrl":"https://sqs.eu-west-1.amazonaws.com/111122223333/q"}"#, "null",
        &["sqs/queue arn:aws:sqs:eu-west-1:111122223333:q"] ; "sqs queue url")]
    #[test_case("ssm", r#"{"name":"/app/secret"}"#, "null",
        &["ssm/parameter arn:aws:ssm:eu-west-1:111122223333:parameter/app/secret"] ; "ssm leading slash")]
    #[test_case("ssm", r#"{"resourceType":"Parameter","resourceId":"P"}"#, "null",
        &["ssm/parameter arn:aws:ssm:eu-west-1:111122223333:parameter/P"] ; "ssm tags of a parameter")]
    #[test_case("ssm", r#"{"resourceType":"Document","resourceId":"P"}"#, "null", &[] ; "ssm tags of a document")]
    #[test_case("kms", r#"{"aliasName":"alias/k","targetKeyId":"1234"}"#, "null",
        &["kms/alias arn:aws:kms:eu-west-1:111122223333:alias/k", "kms/key arn:aws:kms:eu-west-1:111122223333:key/1234"] ; "kms alias and key")]
    #[test_case("kms", r#"{"keyId":"alias/k"}"#, "null", &["kms/alias arn:aws:kms:eu-west-1:111122223333:alias/k"] ; "kms key by alias")]
    #[test_case("iam", r#"{"roleName":"r","policyArn":"arn:aws:iam::111122223333:policy/p"}"#, "null",
        &["iam/policy arn:aws:iam::111122223333:policy/p", "iam/role arn:aws:iam::111122223333:role/r"] ; "iam role and policy")]
    #[test_case("logs", r#"{"logGroupName":"/aws/lambda/f"}"#, "null",
        &["logs/log-group arn:aws:logs:eu-west-1:111122223333:log-group:/aws/lambda/f"] ; "logs group")]
    #[test_case("sqs", r#"{"queueName":"q"}"#, r#"{"queueUrl":"https://sqs.eu-west-1.amazonaws.com/111122223333/q"}"#,
        &["sqs/queue arn:aws:sqs:eu-west-1:111122223333:q"] ; "sqs created")]
    #[test_case("dynamodb", r#"{"requestItems":{"Music":[{"putRequest":{}}],"Albums":[{"deleteRequest":{}}]}}"#, "null",
        &["dynamodb/table arn:aws:dynamodb:eu-west-1:111122223333:table/Albums", "dynamodb/table arn:aws:dynamodb:eu-west-1:111122223333:table/Music"] ; "dynamodb batch tables")]
    #[test_case("dynamodb", r#"{"requestItems":[{"operation":"Put","tableName":"Music"},{"operation":"Delete","TableName":"Albums"}]}"#, "null",
        &["dynamodb/table arn:aws:dynamodb:eu-west-1:111122223333:table/Albums", "dynamodb/table arn:aws:dynamodb:eu-west-1:111122223333:table/Music"] ; "dynamodb transaction items as cloudtrail writes them")]
    fn resources_of_events(prefix: &str, request: &str, response: &str, expected: &[&str]) {
        assert_eq!(arns(prefix, request, response), expected);
    }

    fn scoped(arn: &str, prefixes: &[&str], keep_region: bool, any_account: bool) -> String {
        let l = locator();
        let typed = l.fit(arn).unwrap();
        l.generalise(
            &typed,
            &Scoping {
                mode: Mode::Scoped,
                keep_region,
                any_account,
                name_prefixes: prefixes.iter().map(|p| (*p).to_owned()).collect(),
                ..Scoping::default()
            },
        )
    }

    #[test]
    fn generated_identifiers_are_generalised_when_created_or_portable() {
        let l = locator();
        let key = "arn:aws:kms:eu-west-1:111122223333:key/0f4d6a2e-5b7c-4e18-9a3d-2c61b8e7f905";
        let sg = "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0a1b2c3d4e5f67890";
        let vpc = "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-0123456789abcdef0";
        let secret = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:app-SALT-a1B2c3";
        let created: generated::Created = [
            ("kms".into(), "0f4d6a2e-5b7c-4e18-9a3d-2c61b8e7f905".into()),
            ("ec2".into(), "sg-0a1b2c3d4e5f67890".into()),
            ("secretsmanager".into(), "app-SALT-a1B2c3".into()),
        ]
        .into();
        let scoping = Scoping {
            created: std::sync::Arc::new(created),
            ..Scoping::default()
        };
        let general = |arn: &str, scoping: &Scoping| l.widen(&l.fit(arn).unwrap(), scoping);
        assert_eq!(general(key, &scoping).0, "arn:aws:kms:*:111122223333:key/*");
        assert_eq!(
            general(key, &scoping).1,
            ["generated by AWS: KMS key id (created by this run)"]
        );
        assert_eq!(
            general(sg, &scoping).0,
            "arn:aws:ec2:*:111122223333:security-group/*"
        );
        assert_eq!(
            general(secret, &scoping).0,
            "arn:aws:secretsmanager:*:111122223333:secret:app-SALT-??????"
        );
        // An existing VPC the run did not create stays pinned, unless the policy is portable.
        assert_eq!(
            general(vpc, &scoping).0,
            "arn:aws:ec2:*:111122223333:vpc/vpc-0123456789abcdef0"
        );
        let portable = Scoping {
            portable: true,
            ..Scoping::default()
        };
        assert_eq!(general(vpc, &portable).0, "arn:aws:ec2:*:*:vpc/*");
        assert_eq!(general(key, &portable).0, "arn:aws:kms:*:*:key/*");
        // Idempotent: a generalised resource generalises to itself.
        for arn in [key, sg, secret] {
            let once = general(arn, &scoping).0;
            if let Some(typed) = l.fit(&once) {
                assert_eq!(general(&typed.arn, &scoping).0, once);
            }
        }
    }

    #[test_case(
        "arn:aws:lambda:eu-west-1:1:function:psoxy-gcal",
        "arn:aws:lambda:*:1:function:psoxy-*"
    )]
    #[test_case("arn:aws:iam::1:role/psoxy-gcal-exec", "arn:aws:iam::1:role/psoxy-*")]
    #[test_case(
        "arn:aws:iam::1:role/team/psoxy-gcal-exec",
        "arn:aws:iam::1:role/team/psoxy-*"
    )]
    #[test_case(
        "arn:aws:ssm:eu-west-1:1:parameter/PSOXY_GCAL",
        "arn:aws:ssm:*:1:parameter/PSOXY_*"
    )]
    #[test_case("arn:aws:s3:::psoxy-import", "arn:aws:s3:::psoxy-*")]
    #[test_case("arn:aws:s3:::psoxy-import/a/b.csv", "arn:aws:s3:::psoxy-*/*")]
    #[test_case("arn:aws:s3:::other/a.csv", "arn:aws:s3:::other/a.csv")]
    #[test_case(
        "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/psoxy-gcal",
        "arn:aws:logs:*:1:log-group:/aws/lambda/psoxy-*"
    )]
    #[test_case("arn:aws:sqs:eu-west-1:1:other", "arn:aws:sqs:*:1:other")]
    fn name_prefixes_generalise_every_arn_shape(arn: &str, expected: &str) {
        assert_eq!(scoped(arn, &["psoxy-", "PSOXY_"], false, false), expected);
    }

    #[test]
    fn region_and_account_choices() {
        let arn = "arn:aws:lambda:eu-west-1:1:function:f";
        assert_eq!(scoped(arn, &[], true, false), arn);
        assert_eq!(
            scoped(arn, &[], false, true),
            "arn:aws:lambda:*:*:function:f"
        );
        let l = locator();
        let typed = l.fit(arn).unwrap();
        assert_eq!(
            l.generalise(
                &typed,
                &Scoping {
                    mode: Mode::Wildcard,
                    ..Scoping::default()
                }
            ),
            "*"
        );
        assert_eq!(
            l.generalise(
                &typed,
                &Scoping {
                    mode: Mode::Exact,
                    ..Scoping::default()
                }
            ),
            arn
        );
    }

    #[test]
    fn generalisation_is_idempotent() {
        let l = locator();
        let scoping = Scoping {
            name_prefixes: vec!["psoxy-".into()],
            ..Scoping::default()
        };
        for arn in [
            "arn:aws:lambda:eu-west-1:1:function:psoxy-gcal",
            "arn:aws:s3:::psoxy-b/k",
            "arn:aws:iam::1:role/x",
        ] {
            let once = l.generalise(&l.fit(arn).unwrap(), &scoping);
            let twice = l.generalise(&l.fit(&once).unwrap(), &scoping);
            assert_eq!(once, twice);
        }
    }
}
