//! Reading request parameters and response elements by dotted path
//! (`targets.roleArn`): objects are descended, arrays searched element by element.

use serde_json::Value;

/// Values found at `path` under `value`: strings as they are, numbers and booleans as text,
/// and `…` for a non-empty object or array; empty strings, nulls and empty containers are
/// absent.
pub fn collect<'p>(
    value: &Value,
    mut path: impl Iterator<Item = &'p str> + Clone,
    out: &mut Vec<Box<str>>,
) {
    match value {
        Value::Array(items) => {
            for item in items {
                collect(item, path.clone(), out);
            }
        }
        _ => match path.next() {
            Some(segment) => {
                if let Some(next) = value.as_object().and_then(|o| o.get(segment)) {
                    collect(next, path, out);
                }
            }
            None => match value {
                Value::String(s) if !s.is_empty() => out.push(s.as_str().into()),
                Value::Number(n) => out.push(n.to_string().into()),
                Value::Bool(b) => out.push(b.to_string().into()),
                Value::Object(o) if !o.is_empty() => out.push("…".into()),
                _ => {}
            },
        },
    }
}

/// The three parts of an event a path can start from.
#[derive(Debug, Default)]
pub struct Parts {
    pub request: Option<Value>,
    pub response: Option<Value>,
    pub resources: Option<Value>,
}

impl Parts {
    /// Values at a path starting with `request.`, `response.` or `resources.`.
    #[must_use]
    pub fn values(&self, path: &str) -> Vec<Box<str>> {
        let mut out = Vec::new();
        let (root, rest) = path.split_once('.').unwrap_or((path, ""));
        let value = match root {
            "request" => self.request.as_ref(),
            "response" => self.response.as_ref(),
            "resources" => self.resources.as_ref(),
            _ => None,
        };
        if let Some(value) = value {
            collect(value, rest.split('.').filter(|s| !s.is_empty()), &mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_descend_objects_and_search_arrays() {
        let parts = Parts {
            request: Some(
                serde_json::json!({"targets": [{"roleArn": "a"}, {"id": 1}, {"roleArn": "b"}], "tags": {}, "n": 3}),
            ),
            ..Parts::default()
        };
        assert_eq!(
            parts.values("request.targets.roleArn"),
            [Box::from("a"), Box::from("b")]
        );
        assert!(parts.values("request.tags").is_empty());
        assert_eq!(parts.values("request.n"), [Box::from("3")]);
        assert!(parts.values("response.x").is_empty());
    }
}
