//! Rows of the grouped query → the scan's tally: each row becomes one event carrying the
//! projected request and response (the fields the tables read, nothing else), mapped by the
//! same code as a log file's events, with the row's count, times, error code, principals,
//! sessions and services as its evidence.

use std::collections::BTreeSet;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::parse::{Event, Identity};
use crate::scan::{Context, Seen, Tally};

use super::projection::Projection;
use super::spec::Dialect;
use super::sql::{self, JOIN};

/// A result that does not have the shape the query asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowError {
    #[error("the result's columns are not the query's (expected {expected}, got {found})")]
    Header { expected: String, found: String },
    #[error("result row {row}: column {column}: {reason}")]
    Malformed {
        row: usize,
        column: String,
        reason: String,
    },
}

/// One result row: each column's text, `None` for SQL NULL.
pub type Row = Vec<Option<String>>;

/// Checks the header row against the query's columns.
///
/// # Errors
/// Other columns, or the same in another order.
pub fn check_header(
    header: &[Option<String>],
    projection: &Projection,
    dialect: Dialect,
) -> Result<(), RowError> {
    let expected = sql::columns(projection, dialect);
    let found: Vec<String> = header
        .iter()
        .map(|c| c.as_deref().unwrap_or_default().to_ascii_lowercase())
        .collect();
    if found != expected {
        return Err(RowError::Header {
            expected: expected.join(","),
            found: found.join(","),
        });
    }
    Ok(())
}

/// Tallies the data rows (the header already checked), in the scan's terms.
///
/// # Errors
/// A row of the wrong width, a count that is not a number, a projected field that is not
/// JSON: nothing is tallied then (a half-read result is not presented as complete).
pub fn tally(
    rows: &[Row],
    projection: &Projection,
    dialect: Dialect,
    context: &Context<'_>,
) -> Result<Tally, RowError> {
    let width = sql::columns(projection, dialect).len();
    let mut tally = Tally::default();
    for (n, row) in rows.iter().enumerate() {
        let number = n + 1;
        if row.len() != width {
            return Err(RowError::Malformed {
                row: number,
                column: "*".to_owned(),
                reason: format!("{} columns, expected {width}", row.len()),
            });
        }
        let parsed = Parsed::new(number, row, projection, dialect)?;
        let event = parsed.event();
        tally.keep_aggregated(&event, parsed.seen.clone(), &parsed.last, context);
    }
    Ok(tally)
}

/// One row, decoded.
struct Parsed<'r> {
    row: &'r [Option<String>],
    request: Option<Box<RawValue>>,
    response: Option<Box<RawValue>>,
    resources: Option<Box<RawValue>>,
    seen: Seen,
    last: String,
}

