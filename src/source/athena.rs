//! Runs one query on Amazon Athena and returns every row of its result: StartQueryExecution,
//! GetQueryExecution polled with backoff until the query ends (StopQueryExecution if the
//! run is interrupted), then GetQueryResults page by page (`NextToken`; the first page's
//! first row is the header). Athena API reference: "StartQueryExecution",
//! "GetQueryExecution" (`QueryExecution.Status.State`, `Statistics.DataScannedInBytes`),
//! "GetQueryResults" (`ResultSet.Rows[].Data[].VarCharValue`).
//!
//! Endpoints: `--endpoint-url`, else what aws-config resolves from `AWS_ENDPOINT_URL_ATHENA`
//! or `AWS_ENDPOINT_URL` (the SDK's standard endpoint settings), else AWS's.

use aws_sdk_athena::Client;
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};

use super::describe as message;
use super::engine::{Engine, Poll};
pub use super::engine::{Outcome, QueryError, Row};

/// What to run, where.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub sql: String,
    pub database: String,
    pub workgroup: String,
    /// `s3://…/` for the result files, when the workgroup does not set one.
    pub output: Option<String>,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub region: Option<String>,
    /// A progress line on stderr while the query runs (when it is a terminal).
    pub progress: bool,
}

/// Runs the query to its end and reads every result page.
///
/// # Errors
/// The query could not start, failed, was cancelled, or its result could not be read.
pub fn run(options: &Options) -> Result<Outcome, QueryError> {
    super::engine::run(
        async || Athena {
            client: client(options).await,
            options,
        },
        options.progress,
    )
}

struct Athena<'o> {
    client: Client,
    options: &'o Options,
}

impl Engine for Athena<'_> {
    const NAME: &'static str = "Athena";
    const START: &'static str = "StartQueryExecution";
    const POLL: &'static str = "GetQueryExecution";
    const STOP: &'static str = "StopQueryExecution";
    const RESULTS: &'static str = "GetQueryResults";

    async fn start(&self) -> Result<String, String> {
        let options = self.options;
        let mut request = self
            .client
            .start_query_execution()
            .query_string(&options.sql)
            .query_execution_context(
                QueryExecutionContext::builder()
                    .database(&options.database)
                    .build(),
            )
            .work_group(&options.workgroup);
        if let Some(output) = &options.output {
            request = request.result_configuration(
                ResultConfiguration::builder()
                    .output_location(output)
                    .build(),
            );
        }
        let response = request.send().await.map_err(|e| message(&e))?;
        response
            .query_execution_id()
            .map(str::to_owned)
            .ok_or_else(|| "the response has no QueryExecutionId".to_owned())
    }

    async fn poll(&self, id: &str) -> Result<Poll, String> {
        let response = self
            .client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| message(&e))?;
        let execution = response.query_execution();
        let status = execution.and_then(|e| e.status());
        let scanned = execution
            .and_then(|e| e.statistics())
            .and_then(aws_sdk_athena::types::QueryExecutionStatistics::data_scanned_in_bytes)
            .and_then(|b| u64::try_from(b).ok())
            .unwrap_or_default();
        Ok(match status.and_then(|s| s.state()) {
            Some(QueryExecutionState::Succeeded) => Poll::Succeeded { scanned },
            Some(state @ (QueryExecutionState::Queued | QueryExecutionState::Running)) => {
                Poll::Running {
                    state: state.as_str().to_owned(),
                    scanned,
                }
            }
            other => Poll::Ended {
                state: other.map_or_else(
                    || "ended in no known state".to_owned(),
                    |s| s.as_str().to_owned(),
                ),
                reason: status
                    .and_then(|s| s.state_change_reason())
                    .unwrap_or("no reason given")
                    .to_owned(),
            },
        })
    }

    async fn stop(&self, id: &str) -> Result<(), String> {
        self.client
            .stop_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| message(&e))
    }

    async fn page(
        &self,
        id: &str,
        token: Option<String>,
    ) -> Result<(Vec<Row>, Option<String>), String> {
        let response = self
            .client
            .get_query_results()
            .query_execution_id(id)
            .max_results(1000)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| message(&e))?;
        let rows = response
            .result_set()
            .map(aws_sdk_athena::types::ResultSet::rows)
            .unwrap_or_default()
            .iter()
            .map(|row| {
                row.data()
                    .iter()
                    .map(|datum| datum.var_char_value().map(str::to_owned))
                    .collect()
            })
            .collect();
        Ok((rows, response.next_token().map(str::to_owned)))
    }

    /// The first page's first row is the header.
    fn header(&self) -> Option<Row> {
        None
    }
}

async fn client(options: &Options) -> Client {
    let shared =
        super::engine::shared_config(options.profile.as_deref(), options.region.as_deref()).await;
    let mut config = aws_sdk_athena::config::Builder::from(&shared);
    if let Some(url) = &options.endpoint_url {
        config = config.endpoint_url(url);
    }
    Client::from_conf(config.build())
}
