//! Pushing filter-and-aggregate to Amazon Athena: the grouped query ([`sql`]) projecting
//! only the fields the tables read ([`projection`]), the rows it returns turned into the
//! scan's tally ([`rows`]), and the table to query it over ([`ddl`]). Synchronous and pure:
//! the client that runs the query lives in `crate::source::athena`.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_price_is_read_from_the_data_file() {
        let price = Price::embedded().unwrap();
        assert!((price.per_tb - 5.0).abs() < f64::EPSILON);
        assert!((price.cost(2_000_000_000_000) - 10.0).abs() < 1e-9);
        // The 10 MB minimum.
        assert!((price.cost(1) - 0.00005).abs() < 1e-12);
    }
}
