//! The grouped query pushed to the engine, in Trino's SQL, which both engines speak: Amazon
//! Athena over the CloudTrail table as AWS documents it ("Create the table for CloudTrail
//! logs in Athena using partition projection", Athena user guide) and CloudTrail Lake over
//! an event data store ("Supported SQL schemas for event data stores", CloudTrail user
//! guide). Prune and filter as `crate::filter` does locally ([`super::conditions`]), and
//! group into one row per distinct call and error code, projecting only the request and
//! response fields the tables read ([`super::projection`]).
//!
//! The two schemas differ in three places, and [`Dialect`] is where: Athena keeps the
//! request and response as JSON text and the time as ISO 8601 text, with the day as a
//! partition column; Lake keeps the request and response as a `map(varchar, varchar)` and
//! the time as a `timestamp`, and has no partitions (its own storage is ordered by time).
//!
//! The functions used (`json_extract`, `json_format`, `element_at`, `date_format`,
//! `transform`, `array_agg … FILTER`, `array_join`, `split_part`, `strpos`) are Trino's
//! (Trino documentation, "JSON functions and operators", "Map functions and operators",
//! "Date and time functions and operators", "Array functions and operators", "String
//! functions and operators").

use std::fmt::Write as _;

use super::conditions::{ARN, ISSUER, conditions, like, session_name};
use super::projection::Projection;
use super::spec::{Dialect, Spec, literal};

/// The separator of the values an aggregated text column joins: a character no ARN, session
/// name or service principal holds.
pub const JOIN: char = '\n';

/// The grouping columns of a result row, in order (then the request fields: `req_N` of the
/// projection in its order on Athena, the whole request on Lake; then the response fields
/// `resp_N`, then [`AGGREGATES`]).
pub const KEYS: [&str; 9] = [
    "eventsource",
    "eventname",
    "awsregion",
    "call_account",
    "arn_partition",
    "errorcode",
    "resource_arns",
    "response_whole",
    "error_message",
];

/// Lake's column of the whole request (a map as JSON text).
pub const REQUEST_WHOLE: &str = "request_whole";

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
///
/// CloudTrail Lake takes a statement of at most 10,000 characters (CloudTrail API
/// reference, "StartQuery"), too few for one column per request field; it groups by the
/// whole request instead, and `super::rows` keeps the projected fields of it, so the mapping
/// sees what it sees from Athena.
#[must_use]
pub fn columns(projection: &Projection, dialect: Dialect) -> Vec<String> {
    let request: Vec<String> = match dialect {
        Dialect::Athena => (0..projection.request.len())
            .map(|i| format!("req_{i}"))
            .collect(),
        Dialect::Lake => vec![REQUEST_WHOLE.to_owned()],
    };
    KEYS.iter()
        .map(|k| (*k).to_owned())
        .chain(request)
        .chain((0..projection.response.len()).map(|i| format!("resp_{i}")))
        .chain(AGGREGATES.iter().map(|k| (*k).to_owned()))
        .collect()
}

/// The denial error codes of `data/denials.toml` as a predicate on `errorcode`.
fn denied() -> String {
    let codes: Vec<String> = crate::denial::Table::embedded()
        .map(|table| table.codes().map(literal).collect())
        .unwrap_or_default();
    if codes.is_empty() {
        "FALSE".to_owned()
    } else {
        format!("errorcode IN ({})", codes.join(", "))
    }
}

