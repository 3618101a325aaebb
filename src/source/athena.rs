//! Runs one query on Amazon Athena and returns every row of its result: StartQueryExecution,
//! GetQueryExecution polled with backoff until the query ends (StopQueryExecution if the
//! run is interrupted), then GetQueryResults page by page (`NextToken`; the first page's
//! first row is the header). Athena API reference: "StartQueryExecution",
//! "GetQueryExecution" (`QueryExecution.Status.State`, `Statistics.DataScannedInBytes`),
//! "GetQueryResults" (`ResultSet.Rows[].Data[].VarCharValue`).
//!
//! Endpoints: `--endpoint-url`, else what aws-config resolves from `AWS_ENDPOINT_URL_ATHENA`
//! or `AWS_ENDPOINT_URL` (the SDK's standard endpoint settings), else AWS's.

use std::io::IsTerminal as _;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_athena::Client;
use aws_sdk_athena::error::DisplayErrorContext;
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};

/// One row of a result: each column's text, `None` for SQL NULL.
pub type Row = Vec<Option<String>>;

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

/// A finished query's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub query_id: String,
    /// The header row first, then the data rows.
    pub rows: Vec<Row>,
    pub bytes_scanned: u64,
    /// GetQueryResults requests made.
    pub pages: u64,
}

/// Why no complete result came back. Every message after the start names the query.
#[derive(Debug, thiserror::Error)]
pub enum AthenaError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("Athena StartQueryExecution: {0}")]
    Start(String),
    #[error("Athena query {id}: GetQueryExecution: {message}")]
    Poll { id: String, message: String },
    #[error("Athena query {id} {state}: {reason}")]
    Ended {
        id: String,
        state: String,
        reason: String,
    },
    #[error("Athena query {id}: GetQueryResults: {message}")]
    Results { id: String, message: String },
    #[error("Athena query {id}: interrupted; StopQueryExecution {stopped}")]
    Interrupted { id: String, stopped: String },
}

impl AthenaError {
    /// The query the error is about, once one was started.
    #[must_use]
    pub fn query_id(&self) -> Option<&str> {
        match self {
            Self::Runtime(_) | Self::Start(_) => None,
            Self::Poll { id, .. }
            | Self::Ended { id, .. }
            | Self::Results { id, .. }
            | Self::Interrupted { id, .. } => Some(id),
        }
    }
}

/// First and longest wait between two GetQueryExecution calls.
const FIRST_POLL: Duration = Duration::from_millis(100);
const LONGEST_POLL: Duration = Duration::from_secs(5);

/// Runs the query to its end and reads every result page.
///
/// # Errors
/// The query could not start, failed, was cancelled, or its result could not be read.
pub fn run(options: &Options) -> Result<Outcome, AthenaError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(AthenaError::Runtime)?;
    runtime.block_on(async {
        let client = client(options).await;
        let id = start(&client, options).await?;
        let interrupt = interrupted();
        tokio::pin!(interrupt);
        let finished = tokio::select! {
            result = wait(&client, &id, options.progress) => result,
            () = &mut interrupt => {
                let stopped = match client.stop_query_execution().query_execution_id(&id).send().await {
                    Ok(_) => "sent".to_owned(),
                    Err(error) => format!("failed: {}", DisplayErrorContext(&error)),
                };
                return Err(AthenaError::Interrupted { id, stopped });
            }
        };
        let bytes_scanned = finished?;
        let (rows, pages) = results(&client, &id).await?;
        Ok(Outcome {
            query_id: id,
            rows,
            bytes_scanned,
            pages,
        })
    })
}

/// Resolves when the user interrupts the run (Ctrl-C).
async fn interrupted() {
    if tokio::signal::ctrl_c().await.is_err() {
        // No signal handler: never interrupted.
        std::future::pending::<()>().await;
    }
}

async fn client(options: &Options) -> Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(6));
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &options.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    let shared = loader.load().await;
    let mut config = aws_sdk_athena::config::Builder::from(&shared);
    if let Some(url) = &options.endpoint_url {
        config = config.endpoint_url(url);
    }
    Client::from_conf(config.build())
}

async fn start(client: &Client, options: &Options) -> Result<String, AthenaError> {
    let mut request = client
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
    let response = request
        .send()
        .await
        .map_err(|e| AthenaError::Start(DisplayErrorContext(&e).to_string()))?;
    response
        .query_execution_id()
        .map(str::to_owned)
        .ok_or_else(|| AthenaError::Start("the response has no QueryExecutionId".to_owned()))
}

/// Polls until the query ends; its bytes scanned when it succeeded.
async fn wait(client: &Client, id: &str, progress: bool) -> Result<u64, AthenaError> {
    let show = progress && std::io::stderr().is_terminal();
    let mut delay = FIRST_POLL;
    loop {
        let response = client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| AthenaError::Poll {
                id: id.to_owned(),
                message: DisplayErrorContext(&e).to_string(),
            })?;
        let execution = response.query_execution();
        let status = execution.and_then(|e| e.status());
        let scanned = execution
            .and_then(|e| e.statistics())
            .and_then(aws_sdk_athena::types::QueryExecutionStatistics::data_scanned_in_bytes)
            .and_then(|b| u64::try_from(b).ok())
            .unwrap_or_default();
        let state = status.and_then(|s| s.state()).cloned();
        if show {
            crate::warn_!(
                "\rathena: query {id} {}, {} scanned   ",
                state.as_ref().map_or("?", QueryExecutionState::as_str),
                crate::render::summary::bytes(scanned)
            );
        }
        match state {
            Some(QueryExecutionState::Succeeded) => {
                if show {
                    crate::warn_!("\n");
                }
                return Ok(scanned);
            }
            Some(QueryExecutionState::Queued | QueryExecutionState::Running) => {}
            other => {
                if show {
                    crate::warn_!("\n");
                }
                return Err(AthenaError::Ended {
                    id: id.to_owned(),
                    state: other.map_or_else(
                        || "ended in no known state".to_owned(),
                        |s| s.as_str().to_owned(),
                    ),
                    reason: status
                        .and_then(|s| s.state_change_reason())
                        .unwrap_or("no reason given")
                        .to_owned(),
                });
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(LONGEST_POLL);
    }
}

/// Every row of the result, the header first, and the pages read.
async fn results(client: &Client, id: &str) -> Result<(Vec<Row>, u64), AthenaError> {
    let mut rows = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let response = client
            .get_query_results()
            .query_execution_id(id)
            .max_results(1000)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| AthenaError::Results {
                id: id.to_owned(),
                message: DisplayErrorContext(&e).to_string(),
            })?;
        pages += 1;
        for row in response
            .result_set()
            .map(aws_sdk_athena::types::ResultSet::rows)
            .unwrap_or_default()
        {
            rows.push(
                row.data()
                    .iter()
                    .map(|datum| datum.var_char_value().map(str::to_owned))
                    .collect(),
            );
        }
        match response.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => return Ok((rows, pages)),
        }
    }
}
