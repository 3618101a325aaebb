//! The grouped query pushed to Athena (Trino SQL) over the CloudTrail table as AWS
//! documents it ("Create the table for CloudTrail logs in Athena using partition
//! projection", Athena user guide): prune by partition and filter as `crate::filter` does
//! locally ([`super::conditions`]), and group into one row per distinct call and error
//! code, projecting only the request and response fields the tables read
//! ([`super::projection`]).
//!
//! The functions used (`json_extract`, `json_format`, `transform`, `array_agg … FILTER`,
//! `array_join`, `split_part`, `strpos`) are Trino's (Trino documentation, "JSON functions
//! and operators", "Array functions and operators", "String functions and operators").

use std::fmt::Write as _;

use crate::filter::Filter;
use crate::iam::Rules;
use crate::source::Scope;

use super::conditions::{ARN, ISSUER, conditions, like, session_name};
use super::projection::Projection;

/// The separator of the values an aggregated text column joins: a character no ARN, session
/// name or service principal holds.
pub const JOIN: char = '\n';

/// Which partition columns the table has besides `timestamp` (`yyyy/MM/dd`): the documented
/// single-trail table has none, `athena ddl` adds `region`, and an organization trail's
/// table `account` and `region`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Partitions {
    pub account: bool,
    pub region: bool,
}

impl Partitions {
    /// `timestamp`, `region,timestamp` or `account,region,timestamp` (in any order).
    ///
    /// # Errors
    /// A column that is not one of those, or no `timestamp`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut partitions = Self::default();
        let mut timestamp = false;
        for column in text.split(',').map(str::trim) {
            match column {
                "timestamp" => timestamp = true,
                "region" => partitions.region = true,
                "account" => partitions.account = true,
                other => {
                    return Err(format!(
                        "{other:?} is not a partition column of a CloudTrail table (timestamp, region, account)"
                    ));
                }
            }
        }
        if !timestamp {
            return Err("the table must be partitioned by timestamp (yyyy/MM/dd)".to_owned());
        }
        Ok(partitions)
    }
}

/// The table queried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub database: String,
    pub name: String,
    pub partitions: Partitions,
}

/// What the query is built from.
#[derive(Debug, Clone, Copy)]
pub struct Spec<'a> {
    pub table: &'a Table,
    pub filter: &'a Filter,
    pub scope: &'a Scope,
    pub rules: &'a Rules,
    pub projection: &'a Projection,
}

/// The grouping columns of a result row, in order (then the request fields `req_N` and the
/// response fields `resp_N` of the projection, in its order, then [`AGGREGATES`]).
pub const KEYS: [&str; 8] = [
    "eventsource",
    "eventname",
    "awsregion",
    "call_account",
    "arn_partition",
    "errorcode",
    "resource_arns",
    "response_whole",
];

/// The aggregate columns of a result row, in order.
pub const AGGREGATES: [&str; 6] = [
    "calls",
    "first_time",
    "last_time",
    "principals",
    "sessions",
    "via",
];

/// The column names of a result row, in order (engines return them lower-cased).
#[must_use]
pub fn columns(projection: &Projection) -> Vec<String> {
    KEYS.iter()
        .map(|k| (*k).to_owned())
        .chain((0..projection.request.len()).map(|i| format!("req_{i}")))
        .chain((0..projection.response.len()).map(|i| format!("resp_{i}")))
        .chain(AGGREGATES.iter().map(|k| (*k).to_owned()))
        .collect()
}

