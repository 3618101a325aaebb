//! Reading request parameters and response elements by dotted path
//! (`targets.roleArn`): objects are descended, arrays searched element by element.

use serde_json::Value;

/// The member query-protocol services (EC2) wrap lists in, as CloudTrail records them.
const ITEMS: &str = "items";

/// Values found at the dotted `path` under `value`: strings as they are, numbers and
/// booleans as text, and `…` for a non-empty object or array; empty strings, nulls and
/// empty containers are absent. A list is found whether or not the record wraps it in
/// `{"items": [...]}` (EC2 does, the other query-protocol services do not). The path is
/// split as it is walked: the mapping reads hundreds of paths per call, most of them absent,
/// and none of them allocates.
pub fn collect(value: &Value, path: &str, out: &mut Vec<Box<str>>) {
    let path = path.trim_start_matches('.');
    match value {
        Value::Array(items) => {
            for item in items {
                collect(item, path, out);
            }
        }
        _ if path.is_empty() => match value {
            Value::String(s) if !s.is_empty() => out.push(s.as_str().into()),
            Value::Number(n) => out.push(n.to_string().into()),
            Value::Bool(b) => out.push(b.to_string().into()),
            Value::Object(o) if !o.is_empty() => out.push("…".into()),
            _ => {}
        },
        _ => {
            let (segment, rest) = split(path);
            let object = value.as_object();
            if let Some(next) = object.and_then(|o| member(o, segment)) {
                collect(next, rest, out);
            } else if segment == ITEMS {
                // The path expects EC2's `{"items": [...]}`, the record has the list.
                collect(value, rest, out);
            } else if let Some(items) = object.and_then(|o| member(o, ITEMS)) {
                // The record wraps a list in `items` where the path does not.
                collect(items, path, out);
            }
        }
    }
}

/// A path's first segment and the rest (`targets.roleArn` → `targets`, `roleArn`).
fn split(path: &str) -> (&str, &str) {
    match memchr::memchr(b'.', path.as_bytes()) {
        Some(dot) => (
            path.get(..dot).unwrap_or(path),
            path.get(dot + 1..).unwrap_or(""),
        ),
        None => (path, ""),
    }
}

/// An object's member. Request and response objects mostly have a few members, and the
/// mapping asks for hundreds of absent ones per call: comparing a few keys is cheaper than
/// hashing the name (serde_json's ordered map hashes with SipHash).
fn member<'v>(object: &'v serde_json::Map<String, Value>, key: &str) -> Option<&'v Value> {
    if object.len() <= 8 {
        object.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    } else {
        object.get(key)
    }
}

/// A record's raw JSON part as a value; absent when missing or not JSON.
#[must_use]
pub fn parsed(raw: Option<&serde_json::value::RawValue>) -> Option<Value> {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
}

/// The three parts of an event a path can start from.
#[derive(Debug, Default)]
pub struct Parts {
    pub request: Option<Value>,
    pub response: Option<Value>,
    pub resources: Option<Value>,
}

impl Parts {
    /// The part a path starts from, and the rest of the path.
    fn root<'p>(&self, path: &'p str) -> (Option<&Value>, &'p str) {
        let (root, rest) = split(path);
        let value = match root {
            "request" => self.request.as_ref(),
            "response" => self.response.as_ref(),
            "resources" => self.resources.as_ref(),
            _ => None,
        };
        (value, rest)
    }

    /// The keys of the objects at a path (`request.requestItems` → table names).
    #[must_use]
    pub fn keys(&self, path: &str) -> Vec<Box<str>> {
        let (value, rest) = self.root(path);
        let found = value.and_then(|value| {
            rest.split('.')
                .filter(|s| !s.is_empty())
                .try_fold(value, |value, segment| value.get(segment))
        });
        found
            .and_then(Value::as_object)
            .map(|object| object.keys().map(|k| k.as_str().into()).collect())
            .unwrap_or_default()
    }

    /// Values at a path starting with `request.`, `response.` or `resources.`.
    #[must_use]
    pub fn values(&self, path: &str) -> Vec<Box<str>> {
        let mut out = Vec::new();
        self.values_into(path, &mut out);
        out
    }

    /// [`Self::values`], added to `out` (one vector for many paths).
    pub fn values_into(&self, path: &str, out: &mut Vec<Box<str>>) {
        let (value, rest) = self.root(path);
        if let Some(value) = value {
            collect(value, rest, out);
        }
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

    #[test]
    fn members_are_found_in_small_and_large_objects() {
        for size in [1, 8, 9, 40] {
            let object: serde_json::Map<String, Value> = (0..size)
                .map(|i| (format!("k{i}"), serde_json::json!({"v": i.to_string()})))
                .collect();
            let parts = Parts {
                request: Some(Value::Object(object)),
                ..Parts::default()
            };
            let last = format!("request.k{}.v", size - 1);
            assert_eq!(parts.values(&last), [Box::from((size - 1).to_string())]);
            assert!(parts.values("request.absent.v").is_empty(), "{size}");
            assert_eq!(parts.values("request.k0.v"), [Box::from("0")], "{size}");
        }
    }

    #[test]
    fn lists_are_found_with_or_without_items() {
        let parts = Parts {
            request: Some(serde_json::json!({
                "ec2": {"items": [{"groupId": "sg-1"}]},
                "plain": [{"groupId": "sg-2"}],
            })),
            ..Parts::default()
        };
        for path in ["request.ec2.items.groupId", "request.ec2.groupId"] {
            assert_eq!(parts.values(path), [Box::from("sg-1")], "{path}");
        }
        for path in ["request.plain.items.groupId", "request.plain.groupId"] {
            assert_eq!(parts.values(path), [Box::from("sg-2")], "{path}");
        }
    }
}