/// The grouped query.
#[must_use]
pub fn build(spec: &Spec<'_>) -> String {
    let projection = spec.projection;
    let dialect = spec.target.dialect();
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
            "CASE WHEN {} THEN {} END AS response_whole",
            if creators.is_empty() {
                "FALSE".to_owned()
            } else {
                creators.join(" OR ")
            },
            dialect.whole()
        ),
        // A refused call's message names what was missing (`crate::denial`); other calls'
        // messages are not read, so they do not split the groups.
        format!(
            "CASE WHEN {} THEN errormessage END AS error_message",
            denied()
        ),
    ];
    match dialect {
        Dialect::Athena => {
            for (i, key) in projection.request.iter().enumerate() {
                selected.push(format!(
                    "{} AS req_{i}",
                    dialect.field("requestparameters", key)
                ));
            }
        }
        Dialect::Lake => selected.push(format!(
            "json_format(CAST(requestparameters AS JSON)) AS {REQUEST_WHOLE}"
        )),
    }
    for (i, key) in projection.response.iter().enumerate() {
        selected.push(format!(
            "{} AS resp_{i}",
            dialect.field("responseelements", key)
        ));
    }
    selected.push("eventtime".to_owned());
    selected.push(format!("coalesce({ISSUER}, {ARN}) AS principal"));
    selected.push(format!("{} AS session", session_name()));
    selected.push("useridentity.invokedby AS via".to_owned());
    // The events are selected in a subquery, not a `WITH` clause: Lake reads each name after
    // a `FROM` as an event data store, and its own samples nest subqueries this way.
    let mut sql = String::from("SELECT\n");
    let mut keys = columns(projection, dialect);
    keys.truncate(keys.len() - AGGREGATES.len());
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
    let _ = writeln!(sql, "  {} AS first_time,", dialect.time("min(eventtime)"));
    let _ = writeln!(sql, "  {} AS last_time,", dialect.time("max(eventtime)"));
    let _ = writeln!(sql, "  {} AS principals,", joined("principal"));
    let _ = writeln!(sql, "  {} AS sessions,", joined("session"));
    let _ = writeln!(sql, "  {} AS via", joined("via"));
    sql.push_str("FROM (\n  SELECT\n");
    for (n, column) in selected.iter().enumerate() {
        let comma = if n + 1 == selected.len() { "" } else { "," };
        let _ = writeln!(sql, "    {column}{comma}");
    }
    let _ = writeln!(sql, "  FROM {}", spec.target.from());
    let _ = writeln!(sql, "  WHERE {}", conditions(spec).join("\n    AND "));
    let _ = write!(sql, ") AS events\nGROUP BY {}", keys.join(", "));
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{Criteria, Filter};
    use crate::mapping::Rules;
    use crate::query::spec::{Partitions, Table, Target, identifier};
    use crate::source::Scope;

    fn spec_sql(criteria: &Criteria<'_>, partitions: Partitions) -> String {
        target_sql(
            criteria,
            &Target::Athena(Table {
                database: "default".to_owned(),
                name: "cloudtrail_logs_pp".to_owned(),
                partitions,
            }),
        )
    }

    fn target_sql(criteria: &Criteria<'_>, target: &Target) -> String {
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
        build(&Spec {
            target,
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
            columns(projection, Dialect::Athena).len(),
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
    fn the_lake_dialect_reads_maps_and_timestamps_and_fits_lakes_limit() {
        let table: toml::Table = include_str!("../../data/lake.toml").parse().unwrap();
        let limit = usize::try_from(table["max_query_chars"].as_integer().unwrap()).unwrap();
        let principals = ["arn:aws:iam::111122223333:role/ci-provisioner".to_owned()];
        let sessions = ["terraform-*".to_owned()];
        let regions = ["eu-west-1".to_owned()];
        let sql = target_sql(
            &Criteria {
                principals: &principals,
                sessions: &sessions,
                regions: &regions,
                since: Some("2026-11-20T10:00:00Z".parse().unwrap()),
                until: Some("2026-11-20T23:50:00Z".parse().unwrap()),
                ..Criteria::default()
            },
            &Target::Lake("EXAMPLE-ee54-4813".to_owned()),
        );
        assert!(sql.contains("FROM EXAMPLE-ee54-4813\n"), "{sql}");
        assert!(
            sql.contains("eventtime >= TIMESTAMP '2026-11-20 10:00:00'"),
            "{sql}"
        );
        assert!(
            sql.contains("date_format(min(eventtime), '%Y-%m-%dT%H:%i:%sZ') AS first_time"),
            "{sql}"
        );
        assert!(sql.contains("element_at(responseelements, "), "{sql}");
        assert!(
            sql.contains("json_format(CAST(requestparameters AS JSON)) AS request_whole"),
            "{sql}"
        );
        // No partitions, no JSON paths into text columns.
        assert!(!sql.contains("\"timestamp\""), "{sql}");
        assert!(!sql.contains("json_extract("), "{sql}");
        // Room for the tables and the filters to grow.
        assert!(
            sql.chars().count() * 3 < limit * 2,
            "{} characters of {limit}",
            sql.len()
        );
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
