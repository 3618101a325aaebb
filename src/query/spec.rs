//! What a pushed-down query is built from ([`Spec`]: the target table or event data store,
//! the filter, the scope, the tables, the projection), where the two engines' schemas differ
//! ([`Dialect`]), and SQL's quoting. Read by [`super::sql`] and [`super::conditions`] alike.

use crate::filter::Filter;
use crate::mapping::Rules;
use crate::source::Scope;

use super::projection::Projection;

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

/// What the query runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An Athena (Glue) table over the trail's files.
    Athena(Table),
    /// A CloudTrail Lake event data store: the ID part of its ARN.
    Lake(String),
}

impl Target {
    #[must_use]
    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Athena(_) => Dialect::Athena,
            Self::Lake(_) => Dialect::Lake,
        }
    }

    /// The `FROM` of the query: `"database"."table"`, or the event data store's ID as Lake's
    /// documentation writes it, bare (`crate::query::lake_store` lets through only letters,
    /// digits, `-`, `.` and `_`).
    pub(super) fn from(&self) -> String {
        match self {
            Self::Athena(table) => format!(
                "{}.{}",
                identifier(&table.database),
                identifier(&table.name)
            ),
            Self::Lake(store) => store.clone(),
        }
    }
}

/// Where the two engines' schemas of a CloudTrail event differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `requestparameters` and `responseelements` are JSON text, `eventtime` ISO 8601 text.
    Athena,
    /// `requestparameters` and `responseelements` are `map(varchar, varchar)` (a nested
    /// value is its JSON text), `eventtime` a `timestamp`.
    Lake,
}

impl Dialect {
    /// The data file of the engine's price and error hints.
    #[must_use]
    pub fn data_file(self) -> &'static str {
        match self {
            Self::Athena => "data/athena.toml",
            Self::Lake => "data/lake.toml",
        }
    }

    /// The engine's name, in messages.
    #[must_use]
    pub fn engine(self) -> &'static str {
        match self {
            Self::Athena => "Athena",
            Self::Lake => "CloudTrail Lake",
        }
    }

    /// A top-level field of `requestparameters` or `responseelements`: JSON text on Athena,
    /// the map's text on Lake (decoded by `super::rows`).
    pub(super) fn field(self, column: &str, key: &str) -> String {
        match self {
            Self::Athena => format!("json_format(json_extract({column}, '$.{key}'))"),
            Self::Lake => format!("element_at({column}, {})", literal(key)),
        }
    }

    /// The whole response, as JSON text.
    pub(super) fn whole(self) -> &'static str {
        match self {
            Self::Athena => "responseelements",
            Self::Lake => "json_format(CAST(responseelements AS JSON))",
        }
    }

    /// A time of the result, as CloudTrail writes `eventTime` (`2026-11-20T10:01:00Z`).
    pub(super) fn time(self, expression: &str) -> String {
        match self {
            Self::Athena => expression.to_owned(),
            Self::Lake => format!("date_format({expression}, '%Y-%m-%dT%H:%i:%sZ')"),
        }
    }

    /// `eventtime` compared with a window bound (`2026-11-20T10:00:00Z`).
    pub(super) fn time_bound(self, operator: &str, text: &str) -> String {
        match self {
            Self::Athena => format!("eventtime {operator} {}", literal(text)),
            Self::Lake => format!(
                "eventtime {operator} TIMESTAMP {}",
                literal(&text.replace('T', " ").replace('Z', ""))
            ),
        }
    }

    /// Records every stage relies on (the local parser counts the others as bad records).
    pub(super) fn present(self) -> &'static str {
        match self {
            Self::Athena => {
                "coalesce(eventtime, '') <> '' AND coalesce(eventsource, '') <> '' AND coalesce(eventname, '') <> ''"
            }
            Self::Lake => {
                "eventtime IS NOT NULL AND coalesce(eventsource, '') <> '' AND coalesce(eventname, '') <> ''"
            }
        }
    }
}

/// What the query is built from.
#[derive(Debug, Clone, Copy)]
pub struct Spec<'a> {
    pub target: &'a Target,
    pub filter: &'a Filter,
    pub scope: &'a Scope,
    pub rules: &'a Rules,
    pub projection: &'a Projection,
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
