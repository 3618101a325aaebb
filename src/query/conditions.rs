//! The `WHERE` clause of the grouped query: on Athena, partition pruning (what Athena reads
//! and bills) from the same `Scope` the local listing prunes by; then the filters as
//! `crate::filter` applies them to each event, in Trino's SQL.

use super::spec::{Spec, Target, literal};

/// A `*`/`?` glob as a `LIKE` pattern (with `ESCAPE '\'`).
#[must_use]
pub fn like(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len() + 2);
    for c in glob.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn any_like(expression: &str, globs: &[String]) -> String {
    let tests: Vec<String> = globs
        .iter()
        .map(|g| format!("{expression} LIKE {} ESCAPE '\\'", literal(&like(g))))
        .collect();
    format!("({})", tests.join(" OR "))
}

fn in_list<'v>(expression: &str, values: impl IntoIterator<Item = &'v String>) -> String {
    let values: Vec<String> = values.into_iter().map(|v| literal(v)).collect();
    format!("{expression} IN ({})", values.join(", "))
}

/// The caller's ARN.
pub const ARN: &str = "useridentity.arn";
/// The role (or user) that issued a session.
pub const ISSUER: &str = "useridentity.sessioncontext.sessionissuer.arn";
/// The part of a session ARN after `:assumed-role/` (`NAME/SESSION`).
const ASSUMED: &str = "split_part(useridentity.arn, ':assumed-role/', 2)";

/// `arn:aws:sts::1:assumed-role/NAME/SESSION` → `arn:aws:iam::1:role/NAME` (as
/// `crate::filter` derives the role of a session), else NULL.
fn role_of_session() -> String {
    format!(
        "CASE WHEN strpos({ARN}, ':assumed-role/') > 0 AND strpos({ASSUMED}, '/') > 0 \
         THEN concat(replace(split_part({ARN}, ':assumed-role/', 1), ':sts:', ':iam:'), ':role/', split_part({ASSUMED}, '/', 1)) END"
    )
}

/// The session name of an assumed-role caller, else NULL.
pub fn session_name() -> String {
    format!(
        "CASE WHEN strpos({ARN}, ':assumed-role/') > 0 AND strpos({ASSUMED}, '/') > 0 \
         THEN substr({ASSUMED}, strpos({ASSUMED}, '/') + 1) END"
    )
}

/// A `yyyy/MM/dd` partition value.
fn day(at: jiff::Timestamp) -> String {
    at.to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .strftime("%Y/%m/%d")
        .to_string()
}

/// The `WHERE` conditions: partitions first (what Athena reads), then the filters.
pub fn conditions(spec: &Spec<'_>) -> Vec<String> {
    let (filter, scope, rules) = (spec.filter, spec.scope, spec.rules);
    let mut out = Vec::new();
    // Athena reads (and bills) the partitions the predicates on partition columns select;
    // Lake has none, and prunes by the `eventtime` predicates below.
    if let Target::Athena(table) = spec.target {
        match (
            scope.delivered_from.map(day),
            scope.delivered_until.map(day),
        ) {
            (Some(from), Some(until)) => out.push(format!(
                "\"timestamp\" BETWEEN {} AND {}",
                literal(&from),
                literal(&until)
            )),
            (Some(from), None) => out.push(format!("\"timestamp\" >= {}", literal(&from))),
            (None, Some(until)) => out.push(format!("\"timestamp\" <= {}", literal(&until))),
            (None, None) => {}
        }
        if table.partitions.region && !scope.regions.is_empty() {
            out.push(in_list("region", &scope.regions));
        }
        if table.partitions.account && !scope.accounts.is_empty() {
            out.push(in_list("account", &scope.accounts));
        }
    }
    let dialect = spec.target.dialect();
    out.push(dialect.present().to_owned());
    let globs = filter.principal_globs();
    if !globs.is_empty() {
        out.push(format!(
            "({} OR {} OR {})",
            any_like(&format!("coalesce({ISSUER}, '')"), &globs),
            any_like(&format!("coalesce({ARN}, '')"), &globs),
            any_like(&format!("coalesce({}, '')", role_of_session()), &globs),
        ));
    }
    let (since, until) = filter.window_text();
    if let Some(since) = since {
        out.push(dialect.time_bound(">=", since));
    }
    if let Some(until) = until {
        out.push(dialect.time_bound("<=", until));
    }
    let service = format!(
        "(coalesce(useridentity.type, '') = 'AWSService' OR coalesce(eventtype, '') = 'AwsServiceEvent' OR strpos(coalesce({ISSUER}, ''), {}) > 0)",
        literal(&rules.service_linked_path)
    );
    let api_call = "coalesce(eventtype, 'AwsApiCall') = 'AwsApiCall' AND coalesce(eventcategory, '') <> 'Insight'";
    if filter.include_service_events {
        out.push(format!("({service} OR ({api_call}))"));
    } else {
        out.push(format!("NOT {service} AND {api_call}"));
    }
    if !filter.session_args.is_empty() {
        out.push(any_like(
            &format!("coalesce({}, '')", session_name()),
            &filter.session_args,
        ));
    }
    if !filter.regions.is_empty() {
        let mut globals: Vec<&String> = rules.global_sources.iter().collect();
        globals.sort();
        let global = if globals.is_empty() {
            "FALSE".to_owned()
        } else {
            format!(
                "({} AND coalesce(awsregion, '') = {})",
                in_list("eventsource", globals),
                literal(&rules.global_region)
            )
        };
        out.push(format!(
            "({} OR {global})",
            in_list("coalesce(awsregion, '')", &filter.regions)
        ));
    }
    if !filter.accounts.is_empty() {
        out.push(in_list(
            "coalesce(recipientaccountid, useridentity.accountid, '')",
            &filter.accounts,
        ));
    }
    if !filter.user_agent_args.is_empty() {
        out.push(any_like("coalesce(useragent, '')", &filter.user_agent_args));
    }
    out
}
