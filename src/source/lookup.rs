//! The CloudTrail LookupEvents API, for accounts without a trail bucket: management events
//! of the last 90 days, one region per request. Pages of 50 are fetched sequentially per
//! region at most two requests a second (the documented limit per account and region),
//! regions in parallel; each page goes to the same parser as saved LookupEvents output.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_sdk_cloudtrail::Client;
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};

use super::Blob;
use super::s3::SourceError;

/// The documented limit: two LookupEvents requests per second per account per region.
pub const INTERVAL: Duration = Duration::from_millis(500);

/// What to look up.
#[derive(Debug, Clone)]
pub struct Options {
    pub regions: Vec<String>,
    pub since: Option<jiff::Timestamp>,
    pub until: Option<jiff::Timestamp>,
    /// One attribute the API filters on (it takes a single one).
    pub attribute: Option<(LookupAttributeKey, String)>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

/// What the lookups did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Looked {
    pub requests: u64,
    pub events: u64,
    /// Regions whose lookups failed, with the reason.
    pub failures: Vec<(String, String)>,
}

/// Runs the lookups and returns every page as a blob.
///
/// # Errors
/// The runtime cannot start.
pub fn read(options: &Options) -> Result<(Vec<Blob>, Looked), SourceError> {
    let runtime = super::runtime().map_err(SourceError::Runtime)?;
    Ok(runtime.block_on(async {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(6));
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        let shared = loader.load().await;
        let tasks: Vec<_> = options
            .regions
            .iter()
            .map(|region| {
                let mut config = aws_sdk_cloudtrail::config::Builder::from(&shared)
                    .region(aws_config::Region::new(region.clone()));
                if let Some(url) = &options.endpoint_url {
                    config = config.endpoint_url(url);
                }
                let client = Client::from_conf(config.build());
                let options = options.clone();
                let region = region.clone();
                tokio::spawn(async move { pages(&client, &region, &options).await })
            })
            .collect();
        let mut blobs = Vec::new();
        let mut looked = Looked::default();
        for (task, region) in tasks.into_iter().zip(&options.regions) {
            match task.await {
                Ok((mut found, stats)) => {
                    blobs.append(&mut found);
                    looked.requests += stats.requests;
                    looked.events += stats.events;
                    looked.failures.extend(stats.failures);
                }
                Err(error) => {
                    // The region's pages are lost: a failed read, like a lost page.
                    looked.failures.push((region.clone(), error.to_string()));
                    blobs.push(Blob::Failed {
                        name: format!("lookup-events:{region}"),
                        message: error.to_string(),
                    });
                }
            }
        }
        (blobs, looked)
    }))
}

fn time(at: jiff::Timestamp) -> DateTime {
    DateTime::from_secs(at.as_second())
}

