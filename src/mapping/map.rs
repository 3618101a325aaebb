//! Event → IAM actions: the event source gives the service prefix, the event name is
//! normalised (API versions stripped) and looked up in the reference and the tables, and
//! the request parameters decide the dependent actions CloudTrail never shows.

use std::collections::BTreeSet;

use super::rules::{Dependent, PASS_ROLE, Rules, qualify};
use crate::fields::Parts;
use crate::iam::Reference;
use crate::parse::Event;
use crate::resource::{Locator, TypedArn};

/// A request field a mapping rule looks at, with the values found there.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fact {
    pub path: Box<str>,
    /// String values at the path; `…` stands for a non-empty object or array.
    pub values: Vec<Box<str>>,
}

/// What the map stage needs of a call. Identical calls aggregate into one `Call` (the scan
/// keys them without `arns` and keeps the union of their resources beside them); this is
/// also the shape an external engine (CloudTrail Lake, Athena) can hand in pre-aggregated.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Call {
    pub source: Box<str>,
    pub name: Box<str>,
    pub facts: Vec<Fact>,
    /// The resources the event names, typed.
    pub arns: Vec<TypedArn>,
}

/// Why an action is in the policy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// The event is named after the action.
    Direct,
    /// A table entry maps the event name to the action.
    Renamed,
    /// A naming pattern of the service (API Gateway's HTTP verbs).
    Pattern,
    /// A request parameter shows the call also needed this action.
    Dependent { why: String },
    /// The reference data lists the action as a dependency of another.
    Reference { of: String },
    /// AWS named it in the error of a refused call (`crate::denial`): an implicit deny by
    /// the identity-based policy.
    Denied { call: String },
}

/// One action a call needed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grant {
    /// `prefix:Action` in the reference's spelling.
    pub action: String,
    pub reason: Reason,
    /// The call's resources of the types this action takes (a passed role's ARN for
    /// `iam:PassRole`). Empty when the action takes none, or the event names none.
    pub resources: Vec<TypedArn>,
    /// For `iam:PassRole`: the service principal the role was passed to.
    pub passed_to: Option<String>,
}

/// How an operation maps, as the coverage report counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    Direct,
    Renamed,
    Pattern,
    /// Needs no permission of the caller.
    Free,
    /// Has no IAM action at all (unauthenticated, deprecated): marked in the tables.
    NoAction,
    Unmapped,
}

/// Why a call could not be mapped with confidence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, thiserror::Error)]
pub enum Unmapped {
    #[error("no IAM service for this event source")]
    UnknownSource,
    #[error("{0} is not an action in the IAM reference")]
    UnknownAction(String),
    /// The call's actions depend on request fields the record does not carry.
    #[error("{0}: the request does not show which actions it needed")]
    Undecided(String),
    /// A call whose actions are its items' (a DynamoDB transaction or PartiQL batch) has an
    /// item no rule maps: mapping the others would leave that one out.
    #[error("{event}: an item's {path} is {word}, which maps to no action")]
    UnknownItem {
        event: String,
        path: String,
        word: String,
    },
}

/// The outcome of mapping one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapping {
    Actions(Vec<Grant>),
    /// The call needs no IAM permission (`sts:GetCallerIdentity`).
    Free,
    Unmapped(Unmapped),
}

/// An event resolved to a service and a normalised name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Resolved {
    prefix: String,
    name: String,
    base: Base,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Base {
    Actions(Vec<String>, Reason),
    Free,
}

/// Maps calls using the embedded reference and tables.
#[derive(Debug, Clone, Copy)]
pub struct Mapper {
    reference: &'static Reference,
    rules: &'static Rules,
    locator: Locator,
    /// Whether calls carry their resources (not needed for a `*` policy).
    resources: bool,
}

impl Mapper {
    #[must_use]
    pub fn new(reference: &'static Reference, rules: &'static Rules, locator: Locator) -> Self {
        Self {
            reference,
            rules,
            locator,
            resources: true,
        }
    }

    /// The mapper over the data embedded in this binary.
    ///
    /// # Errors
    /// Only if embedded data is malformed, which the tests rule out.
    pub fn embedded() -> Result<Self, super::DataError> {
        // Parsed on two threads: the rules' own tables while the reference and its ARN
        // templates are (the rules' derivation then waits for the reference).
        let (located, rules) = rayon::join(
            || -> Result<_, super::DataError> {
                let reference = Reference::embedded()?;
                Ok((reference, Locator::new(reference)?))
            },
            Rules::embedded,
        );
        let (reference, locator) = located?;
        Ok(Self::new(reference, rules?, locator))
    }

    /// Leaves resources out of calls, for policies on `*`.
    #[must_use]
    pub fn without_resources(self) -> Self {
        Self {
            resources: false,
            ..self
        }
    }