impl<'r> Parsed<'r> {
    #[expect(
        clippy::too_many_lines,
        reason = "one row's columns in order; sessions are now capped here"
    )]
    fn new(
        number: usize,
        row: &'r [Option<String>],
        projection: &Projection,
        dialect: Dialect,
    ) -> Result<Self, RowError> {
        let malformed = |column: &str, reason: String| RowError::Malformed {
            row: number,
            column: column.to_owned(),
            reason,
        };
        let text = |i: usize| row.get(i).and_then(Option::as_deref);
        let json = |i: usize, column: &str| -> Result<Option<Value>, RowError> {
            text(i)
                .map(|t| {
                    serde_json::from_str::<Value>(t).map_err(|e| malformed(column, e.to_string()))
                })
                .transpose()
        };
        // A top-level field: JSON text on Athena, a map's text on Lake.
        let field = |i: usize, column: &str| match dialect {
            Dialect::Athena => json(i, column),
            Dialect::Lake => Ok(text(i).map(lake_value)),
        };
        for (i, column) in [(0, "eventsource"), (1, "eventname")] {
            if text(i).is_none_or(str::is_empty) {
                return Err(malformed(column, "empty".to_owned()));
            }
        }
        let mut next = sql::KEYS.len();
        let object = |keys: &BTreeSet<String>,
                      prefix: &str,
                      next: &mut usize|
         -> Result<Option<Box<RawValue>>, RowError> {
            let mut map = Map::new();
            for (n, key) in keys.iter().enumerate() {
                if let Some(value) = field(*next, &format!("{prefix}{n}"))? {
                    map.insert(key.clone(), value);
                }
                *next += 1;
            }
            Ok(if map.is_empty() {
                None
            } else {
                raw(&Value::Object(map))
            })
        };
        let request = match dialect {
            Dialect::Athena => object(&projection.request, "req_", &mut next)?,
            Dialect::Lake => {
                let whole = json(next, sql::REQUEST_WHOLE)?;
                next += 1;
                whole
                    .map(|w| lake_object(w, Some(&projection.request)))
                    .filter(|w| w.as_object().is_some_and(|o| !o.is_empty()))
                    .and_then(|w| raw(&w))
            }
        };
        let response = object(&projection.response, "resp_", &mut next)?;
        // A creating call's whole response, when the query returned it.
        let response = match json(7, "response_whole")? {
            Some(whole) => raw(&match dialect {
                Dialect::Athena => whole,
                Dialect::Lake => lake_object(whole, None),
            }),
            None => response,
        };
        let resources = resources(json(6, "resource_arns")?)
            .map_err(|reason| malformed("resource_arns", reason))?;
        let at = |name: &str| next + sql::AGGREGATES.iter().position(|a| *a == name).unwrap_or(0);
        let count = text(at("calls"))
            .and_then(|c| c.parse::<u64>().ok())
            .filter(|c| *c > 0)
            .ok_or_else(|| malformed("calls", format!("{:?} is not a count", text(at("calls")))))?;
        let first = text(at("first_time"))
            .filter(|t| !t.is_empty())
            .ok_or_else(|| malformed("first_time", "empty".to_owned()))?;
        let last = text(at("last_time"))
            .filter(|t| !t.is_empty())
            .ok_or_else(|| malformed("last_time", "empty".to_owned()))?;
        let set = |name: &str| -> BTreeSet<String> {
            text(at(name))
                .map(|t| t.split(JOIN).map(str::to_owned).collect())
                .unwrap_or_default()
        };
        let mut seen = Seen {
            count,
            first: first.to_owned(),
            last: last.to_owned(),
            regions: BTreeSet::from([text(2).unwrap_or_default().to_owned()]),
            principals: set("principals"),
            // Examples only, as the local scan keeps them.
            sessions: set("sessions")
                .into_iter()
                .take(crate::scan::EXAMPLES)
                .collect(),
            via: set("via"),
            ..Seen::default()
        };
        if let Some(code) = text(5) {
            seen.errors.insert(code.to_owned(), count);
        }
        Ok(Self {
            row,
            request,
            response,
            resources,
            seen,
            last: last.to_owned(),
        })
    }

    /// The row as one event at its first time.
    fn event(&self) -> Event<'_> {
        let text = |i: usize| {
            self.row
                .get(i)
                .and_then(Option::as_deref)
                .unwrap_or_default()
        };
        let account = text(3);
        let partition = text(4);
        Event {
            time: self.seen.first.as_str().into(),
            source: text(0).into(),
            name: text(1).into(),
            region: text(2).into(),
            identity: Identity {
                // Only its partition is read by the map stage (ARNs it builds).
                arn: (!partition.is_empty()).then(|| format!("arn:{partition}:").into()),
                account: (!account.is_empty()).then(|| account.into()),
                ..Identity::default()
            },
            error_code: self.row.get(5).and_then(Option::as_deref).map(Into::into),
            error_message: self.row.get(8).and_then(Option::as_deref).map(Into::into),
            recipient_account: (!account.is_empty()).then(|| account.into()),
            request: self.request.as_deref(),
            response: self.response.as_deref(),
            resources: self.resources.as_deref(),
            ..Event::default()
        }
    }
}

/// The `resources` of an event from the row's JSON array of their ARNs.
fn resources(arns: Option<Value>) -> Result<Option<Box<RawValue>>, String> {
    match arns {
        Some(Value::Array(arns)) => Ok(raw(&Value::Array(
            arns.into_iter()
                .map(|arn| {
                    let mut item = Map::new();
                    item.insert("ARN".to_owned(), arn);
                    Value::Object(item)
                })
                .collect(),
        ))),
        Some(Value::Null) | None => Ok(None),
        Some(other) => Err(format!("not an array: {other}")),
    }
}

