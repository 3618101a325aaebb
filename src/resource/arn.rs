//! ARN templates from the reference (`arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}`):
//! fitting a concrete ARN to the template it instantiates, and rendering a template from
//! variable values.

#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::collections::BTreeMap;

/// A template split into literal text and `${Variable}` slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(String),
}

/// Variable name → value.
pub type Vars = BTreeMap<String, String>;

impl Template {
    #[must_use]
    pub fn parse(template: &str) -> Self {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some((before, after)) = rest.split_once("${") {
            if !before.is_empty() {
                parts.push(Part::Text(before.to_owned()));
            }
            let Some((name, tail)) = after.split_once('}') else {
                rest = "";
                break;
            };
            parts.push(Part::Var(name.to_owned()));
            rest = tail;
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Self { parts }
    }

    /// Whether the template ends with a variable (`key/${KeyId}`), not literal text.
    #[must_use]
    pub fn ends_with_variable(&self) -> bool {
        matches!(self.parts.last(), Some(Part::Var(_)))
    }

    /// The template with every variable a wildcard: the resource type's `*`
    /// (`arn:*:s3:::*/*`).
    #[must_use]
    pub fn starred(&self) -> String {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.as_str(),
                Part::Var(_) => "*",
            })
            .collect()
    }

    /// The variables the template needs.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Var(name) => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// How much fixed text the template has: the more, the more specific a fit.
    #[must_use]
    pub fn specificity(&self) -> usize {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.len(),
                Part::Var(_) => 0,
            })
            .sum()
    }

    /// The variables of `arn` if it instantiates this template. A variable takes a non-empty
    /// run without `:`, except the last one, which takes the rest (S3 keys, paths); account
    /// and region may be empty (`arn:aws:s3:::bucket`).
    #[must_use]
    pub fn fit(&self, arn: &str) -> Option<Vars> {
        let mut spans = Vec::with_capacity(self.parts.len());
        if !fit_from(&self.parts, arn, 0, &mut Some(&mut spans)) {
            return None;
        }
        let names = self.parts.iter().filter_map(|part| match part {
            Part::Var(name) => Some(name),
            Part::Text(_) => None,
        });
        names
            .zip(spans)
            .map(|(name, (from, to))| Some((name.clone(), arn.get(from..to)?.to_owned())))
            .collect()
    }

    /// Whether `arn` instantiates this template (no allocation).
    #[must_use]
    pub fn matches(&self, arn: &str) -> bool {
        fit_from(&self.parts, arn, 0, &mut None)
    }

    /// Renders the template; `None` if a variable has no value.
    #[must_use]
    pub fn render(&self, vars: &Vars) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Var(name) => out.push_str(vars.get(name)?),
            }
        }
        Some(out)
    }
}

/// Each variable's byte span, when the caller wants them (`matches` does not: it runs for
/// every template of a service on every ARN a call names, and allocates nothing).
type Spans<'s> = Option<&'s mut Vec<(usize, usize)>>;

/// Matches `parts` against `text[at..]`, pushing each variable's byte span.
fn fit_from(parts: &[Part], text: &str, at: usize, spans: &mut Spans<'_>) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return at == text.len();
    };
    match first {
        Part::Text(literal) => {
            text.get(at..)
                .is_some_and(|tail| tail.starts_with(literal.as_str()))
                && fit_from(rest, text, at + literal.len(), spans)
        }
        Part::Var(name) => {
            let Some(remaining) = text.get(at..) else {
                return false;
            };
            if rest.is_empty() {
                if remaining.is_empty() {
                    return false;
                }
                if let Some(spans) = spans {
                    spans.push((at, text.len()));
                }
                return true;
            }
            // The next literal must follow the variable: try each place it occurs, up to the
            // first ':' (a variable other than the last holds none).
            let limit = memchr::memchr(b':', remaining.as_bytes()).unwrap_or(remaining.len());
            if let Some(Part::Text(next)) = rest.first() {
                // Byte offsets always step over whole characters: a record's account or
                // region may hold any character (a panic here lost a whole run).
                let mut from = remaining.chars().next().map_or(1, char::len_utf8);
                while from <= limit {
                    let Some(found) = remaining
                        .get(from..)
                        .and_then(|tail| memchr::memmem::find(tail.as_bytes(), next.as_bytes()))
                    else {
                        break;
                    };
                    let end = from + found;
                    if end > limit {
                        break;
                    }
                    if let Some(spans) = spans {
                        spans.push((at, at + end));
                    }
                    if fit_from(rest, text, at + end, spans) {
                        return true;
                    }
                    if let Some(spans) = spans {
                        spans.pop();
                    }
                    from = end
                        + remaining
                            .get(end..)
                            .and_then(|tail| tail.chars().next())
                            .map_or(1, char::len_utf8);
                }
            }
            // Account and region may be empty in some ARNs (`arn:aws:s3:::bucket`).
            if matches!(name.as_str(), "Region" | "Account") {
                if let Some(spans) = spans {
                    spans.push((at, at));
                }
                if fit_from(rest, text, at, spans) {
                    return true;
                }
                if let Some(spans) = spans {
                    spans.pop();
                }
            }
            false
        }
    }
}

