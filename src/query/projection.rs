//! The request and response fields the local mapping reads, collected from the data files
//! (so a new rule or table entry reaches the SQL without a code change). The query projects
//! each field's top-level key whole: arrays, EC2's `items` wrappers and nested paths are
//! then read by the same code as from a log file, and the mapping cannot tell the difference.

use std::collections::BTreeSet;
use std::sync::LazyLock;

const MAPPING: &str = include_str!("../../data/mapping.toml");
const RESOURCES: &str = include_str!("../../data/resources.toml");
const LIFECYCLE: &str = include_str!("../../data/lifecycle.toml");
const IDENTIFIERS: &str = include_str!("../../data/identifiers.toml");
const APIGATEWAY: &str = include_str!("../../data/sdk/apigateway.tsv");
const OPERATIONS: &str = include_str!("../../data/sdk/operations.tsv");

/// The member query-protocol services wrap lists in (see `crate::fields`): a top-level list
/// may be recorded wrapped, so the wrapper is projected too.
const ITEMS: &str = "items";

/// A data file the projection could not be read from.
#[derive(Debug, Clone, thiserror::Error)]
#[error("query projection: {0}")]
pub struct ProjectionError(String);

/// What the query projects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    /// Top-level keys of `requestParameters` any table reads.
    pub request: BTreeSet<String>,
    /// Top-level keys of `responseElements` any table reads.
    pub response: BTreeSet<String>,
    /// Event-name verbs of creating calls, whose whole response is scanned for the
    /// identifiers AWS generated (`data/identifiers.toml`).
    pub creators: Vec<String>,
}

static PARSED: LazyLock<Result<Projection, ProjectionError>> = LazyLock::new(|| {
    Projection::from_tables(&Tables {
        mapping: MAPPING,
        resources: RESOURCES,
        lifecycle: LIFECYCLE,
        identifiers: IDENTIFIERS,
        apigateway: APIGATEWAY,
        operations: OPERATIONS,
    })
});

/// The data files' text.
#[derive(Debug, Clone, Copy)]
pub struct Tables<'a> {
    pub mapping: &'a str,
    pub resources: &'a str,
    pub lifecycle: &'a str,
    pub identifiers: &'a str,
    pub apigateway: &'a str,
    pub operations: &'a str,
}

impl Projection {
    /// The projection of the tables embedded in this binary.
    ///
    /// # Errors
    /// Only if an embedded table is malformed, which the tests rule out.
    pub fn embedded() -> Result<&'static Self, ProjectionError> {
        PARSED.as_ref().map_err(Clone::clone)
    }

    /// Collects the fields every table names.
    ///
    /// # Errors
    /// A table that does not parse, or a key that is not a plain identifier (it could not
    /// be written as a JSON path the same way in every engine).
    pub fn from_tables(tables: &Tables<'_>) -> Result<Self, ProjectionError> {
        let toml = |name: &str, text: &str| {
            text.parse::<toml::Table>()
                .map_err(|e| ProjectionError(format!("{name}: {e}")))
        };
        let mut request = BTreeSet::from([ITEMS.to_owned()]);
        let mut response = BTreeSet::from([ITEMS.to_owned()]);
        // `request.x.y` / `response.x` anywhere in the resource table (paths, variable
        // sources, `when` conditions).
        let resources = toml("data/resources.toml", tables.resources)?;
        walk_paths(&toml::Value::Table(resources), &mut request, &mut response);
        // Dependent rules: `when` paths and `word.path` are request paths without the root.
        let mapping = toml("data/mapping.toml", tables.mapping)?;
        for rule in array(&mapping, "dependents") {
            for path in rule
                .get("when")
                .and_then(toml::Value::as_array)
                .into_iter()
                .flatten()
            {
                request.extend(path.as_str().map(first_segment));
            }
            let word = rule.get("word").and_then(|w| w.get("path"));
            request.extend(word.and_then(toml::Value::as_str).map(first_segment));
        }
        // Aliases: the request field that holds the alias.
        let lifecycle = toml("data/lifecycle.toml", tables.lifecycle)?;
        for rule in array(&lifecycle, "aliases") {
            request.extend(
                rule.get("alias")
                    .and_then(toml::Value::as_str)
                    .map(first_segment),
            );
        }
        // API Gateway resources: each `{member}` of a request path is a request field.
        for line in data_lines(tables.apigateway) {
            let path = line.split('\t').nth(4).unwrap_or_default();
            for member in path.split('{').skip(1) {
                if let Some((member, _)) = member.split_once('}') {
                    request.insert(first_segment(member));
                }
            }
        }
        // SDK operations: request paths holding a role ARN or tags (the derived rules and
        // the tags a creating call gives).
        for line in data_lines(tables.operations) {
            for column in line.split('\t').skip(4).take(2) {
                request.extend(
                    column
                        .split(',')
                        .filter(|p| !p.is_empty())
                        .map(first_segment),
                );
            }
        }
        let identifiers = toml("data/identifiers.toml", tables.identifiers)?;
        let creators = identifiers
            .get("creators")
            .and_then(toml::Value::as_array)
            .ok_or_else(|| ProjectionError("data/identifiers.toml: no creators".to_owned()))?
            .iter()
            .filter_map(toml::Value::as_str)
            .map(str::to_owned)
            .collect();
        for key in request.iter().chain(&response) {
            if !is_identifier(key) {
                return Err(ProjectionError(format!(
                    "field {key:?} is not a plain identifier"
                )));
            }
        }
        Ok(Self {
            request,
            response,
            creators,
        })
    }
}

