//! Runs one query on a CloudTrail Lake event data store and returns every row of its result:
//! StartQuery, DescribeQuery polled with backoff until the query ends (CancelQuery if the
//! run is interrupted), then GetQueryResults page by page (`NextToken`). CloudTrail API
//! reference: "StartQuery" (`QueryStatement` → `QueryId`), "DescribeQuery" (`QueryStatus`,
//! `QueryStatistics.BytesScanned`, `ErrorMessage`), "GetQueryResults" (`QueryResultRows`:
//! each row a list of one-entry `{column: text}` maps, with no header row).
//!
//! Lake names each cell's column, so the rows are put in the query's column order here, and
//! a column the result leaves out is NULL; a column the query did not ask for is an error.
//!
//! Endpoints: `--endpoint-url`, else what aws-config resolves from
//! `AWS_ENDPOINT_URL_CLOUDTRAIL` or `AWS_ENDPOINT_URL`, else AWS's.

use aws_sdk_cloudtrail::Client;
use aws_sdk_cloudtrail::types::QueryStatus;

use super::describe as message;
use super::engine::{Engine, Poll};
pub use super::engine::{Outcome, QueryError, Row};

/// What to run, where.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub sql: String,
    /// The query's result columns, in order (lower-case).
    pub columns: Vec<String>,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub region: Option<String>,
    /// A progress line on stderr while the query runs (when it is a terminal).
    pub progress: bool,
}

/// Runs the query to its end and reads every result page; the rows come header first.
///
/// # Errors
/// The query could not start, failed, was cancelled or timed out, or its result could not
/// be read (a cell of a column the query does not select included).
pub fn run(options: &Options) -> Result<Outcome, QueryError> {
    super::engine::run(
        async || Lake {
            client: client(options).await,
            options,
        },
        options.progress,
    )
}

async fn client(options: &Options) -> Client {
    let shared =
        super::engine::shared_config(options.profile.as_deref(), options.region.as_deref()).await;
    let mut config = aws_sdk_cloudtrail::config::Builder::from(&shared);
    if let Some(url) = &options.endpoint_url {
        config = config.endpoint_url(url);
    }
    Client::from_conf(config.build())
}

struct Lake<'o> {
    client: Client,
    options: &'o Options,
}

/// A page's rows in the query's column order. Lake leaves a NULL's cell out; an empty text
/// is taken as NULL too (no column of the query is legitimately empty: the aggregates give
/// NULL for no values).
fn positional(
    cells: &[Vec<std::collections::HashMap<String, String>>],
    columns: &[String],
) -> Result<Vec<Row>, String> {
    cells
        .iter()
        .map(|row| {
            let mut out: Row = vec![None; columns.len()];
            for (name, value) in row.iter().flatten() {
                let at = columns
                    .iter()
                    .position(|c| c.eq_ignore_ascii_case(name))
                    .ok_or_else(|| {
                        format!("the result has a column {name:?} the query does not select")
                    })?;
                if !value.is_empty() {
                    out[at] = Some(value.clone());
                }
            }
            Ok(out)
        })
        .collect()
}