/// The service segment of an ARN (`arn:aws:iam::1:role/x` → `iam`).
#[must_use]
pub fn service(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(4, ':');
    (parts.next()? == "arn").then_some(())?;
    let _partition = parts.next()?;
    parts.next().filter(|s| !s.is_empty())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test_case::test_case("arn:aws:lambda:é:1:function:f" ; "non-ASCII region")]
    #[test_case::test_case("arn:aws:lambda:eu-west-1:é:function:f" ; "non-ASCII account")]
    #[test_case::test_case("arn:aws:lambda:éé:ü1:function:ñ" ; "non-ASCII everywhere")]
    #[test_case::test_case("arn:aws:lambda:\u{1F600}x:1:function:f" ; "four-byte character")]
    fn a_non_ascii_account_or_region_does_not_panic(arn: &str) {
        let t = Template::parse(
            "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}",
        );
        assert!(t.matches(arn));
        assert!(t.fit(arn).is_some());
    }

    #[test]
    fn fits_and_renders_round_trip() {
        let t = Template::parse(
            "arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}",
        );
        let vars = t
            .fit("arn:aws:lambda:eu-west-1:111122223333:function:psoxy-gcal")
            .unwrap();
        assert_eq!(vars["FunctionName"], "psoxy-gcal");
        assert_eq!(vars["Region"], "eu-west-1");
        assert_eq!(
            t.render(&vars).unwrap(),
            "arn:aws:lambda:eu-west-1:111122223333:function:psoxy-gcal"
        );
        assert!(t.fit("arn:aws:lambda:eu-west-1:1:layer:x").is_none());
    }

    #[test]
    fn empty_account_and_region_and_paths_fit() {
        let bucket = Template::parse("arn:${Partition}:s3:::${BucketName}");
        let object = Template::parse("arn:${Partition}:s3:::${BucketName}/${ObjectName}");
        assert_eq!(bucket.fit("arn:aws:s3:::b").unwrap()["BucketName"], "b");
        let vars = object.fit("arn:aws:s3:::b/k/ey:x").unwrap();
        assert_eq!(
            (vars["BucketName"].as_str(), vars["ObjectName"].as_str()),
            ("b", "k/ey:x")
        );
        assert!(object.specificity() > bucket.specificity());
        let role = Template::parse("arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}");
        assert_eq!(
            role.fit("arn:aws:iam::1:role/a/b").unwrap()["RoleNameWithPath"],
            "a/b"
        );
    }

    #[test]
    fn missing_variables_do_not_render() {
        let t = Template::parse("arn:${Partition}:sqs:${Region}:${Account}:${QueueName}");
        assert_eq!(
            t.variables().collect::<Vec<_>>(),
            ["Partition", "Region", "Account", "QueueName"]
        );
        assert!(t.render(&Vars::new()).is_none());
    }

    #[test]
    fn service_segment() {
        assert_eq!(service("arn:aws:iam::1:role/x"), Some("iam"));
        assert_eq!(service("not-an-arn"), None);
    }
}
