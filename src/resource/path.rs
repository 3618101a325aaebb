//! Resources named by a REST call's path (`data/sdk/apigateway.tsv`, from the SDK models):
//! API Gateway authorises its management calls on `arn:aws:apigateway:REGION::/apis/ID/…`,
//! the request's URI with each parameter taken from the request field of that member.

use foldhash::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

use crate::fields::Parts;

const TABLE: &str = include_str!("../../data/sdk/apigateway.tsv");

static PARSED: LazyLock<Paths> = LazyLock::new(|| Paths::parse(TABLE));

/// One operation's request path, as `/apis/{apiId}/stages/{stageName}`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Route {
    /// `v1` (REST APIs) or `v2` (HTTP and WebSocket APIs).
    api: Box<str>,
    method: Box<str>,
    path: Box<str>,
}

/// (IAM prefix, operation) → the paths of the operation in each API version that has it.
#[derive(Debug, Default)]
pub struct Paths {
    routes: HashMap<(Box<str>, Box<str>), Vec<Route>>,
    /// The prefixes the table covers (asked for every call: a set, not a walk of routes).
    prefixes: foldhash::HashSet<Box<str>>,
}

impl Paths {
    /// The table embedded in this binary (a malformed line is left out; a test rules that
    /// out).
    #[must_use]
    pub fn embedded() -> &'static Self {
        &PARSED
    }

    fn parse(text: &str) -> Self {
        let mut routes: HashMap<(Box<str>, Box<str>), Vec<Route>> = HashMap::default();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let fields: Vec<&str> = line.split('\t').collect();
            if let [prefix, api, operation, method, path] = fields.as_slice() {
                routes
                    .entry(((*prefix).into(), (*operation).into()))
                    .or_default()
                    .push(Route {
                        api: (*api).into(),
                        method: (*method).into(),
                        path: (*path).into(),
                    });
            }
        }
        let prefixes = routes.keys().map(|(prefix, _)| prefix.clone()).collect();
        Self { routes, prefixes }
    }

    /// Every (prefix, operation, API version, HTTP method) of the table.
    pub fn methods(&self) -> impl Iterator<Item = (&str, &str, &str, &str)> {
        self.routes
            .iter()
            .flat_map(|((prefix, operation), routes)| {
                routes
                    .iter()
                    .map(move |r| (&**prefix, &**operation, &*r.api, &*r.method))
            })
    }

    /// Whether the service's resources are its request paths.
    #[must_use]
    pub fn covers(&self, prefix: &str) -> bool {
        self.prefixes.contains(prefix)
    }

    /// The ARNs of the paths of `operation` whose every parameter the request supplies
    /// (REST API and HTTP API operations share names: the parameters tell them apart).
    #[must_use]
    pub fn arns(
        &self,
        prefix: &str,
        operation: &str,
        partition: &str,
        region: &str,
        parts: &Parts,
    ) -> Vec<String> {
        let Some(routes) = self.routes.get(&(prefix.into(), operation.into())) else {
            return Vec::new();
        };
        let mut arns: Vec<String> = routes
            .iter()
            .filter_map(|route| render(&route.path, parts))
            .map(|path| format!("arn:{partition}:{prefix}:{region}::{path}"))
            .collect();
        arns.sort();
        arns.dedup();
        arns
    }
}

/// The path with each `{member}` replaced by the request's value, or `None` if the request
/// lacks one. An ARN in a path (`/tags/{resourceArn}`) is URL-encoded, as IAM names it.
fn render(template: &str, parts: &Parts) -> Option<String> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let (head, tail) = rest.split_at(open);
        out.push_str(head);
        let close = tail.find('}')?;
        let member = tail.get(1..close)?;
        let values = parts.values(&format!("request.{member}"));
        let value = values.first().filter(|v| &***v != "…")?;
        if value.starts_with("arn:") {
            out.push_str(&encode(value));
        } else {
            out.push_str(value);
        }
        rest = tail.get(close + 1..)?;
    }
    out.push_str(rest);
    Some(out)
}

/// Percent-encodes everything but unreserved characters.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 2);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test]
    fn the_table_parses_every_line() {
        let lines = TABLE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .count();
        let parsed: usize = Paths::embedded().routes.values().map(Vec::len).sum();
        assert_eq!(parsed, lines);
        assert!(Paths::embedded().covers("apigateway"));
        assert!(!Paths::embedded().covers("lambda"));
    }

    #[test_case("CreateApi", r#"{"name":"psoxy-api","protocolType":"HTTP"}"#, &["arn:aws:apigateway:eu-west-1::/apis"] ; "create an http api")]
    #[test_case("CreateStage", r#"{"apiId":"a1b2c3d4e5","stageName":"$default"}"#, &["arn:aws:apigateway:eu-west-1::/apis/a1b2c3d4e5/stages"] ; "http api stage")]
    #[test_case("CreateStage", r#"{"restApiId":"r1s2t3u4v5","stageName":"prod"}"#, &["arn:aws:apigateway:eu-west-1::/restapis/r1s2t3u4v5/stages"] ; "rest api stage")]
    #[test_case("GetStage", r#"{"apiId":"a1b2c3d4e5","stageName":"$default"}"#, &["arn:aws:apigateway:eu-west-1::/apis/a1b2c3d4e5/stages/$default"] ; "get a stage")]
    #[test_case("DeleteApi", r#"{"apiId":"a1b2c3d4e5"}"#, &["arn:aws:apigateway:eu-west-1::/apis/a1b2c3d4e5"] ; "delete an api")]
    #[test_case("DeleteApi", "{}", &[] ; "a request without the id names nothing")]
    #[test_case("TagResource", r#"{"resourceArn":"arn:aws:apigateway:eu-west-1::/apis/a1"}"#, &["arn:aws:apigateway:eu-west-1::/tags/arn%3Aaws%3Aapigateway%3Aeu-west-1%3A%3A%2Fapis%2Fa1"] ; "tags of an arn")]
    fn request_paths(operation: &str, request: &str, expected: &[&str]) {
        let parts = Parts {
            request: serde_json::from_str(request).ok(),
            ..Parts::default()
        };
        let arns = Paths::embedded().arns("apigateway", operation, "aws", "eu-west-1", &parts);
        assert_eq!(arns, expected);
    }
}