/// Every page of one region, at most one request per `INTERVAL`.
pub async fn pages(client: &Client, region: &str, options: &Options) -> (Vec<Blob>, Looked) {
    let mut blobs = Vec::new();
    let mut looked = Looked::default();
    let mut token: Option<String> = None;
    let mut next_allowed = tokio::time::Instant::now();
    loop {
        tokio::time::sleep_until(next_allowed).await;
        next_allowed = tokio::time::Instant::now() + INTERVAL;
        let mut request = client
            .lookup_events()
            .max_results(50)
            .set_next_token(token.take());
        if let Some(since) = options.since {
            request = request.start_time(time(since));
        }
        if let Some(until) = options.until {
            request = request.end_time(time(until));
        }
        if let Some((key, value)) = &options.attribute
            && let Ok(attribute) = LookupAttribute::builder()
                .attribute_key(key.clone())
                .attribute_value(value)
                .build()
        {
            request = request.lookup_attributes(attribute);
        }
        looked.requests += 1;
        let page = match request.send().await {
            Ok(page) => page,
            Err(error) => {
                // The service's code and message when it sent one: never the raw response
                // (headers, body) the error's Debug form carries.
                let message = {
                    use aws_sdk_cloudtrail::error::ProvideErrorMetadata as _;
                    match (error.code(), error.message()) {
                        (Some(code), Some(text)) => format!("{code}: {text}"),
                        (Some(code), None) => code.to_owned(),
                        _ => aws_sdk_cloudtrail::error::DisplayErrorContext(&error).to_string(),
                    }
                };
                looked.failures.push((region.to_owned(), message.clone()));
                blobs.push(Blob::Failed {
                    name: format!("lookup-events:{region} page {}", looked.requests),
                    message,
                });
                break;
            }
        };
        let events: Vec<serde_json::Value> = page
            .events()
            .iter()
            .map(|e| serde_json::json!({"EventId": e.event_id(), "CloudTrailEvent": e.cloud_trail_event()}))
            .collect();
        looked.events += events.len() as u64;
        if !events.is_empty() {
            let bytes =
                serde_json::to_vec(&serde_json::json!({ "Events": events })).unwrap_or_default();
            blobs.push(Blob::Memory {
                name: format!("lookup-events:{region} page {}", looked.requests),
                bytes,
            });
        }
        match page.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => break,
        }
    }
    (blobs, looked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtrail::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_types::body::SdkBody;

    fn event(name: &str) -> String {
        serde_json::json!({
            "eventVersion": "1.09", "eventTime": "2026-11-20T10:00:00Z", "eventSource": "sqs.amazonaws.com",
            "eventName": name, "awsRegion": "us-east-1"
        })
        .to_string()
    }

    /// A LookupEvents response page as the service sends it (awsJson1_1).
    fn page(names: &[&str], next: Option<&str>) -> http::Response<SdkBody> {
        let events: Vec<serde_json::Value> = names
            .iter()
            .enumerate()
            .map(|(n, name)| serde_json::json!({"EventId": format!("id-{name}-{n}"), "EventName": name, "CloudTrailEvent": event(name)}))
            .collect();
        let mut body = serde_json::json!({"Events": events});
        if let Some(next) = next {
            body["NextToken"] = serde_json::json!(next);
        }
        http::Response::builder()
            .status(200)
            .header("content-type", "application/x-amz-json-1.1")
            .body(SdkBody::from(body.to_string()))
            .unwrap()
    }

    fn throttled() -> http::Response<SdkBody> {
        http::Response::builder()
            .status(400)
            .header("content-type", "application/x-amz-json-1.1")
            .body(SdkBody::from(
                r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
            ))
            .unwrap()
    }

    fn request() -> http::Request<SdkBody> {
        http::Request::builder()
            .uri("https://cloudtrail.us-east-1.amazonaws.com/")
            .body(SdkBody::empty())
            .unwrap()
    }

    fn client(replay: &StaticReplayClient) -> Client {
        let config = aws_sdk_cloudtrail::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "test"))
            .retry_config(RetryConfig::standard().with_max_attempts(3))
            .http_client(replay.clone())
            .build();
        Client::from_conf(config)
    }

    fn options() -> Options {
        Options {
            regions: vec!["us-east-1".into()],
            since: Some("2026-11-20T10:00:00Z".parse().unwrap()),
            until: Some("2026-11-20T11:00:00Z".parse().unwrap()),
            attribute: Some((LookupAttributeKey::Username, "terraform-run-42".into())),
            profile: None,
            endpoint_url: None,
        }
    }

    fn body(request: &aws_smithy_runtime_api::http::Request) -> serde_json::Value {
        serde_json::from_slice(request.body().bytes().unwrap()).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn pages_are_followed_throttling_is_retried_and_requests_are_paced() {
        let replay = StaticReplayClient::new(vec![
            ReplayEvent::new(
                request(),
                page(&["CreateQueue", "GetQueueUrl"], Some("token-1")),
            ),
            ReplayEvent::new(request(), throttled()),
            ReplayEvent::new(request(), page(&["TagQueue"], Some("token-2"))),
            ReplayEvent::new(request(), page(&["DeleteQueue"], None)),
        ]);
        let started = tokio::time::Instant::now();
        let (blobs, looked) = pages(&client(&replay), "us-east-1", &options()).await;
        let elapsed = started.elapsed();

        assert_eq!(
            looked.requests, 3,
            "three pages; the throttled attempt is the SDK's retry"
        );
        assert_eq!(looked.events, 4);
        assert!(looked.failures.is_empty());
        assert_eq!(blobs.len(), 3);

        let requests: Vec<_> = replay.actual_requests().collect();
        assert_eq!(requests.len(), 4);
        let first = body(requests[0]);
        assert_eq!(first["MaxResults"], 50);
        assert_eq!(first["LookupAttributes"][0]["AttributeKey"], "Username");
        assert_eq!(
            first["LookupAttributes"][0]["AttributeValue"],
            "terraform-run-42"
        );
        assert!(first.get("NextToken").is_none());
        assert_eq!(body(requests[1])["NextToken"], "token-1");
        assert_eq!(
            body(requests[2])["NextToken"],
            "token-1",
            "the throttled request is sent again as it was"
        );
        assert_eq!(body(requests[3])["NextToken"], "token-2");
        assert_eq!(
            requests[0].headers().get("x-amz-target"),
            Some("CloudTrail_20131101.LookupEvents")
        );

        // Three pages at two a second: at least two intervals of the (paused, virtual) clock.
        assert!(elapsed >= INTERVAL * 2, "{elapsed:?}");

        // Each page parses like saved LookupEvents output.
        let mut names = Vec::new();
        for blob in blobs {
            let Blob::Memory { bytes, .. } = blob else {
                panic!("a page is in memory")
            };
            crate::parse::records(&bytes, &crate::parse::Prefilter::none(), &mut |item| {
                if let crate::parse::Item::Event(e) = item {
                    names.push(e.name.into_owned());
                }
            })
            .unwrap();
        }
        assert_eq!(
            names,
            ["CreateQueue", "GetQueueUrl", "TagQueue", "DeleteQueue"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_region_that_keeps_failing_is_reported_not_dropped() {
        let replay = StaticReplayClient::new(vec![
            ReplayEvent::new(request(), throttled()),
            ReplayEvent::new(request(), throttled()),
            ReplayEvent::new(request(), throttled()),
        ]);
        let (blobs, looked) = pages(&client(&replay), "eu-west-1", &options()).await;
        assert_eq!(looked.failures.len(), 1);
        assert_eq!(looked.failures[0].0, "eu-west-1");
        assert!(
            looked.failures[0].1.contains("ThrottlingException"),
            "{}",
            looked.failures[0].1
        );
        assert!(matches!(&blobs[..], [Blob::Failed { .. }]));
        // The code and message, not the SDK's Debug form with the raw response.
        assert!(
            !looked.failures[0].1.contains("headers") && !looked.failures[0].1.contains('{'),
            "{}",
            looked.failures[0].1
        );
    }
}
