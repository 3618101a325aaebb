//! Pushing filter-and-aggregate to the engine over the trail, Amazon Athena or CloudTrail
//! Lake: the grouped query ([`sql`], in each engine's dialect; its `WHERE` clause in
//! [`conditions`]; both built from a [`spec`]) projecting only the fields the tables read ([`projection`]), the rows it
//! returns turned into the scan's tally ([`rows`]), and the Athena table to query it over
//! ([`ddl`]). Synchronous and pure: the clients that run the query live in
//! `crate::source::athena` and `crate::source::lake`.

pub mod conditions;
pub mod ddl;
pub mod projection;
pub mod rows;
pub mod spec;
pub mod sql;

use spec::Dialect;

/// The engine's facts: `data/athena.toml` or `data/lake.toml`.
fn facts(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Athena => include_str!("../../data/athena.toml"),
        Dialect::Lake => include_str!("../../data/lake.toml"),
    }
}

/// An engine's list price, from its data file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    /// USD per TB (10^12 bytes) scanned.
    pub per_tb: f64,
    /// The least a query is billed for.
    pub minimum_bytes: u64,
}

impl Price {
    /// The price of the engine embedded in this binary.
    ///
    /// # Errors
    /// Only if the embedded file is malformed, which the tests rule out.
    pub fn of(dialect: Dialect) -> Result<Self, String> {
        let name = dialect.data_file();
        let table: toml::Table = facts(dialect).parse().map_err(|e| format!("{name}: {e}"))?;
        let per_tb = table
            .get("usd_per_tb_scanned")
            .and_then(toml::Value::as_float)
            .ok_or_else(|| format!("{name}: no usd_per_tb_scanned"))?;
        let minimum_bytes = table
            .get("minimum_billed_bytes")
            .and_then(toml::Value::as_integer)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| format!("{name}: no minimum_billed_bytes"))?;
        Ok(Self {
            per_tb,
            minimum_bytes,
        })
    }

    /// The cost in USD of a query that scanned `bytes`.
    #[must_use]
    pub fn cost(&self, bytes: u64) -> f64 {
        #[expect(
            clippy::cast_precision_loss,
            reason = "bytes scanned are far below 2^52; a price needs no more precision"
        )]
        let billed = bytes.max(self.minimum_bytes) as f64;
        billed / 1e12 * self.per_tb
    }
}

