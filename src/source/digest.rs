//! The digest files of the window (`--verify-digests`): listed beside the logs under
//! `[prefix/]AWSLogs/[o-org/]ACCOUNT/CloudTrail-Digest/REGION/YYYY/MM/DD/`, from the first
//! day of the window to an hour after its last delivery (a log file is digested by the
//! digest of the hour after it), and fetched with their S3 metadata (`signature`,
//! `signature-algorithm`); or found in a local copy. CloudTrail's public keys come from
//! `ListPublicKeys` in each digest's region.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use aws_sdk_s3::Client;
use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};

use super::bucket::{Options, days, keys as list_keys};
use super::keys::PublicKeys;
use super::layout::digest_time;
use super::{Problem, Scope};

/// A digest object as the source found it.
#[derive(Debug, Clone)]
pub struct DigestFile {
    /// How it is named in messages: `s3://bucket/key` or its path.
    pub name: String,
    /// The bucket it was read from (S3 only).
    pub bucket: Option<String>,
    /// Its key, or its path below the local root with `/` separators.
    pub key: String,
    /// Its bytes, or why it could not be fetched (a failed read, reported by the source).
    pub bytes: Result<Vec<u8>, String>,
    /// The `signature` and `signature-algorithm` of its S3 user metadata.
    pub signature: Option<String>,
    pub signature_algorithm: Option<String>,
}

/// How long after a log file's delivery its digest may be delivered.
pub const LATER: SignedDuration = SignedDuration::from_mins(75);

/// Digest files above this size are not read (an hour's digest is far smaller).
const LIMIT: u64 = 64 << 20;

/// The scope of the digests that cover the scope's log files.
fn widened(scope: &Scope) -> Scope {
    Scope {
        delivered_until: scope
            .delivered_until
            .and_then(|t| t.checked_add(LATER).ok()),
        ..scope.clone()
    }
}

/// Whether a digest file's name puts it in the window.
fn wanted(name: &str, scope: &Scope) -> bool {
    if !name.contains("_CloudTrail-Digest_") || !name.ends_with(".json.gz") {
        return false;
    }
    let Some(end) = digest_time(name) else {
        // Named oddly: read it, so a renamed digest is judged rather than missed.
        return true;
    };
    scope.delivered_from.is_none_or(|from| end >= from)
        && scope.delivered_until.is_none_or(|until| end <= until)
}

/// The digests of the window in `areas` (account folder, region), the prefixes and objects
/// that could not be read, and CloudTrail's public keys when asked for.
pub(super) async fn read(
    client: &Client,
    shared: &aws_config::SdkConfig,
    options: &Options,
    areas: &[(String, String)],
) -> (
    Vec<DigestFile>,
    Vec<Problem>,
    Option<Result<PublicKeys, String>>,
) {
    let (files, failed) = fetch(
        client,
        &options.bucket,
        &options.scope,
        areas,
        options.concurrency,
    )
    .await;
    if !options.list_public_keys || files.is_empty() {
        return (files, failed, None);
    }
    let regions: BTreeSet<String> = files
        .iter()
        .filter_map(|f| f.key.split_once("CloudTrail-Digest/"))
        .filter_map(|(_, rest)| rest.split('/').next())
        .map(str::to_owned)
        .collect();
    let ends: Vec<Timestamp> = files
        .iter()
        .filter_map(|f| digest_time(f.key.rsplit('/').next().unwrap_or(&f.key)))
        .collect();
    let now = Timestamp::now();
    let from = ends.iter().min().copied().unwrap_or(now);
    let until = ends.iter().max().copied().unwrap_or(now);
    let keys = public_keys(
        shared,
        options.endpoint_url.as_deref(),
        &regions,
        from.checked_sub(SignedDuration::from_hours(2))
            .unwrap_or(from),
        until,
    )
    .await;
    (files, failed, Some(keys))
}

/// Lists and fetches the digests of `areas` (account folder, region), with their metadata.
/// A digest that cannot be fetched, or a prefix that cannot be listed, is a failed read.
async fn fetch(
    client: &Client,
    bucket: &str,
    scope: &Scope,
    areas: &[(String, String)],
    concurrency: usize,
) -> (Vec<DigestFile>, Vec<Problem>) {
    let scope = widened(scope);
    let mut failed = Vec::new();
    let mut keys = Vec::new();
    for (base, region) in areas {
        let region_prefix = format!("{base}CloudTrail-Digest/{region}/");
        let prefixes = days(&scope).map_or_else(
            || vec![region_prefix.clone()],
            |days| {
                days.iter()
                    .map(|d| format!("{region_prefix}{}/", d.strftime("%Y/%m/%d")))
                    .collect()
            },
        );
        for prefix in prefixes {
            match list_keys(client, bucket, &prefix).await {
                Ok(found) => keys.extend(
                    found
                        .into_iter()
                        .filter(|k| wanted(k.rsplit('/').next().unwrap_or(k), &scope)),
                ),
                Err(message) => failed.push(Problem {
                    path: format!("s3://{bucket}/{prefix}"),
                    message,
                }),
            }
        }
    }
    let mut files: Vec<DigestFile> = futures_util::stream::iter(keys)
        .map(|key| async move { get(client, bucket, key).await })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    files.sort_by(|a, b| a.key.cmp(&b.key));
    for file in &files {
        if let Err(message) = &file.bytes {
            failed.push(Problem {
                path: file.name.clone(),
                message: message.clone(),
            });
        }
    }
    (files, failed)
}

