//! What the clients of the two query engines share: start the query, poll it with backoff
//! until it ends (stopping it if the run is interrupted with Ctrl-C), then read every page
//! of its result. Each engine ([`super::athena`], [`super::lake`]) says how one step is
//! done with its API.

use std::io::IsTerminal as _;
use std::time::Duration;

/// One row of a result: each column's text, `None` for SQL NULL.
pub type Row = Vec<Option<String>>;

/// A finished query's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub query_id: String,
    /// The header row first, then the data rows.
    pub rows: Vec<Row>,
    pub bytes_scanned: u64,
    /// Result pages requested.
    pub pages: u64,
}

/// Why no complete result came back. Every message after the start names the query.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("{engine} {operation}: {message}")]
    Start {
        engine: &'static str,
        operation: &'static str,
        message: String,
    },
    #[error("{engine} query {id}: {operation}: {message}")]
    Request {
        engine: &'static str,
        id: String,
        operation: &'static str,
        message: String,
    },
    #[error("{engine} query {id} {state}: {reason}")]
    Ended {
        engine: &'static str,
        id: String,
        state: String,
        reason: String,
    },
    #[error("{engine} query {id}: interrupted; {operation} {stopped}")]
    Interrupted {
        engine: &'static str,
        id: String,
        operation: &'static str,
        stopped: String,
    },
}

impl QueryError {
    /// The query the error is about, once one was started.
    #[must_use]
    pub fn query_id(&self) -> Option<&str> {
        match self {
            Self::Runtime(_) | Self::Start { .. } => None,
            Self::Request { id, .. } | Self::Ended { id, .. } | Self::Interrupted { id, .. } => {
                Some(id)
            }
        }
    }
}

/// Where a query is, after one poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Poll {
    /// Queued or running, with the bytes scanned so far.
    Running { state: String, scanned: u64 },
    /// Finished: its result can be read.
    Succeeded { scanned: u64 },
    /// Failed, cancelled or timed out, with the engine's reason.
    Ended { state: String, reason: String },
}

/// One engine's API, step by step. Errors are the SDK's message, which the caller puts in
/// context (engine, query, operation).
pub(crate) trait Engine {
    /// The engine's name, in messages.
    const NAME: &'static str;
    /// The operations, in messages.
    const START: &'static str;
    const POLL: &'static str;
    const STOP: &'static str;
    const RESULTS: &'static str;

    async fn start(&self) -> Result<String, String>;
    async fn poll(&self, id: &str) -> Result<Poll, String>;
    async fn stop(&self, id: &str) -> Result<(), String>;
    /// One page of the result (with the token of the page) and the next page's token.
    async fn page(
        &self,
        id: &str,
        token: Option<String>,
    ) -> Result<(Vec<Row>, Option<String>), String>;
    /// The header row, when the engine's pages do not begin with one.
    fn header(&self) -> Option<Row>;
}

/// The SDK's shared configuration: the standard chain, or `--profile`, and the engine's
/// region when one was given; the endpoint variables (`AWS_ENDPOINT_URL_<SERVICE>`,
/// `AWS_ENDPOINT_URL`) are read by aws-config.
pub async fn shared_config(profile: Option<&str>, region: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(6));
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    loader.load().await
}

/// First and longest wait between two polls.
const FIRST_POLL: Duration = Duration::from_millis(100);
const LONGEST_POLL: Duration = Duration::from_secs(5);

/// Builds the engine's client, runs the query to its end and reads every result page.
///
/// # Errors
/// The query could not start, failed, was cancelled, or its result could not be read.
pub(crate) fn run<E: Engine>(
    make: impl AsyncFnOnce() -> E,
    progress: bool,
) -> Result<Outcome, QueryError> {
    let runtime = crate::source::runtime().map_err(QueryError::Runtime)?;
    runtime.block_on(async {
        let engine = make().await;
        let id = engine.start().await.map_err(|message| QueryError::Start {
            engine: E::NAME,
            operation: E::START,
            message,
        })?;
        let interrupt = interrupted();
        tokio::pin!(interrupt);
        let finished = tokio::select! {
            result = wait(&engine, &id, progress) => result,
            () = &mut interrupt => {
                let stopped = match engine.stop(&id).await {
                    Ok(()) => "sent".to_owned(),
                    Err(error) => format!("failed: {error}"),
                };
                return Err(QueryError::Interrupted {
                    engine: E::NAME,
                    id,
                    operation: E::STOP,
                    stopped,
                });
            }
        };
        let bytes_scanned = finished?;
        // The query has ended: an interrupt now only abandons reading its result.
        let (rows, pages) = tokio::select! {
            result = results(&engine, &id) => result?,
            () = &mut interrupt => {
                return Err(QueryError::Interrupted {
                    engine: E::NAME,
                    id,
                    operation: E::RESULTS,
                    stopped: "abandoned (the query had ended)".to_owned(),
                });
            }
        };
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

/// Polls until the query ends; its bytes scanned when it succeeded.
async fn wait<E: Engine>(engine: &E, id: &str, progress: bool) -> Result<u64, QueryError> {
    let show = progress && std::io::stderr().is_terminal();
    let mut delay = FIRST_POLL;
    let end_line = || {
        if show {
            crate::warn_!("\n");
        }
    };
    loop {
        let poll = engine
            .poll(id)
            .await
            .map_err(|message| QueryError::Request {
                engine: E::NAME,
                id: id.to_owned(),
                operation: E::POLL,
                message,
            })?;
        match poll {
            Poll::Running { state, scanned } => {
                if show {
                    crate::warn_!(
                        "\r{}: query {id} {state}, {} scanned   ",
                        E::NAME,
                        super::bytes(scanned)
                    );
                }
            }
            Poll::Succeeded { scanned } => {
                end_line();
                return Ok(scanned);
            }
            Poll::Ended { state, reason } => {
                end_line();
                return Err(QueryError::Ended {
                    engine: E::NAME,
                    id: id.to_owned(),
                    state,
                    reason,
                });
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(LONGEST_POLL);
    }
}

/// Every row of the result, the header first, and the pages read.
async fn results<E: Engine>(engine: &E, id: &str) -> Result<(Vec<Row>, u64), QueryError> {
    let mut rows: Vec<Row> = engine.header().into_iter().collect();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let (page, next) =
            engine
                .page(id, token.take())
                .await
                .map_err(|message| QueryError::Request {
                    engine: E::NAME,
                    id: id.to_owned(),
                    operation: E::RESULTS,
                    message,
                })?;
        pages += 1;
        rows.extend(page);
        match next {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok((rows, pages)),
        }
    }
}