impl Engine for Lake<'_> {
    const NAME: &'static str = "CloudTrail Lake";
    const START: &'static str = "StartQuery";
    const POLL: &'static str = "DescribeQuery";
    const STOP: &'static str = "CancelQuery";
    const RESULTS: &'static str = "GetQueryResults";

    async fn start(&self) -> Result<String, String> {
        let response = self
            .client
            .start_query()
            .query_statement(&self.options.sql)
            .send()
            .await
            .map_err(|e| message(&e))?;
        response
            .query_id()
            .map(str::to_owned)
            .ok_or_else(|| "the response has no QueryId".to_owned())
    }

    async fn poll(&self, id: &str) -> Result<Poll, String> {
        let response = self
            .client
            .describe_query()
            .query_id(id)
            .send()
            .await
            .map_err(|e| message(&e))?;
        let scanned = response
            .query_statistics()
            .and_then(aws_sdk_cloudtrail::types::QueryStatisticsForDescribeQuery::bytes_scanned)
            .and_then(|b| u64::try_from(b).ok())
            .unwrap_or_default();
        Ok(match response.query_status() {
            Some(QueryStatus::Finished) => Poll::Succeeded { scanned },
            Some(state @ (QueryStatus::Queued | QueryStatus::Running)) => Poll::Running {
                state: state.as_str().to_owned(),
                scanned,
            },
            other => Poll::Ended {
                state: other.map_or_else(
                    || "ended in no known state".to_owned(),
                    |s| s.as_str().to_owned(),
                ),
                reason: response
                    .error_message()
                    .unwrap_or("no reason given")
                    .to_owned(),
            },
        })
    }

    async fn stop(&self, id: &str) -> Result<(), String> {
        self.client
            .cancel_query()
            .query_id(id)
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
            .query_id(id)
            .max_query_results(1000)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| message(&e))?;
        if let Some(error) = response.error_message() {
            return Err(error.to_owned());
        }
        let rows = positional(response.query_result_rows(), &self.options.columns)?;
        Ok((rows, response.next_token().map(str::to_owned)))
    }

    fn header(&self) -> Option<Row> {
        Some(self.options.columns.iter().cloned().map(Some).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtrail::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_types::body::SdkBody;

    fn response(body: &serde_json::Value) -> http::Response<SdkBody> {
        http::Response::builder()
            .status(200)
            .header("content-type", "application/x-amz-json-1.1")
            .body(SdkBody::from(body.to_string()))
            .unwrap()
    }

    fn request() -> http::Request<SdkBody> {
        http::Request::builder()
            .uri("https://cloudtrail.eu-west-1.amazonaws.com/")
            .body(SdkBody::empty())
            .unwrap()
    }

    fn engine<'o>(replay: &StaticReplayClient, options: &'o Options) -> Lake<'o> {
        let config = aws_sdk_cloudtrail::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .http_client(replay.clone())
            .build();
        Lake {
            client: Client::from_conf(config),
            options,
        }
    }

    fn options() -> Options {
        Options {
            sql: "SELECT eventname, calls FROM store".to_owned(),
            columns: vec![
                "eventname".to_owned(),
                "errorcode".to_owned(),
                "calls".to_owned(),
            ],
            ..Options::default()
        }
    }

    fn target(request: &aws_smithy_runtime_api::http::Request) -> String {
        request
            .headers()
            .get("x-amz-target")
            .unwrap_or_default()
            .to_owned()
    }

    fn body(request: &aws_smithy_runtime_api::http::Request) -> serde_json::Value {
        serde_json::from_slice(request.body().bytes().unwrap()).unwrap()
    }

    /// The result shape of CloudTrail's API reference (GetQueryResults): rows of one-entry
    /// maps, a column left out where its value is NULL, pages joined by `NextToken`.
    #[tokio::test(start_paused = true)]
    async fn a_query_is_polled_to_its_end_and_its_pages_are_put_in_column_order() {
        let replay = StaticReplayClient::new(vec![
            ReplayEvent::new(request(), response(&serde_json::json!({"QueryId": "q-1"}))),
            ReplayEvent::new(
                request(),
                response(
                    &serde_json::json!({"QueryId": "q-1", "QueryStatus": "RUNNING",
                    "QueryStatistics": {"EventsMatched": 0, "EventsScanned": 10, "BytesScanned": 100}}),
                ),
            ),
            ReplayEvent::new(
                request(),
                response(
                    &serde_json::json!({"QueryId": "q-1", "QueryStatus": "FINISHED",
                    "QueryStatistics": {"EventsMatched": 3, "EventsScanned": 30, "BytesScanned": 4096}}),
                ),
            ),
            ReplayEvent::new(
                request(),
                response(&serde_json::json!({"QueryStatus": "FINISHED",
                    "QueryStatistics": {"ResultsCount": 1, "TotalResultsCount": 2},
                    "QueryResultRows": [[{"eventname": "CreateKey"}, {"calls": "2"}]],
                    "NextToken": "page-2"})),
            ),
            ReplayEvent::new(
                request(),
                response(&serde_json::json!({"QueryStatus": "FINISHED",
                    "QueryResultRows": [[{"calls": "1"}, {"errorcode": "AccessDenied"}, {"eventname": "TagResource"}]]})),
            ),
        ]);
        let options = options();
        let lake = engine(&replay, &options);
        let id = lake.start().await.unwrap();
        assert_eq!(id, "q-1");
        assert!(matches!(
            lake.poll(&id).await.unwrap(),
            Poll::Running { scanned: 100, .. }
        ));
        assert_eq!(
            lake.poll(&id).await.unwrap(),
            Poll::Succeeded { scanned: 4096 }
        );
        let (first, next) = lake.page(&id, None).await.unwrap();
        assert_eq!(next.as_deref(), Some("page-2"));
        assert_eq!(
            first,
            vec![vec![
                Some("CreateKey".to_owned()),
                None,
                Some("2".to_owned())
            ]]
        );
        let (second, next) = lake.page(&id, next).await.unwrap();
        assert_eq!(next, None);
        assert_eq!(
            second,
            vec![vec![
                Some("TagResource".to_owned()),
                Some("AccessDenied".to_owned()),
                Some("1".to_owned())
            ]]
        );
        let requests = replay.actual_requests().collect::<Vec<_>>();
        let targets: Vec<String> = requests.iter().map(|r| target(r)).collect();
        assert!(targets[0].ends_with(".StartQuery"), "{targets:?}");
        assert!(targets[1].ends_with(".DescribeQuery"), "{targets:?}");
        assert!(targets[3].ends_with(".GetQueryResults"), "{targets:?}");
        assert_eq!(body(requests[0])["QueryStatement"], options.sql);
        assert_eq!(body(requests[1])["QueryId"], "q-1");
        assert_eq!(body(requests[4])["NextToken"], "page-2");
        assert_eq!(body(requests[4])["MaxQueryResults"], 1000);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_query_gives_its_error_message_and_an_unknown_column_fails_the_page() {
        let replay = StaticReplayClient::new(vec![
            ReplayEvent::new(
                request(),
                response(
                    &serde_json::json!({"QueryId": "q-2", "QueryStatus": "FAILED",
                    "ErrorMessage": "Query failed: line 1:8: Column 'nope' cannot be resolved"}),
                ),
            ),
            ReplayEvent::new(
                request(),
                response(&serde_json::json!({"QueryStatus": "FINISHED",
                    "QueryResultRows": [[{"eventname": "CreateKey"}, {"surprise": "1"}]]})),
            ),
            ReplayEvent::new(
                request(),
                response(
                    &serde_json::json!({"QueryStatus": "TIMED_OUT", "ErrorMessage": "Query timed out"}),
                ),
            ),
        ]);
        let options = options();
        let lake = engine(&replay, &options);
        assert_eq!(
            lake.poll("q-2").await.unwrap(),
            Poll::Ended {
                state: "FAILED".to_owned(),
                reason: "Query failed: line 1:8: Column 'nope' cannot be resolved".to_owned()
            }
        );
        let error = lake.page("q-2", None).await.unwrap_err();
        assert!(error.contains("\"surprise\""), "{error}");
        assert_eq!(lake.page("q-2", None).await.unwrap_err(), "Query timed out");
    }
}