async fn get(client: &Client, bucket: &str, key: String) -> DigestFile {
    let name = format!("s3://{bucket}/{key}");
    let mut file = DigestFile {
        name,
        bucket: Some(bucket.to_owned()),
        key,
        bytes: Err(String::new()),
        signature: None,
        signature_algorithm: None,
    };
    let response = match client
        .get_object()
        .bucket(bucket)
        .key(&file.key)
        .send()
        .await
    {
        Ok(response) => response,
        Err(error) => {
            file.bytes = Err(super::describe(&error));
            return file;
        }
    };
    if let Some(metadata) = response.metadata() {
        file.signature = metadata.get("signature").cloned();
        file.signature_algorithm = metadata.get("signature-algorithm").cloned();
    }
    file.bytes = match response.body.collect().await {
        Ok(body) => Ok(body.into_bytes().to_vec()),
        Err(error) => Err(format!("body interrupted: {error}")),
    };
    file
}

/// CloudTrail's public keys valid between `from` and `until`, in each region.
///
/// # Errors
/// A region's `ListPublicKeys` failed (its message).
async fn public_keys(
    shared: &aws_config::SdkConfig,
    endpoint_url: Option<&str>,
    regions: &BTreeSet<String>,
    from: Timestamp,
    until: Timestamp,
) -> Result<PublicKeys, String> {
    let time = |t: Timestamp| aws_sdk_cloudtrail::primitives::DateTime::from_secs(t.as_second());
    let mut keys = PublicKeys::default();
    for region in regions {
        let mut config = aws_sdk_cloudtrail::config::Builder::from(shared)
            .region(aws_config::Region::new(region.clone()));
        if let Some(url) = endpoint_url {
            config = config.endpoint_url(url);
        }
        let client = aws_sdk_cloudtrail::Client::from_conf(config.build());
        let mut token: Option<String> = None;
        loop {
            let page = client
                .list_public_keys()
                .start_time(time(from))
                .end_time(time(until))
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "ListPublicKeys in {region}: {}",
                        aws_sdk_cloudtrail::error::DisplayErrorContext(&e)
                    )
                })?;
            for key in page.public_key_list() {
                if let (Some(fingerprint), Some(value)) = (key.fingerprint(), key.value()) {
                    keys.insert(fingerprint.to_owned(), value.as_ref());
                }
            }
            let next = page.next_token().map(str::to_owned);
            // "Reserved for future use": followed, but never round in circles.
            if next.is_none() || next == token {
                break;
            }
            token = next;
        }
    }
    Ok(keys)
}

/// The digests of a local copy in the scope (a local copy has no S3 metadata, so no
/// signatures).
#[must_use]
pub fn list_dir(root: &Path, scope: &Scope) -> Vec<DigestFile> {
    let scope = widened(scope);
    let mut files = Vec::new();
    walk(root, root, &scope, &mut files, &mut HashSet::new(), false);
    files.sort_by(|a, b| a.key.cmp(&b.key));
    files
}