/// A value of Lake's `map(varchar, varchar)` columns as the JSON value the log file holds.
/// Lake keeps an object or an array as its compact JSON text and any other value as its
/// text (a string without quotes, `true`, `50`), so the type of a top-level value is lost.
/// Text that is a JSON object or array becomes that value; `true`/`false` and a plain
/// integer become a boolean and a number; anything else a string. The mapping reads
/// numbers and booleans as their text, so a string `"7"` read back as the number 7 maps the
/// same; and the scan for generated identifiers, which looks only at strings, does not take
/// a response's `"timeout": 3` for a Lambda version (an identifier made of digits is found
/// in the ARN that carries it, which is a string).
fn lake_value(text: &str) -> Value {
    if text.starts_with(['{', '['])
        && let Ok(value) = serde_json::from_str::<Value>(text)
        && (value.is_object() || value.is_array())
    {
        return value;
    }
    match text {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    // Digits without a leading zero, short enough to be the same number written back.
    if !text.is_empty()
        && text.len() <= 15
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'))
        && let Ok(number) = text.parse::<u64>()
    {
        return Value::from(number);
    }
    Value::String(text.to_owned())
}

/// A whole Lake map (as the JSON object of its texts), each value decoded; with `keep`, only
/// those keys (the projection: what the mapping reads from Athena).
fn lake_object(whole: Value, keep: Option<&BTreeSet<String>>) -> Value {
    match whole {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(key, _)| keep.is_none_or(|keep| keep.contains(key)))
                .map(|(key, value)| match value {
                    Value::String(text) => (key, lake_value(&text)),
                    other => (key, other),
                })
                .collect(),
        ),
        other => other,
    }
}