/// The actions of one statement of the engine's own policy (`[permissions]` of its data
/// file, with the documentation they rest on).
fn actions(dialect: Dialect, statement: &str) -> Vec<String> {
    facts(dialect)
        .parse::<toml::Table>()
        .ok()
        .and_then(|table| {
            table
                .get("permissions")?
                .get(statement)?
                .as_array()
                .map(|list| {
                    list.iter()
                        .filter_map(toml::Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
        })
        .unwrap_or_default()
}

/// Checks the statement against the engine's limit (`max_query_bytes` of
/// `data/athena.toml`, `max_query_chars` of `data/lake.toml`).
///
/// # Errors
/// A statement over the limit, saying by how much and what makes it long.
pub fn check_size(dialect: Dialect, sql: &str) -> Result<(), String> {
    let table: toml::Table = facts(dialect).parse().map_err(|e| format!("{e}"))?;
    let limit = |key: &str| {
        table
            .get(key)
            .and_then(toml::Value::as_integer)
            .and_then(|n| usize::try_from(n).ok())
    };
    let (size, limit, unit) = match dialect {
        Dialect::Athena => (sql.len(), limit("max_query_bytes"), "bytes"),
        Dialect::Lake => (sql.chars().count(), limit("max_query_chars"), "characters"),
    };
    match limit {
        Some(limit) if size > limit => Err(format!(
            "the statement is {size} {unit}, over {}'s limit of {limit}: each --principal, --session and --user-agent pattern adds to it; give fewer (or run once per principal)",
            dialect.engine()
        )),
        Some(_) => Ok(()),
        None => Err(format!("{}: no statement limit", dialect.data_file())),
    }
}

/// What to do about an error the engine reported, when its data file knows the error.
#[must_use]
pub fn hint(dialect: Dialect, reason: &str) -> Option<String> {
    let table: toml::Table = facts(dialect).parse().ok()?;
    let hints = table.get("hints")?.as_table()?;
    hints
        .iter()
        .find(|(name, _)| reason.contains(name.as_str()))
        .and_then(|(_, hint)| hint.as_str())
        .map(str::to_owned)
}

/// `--lake`'s value: an event data store's ID, or its ARN
/// (`arn:PARTITION:cloudtrail:REGION:ACCOUNT:eventdatastore/ID`, which also gives the region
/// the store is queried in). The query names the store by its ID.
///
/// # Errors
/// An ARN of something else, or an ID with characters the API does not allow.
pub fn lake_store(text: &str) -> Result<(String, Option<String>), String> {
    let (id, region) = if let Some(rest) = text.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        match parts.as_slice() {
            [_, "cloudtrail", region, _, resource] if !region.is_empty() => {
                let id = resource.strip_prefix("eventdatastore/").ok_or_else(|| {
                    "not an event data store ARN (…:eventdatastore/ID)".to_owned()
                })?;
                (id, Some((*region).to_owned()))
            }
            _ => return Err("not a CloudTrail event data store ARN".to_owned()),
        }
    } else {
        (text, None)
    };
    // The API's pattern for an event data store's ARN or ID is `[a-zA-Z0-9._/\-:]`; an ID
    // is a UUID. The query names it bare, so nothing else is let through: it starts with a
    // letter or digit, and holds no `--` (which SQL would read as a comment).
    if id.len() < 3
        || !id.starts_with(|c: char| c.is_ascii_alphanumeric())
        || id.contains("--")
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(
            "an event data store ID (a UUID) is letters, digits, '-', '.' and '_', starting with a letter or digit"
                .to_owned(),
        );
    }
    Ok((id.to_owned(), region))
}

/// The statement `discover --lake` needs: the query actions on the event data store.
/// CloudTrail's Service Authorization Reference: StartQuery, DescribeQuery, GetQueryResults
/// and CancelQuery are authorized on the `eventdatastore` resource.
#[must_use]
pub fn lake_permissions(store: &str) -> serde_json::Value {
    let resource = if store.starts_with("arn:") {
        store.to_owned()
    } else {
        format!("arn:aws:cloudtrail:*:*:eventdatastore/{store}")
    };
    serde_json::json!({
        "Sid": "RunLakeQuery",
        "Effect": "Allow",
        "Action": actions(Dialect::Lake, "query"),
        "Resource": resource,
    })
}

/// What `discover --athena-table` runs on.
#[derive(Debug, Clone, Copy)]
pub struct Needs<'a> {
    pub table: &'a str,
    pub database: &'a str,
    pub workgroup: &'a str,
    /// `s3://BUCKET/PREFIX/` of the results, when the workgroup does not set it.
    pub output: Option<&'a str>,
}