fn walk(
    root: &Path,
    dir: &Path,
    scope: &Scope,
    files: &mut Vec<DigestFile>,
    visited: &mut HashSet<std::path::PathBuf>,
    inside: bool,
) {
    let Some(entries) = super::dir::first_visit(dir, visited) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            // Below `CloudTrail-Digest/`, or on the way to one; log folders are not walked.
            if inside || (name != "CloudTrail" && name != "CloudTrail-Insight") {
                walk(
                    root,
                    &path,
                    scope,
                    files,
                    visited,
                    inside || name == "CloudTrail-Digest",
                );
            }
        } else if inside && meta.is_file() && wanted(&name, scope) {
            let key = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let region = key
                .split_once("CloudTrail-Digest/")
                .and_then(|(_, rest)| rest.split('/').next())
                .unwrap_or_default();
            let account = name.split('_').next().unwrap_or_default();
            if (!scope.regions.is_empty() && !scope.regions.contains(region))
                || (!scope.accounts.is_empty() && !scope.accounts.contains(account))
            {
                continue;
            }
            let bytes = if meta.len() > LIMIT {
                Ok(Vec::new())
            } else {
                std::fs::read(&path).map_err(|e| e.to_string())
            };
            files.push(DigestFile {
                name: path.display().to_string(),
                bucket: None,
                key,
                bytes,
                signature: None,
                signature_algorithm: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_types::body::SdkBody;

    /// A ListPublicKeys response page as the service sends it (awsJson1_1; blobs in base64).
    fn page(fingerprint: &str, value: &str, next: Option<&str>) -> http::Response<SdkBody> {
        let mut body = serde_json::json!({"PublicKeyList": [{
            "Value": value, "Fingerprint": fingerprint,
            "ValidityStartTime": 1.7e9, "ValidityEndTime": 1.8e9,
        }]});
        if let Some(next) = next {
            body["NextToken"] = serde_json::json!(next);
        }
        http::Response::builder()
            .status(200)
            .header("content-type", "application/x-amz-json-1.1")
            .body(SdkBody::from(body.to_string()))
            .unwrap()
    }

    fn request(region: &str) -> http::Request<SdkBody> {
        http::Request::builder()
            .uri(format!("https://cloudtrail.{region}.amazonaws.com/"))
            .body(SdkBody::empty())
            .unwrap()
    }

    fn shared(replay: &StaticReplayClient) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_cloudtrail::config::SharedCredentialsProvider::new(
                aws_sdk_cloudtrail::config::Credentials::new("test", "test", None, None, "test"),
            ))
            .http_client(replay.clone())
            .build()
    }

    #[tokio::test]
    async fn public_keys_are_asked_in_each_digest_region_and_every_page_read() {
        // DER starts with 0x30: "MA" in base64.
        let replay = StaticReplayClient::new(vec![
            ReplayEvent::new(request("eu-west-1"), page("a", "MAEC", Some("t"))),
            ReplayEvent::new(request("eu-west-1"), page("b", "MAED", None)),
            ReplayEvent::new(request("us-east-1"), page("c", "MAEE", None)),
        ]);
        let regions = ["eu-west-1".to_owned(), "us-east-1".to_owned()].into();
        let from = "2026-11-20T08:00:00Z".parse().unwrap();
        let until = "2026-11-20T12:00:00Z".parse().unwrap();
        let keys = public_keys(&shared(&replay), None, &regions, from, until)
            .await
            .unwrap();
        assert_eq!(keys.get("a"), [vec![0x30, 1, 2]]);
        assert_eq!(keys.get("c"), [vec![0x30, 1, 4]]);
        let requests = replay.actual_requests().collect::<Vec<_>>();
        assert_eq!(requests.len(), 3);
        assert!(
            requests[2].uri().contains("cloudtrail.us-east-1."),
            "{}",
            requests[2].uri()
        );
        let body: serde_json::Value =
            serde_json::from_slice(requests[0].body().bytes().unwrap()).unwrap();
        assert_eq!(body["StartTime"], serde_json::json!(from.as_second()));
        assert_eq!(body["EndTime"], serde_json::json!(until.as_second()));
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(requests[1].body().bytes().unwrap())
                .unwrap()["NextToken"],
            "t"
        );
    }

    #[tokio::test]
    async fn a_refused_list_public_keys_names_the_region() {
        let denied = http::Response::builder()
            .status(400)
            .header("content-type", "application/x-amz-json-1.1")
            .body(SdkBody::from(
                r#"{"__type":"AccessDeniedException","message":"not authorized to perform cloudtrail:ListPublicKeys"}"#,
            ))
            .unwrap();
        let replay = StaticReplayClient::new(vec![ReplayEvent::new(request("eu-west-1"), denied)]);
        let regions = ["eu-west-1".to_owned()].into();
        let at = "2026-11-20T08:00:00Z".parse().unwrap();
        let error = public_keys(&shared(&replay), None, &regions, at, at)
            .await
            .unwrap_err();
        assert!(
            error.starts_with("ListPublicKeys in eu-west-1: "),
            "{error}"
        );
        assert!(error.contains("AccessDenied"), "{error}");
    }

    #[test]
    fn digests_of_the_window_and_an_hour_after_are_wanted() {
        let scope = Scope::new(
            Some("2026-11-20T10:00:00Z".parse().unwrap()),
            Some("2026-11-20T10:40:00Z".parse().unwrap()),
            SignedDuration::from_mins(30),
            &BTreeSet::new(),
            &BTreeSet::new(),
            "us-east-1",
        );
        let scope = widened(&scope);
        let name = |stamp: &str| format!("1_CloudTrail-Digest_r_t_r_{stamp}.json.gz");
        assert!(wanted(&name("20261120T100000Z"), &scope));
        assert!(wanted(&name("20261120T120000Z"), &scope));
        assert!(!wanted(&name("20261120T123000Z"), &scope));
        assert!(!wanted(&name("20261120T090000Z"), &scope));
        assert!(wanted("1_CloudTrail-Digest_odd.json.gz", &scope));
        assert!(!wanted("1_CloudTrail_r_20261120T1000Z_x.json.gz", &scope));
    }
}