/// A SQL string literal.
#[must_use]
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// A quoted SQL identifier.
#[must_use]
pub fn identifier(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The grouped query.
#[must_use]
pub fn build(spec: &Spec<'_>) -> String {
    let projection = spec.projection;
    let mut sql = String::from("WITH events AS (\n  SELECT\n");
    let creators: Vec<String> = projection
        .creators
        .iter()
        .map(|verb| {
            format!(
                "eventname LIKE {} ESCAPE '\\'",
                literal(&(like(verb) + "%"))
            )
        })
        .collect();
    let mut selected = vec![
        "eventsource".to_owned(),
        "eventname".to_owned(),
        "coalesce(awsregion, '') AS awsregion".to_owned(),
        "coalesce(recipientaccountid, useridentity.accountid, '') AS call_account".to_owned(),
        format!("coalesce(split_part({ARN}, ':', 2), '') AS arn_partition"),
        "errorcode".to_owned(),
        "json_format(CAST(transform(resources, r -> r.arn) AS JSON)) AS resource_arns".to_owned(),
        // A creating call's response is scanned whole for the identifiers AWS generated.
        format!(
            "CASE WHEN {} THEN responseelements END AS response_whole",
            if creators.is_empty() {
                "FALSE".to_owned()
            } else {
                creators.join(" OR ")
            }
        ),
    ];
    for (i, key) in projection.request.iter().enumerate() {
        selected.push(format!(
            "json_format(json_extract(requestparameters, '$.{key}')) AS req_{i}"
        ));
    }
    for (i, key) in projection.response.iter().enumerate() {
        selected.push(format!(
            "json_format(json_extract(responseelements, '$.{key}')) AS resp_{i}"
        ));
    }
    selected.push("eventtime".to_owned());
    selected.push(format!("coalesce({ISSUER}, {ARN}) AS principal"));
    selected.push(format!("{} AS session", session_name()));
    selected.push("useridentity.invokedby AS via".to_owned());
    for (n, column) in selected.iter().enumerate() {
        let comma = if n + 1 == selected.len() { "" } else { "," };
        let _ = writeln!(sql, "    {column}{comma}");
    }
    let _ = writeln!(
        sql,
        "  FROM {}.{}",
        identifier(&spec.table.database),
        identifier(&spec.table.name)
    );
    let _ = writeln!(sql, "  WHERE {}", conditions(spec).join("\n    AND "));
    sql.push_str(")\nSELECT\n");
    let keys: Vec<String> = columns(projection)
        .into_iter()
        .take(KEYS.len() + projection.request.len() + projection.response.len())
        .collect();
    for key in &keys {
        let _ = writeln!(sql, "  {key},");
    }
    let joined = |column: &str| {
        format!(
            "array_join(array_agg(DISTINCT {column}) FILTER (WHERE {column} IS NOT NULL), chr({}))",
            u32::from(JOIN)
        )
    };
    let _ = writeln!(sql, "  count(*) AS calls,");
    let _ = writeln!(sql, "  min(eventtime) AS first_time,");
    let _ = writeln!(sql, "  max(eventtime) AS last_time,");
    let _ = writeln!(sql, "  {} AS principals,", joined("principal"));
    let _ = writeln!(sql, "  {} AS sessions,", joined("session"));
    let _ = writeln!(sql, "  {} AS via", joined("via"));
    let _ = write!(sql, "FROM events\nGROUP BY {}", keys.join(", "));
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::Criteria;

    fn spec_sql(criteria: &Criteria<'_>, partitions: Partitions) -> String {
        let filter = Filter::new(criteria).unwrap();
        let rules = Rules::embedded().unwrap();
        let scope = Scope::new(
            filter.since,
            filter.until,
            jiff::SignedDuration::from_mins(30),
            &filter.accounts,
            &filter.regions,
            &rules.global_region,
        );
        let table = Table {
            database: "default".to_owned(),
            name: "cloudtrail_logs_pp".to_owned(),
            partitions,
        };
        build(&Spec {
            table: &table,
            filter: &filter,
            scope: &scope,
            rules,
            projection: Projection::embedded().unwrap(),
        })
    }

    #[test]
    fn globs_become_like_patterns_with_escapes() {
        assert_eq!(
            like("arn:aws:iam::1:role/psoxy-*"),
            "arn:aws:iam::1:role/psoxy-%"
        );
        assert_eq!(like("a_b%c?\\"), "a\\_b\\%c_\\\\");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(identifier("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn the_window_prunes_partitions_with_the_local_slack() {
        let since = "2026-11-20T10:00:00Z".parse().unwrap();
        let until = "2026-11-20T23:50:00Z".parse().unwrap();
        let regions = ["eu-west-1".to_owned()];
        let accounts = ["111122223333".to_owned()];
        let sql = spec_sql(
            &Criteria {
                since: Some(since),
                until: Some(until),
                regions: &regions,
                accounts: &accounts,
                ..Criteria::default()
            },
            Partitions {
                account: true,
                region: true,
            },
        );
        // Delivery slack of 30 minutes reaches the next day, as the local listing does.
        assert!(
            sql.contains("\"timestamp\" BETWEEN '2026/11/20' AND '2026/11/21'"),
            "{sql}"
        );
        assert!(
            sql.contains("region IN ('eu-west-1', 'us-east-1')"),
            "{sql}"
        );
        assert!(sql.contains("account IN ('111122223333')"), "{sql}");
        assert!(sql.contains("eventtime >= '2026-11-20T10:00:00Z'"), "{sql}");
        // Without those partition columns, no predicate names them.
        let plain = spec_sql(
            &Criteria {
                regions: &regions,
                ..Criteria::default()
            },
            Partitions::default(),
        );
        assert!(!plain.contains("region IN"), "{plain}");
        assert!(!plain.contains("\"timestamp\""), "{plain}");
    }

    #[test]
    fn the_filters_reach_the_where_clause() {
        let principals = ["arn:aws:iam::111122223333:role/path/ci-*".to_owned()];
        let sessions = ["terraform-*".to_owned()];
        let agents = ["*Terraform*".to_owned()];
        let sql = spec_sql(
            &Criteria {
                principals: &principals,
                sessions: &sessions,
                user_agents: &agents,
                ..Criteria::default()
            },
            Partitions::default(),
        );
        assert!(
            sql.contains("'arn:aws:iam::111122223333:role/path/ci-%'"),
            "{sql}"
        );
        // Session ARNs carry no role path.
        assert!(
            sql.contains("'arn:aws:iam::111122223333:role/ci-%'"),
            "{sql}"
        );
        assert!(sql.contains("LIKE 'terraform-%'"), "{sql}");
        assert!(
            sql.contains("coalesce(useragent, '') LIKE '%Terraform%'"),
            "{sql}"
        );
        assert!(
            sql.contains("NOT (coalesce(useridentity.type, '') = 'AWSService'"),
            "{sql}"
        );
    }

    #[test]
    fn only_the_projected_fields_are_read_and_grouped() {
        let sql = spec_sql(&Criteria::default(), Partitions::default());
        let projection = Projection::embedded().unwrap();
        assert_eq!(
            sql.matches("json_extract(requestparameters").count(),
            projection.request.len()
        );
        assert!(sql.contains("'$.roleArn'"), "{sql}");
        // The whole request is never selected.
        assert!(!sql.contains(" requestparameters,"), "{sql}");
        let last = format!("resp_{}", projection.response.len() - 1);
        assert!(sql.ends_with(&last), "{sql}");
        assert_eq!(
            columns(projection).len(),
            KEYS.len() + projection.request.len() + projection.response.len() + AGGREGATES.len()
        );
    }

    #[test]
    fn the_query_fits_athenas_limit_with_room_for_the_tables_to_grow() {
        let table: toml::Table = include_str!("../../data/athena.toml").parse().unwrap();
        let limit = usize::try_from(table["max_query_bytes"].as_integer().unwrap()).unwrap();
        let principals = ["arn:aws:iam::111122223333:role/ci-provisioner".to_owned()];
        let sql = spec_sql(
            &Criteria {
                principals: &principals,
                ..Criteria::default()
            },
            Partitions::default(),
        );
        assert!(sql.len() * 2 < limit, "{} bytes of {limit}", sql.len());
    }

    #[test]
    fn partitions_parse() {
        assert_eq!(Partitions::parse("timestamp"), Ok(Partitions::default()));
        assert_eq!(
            Partitions::parse("account, region,timestamp"),
            Ok(Partitions {
                account: true,
                region: true
            })
        );
        assert!(Partitions::parse("region").is_err());
        assert!(Partitions::parse("timestamp,day").is_err());
    }
}