/// The statements `discover --athena-table` needs: the query actions on the workgroup, the
/// Glue catalog reads of the table, and the results location. Athena reads the trail's
/// objects with the caller's credentials (the trail bucket's own statements cover them).
/// Athena user guide: "Identity and access management in Athena" (the actions a query
/// needs) and "Access to Amazon S3" (the results location).
#[must_use]
pub fn permissions(needs: &Needs<'_>) -> Vec<serde_json::Value> {
    let mut statements = vec![
        serde_json::json!({
            "Sid": "RunAthenaQuery",
            "Effect": "Allow",
            "Action": actions(Dialect::Athena, "query"),
            "Resource": format!("arn:aws:athena:*:*:workgroup/{}", needs.workgroup),
        }),
        serde_json::json!({
            "Sid": "ReadTrailTable",
            "Effect": "Allow",
            "Action": actions(Dialect::Athena, "catalog"),
            "Resource": [
                "arn:aws:glue:*:*:catalog",
                format!("arn:aws:glue:*:*:database/{}", needs.database),
                format!("arn:aws:glue:*:*:table/{}/{}", needs.database, needs.table),
            ],
        }),
    ];
    if let Some((bucket, prefix)) = needs
        .output
        .and_then(|url| url.strip_prefix("s3://"))
        .map(|rest| rest.split_once('/').unwrap_or((rest, "")))
    {
        statements.push(serde_json::json!({
            "Sid": "FindAthenaResultsBucket",
            "Effect": "Allow",
            "Action": actions(Dialect::Athena, "results_bucket"),
            "Resource": format!("arn:aws:s3:::{bucket}"),
        }));
        statements.push(serde_json::json!({
            "Sid": "WriteAthenaResults",
            "Effect": "Allow",
            "Action": actions(Dialect::Athena, "results_objects"),
            "Resource": format!("arn:aws:s3:::{bucket}/{prefix}*"),
        }));
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_athena_permissions_name_the_workgroup_table_and_results() {
        let statements = permissions(&Needs {
            table: "cloudtrail_logs_pp",
            database: "trails",
            workgroup: "audit",
            output: Some("s3://acme-athena-results/minpriv/"),
        });
        let text = serde_json::to_string(&statements).unwrap();
        assert!(
            text.contains("arn:aws:athena:*:*:workgroup/audit"),
            "{text}"
        );
        assert!(
            text.contains("arn:aws:glue:*:*:table/trails/cloudtrail_logs_pp"),
            "{text}"
        );
        assert!(
            text.contains("arn:aws:s3:::acme-athena-results/minpriv/*"),
            "{text}"
        );
        // Every action is one the IAM reference knows.
        let reference = crate::iam::Reference::embedded().unwrap();
        for statement in &statements {
            for action in statement["Action"].as_array().unwrap() {
                let action = action.as_str().unwrap();
                assert!(reference.action(action).is_some(), "{action}");
            }
        }
        assert_eq!(
            permissions(&Needs {
                output: None,
                ..Needs {
                    table: "t",
                    database: "d",
                    workgroup: "w",
                    output: None
                }
            })
            .len(),
            2
        );
    }

    #[test]
    fn known_errors_come_with_what_to_do() {
        let known = hint(
            Dialect::Athena,
            "COLUMN_NOT_FOUND: line 1:8: Column 'eventcategory' cannot be resolved",
        );
        assert!(known.unwrap().contains("athena ddl"));
        assert_eq!(hint(Dialect::Athena, "GENERIC_INTERNAL_ERROR: boom"), None);
        assert!(
            hint(Dialect::Lake, "EventDataStoreNotFoundException: nope")
                .unwrap()
                .contains("--lake")
        );
    }

    #[test]
    fn the_price_is_read_from_the_data_file() {
        let price = Price::of(Dialect::Athena).unwrap();
        assert!((price.per_tb - 5.0).abs() < f64::EPSILON);
        assert!((price.cost(2_000_000_000_000) - 10.0).abs() < 1e-9);
        // The 10 MB minimum.
        assert!((price.cost(1) - 0.00005).abs() < 1e-12);
        let lake = Price::of(Dialect::Lake).unwrap();
        // $0.005 per GB.
        assert!((lake.cost(1_000_000_000) - 0.005).abs() < 1e-12);
    }

    #[test]
    fn every_permission_list_of_the_data_files_is_there() {
        for (dialect, statement) in [
            (Dialect::Athena, "query"),
            (Dialect::Athena, "catalog"),
            (Dialect::Athena, "results_bucket"),
            (Dialect::Athena, "results_objects"),
            (Dialect::Lake, "query"),
        ] {
            assert!(
                !actions(dialect, statement).is_empty(),
                "{dialect:?} {statement}"
            );
        }
    }

    #[test]
    fn a_statement_over_the_engines_limit_is_refused() {
        assert_eq!(check_size(Dialect::Lake, "SELECT 1"), Ok(()));
        let long = "x".repeat(10_001);
        let error = check_size(Dialect::Lake, &long).unwrap_err();
        assert!(
            error.contains("10001 characters, over CloudTrail Lake's limit of 10000"),
            "{error}"
        );
        assert_eq!(check_size(Dialect::Athena, &long), Ok(()));
        assert!(check_size(Dialect::Athena, &"x".repeat(262_145)).is_err());
    }

    #[test]
    fn a_lake_store_is_named_by_id_or_arn() {
        assert_eq!(
            lake_store("EXAMPLE-ee54-4813-92d5-999aeEXAMPLE"),
            Ok(("EXAMPLE-ee54-4813-92d5-999aeEXAMPLE".to_owned(), None))
        );
        assert_eq!(
            lake_store("arn:aws:cloudtrail:eu-west-1:111122223333:eventdatastore/EXAMPLE-ee54"),
            Ok(("EXAMPLE-ee54".to_owned(), Some("eu-west-1".to_owned())))
        );
        for bad in [
            "arn:aws:cloudtrail:eu-west-1:111122223333:trail/main",
            "arn:aws:s3:::bucket",
            "a b",
            "x\"; DROP",
            "abc--x",
            "-abc",
            "",
        ] {
            assert!(lake_store(bad).is_err(), "{bad}");
        }
        let statement = lake_permissions("EXAMPLE-ee54");
        let reference = crate::iam::Reference::embedded().unwrap();
        for action in statement["Action"].as_array().unwrap() {
            let action = action.as_str().unwrap();
            assert!(reference.action(action).is_some(), "{action}");
        }
        assert_eq!(
            statement["Resource"],
            "arn:aws:cloudtrail:*:*:eventdatastore/EXAMPLE-ee54"
        );
    }
}