    #[must_use]
    pub fn rules(&self) -> &'static Rules {
        self.rules
    }

    #[must_use]
    pub fn reference(&self) -> &'static Reference {
        self.reference
    }

    #[must_use]
    pub fn locator(&self) -> &Locator {
        &self.locator
    }

    /// The IAM service prefix of an event source.
    #[must_use]
    pub fn prefix_of<'s>(&'s self, source: &'s str) -> Option<&'s str> {
        if let Some(prefix) = self.rules.source_prefix(source) {
            return Some(prefix);
        }
        let label = source.strip_suffix(".amazonaws.com")?;
        self.reference
            .service(label)
            .map(|service| &*service.prefix)
    }

    /// The aggregation key of an event: its source, name, the request fields the mapping
    /// rules for that event look at, and the resources it names. Only kept events get here,
    /// so their request and response are parsed only then.
    #[must_use]
    pub fn call(&self, event: &Event<'_>) -> Call {
        self.call_noting_created(event, &mut crate::resource::generated::Created::new())
    }

    /// [`Self::call`], also adding to `created` the generated identifiers a creating call's
    /// response names, from the same parse of the response.
    pub fn call_noting_created(
        &self,
        event: &Event<'_>,
        created: &mut crate::resource::generated::Created,
    ) -> Call {
        self.call_and_parts(event, created).0
    }

    /// [`Self::call_noting_created`], also handing back the request, response and
    /// resources as parsed for the mapping (when the mapping needed them parsed; the
    /// response and resources only when resources are located), so a caller that reads them
    /// too does not parse them again.
    pub fn call_and_parts(
        &self,
        event: &Event<'_>,
        created: &mut crate::resource::generated::Created,
    ) -> (Call, Option<Parts>) {
        let mut facts = Vec::new();
        let mut arns = Vec::new();
        let mut read = None;
        if let Ok(resolved) = self.resolve(&event.source, &event.name)
            && let Base::Actions(base, _) = &resolved.base
        {
            let rules = self
                .rules
                .dependents(&format!("{}:{}", resolved.prefix, resolved.name));
            if !rules.is_empty() || self.resources {
                let parts = self.parts(event);
                let paths: BTreeSet<&str> = rules
                    .iter()
                    .flat_map(|r| r.when.iter().map(String::as_str))
                    .collect();
                let mut passed = Vec::new();
                for path in paths {
                    let mut values = parts.values(&format!("request.{path}"));
                    if !values.is_empty() {
                        values.sort();
                        values.dedup();
                        if rules.iter().any(|r| {
                            r.when.iter().any(|w| w == path)
                                && r.actions.iter().any(|a| a == PASS_ROLE)
                        }) {
                            passed.extend(values.iter().filter_map(|v| self.locator.fit(v)));
                        }
                        facts.push(Fact {
                            path: path.into(),
                            values,
                        });
                    }
                }
                let words: std::collections::BTreeMap<_, _> = rules
                    .iter()
                    .filter_map(|r| r.word.as_ref())
                    .map(|w| (w.fact_path(), w))
                    .collect();
                for (fact_path, word) in words {
                    let mut values: Vec<Box<str>> = parts
                        .values(&format!("request.{}", word.path))
                        .iter()
                        .filter_map(|v| word.word_of(v))
                        .map(String::into_boxed_str)
                        .collect();
                    if !values.is_empty() {
                        values.sort();
                        values.dedup();
                        facts.push(Fact {
                            path: fact_path.into(),
                            values,
                        });
                    }
                }
                facts.sort();
                if self.resources {
                    // A call with no action of its own (a DynamoDB transaction) takes the
                    // resource types of the actions its rules add; others keep their own.
                    let dependent = rules
                        .iter()
                        .filter(|_| base.is_empty())
                        .flat_map(|r| r.actions.iter().cloned());
                    let kinds: BTreeSet<&str> = base
                        .iter()
                        .map(|a| qualify(&resolved.prefix, a))
                        .chain(dependent)
                        .filter_map(|a| self.reference.action(&a))
                        .flat_map(|(_, action)| action.resource_types.iter().map(|r| &*r.name))
                        .collect();
                    arns = self.locator.arns(&resolved.prefix, &kinds, event, &parts);
                    arns.extend(passed);
                    if let Some(response) = &parts.response {
                        self.locator
                            .created(&resolved.prefix, &event.name, response, created);
                    }
                    arns.sort();
                    arns.dedup();
                }
                read = Some(parts);
            }
        }
        let call = Call {
            source: event.source.as_ref().into(),
            name: event.name.as_ref().into(),
            facts,
            arns,
        };
        (call, read)
    }

    /// The request parsed, and the response and resources when resources are located.
    fn parts(&self, event: &Event<'_>) -> Parts {
        Parts {
            request: crate::fields::parsed(event.request),
            response: self
                .resources
                .then(|| crate::fields::parsed(event.response))
                .flatten(),
            resources: self
                .resources
                .then(|| crate::fields::parsed(event.resources))
                .flatten(),
        }
    }

    /// The actions a call needed.
    #[must_use]
    pub fn map(&self, call: &Call) -> Mapping {
        let resolved = match self.resolve(&call.source, &call.name) {
            Ok(resolved) => resolved,
            Err(unmapped) => return Mapping::Unmapped(unmapped),
        };
        let (base, reason) = match resolved.base {
            Base::Free => return Mapping::Free,
            Base::Actions(actions, reason) => (actions, reason),
        };
        let key = format!("{}:{}", resolved.prefix, resolved.name);
        let mut grants = Vec::new();
        let mut replaced = false;
        let mut applied = false;
        for rule in self.rules.dependents(&key) {
            if !rule.when.iter().all(|path| fact(call, path).is_some()) {
                continue;
            }
            if let Some(word) = &rule.word {
                let words = fact(call, &word.fact_path()).unwrap_or_default();
                if !words.iter().any(|w| word.is.iter().any(|i| **w == **i)) {
                    continue;
                }
            }
            applied = true;
            replaced |= rule.replace;
            grants.extend(self.dependent_grants(call, rule));
        }
        if base.is_empty() && !applied {
            // A family whose actions only the request shows (PartiQL, transactions), and
            // the request does not show them.
            return Mapping::Unmapped(Unmapped::Undecided(key));
        }
        if base.is_empty()
            && let Some(unknown) = self.unknown_item(call, &key)
        {
            return Mapping::Unmapped(unknown);
        }
        if !replaced {
            for action in &base {
                match self.canonical(&qualify(&resolved.prefix, action)) {
                    Some(action) => grants.push(Grant {
                        resources: self.resources_for(&action, call),
                        action,
                        reason: reason.clone(),
                        passed_to: None,
                    }),
                    None => {
                        return Mapping::Unmapped(Unmapped::UnknownAction(qualify(
                            &resolved.prefix,
                            action,
                        )));
                    }
                }
            }
        }
        let mut from_reference = Vec::new();
        for grant in &grants {
            if let Some((_, action)) = self.reference.action(&grant.action) {
                for dependent in &action.dependents {
                    if let Some(name) = self.canonical(dependent) {
                        from_reference.push(Grant {
                            resources: self.resources_for(&name, call),
                            action: name,
                            reason: Reason::Reference {
                                of: grant.action.clone(),
                            },
                            passed_to: None,
                        });
                    }
                }
            }
        }
        grants.extend(from_reference);
        grants.sort();
        grants.dedup();
        Mapping::Actions(grants)
    }

    /// In a family whose actions are its items' own, the first item whose word (an
    /// operation, a statement's verb) no rule of the event recognises.
    fn unknown_item(&self, call: &Call, key: &str) -> Option<Unmapped> {
        let rules = self.rules.dependents(key);
        let mut known: std::collections::BTreeMap<String, BTreeSet<&str>> =
            std::collections::BTreeMap::new();
        for word in rules.iter().filter_map(|r| r.word.as_ref()) {
            known
                .entry(word.fact_path())
                .or_default()
                .extend(word.is.iter().map(String::as_str));
        }
        known.iter().find_map(|(fact_path, known)| {
            let unknown = fact(call, fact_path)?
                .iter()
                .find(|w| !known.contains(&***w))?;
            Some(Unmapped::UnknownItem {
                event: key.to_owned(),
                path: fact_path
                    .split_once('#')
                    .map_or(fact_path.as_str(), |(path, _)| path)
                    .to_owned(),
                word: unknown.to_string(),
            })
        })
    }

    fn dependent_grants<'r>(
        &'r self,
        call: &'r Call,
        rule: &'r Dependent,
    ) -> impl Iterator<Item = Grant> + 'r {
        rule.actions.iter().filter_map(move |action| {
            let action = self.canonical(action)?;
            let passed_to = (action == PASS_ROLE).then(|| {
                rule.passed_to
                    .clone()
                    .unwrap_or_else(|| call.source.to_string())
            });
            Some(Grant {
                resources: self.resources_for(&action, call),
                action,
                reason: Reason::Dependent {
                    why: rule.why.clone(),
                },
                passed_to,
            })
        })
    }

    /// The call's resources of the types `action` takes.
    fn resources_for(&self, action: &str, call: &Call) -> Vec<TypedArn> {
        let Some((service, action)) = self.reference.action(action) else {
            return Vec::new();
        };
        call.arns
            .iter()
            .filter(|arn| {
                arn.service == service.prefix
                    && action.resource_types.iter().any(|r| r.name == arn.kind)
            })
            .cloned()
            .collect()
    }

    /// `prefix:Action` in the reference's spelling, if the reference has it.
    fn canonical(&self, qualified: &str) -> Option<String> {
        let (service, action) = self.reference.action(qualified)?;
        Some(format!("{}:{}", service.prefix, action.name))
    }

    /// The tables' and the reference's answer for one `prefix:name`, in their order of
    /// precedence: free, renamed, direct, pattern.
    fn lookup(&self, prefix: &str, name: &str) -> Option<Base> {
        let key = format!("{prefix}:{name}");
        if self.rules.is_free(&key) {
            Some(Base::Free)
        } else if let Some(actions) = self.rules.renamed(&key) {
            Some(Base::Actions(actions.to_vec(), Reason::Renamed))
        } else if self.reference.action(&key).is_some() {
            Some(Base::Actions(vec![name.to_owned()], Reason::Direct))
        } else {
            self.rules
                .patterned(prefix, name)
                .map(|actions| Base::Actions(actions.to_vec(), Reason::Pattern))
        }
    }

    /// How an operation of a service maps, for the coverage report.
    #[must_use]
    pub fn classify(&self, prefix: &str, name: &str) -> Class {
        match self.lookup(prefix, name) {
            Some(Base::Free) => Class::Free,
            Some(Base::Actions(_, Reason::Renamed)) => Class::Renamed,
            Some(Base::Actions(_, Reason::Pattern)) => Class::Pattern,
            Some(Base::Actions(..)) => Class::Direct,
            None if self.rules.has_no_action(&format!("{prefix}:{name}")) => Class::NoAction,
            None => Class::Unmapped,
        }
    }

    fn resolve(&self, source: &str, name: &str) -> Result<Resolved, Unmapped> {
        let prefix = self
            .prefix_of(source)
            .ok_or(Unmapped::UnknownSource)?
            .to_owned();
        let stripped = strip_api_version(name);
        for candidate in std::iter::once(name).chain(stripped) {
            if let Some(base) = self.lookup(&prefix, candidate) {
                return Ok(Resolved {
                    prefix,
                    name: candidate.to_owned(),
                    base,
                });
            }
        }
        let shown = stripped.unwrap_or(name);
        Err(Unmapped::UnknownAction(format!("{prefix}:{shown}")))
    }
}