/// Whether a key can be written `$.key` in every engine's JSON path.
#[must_use]
pub fn is_identifier(key: &str) -> bool {
    key.bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn first_segment(path: &str) -> String {
    path.split('.').next().unwrap_or_default().to_owned()
}

fn array<'t>(table: &'t toml::Table, key: &str) -> impl Iterator<Item = &'t toml::Value> {
    table
        .get(key)
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
}

fn data_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
}

/// Every string of the value that is a `request.`/`response.` path, by its first key.
fn walk_paths(
    value: &toml::Value,
    request: &mut BTreeSet<String>,
    response: &mut BTreeSet<String>,
) {
    match value {
        toml::Value::String(text) => {
            if let Some(rest) = text.strip_prefix("request.") {
                request.insert(first_segment(rest));
            } else if let Some(rest) = text.strip_prefix("response.") {
                response.insert(first_segment(rest));
            }
        }
        toml::Value::Array(items) => {
            for item in items {
                walk_paths(item, request, response);
            }
        }
        toml::Value::Table(table) => {
            for item in table.values() {
                walk_paths(item, request, response);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_tables_give_a_projection_of_identifiers() {
        let projection = Projection::embedded().unwrap();
        for key in [
            "roleArn",
            "tags",
            "aliasName",
            "apiId",
            "functionName",
            "role",
        ] {
            assert!(projection.request.contains(key), "{key}");
        }
        for key in ["keyMetadata", "functionArn", "role"] {
            assert!(projection.response.contains(key), "{key}");
        }
        assert!(projection.creators.iter().any(|c| c == "Create"));
        // A projection, not the whole record.
        assert!(
            projection.request.len() < 1_000,
            "{}",
            projection.request.len()
        );
    }

    #[test]
    fn a_new_rule_reaches_the_projection() {
        let mapping = format!(
            "{MAPPING}\n[[dependents]]\nevent = \"x:Y\"\nwhen = [\"brandNewField.inner\"]\nactions = [\"x:Z\"]\nwhy = \"w\"\nevidence = \"e\"\n"
        );
        let projection = Projection::from_tables(&Tables {
            mapping: &mapping,
            resources: RESOURCES,
            lifecycle: LIFECYCLE,
            identifiers: IDENTIFIERS,
            apigateway: APIGATEWAY,
            operations: OPERATIONS,
        })
        .unwrap();
        assert!(projection.request.contains("brandNewField"));
        assert!(
            !Projection::embedded()
                .unwrap()
                .request
                .contains("brandNewField")
        );
    }

    #[test]
    fn a_key_no_engine_can_path_is_refused() {
        let resources = format!("{RESOURCES}\n[variables.zz]\nX = [\"request.odd-key\"]\n");
        let error = Projection::from_tables(&Tables {
            mapping: MAPPING,
            resources: &resources,
            lifecycle: LIFECYCLE,
            identifiers: IDENTIFIERS,
            apigateway: APIGATEWAY,
            operations: OPERATIONS,
        })
        .unwrap_err();
        assert!(error.to_string().contains("odd-key"), "{error}");
    }
}
