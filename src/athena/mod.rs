//! Pushing filter-and-aggregate to Amazon Athena: the grouped query ([`sql`], its `WHERE`
//! clause in [`conditions`]) projecting only the fields the tables read ([`projection`]),
//! the rows it returns turned into the scan's tally ([`rows`]), and the table to query it
//! over ([`ddl`]). Synchronous and pure: the client that runs the query lives in
//! `crate::source::athena`.

pub mod conditions;
pub mod ddl;
pub mod projection;
pub mod rows;
pub mod sql;

/// Athena's list price, from `data/athena.toml`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    /// USD per TB (10^12 bytes) scanned.
    pub per_tb: f64,
    /// The least a query is billed for.
    pub minimum_bytes: u64,
}

impl Price {
    /// The price embedded in this binary.
    ///
    /// # Errors
    /// Only if the embedded file is malformed, which the tests rule out.
    pub fn embedded() -> Result<Self, String> {
        let table: toml::Table = include_str!("../../data/athena.toml")
            .parse()
            .map_err(|e| format!("data/athena.toml: {e}"))?;
        let per_tb = table
            .get("usd_per_tb_scanned")
            .and_then(toml::Value::as_float)
            .ok_or_else(|| "data/athena.toml: no usd_per_tb_scanned".to_owned())?;
        let minimum_bytes = table
            .get("minimum_billed_bytes")
            .and_then(toml::Value::as_integer)
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| "data/athena.toml: no minimum_billed_bytes".to_owned())?;
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

/// What to do about an error Athena reported, when `data/athena.toml` knows its name.
#[must_use]
pub fn hint(reason: &str) -> Option<String> {
    let table: toml::Table = include_str!("../../data/athena.toml").parse().ok()?;
    let hints = table.get("hints")?.as_table()?;
    hints
        .iter()
        .find(|(name, _)| reason.contains(name.as_str()))
        .and_then(|(_, hint)| hint.as_str())
        .map(str::to_owned)
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
            "Action": [
                "athena:GetQueryExecution",
                "athena:GetQueryResults",
                "athena:StartQueryExecution",
                "athena:StopQueryExecution",
            ],
            "Resource": format!("arn:aws:athena:*:*:workgroup/{}", needs.workgroup),
        }),
        serde_json::json!({
            "Sid": "ReadTrailTable",
            "Effect": "Allow",
            "Action": ["glue:GetDatabase", "glue:GetPartitions", "glue:GetTable"],
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
            "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
            "Resource": format!("arn:aws:s3:::{bucket}"),
        }));
        statements.push(serde_json::json!({
            "Sid": "WriteAthenaResults",
            "Effect": "Allow",
            "Action": [
                "s3:AbortMultipartUpload",
                "s3:GetObject",
                "s3:ListMultipartUploadParts",
                "s3:PutObject",
            ],
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
        let known = hint("COLUMN_NOT_FOUND: line 1:8: Column 'eventcategory' cannot be resolved");
        assert!(known.unwrap().contains("athena ddl"));
        assert_eq!(hint("GENERIC_INTERNAL_ERROR: boom"), None);
    }

    #[test]
    fn the_price_is_read_from_the_data_file() {
        let price = Price::embedded().unwrap();
        assert!((price.per_tb - 5.0).abs() < f64::EPSILON);
        assert!((price.cost(2_000_000_000_000) - 10.0).abs() < 1e-9);
        // The 10 MB minimum.
        assert!((price.cost(1) - 0.00005).abs() < 1e-12);
    }
}