/// A value as the raw JSON an event holds (serialising a `Value` does not fail).
fn raw(value: &Value) -> Option<Box<RawValue>> {
    serde_json::value::to_raw_value(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{Criteria, Filter};
    use crate::mapping::Mapper;

    fn header(projection: &Projection) -> Row {
        sql::columns(projection, Dialect::Athena)
            .into_iter()
            .map(Some)
            .collect()
    }

    /// A row of `GetBucketTagging` on one bucket, `count` times.
    fn row(projection: &Projection, count: &str) -> Row {
        let mut row: Row = vec![None; sql::columns(projection, Dialect::Athena).len()];
        let set = |row: &mut Row, column: &str, value: &str| {
            let at = sql::columns(projection, Dialect::Athena)
                .iter()
                .position(|c| c == column)
                .unwrap();
            row[at] = Some(value.to_owned());
        };
        set(&mut row, "eventsource", "s3.amazonaws.com");
        set(&mut row, "eventname", "GetBucketTagging");
        set(&mut row, "awsregion", "eu-west-1");
        set(&mut row, "call_account", "111122223333");
        set(&mut row, "arn_partition", "aws");
        set(&mut row, "errorcode", "NoSuchTagSet");
        let bucket = projection
            .request
            .iter()
            .position(|k| k == "bucketName")
            .unwrap();
        set(&mut row, &format!("req_{bucket}"), "\"psoxy-data\"");
        set(&mut row, "calls", count);
        set(&mut row, "first_time", "2026-11-20T10:01:00Z");
        set(&mut row, "last_time", "2026-11-20T10:09:00Z");
        set(&mut row, "principals", "arn:aws:iam::111122223333:role/ci");
        set(&mut row, "sessions", "a\nb");
        row
    }

    #[test]
    fn a_row_becomes_a_call_with_its_evidence() {
        let projection = Projection::embedded().unwrap();
        check_header(&header(projection), projection, Dialect::Athena).unwrap();
        let filter = Filter::new(&Criteria::default()).unwrap();
        let context = Context::new(&filter, Mapper::embedded().unwrap(), 1 << 20, false);
        let tally = tally(
            &[row(projection, "3")],
            projection,
            Dialect::Athena,
            &context,
        )
        .unwrap();
        assert_eq!(tally.kept, 3);
        let (call, seen) = tally.calls.iter().next().unwrap();
        assert_eq!(&*call.name, "GetBucketTagging");
        // Calls aggregate without their resources; the evidence keeps them.
        assert!(
            seen.arns
                .typed()
                .iter()
                .any(|(a, _)| &*a.arn == "arn:aws:s3:::psoxy-data"),
            "{seen:?}"
        );
        assert_eq!(seen.count, 3);
        assert_eq!(seen.errors.get("NoSuchTagSet"), Some(&3));
        assert_eq!(seen.sessions.len(), 2);
        assert_eq!(seen.last, "2026-11-20T10:09:00Z");
    }

    #[test]
    fn a_malformed_row_fails_the_whole_result() {
        let projection = Projection::embedded().unwrap();
        let filter = Filter::new(&Criteria::default()).unwrap();
        let context = Context::new(&filter, Mapper::embedded().unwrap(), 1 << 20, false);
        let good = row(projection, "1");
        for (bad, column) in [
            (row(projection, "many"), "calls"),
            (good[..3].to_vec(), "*"),
            (
                {
                    let mut r = good.clone();
                    r[6] = Some("{not json".to_owned());
                    r
                },
                "resource_arns",
            ),
        ] {
            let error =
                tally(&[good.clone(), bad], projection, Dialect::Athena, &context).unwrap_err();
            assert!(
                matches!(&error, RowError::Malformed { row: 2, column: c, .. } if c == column),
                "{error}"
            );
        }
        let mut other = header(projection);
        other.swap(0, 1);
        assert!(check_header(&other, projection, Dialect::Athena).is_err());
    }

    #[test]
    fn lake_map_texts_become_the_log_files_values() {
        assert_eq!(lake_value("psoxy-data"), Value::String("psoxy-data".into()));
        assert_eq!(lake_value("50"), serde_json::json!(50));
        assert_eq!(lake_value("true"), serde_json::json!(true));
        // Not numbers as JSON writes them: they stay text.
        for text in ["007", "111122223333444455556666", "1.5", "-1", ""] {
            assert_eq!(lake_value(text), Value::String(text.into()), "{text}");
        }
        assert_eq!(
            lake_value(r#"{"items":[{"key":"app"}]}"#),
            serde_json::json!({"items": [{"key": "app"}]})
        );
        assert_eq!(lake_value(r#"["a","b"]"#), serde_json::json!(["a", "b"]));
        // Text that only looks like JSON stays text.
        assert_eq!(lake_value("{not json"), Value::String("{not json".into()));
        let keep = BTreeSet::from(["bucketName".to_owned(), "tagging".to_owned()]);
        let whole = serde_json::json!({
            "bucketName": "psoxy-data",
            "tagging": r#"{"TagSet":[{"Key":"app"}]}"#,
            "Host": "psoxy-data.s3.amazonaws.com"
        });
        assert_eq!(
            lake_object(whole.clone(), Some(&keep)),
            serde_json::json!({"bucketName": "psoxy-data", "tagging": {"TagSet": [{"Key": "app"}]}})
        );
        assert_eq!(
            lake_object(whole, None)["Host"],
            "psoxy-data.s3.amazonaws.com"
        );
    }

    /// Tallies one Lake row of a call with these columns (and a count, times and account).
    fn lake_tally(source: &str, name: &str, columns_set: &[(&str, &str)]) -> Tally {
        let projection = Projection::embedded().unwrap();
        let columns = sql::columns(projection, Dialect::Lake);
        let mut row: Row = vec![None; columns.len()];
        let common = [
            ("eventsource", source),
            ("eventname", name),
            ("awsregion", "eu-west-1"),
            ("call_account", "111122223333"),
            ("arn_partition", "aws"),
            ("calls", "2"),
            ("first_time", "2026-11-20T10:01:00Z"),
            ("last_time", "2026-11-20T10:02:00Z"),
        ];
        for (column, value) in common.iter().chain(columns_set) {
            let at = columns.iter().position(|c| c == column).unwrap();
            row[at] = Some((*value).to_owned());
        }
        let filter = Filter::new(&Criteria::default()).unwrap();
        let context = Context::new(&filter, Mapper::embedded().unwrap(), 1 << 20, false);
        tally(&[row], projection, Dialect::Lake, &context).unwrap()
    }

    #[test]
    fn a_lake_row_reads_the_whole_request_as_its_projected_fields() {
        let tally = lake_tally(
            "s3.amazonaws.com",
            "GetBucketTagging",
            &[(
                sql::REQUEST_WHOLE,
                r#"{"bucketName":"psoxy-data","Host":"psoxy-data.s3.amazonaws.com"}"#,
            )],
        );
        let (call, seen) = tally.calls.iter().next().unwrap();
        assert_eq!(&*call.name, "GetBucketTagging");
        assert!(
            seen.arns
                .typed()
                .iter()
                .any(|(a, _)| &*a.arn == "arn:aws:s3:::psoxy-data"),
            "{seen:?}"
        );
        assert_eq!(seen.count, 2);
    }

    #[test]
    fn a_lake_response_number_is_not_taken_for_a_generated_identifier() {
        // Lake's map of a CreateFunction response: numbers are text.
        let tally = lake_tally(
            "lambda.amazonaws.com",
            "CreateFunction20150331",
            &[(
                "response_whole",
                r#"{"functionName":"psoxy-fn","functionArn":"arn:aws:lambda:eu-west-1:111122223333:function:psoxy-fn","timeout":"3","memorySize":"128","version":"$LATEST"}"#,
            )],
        );
        assert!(
            !tally
                .created
                .iter()
                .any(|(_, id)| &**id == "3" || &**id == "128"),
            "{:?}",
            tally.created
        );
    }
}