fn fact<'c>(call: &'c Call, path: &str) -> Option<&'c [Box<str>]> {
    call.facts
        .iter()
        .find(|f| &*f.path == path)
        .map(|f| f.values.as_slice())
}

/// Strips the API version some services put into event names:
/// `CreateFunction20150331`, `UpdateFunctionConfiguration20150331v2` (Lambda),
/// `UpdateDistribution2017_03_25` (CloudFront).
#[must_use]
pub fn strip_api_version(name: &str) -> Option<&str> {
    let bytes = name.as_bytes();
    // Optional `v<digits>` suffix.
    let mut end = bytes.len();
    let digits_at = bytes
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    if digits_at < end && digits_at > 0 && bytes[digits_at - 1] == b'v' {
        end = digits_at - 1;
    }
    let head = &name[..end];
    let h = head.as_bytes();
    let date_len = if h.len() >= 8 && h[h.len() - 8..].iter().all(u8::is_ascii_digit) {
        8
    } else if h.len() >= 10 && {
        let t = &h[h.len() - 10..];
        t[..4].iter().all(u8::is_ascii_digit)
            && t[4] == b'_'
            && t[5..7].iter().all(u8::is_ascii_digit)
            && t[7] == b'_'
            && t[8..].iter().all(u8::is_ascii_digit)
    } {
        10
    } else {
        return None;
    };
    let stem = &head[..head.len() - date_len];
    stem.ends_with(|c: char| c.is_ascii_alphabetic())
        .then_some(stem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::RawRecord;
    use test_case::test_case;

    fn mapper() -> Mapper {
        Mapper::embedded().unwrap()
    }

    /// Maps one event given as (source, name, requestParameters JSON).
    fn actions(source: &str, name: &str, request: &str) -> Vec<String> {
        let json = format!(
            r#"{{"eventTime":"2026-11-20T10:00:00Z","eventSource":"{source}","eventName":"{name}","requestParameters":{request}}}"#
        );
        let raw: RawRecord = serde_json::from_str(&json).unwrap();
        let event = Event::try_from(raw).unwrap();
        let m = mapper();
        match m.map(&m.call(&event)) {
            Mapping::Actions(grants) => {
                let mut names: Vec<String> = grants.into_iter().map(|g| g.action).collect();
                names.dedup();
                names
            }
            Mapping::Free => vec!["(free)".to_owned()],
            Mapping::Unmapped(why) => vec![format!("(unmapped: {why})")],
        }
    }

    /// The records of AWS's example log entries for DynamoDB's transactions and PartiQL
    /// batches (`tests/fixtures/cloudtrail/README.md` cites the page): each item maps to the
    /// action of its own kind, on the table it names.
    #[test]
    fn dynamodb_items_map_as_cloudtrail_writes_them() {
        let document: serde_json::Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/cloudtrail/dynamodb-items.json"
        ))
        .unwrap();
        let table = "arn:aws:dynamodb:us-west-2:111122223333:table/Music";
        let expected: [&[&str]; 3] = [
            &[
                "dynamodb:ConditionCheckItem",
                "dynamodb:DeleteItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
            ],
            // Refused by a condition check: the deployer attempted it, so it needs them.
            &[
                "dynamodb:ConditionCheckItem",
                "dynamodb:DeleteItem",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
            ],
            &["dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate"],
        ];
        let m = mapper();
        let records = document["Records"].as_array().unwrap();
        assert_eq!(records.len(), expected.len());
        for (record, expected) in records.iter().zip(expected) {
            let text = record.to_string();
            let raw: RawRecord = serde_json::from_str(&text).unwrap();
            let event = Event::try_from(raw).unwrap();
            let Mapping::Actions(grants) = m.map(&m.call(&event)) else {
                panic!("{} did not map", event.name);
            };
            let actions: Vec<&str> = grants.iter().map(|g| g.action.as_str()).collect();
            assert_eq!(actions, expected, "{}", event.name);
            for grant in &grants {
                let arns: Vec<&str> = grant.resources.iter().map(|r| &*r.arn).collect();
                assert_eq!(arns, [table], "{}", grant.action);
            }
        }
    }

    #[test_case("CreateFunction20150331", Some("CreateFunction"))]
    #[test_case(
        "UpdateFunctionConfiguration20150331v2",
        Some("UpdateFunctionConfiguration")
    )]
    #[test_case("ListTags20170331", Some("ListTags"))]
    #[test_case("UpdateDistribution2017_03_25", Some("UpdateDistribution"))]
    #[test_case("CreateFunction", None)]
    #[test_case("ListObjectsV2", None)]
    #[test_case("20150331", None)]
    #[test_case("GetObjectv2", None)]
    fn api_versions_are_stripped(name: &str, expected: Option<&str>) {
        assert_eq!(strip_api_version(name), expected);
    }

    // Every special case of the mapping, with the actions it must produce.
    #[test_case("s3.amazonaws.com", "HeadBucket", "{}", &["s3:ListBucket"] ; "s3 head bucket")]
    #[test_case("s3.amazonaws.com", "ListObjects", "{}", &["s3:ListBucket"] ; "s3 list objects")]
    #[test_case("s3.amazonaws.com", "ListObjectsV2", "{}", &["s3:ListBucket"] ; "s3 list objects v2")]
    #[test_case("s3.amazonaws.com", "ListBuckets", "{}", &["s3:ListAllMyBuckets"] ; "s3 list buckets")]
    #[test_case("s3.amazonaws.com", "HeadObject", "{}", &["s3:GetObject"] ; "s3 head object")]
    #[test_case("s3.amazonaws.com", "GetBucketEncryption", "{}", &["s3:GetEncryptionConfiguration"] ; "s3 get encryption")]
    #[test_case("s3.amazonaws.com", "PutBucketLifecycle", "{}", &["s3:PutLifecycleConfiguration"] ; "s3 put lifecycle")]
    #[test_case("s3.amazonaws.com", "PutBucketLifecycleConfiguration", "{}", &["s3:PutLifecycleConfiguration"] ; "s3 put lifecycle configuration")]
    #[test_case("s3.amazonaws.com", "DeleteBucketCors", "{}", &["s3:PutBucketCORS"] ; "s3 delete cors")]
    #[test_case("s3.amazonaws.com", "CreateMultipartUpload", "{}", &["s3:PutObject"] ; "s3 multipart create")]
    #[test_case("s3.amazonaws.com", "UploadPart", "{}", &["s3:PutObject"] ; "s3 upload part")]
    #[test_case("s3.amazonaws.com", "CompleteMultipartUpload", "{}", &["s3:PutObject"] ; "s3 multipart complete")]
    #[test_case("s3.amazonaws.com", "CopyObject", "{}", &["s3:GetObject", "s3:PutObject"] ; "s3 copy object")]
    #[test_case("s3.amazonaws.com", "GetObject", r#"{"versionId":"abc"}"#, &["s3:GetObjectVersion"] ; "s3 get object version")]
    #[test_case("s3.amazonaws.com", "DeleteObject", r#"{"versionId":"abc"}"#, &["s3:DeleteObjectVersion"] ; "s3 delete object version")]
    #[test_case("s3.amazonaws.com", "DeleteObject", r#"{"bucketName":"b"}"#, &["s3:DeleteObject"] ; "s3 delete object")]
    #[test_case("s3.amazonaws.com", "GetBucketPolicy", "{}", &["s3:GetBucketPolicy"] ; "s3 direct")]
    #[test_case("kms.amazonaws.com", "ReEncrypt", "{}", &["kms:ReEncryptFrom", "kms:ReEncryptTo"] ; "kms reencrypt")]
    #[test_case("kms.amazonaws.com", "CreateKey", r#"{"tags":[{"tagKey":"a","tagValue":"b"}]}"#, &["kms:CreateKey", "kms:TagResource"] ; "kms tags on create")]
    #[test_case("monitoring.amazonaws.com", "PutMetricAlarm", "{}", &["cloudwatch:PutMetricAlarm"] ; "cloudwatch source")]
    #[test_case("tagging.amazonaws.com", "GetResources", "{}", &["tag:GetResources"] ; "tagging source")]
    #[test_case("lambda.amazonaws.com", "CreateFunction20150331", r#"{"functionName":"f"}"#, &["lambda:CreateFunction"] ; "lambda versioned name")]
    #[test_case("lambda.amazonaws.com", "CreateFunction", r#"{"role":"arn:aws:iam::1:role/r","tags":{"a":"b"}}"#, &["iam:PassRole", "lambda:CreateFunction", "lambda:TagResource"] ; "lambda create with role and tags")]
    #[test_case("lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", r#"{"role":"arn:aws:iam::1:role/r"}"#, &["iam:PassRole", "lambda:UpdateFunctionConfiguration"] ; "lambda update passes role")]
    #[test_case("lambda.amazonaws.com", "UpdateFunctionConfiguration20150331v2", r#"{"timeout":3}"#, &["lambda:UpdateFunctionConfiguration"] ; "lambda update without role")]
    #[test_case("lambda.amazonaws.com", "CreateFunction", r#"{"layers":["arn:aws:lambda:us-east-1:1:layer:l:1"]}"#, &["lambda:CreateFunction", "lambda:GetLayerVersion"] ; "lambda layers")]
    #[test_case("iam.amazonaws.com", "CreateRole", r#"{"roleName":"r","tags":[{"key":"a","value":"b"}]}"#, &["iam:CreateRole", "iam:TagRole"] ; "iam role tags")]
    #[test_case("iam.amazonaws.com", "CreateRole", r#"{"roleName":"r","tags":[]}"#, &["iam:CreateRole"] ; "iam role empty tags")]
    #[test_case("iam.amazonaws.com", "CreatePolicy", r#"{"tags":[{"key":"a"}]}"#, &["iam:CreatePolicy", "iam:TagPolicy"] ; "iam policy tags")]
    #[test_case("sqs.amazonaws.com", "CreateQueue", r#"{"queueName":"q","tags":{"a":"b"}}"#, &["sqs:CreateQueue", "sqs:TagQueue"] ; "sqs tags")]
    #[test_case("logs.amazonaws.com", "CreateLogGroup", r#"{"logGroupName":"g","tags":{"a":"b"}}"#, &["logs:CreateLogGroup", "logs:TagResource"] ; "logs tags")]
    #[test_case("ssm.amazonaws.com", "PutParameter", r#"{"name":"p","tags":[{"key":"a"}]}"#, &["ssm:AddTagsToResource", "ssm:PutParameter"] ; "ssm tags")]
    #[test_case("events.amazonaws.com", "PutRule", r#"{"roleArn":"arn:aws:iam::1:role/r"}"#, &["events:PutRule", "iam:PassRole"] ; "events rule role")]
    #[test_case("events.amazonaws.com", "PutTargets", r#"{"targets":[{"id":"1","roleArn":"arn:aws:iam::1:role/r"}]}"#, &["events:PutTargets", "iam:PassRole"] ; "events target role")]
    #[test_case("events.amazonaws.com", "PutTargets", r#"{"targets":[{"id":"1","arn":"x"}]}"#, &["events:PutTargets"] ; "events target without role")]
    #[test_case("ec2.amazonaws.com", "RunInstances", r#"{"iamInstanceProfile":{"name":"p"},"tagSpecificationSet":{"items":[{"resourceType":"instance"}]}}"#, &["ec2:CreateTags", "ec2:RunInstances", "iam:PassRole"] ; "ec2 run instances")]
    #[test_case("ecs.amazonaws.com", "RegisterTaskDefinition", r#"{"taskRoleArn":"arn:aws:iam::1:role/t","executionRoleArn":"arn:aws:iam::1:role/e"}"#, &["ecs:RegisterTaskDefinition", "iam:PassRole"] ; "ecs roles")]
    #[test_case("states.amazonaws.com", "CreateStateMachine", r#"{"roleArn":"arn:aws:iam::1:role/s"}"#, &["iam:PassRole", "states:CreateStateMachine"] ; "step functions role")]
    #[test_case("cloudformation.amazonaws.com", "CreateStack", r#"{"roleARN":"arn:aws:iam::1:role/c"}"#, &["cloudformation:CreateStack", "iam:PassRole"] ; "cloudformation role")]
    // Derived from the SDK models (data/sdk/operations.tsv): role ARNs passed, tags given.
    #[test_case("rds.amazonaws.com", "CreateDBInstance", r#"{"dBInstanceIdentifier":"db1","dBInstanceClass":"db.t3.micro","engine":"mysql","monitoringInterval":60,"monitoringRoleArn":"arn:aws:iam::111122223333:role/rds-monitoring-role","tags":[{"key":"env","value":"dev"}]}"#, &["iam:PassRole", "rds:AddTagsToResource", "rds:CreateDBInstance"] ; "rds monitoring role and tags")]
    #[test_case("rds.amazonaws.com", "AddRoleToDBCluster", r#"{"dBClusterIdentifier":"c1","roleArn":"arn:aws:iam::111122223333:role/aurora-s3"}"#, &["iam:PassRole", "rds:AddRoleToDBCluster"] ; "rds add role to cluster")]
    #[test_case("rds.amazonaws.com", "StartExportTask", r#"{"exportTaskIdentifier":"e","iamRoleArn":"arn:aws:iam::111122223333:role/export"}"#, &["iam:PassRole", "rds:StartExportTask"] ; "rds export task role")]
    #[test_case("dax.amazonaws.com", "CreateCluster", r#"{"clusterName":"d","iamRoleArn":"arn:aws:iam::111122223333:role/dax"}"#, &["dax:CreateCluster", "iam:PassRole"] ; "dax role")]
    #[test_case("ecs.amazonaws.com", "CreateService", r#"{"serviceName":"s","role":"arn:aws:iam::111122223333:role/ecsServiceRole","tags":[{"key":"a","value":"b"}]}"#, &["ecs:CreateService", "ecs:TagResource", "iam:PassRole"] ; "ecs service role and tags")]
    #[test_case("codebuild.amazonaws.com", "CreateProject", r#"{"name":"p","serviceRole":"arn:aws:iam::111122223333:role/cb"}"#, &["codebuild:CreateProject", "iam:PassRole"] ; "codebuild service role")]
    #[test_case("glue.amazonaws.com", "CreateJob", r#"{"name":"j","role":"arn:aws:iam::111122223333:role/glue"}"#, &["glue:CreateJob", "iam:PassRole"] ; "glue job role")]
    #[test_case("scheduler.amazonaws.com", "CreateSchedule", r#"{"name":"s","target":{"arn":"arn:aws:lambda:us-east-1:111122223333:function:f","roleArn":"arn:aws:iam::111122223333:role/sched"}}"#, &["iam:PassRole", "scheduler:CreateSchedule"] ; "scheduler target role")]
    #[test_case("logs.amazonaws.com", "PutSubscriptionFilter", r#"{"logGroupName":"g","filterName":"f","destinationArn":"arn:aws:kinesis:us-east-1:111122223333:stream/s","roleArn":"arn:aws:iam::111122223333:role/cwl"}"#, &["iam:PassRole", "logs:PutSubscriptionFilter"] ; "logs subscription role")]
    #[test_case("backup.amazonaws.com", "StartBackupJob", r#"{"backupVaultName":"v","iamRoleArn":"arn:aws:iam::111122223333:role/backup"}"#, &["backup:StartBackupJob", "iam:PassRole"] ; "backup job role")]
    #[test_case("elasticmapreduce.amazonaws.com", "RunJobFlow", r#"{"name":"c","serviceRole":"EMR_DefaultRole","jobFlowRole":"EMR_EC2_DefaultRole"}"#, &["elasticmapreduce:RunJobFlow", "iam:PassRole"] ; "emr roles")]
    #[test_case("sns.amazonaws.com", "SetTopicAttributes", r#"{"topicArn":"arn:aws:sns:us-east-1:111122223333:t","attributeName":"LambdaSuccessFeedbackRoleArn","attributeValue":"arn:aws:iam::111122223333:role/sns-log"}"#, &["iam:PassRole", "sns:SetTopicAttributes"] ; "sns delivery status role")]
    #[test_case("sns.amazonaws.com", "SetTopicAttributes", r#"{"topicArn":"arn:aws:sns:us-east-1:111122223333:t","attributeName":"DisplayName","attributeValue":"x"}"#, &["sns:SetTopicAttributes"] ; "sns other attribute")]
    #[test_case("sts.amazonaws.com", "AssumeRole", r#"{"roleArn":"arn:aws:iam::111122223333:role/r","roleSessionName":"s"}"#, &["sts:AssumeRole"] ; "sts assume role passes no role")]
    #[test_case("ec2.amazonaws.com", "CreateVpc", r#"{"cidrBlock":"10.0.0.0/16","tagSpecificationSet":{"items":[{"resourceType":"vpc","tags":[{"key":"Name","value":"v"}]}]}}"#, &["ec2:CreateTags", "ec2:CreateVpc"] ; "ec2 tag on create")]
    #[test_case("elasticloadbalancing.amazonaws.com", "CreateLoadBalancer", r#"{"name":"lb","tags":[{"key":"a","value":"b"}]}"#, &["elasticloadbalancing:AddTags", "elasticloadbalancing:CreateLoadBalancer"] ; "elb tags")]
    #[test_case("monitoring.amazonaws.com", "PutMetricAlarm", r#"{"alarmName":"a","tags":[{"key":"a","value":"b"}]}"#, &["cloudwatch:PutMetricAlarm", "cloudwatch:TagResource"] ; "cloudwatch alarm tags")]
    #[test_case("sns.amazonaws.com", "CreateTopic", r#"{"name":"t","tags":[{"key":"a","value":"b"}]}"#, &["sns:CreateTopic", "sns:TagResource"] ; "sns topic tags")]
    #[test_case("autoscaling.amazonaws.com", "CreateAutoScalingGroup", r#"{"autoScalingGroupName":"g","tags":[{"key":"a","value":"b","propagateAtLaunch":true}]}"#, &["autoscaling:CreateAutoScalingGroup", "autoscaling:CreateOrUpdateTags"] ; "autoscaling tags on create")]
    #[test_case("kinesis.amazonaws.com", "CreateStream", r#"{"streamName":"s","shardCount":1,"tags":{"a":"b"}}"#, &["kinesis:AddTagsToStream", "kinesis:CreateStream"] ; "kinesis tags on create")]
    #[test_case("firehose.amazonaws.com", "CreateDeliveryStream", r#"{"deliveryStreamName":"d","tags":[{"key":"a","value":"b"}]}"#, &["firehose:CreateDeliveryStream", "firehose:TagDeliveryStream"] ; "firehose tags on create")]
    #[test_case("acm.amazonaws.com", "RequestCertificate", r#"{"domainName":"example.com","tags":[{"key":"a","value":"b"}]}"#, &["acm:AddTagsToCertificate", "acm:RequestCertificate"] ; "acm tags on create")]
    #[test_case("codebuild.amazonaws.com", "CreateProject", r#"{"name":"p","tags":[{"key":"a","value":"b"}]}"#, &["codebuild:CreateProject"] ; "codebuild has no tagging action")]
    #[test_case("batch.amazonaws.com", "CreateComputeEnvironment", r#"{"computeEnvironmentName":"c","serviceRole":"arn:aws:iam::111122223333:role/batch","computeResources":{"type":"SPOT","spotIamFleetRole":"arn:aws:iam::111122223333:role/fleet","instanceRole":"arn:aws:iam::111122223333:instance-profile/ecs"}}"#, &["batch:CreateComputeEnvironment", "iam:PassRole"] ; "batch roles")]
    // Query-protocol lists (IAM, RDS, autoscaling) are plain arrays in CloudTrail; EC2's are
    // `{"items": [...]}`: a role found either way.
    #[test_case("ec2.amazonaws.com", "RequestSpotFleet", r#"{"spotFleetRequestConfig":{"iamFleetRole":"arn:aws:iam::111122223333:role/fleet"}}"#, &["ec2:RequestSpotFleet", "iam:PassRole"] ; "ec2 spot fleet role")]
    #[test_case("cloudfront.amazonaws.com", "CreateDistributionWithTags2020_05_31", r#"{"distributionConfigWithTags":{"distributionConfig":{"callerReference":"r"},"tags":{"items":[{"key":"a","value":"b"}]}}}"#, &["cloudfront:CreateDistribution", "cloudfront:TagResource"] ; "cloudfront distribution with tags")]
    #[test_case("s3.amazonaws.com", "PutBucketReplication", r#"{"bucketName":"b","replication":"","ReplicationConfiguration":{"Role":"arn:aws:iam::111122223333:role/replication","Rule":{"Status":"Enabled"}}}"#, &["iam:PassRole", "s3:PutReplicationConfiguration"] ; "s3 replication role in the xml body")]
    #[test_case("apigateway.amazonaws.com", "TagResource", r#"{"resourceArn":"arn:aws:apigateway:eu-west-1::/apis/a1b2c3d4e5","tags":{"a":"b"}}"#, &["apigateway:POST"] ; "apigateway tags an http api with post")]
    #[test_case("apigateway.amazonaws.com", "TagResource", r#"{"resourceArn":"arn:aws:apigateway:eu-west-1::/restapis/r1/stages/prod","tags":{"a":"b"}}"#, &["apigateway:PUT"] ; "apigateway tags a rest api with put")]
    #[test_case("apigateway.amazonaws.com", "TagResource", r#"{"resourceArn":"arn:aws:apigateway:eu-west-1::/domainnames/api.example.com","tags":{"a":"b"}}"#, &["apigateway:POST", "apigateway:PUT"] ; "apigateway domain names of either api")]
    #[test_case("iam.amazonaws.com", "CreateSAMLProvider", r#"{"name":"idp","sAMLMetadataDocument":"…","tags":[{"key":"a","value":"b"}]}"#, &["iam:CreateSAMLProvider", "iam:TagSAMLProvider"] ; "iam saml provider tags")]
    #[test_case("iam.amazonaws.com", "UploadServerCertificate", r#"{"serverCertificateName":"c","tags":[{"key":"a","value":"b"}]}"#, &["iam:TagServerCertificate", "iam:UploadServerCertificate"] ; "iam server certificate tags")]
    #[test_case("iam.amazonaws.com", "CreateVirtualMFADevice", r#"{"virtualMFADeviceName":"m","tags":[{"key":"a","value":"b"}]}"#, &["iam:CreateVirtualMFADevice", "iam:TagMFADevice"] ; "iam mfa device tags")]
    #[test_case("iam.amazonaws.com", "CreateUser", r#"{"userName":"u","tags":[{"key":"a","value":"b"}]}"#, &["iam:CreateUser", "iam:TagUser"] ; "iam user tags")]
    // STS session tags and source identity.
    #[test_case("sts.amazonaws.com", "AssumeRole", r#"{"roleArn":"arn:aws:iam::111122223333:role/r","roleSessionName":"s","tags":[{"key":"Project","value":"p"}],"transitiveTagKeys":["Project"]}"#, &["sts:AssumeRole", "sts:TagSession"] ; "sts session tags")]
    #[test_case("sts.amazonaws.com", "AssumeRole", r#"{"roleArn":"arn:aws:iam::111122223333:role/r","roleSessionName":"s","sourceIdentity":"alice"}"#, &["sts:AssumeRole", "sts:SetSourceIdentity"] ; "sts source identity")]
    #[test_case("sts.amazonaws.com", "GetFederationToken", r#"{"name":"bob","tags":[{"key":"Project","value":"p"}]}"#, &["sts:GetFederationToken", "sts:TagSession"] ; "sts federation token session tags")]
    // API families whose actions are not the operation's name.
    #[test_case("dynamodb.amazonaws.com", "ExecuteStatement", r#"{"statement":"SELECT * FROM \"Music\" WHERE Artist = ?"}"#, &["dynamodb:PartiQLSelect"] ; "partiql select")]
    #[test_case("dynamodb.amazonaws.com", "ExecuteStatement", r#"{"statement":"update Music set x = 1"}"#, &["dynamodb:PartiQLUpdate"] ; "partiql update lower case")]
    #[test_case("dynamodb.amazonaws.com", "ExecuteStatement", "{}", &["(unmapped: dynamodb:ExecuteStatement: the request does not show which actions it needed)"] ; "partiql without statement is undecided")]
    #[test_case("dynamodb.amazonaws.com", "BatchExecuteStatement", r#"{"statements":[{"statement":"INSERT INTO Music VALUE {}"},{"statement":"DELETE FROM Music WHERE a = 1"}]}"#, &["dynamodb:PartiQLDelete", "dynamodb:PartiQLInsert"] ; "partiql batch")]
    #[test_case("dynamodb.amazonaws.com", "ExecuteTransaction", r#"{"transactStatements":[{"statement":"SELECT * FROM Music"}]}"#, &["dynamodb:PartiQLSelect"] ; "partiql transaction")]
    #[test_case("dynamodb.amazonaws.com", "TransactWriteItems", r#"{"transactItems":[{"put":{"tableName":"A"}},{"delete":{"tableName":"B"}},{"conditionCheck":{"tableName":"C"}}]}"#, &["dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem"] ; "dynamodb transact write")]
    #[test_case("dynamodb.amazonaws.com", "TransactGetItems", r#"{"transactItems":[{"get":{"tableName":"A"}}]}"#, &["dynamodb:GetItem"] ; "dynamodb transact get")]
    #[test_case("dynamodb.amazonaws.com", "TransactWriteItems", r#"{"requestItems":[{"operation":"Put","tableName":"A"},{"operation":"Update","tableName":"A"},{"operation":"Delete","TableName":"B"},{"operation":"ConditionCheck","TableName":"C"}]}"#, &["dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:UpdateItem"] ; "dynamodb transact write as cloudtrail writes it")]
    #[test_case("dynamodb.amazonaws.com", "TransactWriteItems", r#"{"requestItems":[{"operation":"Put","tableName":"A"}]}"#, &["dynamodb:PutItem"] ; "dynamodb transact write of one kind")]
    #[test_case("dynamodb.amazonaws.com", "TransactWriteItems", r#"{"requestItems":[{"operation":"Put","tableName":"A"},{"operation":"Upsert","tableName":"A"}]}"#, &["(unmapped: dynamodb:TransactWriteItems: an item's requestItems.operation is UPSERT, which maps to no action)"] ; "an item no rule maps")]
    #[test_case("dynamodb.amazonaws.com", "TransactWriteItems", r#"{"requestItems":[{"tableName":"A"}]}"#, &["(unmapped: dynamodb:TransactWriteItems: the request does not show which actions it needed)"] ; "items without their operation")]
    #[test_case("dynamodb.amazonaws.com", "BatchExecuteStatement", r#"{"requestItems":[{"statement":"UPDATE Music SET Album = ***(Redacted) WHERE Artist = 'a'"},{"statement":"INSERT INTO Music VALUE {'Artist' : ***(Redacted)}"}]}"#, &["dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate"] ; "partiql batch as cloudtrail writes it")]
    #[test_case("dynamodb.amazonaws.com", "ExecuteTransaction", r#"{"transactStatements":[{"statement":"SELECT * FROM Music"},{"statement":"EXISTS(SELECT * FROM Music)"}]}"#, &["(unmapped: dynamodb:ExecuteTransaction: an item's transactStatements.statement is EXISTS(SELECT, which maps to no action)"] ; "a partiql condition check is reported not dropped")]
    #[test_case("wafv2.amazonaws.com", "DisassociateWebACL", r#"{"resourceArn":"arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/lb/1"}"#, &["elasticloadbalancing:SetWebAcl", "wafv2:DisassociateWebACL"] ; "waf disassociate alb")]
    #[test_case("wafv2.amazonaws.com", "DisassociateWebACL", r#"{"resourceArn":"arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod"}"#, &["apigateway:SetWebACL", "wafv2:DisassociateWebACL"] ; "waf disassociate api stage")]
    #[test_case("wafv2.amazonaws.com", "DisassociateWebACL", r#"{"resourceArn":"arn:aws:appsync:us-east-1:111122223333:apis/abcdefghijklmnopqrstuvwxyz"}"#, &["appsync:SetWebACL", "wafv2:DisassociateWebACL"] ; "waf disassociate appsync")]
    #[test_case("wafv2.amazonaws.com", "DisassociateWebACL", r#"{"resourceArn":"arn:aws:cognito-idp:us-east-1:111122223333:userpool/us-east-1_aBcDeFgHi"}"#, &["cognito-idp:DisassociateWebACL", "wafv2:DisassociateWebACL"] ; "waf disassociate user pool")]
    #[test_case("wafv2.amazonaws.com", "DisassociateWebACL", r#"{"resourceArn":"arn:aws:apprunner:us-east-1:111122223333:service/s/0123456789abcdef"}"#, &["apprunner:DisassociateWebAcl", "wafv2:DisassociateWebACL"] ; "waf disassociate app runner")]
    #[test_case("secretsmanager.amazonaws.com", "BatchGetSecretValue", r#"{"secretIdList":["s1","s2"]}"#, &["secretsmanager:BatchGetSecretValue", "secretsmanager:GetSecretValue"] ; "secrets batch by id")]
    #[test_case("secretsmanager.amazonaws.com", "BatchGetSecretValue", r#"{"filters":[{"key":"name","values":["app"]}]}"#, &["secretsmanager:BatchGetSecretValue", "secretsmanager:GetSecretValue", "secretsmanager:ListSecrets"] ; "secrets batch by filter")]
    #[test_case("kms.amazonaws.com", "ReplicateKey", r#"{"keyId":"mrk-1","replicaRegion":"eu-west-1"}"#, &["kms:CreateKey", "kms:ReplicateKey"] ; "kms replicate key")]
    #[test_case("wafv2.amazonaws.com", "AssociateWebACL", r#"{"webACLArn":"arn:aws:wafv2:us-east-1:111122223333:regional/webacl/w/1","resourceArn":"arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/lb/1"}"#, &["elasticloadbalancing:SetWebAcl", "wafv2:AssociateWebACL"] ; "waf associate alb")]
    // Calls authorised by no caller permission.
    #[test_case("sts.amazonaws.com", "GetSessionToken", "{}", &["(free)"] ; "sts session token")]
    #[test_case("sts.amazonaws.com", "AssumeRoleWithSAML", "{}", &["(free)"] ; "sts saml")]
    #[test_case("sts.amazonaws.com", "AssumeRoleWithWebIdentity", "{}", &["(free)"] ; "sts web identity")]
    #[test_case("signin.amazonaws.com", "ConsoleLogin", "{}", &["(free)"] ; "console login")]
    #[test_case("apigateway.amazonaws.com", "CreateRestApi", "{}", &["apigateway:POST"] ; "apigateway create")]
    #[test_case("apigateway.amazonaws.com", "GetRestApis", "{}", &["apigateway:GET"] ; "apigateway get")]
    #[test_case("apigateway.amazonaws.com", "UpdateStage", "{}", &["apigateway:PATCH"] ; "apigateway update")]
    #[test_case("apigateway.amazonaws.com", "DeleteRestApi", "{}", &["apigateway:DELETE"] ; "apigateway delete")]
    #[test_case("apigateway.amazonaws.com", "FlushStageCache", "{}", &["apigateway:DELETE"] ; "apigateway flush is its http method")]
    #[test_case("apigateway.amazonaws.com", "FrobnicateStage", "{}", &["(unmapped: apigateway:FrobnicateStage is not an action in the IAM reference)"] ; "apigateway unknown verb")]
    #[test_case("lambda.amazonaws.com", "Invoke", r#"{"functionName":"f"}"#, &["lambda:InvokeFunction"] ; "lambda invoke data event")]
    #[test_case("sqs.amazonaws.com", "SendMessageBatch", "{}", &["sqs:SendMessage"] ; "sqs batch")]
    #[test_case("cognito-idp.amazonaws.com", "StartWebAuthnRegistration", "{}", &["(free)"] ; "unsigned operation is free")]
    #[test_case("sts.amazonaws.com", "GetCallerIdentity", "{}", &["(free)"] ; "sts caller identity")]
    #[test_case("nosuch.amazonaws.com", "DoThing", "{}", &["(unmapped: no IAM service for this event source)"] ; "unknown source")]
    #[test_case("s3.amazonaws.com", "NoSuchCall", "{}", &["(unmapped: s3:NoSuchCall is not an action in the IAM reference)"] ; "unknown action")]
    #[test_case("lambda.amazonaws.com", "NoSuchCall20150331", "{}", &["(unmapped: lambda:NoSuchCall is not an action in the IAM reference)"] ; "unknown versioned action")]
    #[test_case("iam.amazonaws.com", "createrole", "{}", &["iam:CreateRole"] ; "case is canonicalised")]
    fn special_cases(source: &str, name: &str, request: &str, expected: &[&str]) {
        assert_eq!(actions(source, name, request), expected);
    }

    #[test]
    fn api_gateway_calls_map_to_their_http_method_in_the_sdk_model() {
        let reference = mapper().reference();
        let mut wrong = Vec::new();
        for (prefix, operation, api, method) in crate::resource::path::Paths::embedded().methods() {
            // Newer operations (portals, routing rules) are IAM actions of their own name.
            if reference.action(&format!("{prefix}:{operation}")).is_some() {
                continue;
            }
            let source = format!("{prefix}.amazonaws.com");
            // An HTTP API's TagResource is told from a REST API's by the tagged ARN.
            let request = if api == "v2" {
                r#"{"resourceArn":"arn:aws:apigateway:eu-west-1::/apis/a1"}"#
            } else {
                r#"{"resourceArn":"arn:aws:apigateway:eu-west-1::/restapis/r1"}"#
            };
            let got = actions(&source, operation, request);
            if got != [format!("{prefix}:{method}")] {
                wrong.push(format!("{api} {operation}: {method}, mapped to {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test_case("lambda.amazonaws.com", "CreateFunction20150331", r#"{"functionName":"f","role":"arn:aws:iam::1:role/exec"}"#,
        "arn:aws:iam::1:role/exec", "lambda.amazonaws.com" ; "hand rule, the event source receives the role")]
    #[test_case("rds.amazonaws.com", "CreateDBInstance", r#"{"dBInstanceIdentifier":"db1","monitoringRoleArn":"arn:aws:iam::1:role/mon"}"#,
        "arn:aws:iam::1:role/mon", "monitoring.rds.amazonaws.com" ; "derived rule, another principal receives the role")]
    fn pass_role_carries_the_role_and_the_service_it_is_passed_to(
        source: &str,
        name: &str,
        request: &str,
        role: &str,
        passed_to: &str,
    ) {
        let json = format!(
            r#"{{"eventTime":"t","eventSource":"{source}","eventName":"{name}","requestParameters":{request}}}"#
        );
        let event = Event::try_from(serde_json::from_str::<RawRecord>(&json).unwrap()).unwrap();
        let m = mapper();
        let Mapping::Actions(grants) = m.map(&m.call(&event)) else {
            panic!()
        };
        let pass = grants.iter().find(|g| g.action == "iam:PassRole").unwrap();
        let arns: Vec<&str> = pass.resources.iter().map(|r| &*r.arn).collect();
        assert_eq!(arns, [role]);
        assert!(matches!(pass.reason, Reason::Dependent { .. }));
        assert_eq!(pass.passed_to.as_deref(), Some(passed_to));
    }

    #[test]
    fn calls_without_rules_keep_no_request_facts() {
        let json = r#"{"eventTime":"t","eventSource":"s3.amazonaws.com","eventName":"GetBucketAcl","requestParameters":{"bucketName":"b"}}"#;
        let event = Event::try_from(serde_json::from_str::<RawRecord>(json).unwrap()).unwrap();
        assert!(mapper().call(&event).facts.is_empty());
    }
}
