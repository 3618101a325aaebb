//! An S3 trail bucket: the bucket's region found (GetBucketLocation), accounts and regions
//! discovered by listing with `Delimiter=/`, only the `YYYY/MM/DD/` prefixes of the window
//! listed, and objects fetched concurrently (bounded) into a bounded channel, so memory
//! stays flat however large the trail. Throttling, timeouts and resets are retried by the
//! SDK's standard retry plus a retry of interrupted bodies; what still fails is handed on
//! as a failed input, named and counted. The async runtime lives only here.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::Client;
use futures_util::StreamExt;
use sha2::Digest;

pub use super::bucket::Options;
use super::bucket::{Object, days, folders, join, objects};
use super::describe;
use super::{Blob, Listing, Problem};

/// A source that could not be opened at all.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("s3://{bucket}: {message}")]
    Bucket { bucket: String, message: String },
    /// `--wait` ended without reading.
    #[error(transparent)]
    Wait(#[from] super::delivery::Stopped),
}

/// What fetching did, known once the stream is drained.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub objects: u64,
    /// Objects that could not be fetched after retries.
    pub failed: u64,
    pub bytes: u64,
    pub from_cache: u64,
    /// Bodies interrupted mid-transfer and fetched again.
    pub body_retries: u64,
}

/// The keys to read and the stream of their bytes.
pub struct Stream {
    pub listing: Listing,
    pub blobs: Receiver<Blob>,
    pub fetcher: Fetcher,
    /// The window's digest files, with `verify_digests`.
    pub digests: Vec<super::digest::DigestFile>,
    /// CloudTrail's public keys, with `list_public_keys` (or why they could not be listed).
    pub keys: Option<Result<super::keys::PublicKeys, String>>,
    /// The accounts × regions listed.
    pub areas: Vec<super::delivery::Area>,
    /// What `--wait` saw, when it waited.
    pub waited: Option<super::delivery::Waited>,
}

/// The background fetch.
pub struct Fetcher(std::thread::JoinHandle<Fetched>);

impl Fetcher {
    /// Waits for the fetcher (after the blobs are drained) and reports what it did.
    #[must_use]
    pub fn finish(self) -> Fetched {
        self.0.join().unwrap_or_default()
    }
}

/// Lists the trail's keys in the window, then starts fetching them in the background.
///
/// # Errors
/// The runtime cannot start, or the bucket cannot be reached or listed at all.
pub fn open(options: &Options) -> Result<Stream, SourceError> {
    let runtime = super::runtime().map_err(SourceError::Runtime)?;
    let (client, listing, objects, digests, keys, areas, waited) = runtime.block_on(async {
        let (client, shared) = client(options).await?;
        let (mut listing, areas) = areas(&client, options).await?;
        let typed: Vec<super::delivery::Area> = areas
            .iter()
            .map(|(base, region)| super::delivery::Area::new(base, region))
            .collect();
        let waited = match &options.wait {
            Some((rule, wait)) => {
                let probe = super::delivery::Bucket {
                    client: &client,
                    bucket: &options.bucket,
                };
                Some(super::delivery::wait(&probe, &typed, rule, wait).await?)
            }
            None => None,
        };
        let objects = list(&client, options, &areas, &mut listing).await;
        let (digests, keys) = if options.verify_digests {
            let (digests, failed, keys) =
                super::digest::read(&client, &shared, options, &areas).await;
            listing.failed.extend(failed);
            (digests, keys)
        } else {
            (Vec::new(), None)
        };
        Ok::<_, SourceError>((client, listing, objects, digests, keys, typed, waited))
    })?;
    // Room for a few fetched objects per worker: fetching pauses while the parser is behind.
    let (sender, blobs) = sync_channel(options.concurrency.max(1));
    let options = options.clone();
    let fetcher =
        std::thread::spawn(move || runtime.block_on(fetch(client, objects, options, sender)));
    Ok(Stream {
        listing,
        blobs,
        fetcher: Fetcher(fetcher),
        digests,
        keys,
        areas,
        waited,
    })
}

/// A client for the bucket's own region (or the endpoint given), and the shared config.
async fn client(options: &Options) -> Result<(Client, aws_config::SdkConfig), SourceError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(5))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_mins(1))
                .build(),
        );
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &options.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    let shared = loader.load().await;
    let build = |region: Option<String>| {
        let mut config = aws_sdk_s3::config::Builder::from(&shared);
        if let Some(region) = region {
            config = config.region(aws_config::Region::new(region));
        }
        if let Some(url) = &options.endpoint_url {
            config = config.endpoint_url(url).force_path_style(true);
        }
        Client::from_conf(config.build())
    };
    let start = shared
        .region()
        .map_or_else(|| "us-east-1".to_owned(), ToString::to_string);
    // Ask where the bucket lives, so users never have to know.
    let probe = build(Some(start.clone()));
    let region = match probe
        .get_bucket_location()
        .bucket(&options.bucket)
        .send()
        .await
    {
        Ok(out) => match out.location_constraint().map(|c| c.as_str().to_owned()) {
            None => "us-east-1".to_owned(),
            Some(c) if c.is_empty() => "us-east-1".to_owned(),
            Some(c) if c == "EU" => "eu-west-1".to_owned(),
            Some(c) => c,
        },
        Err(error) => {
            let header = error
                .raw_response()
                .and_then(|r| r.headers().get("x-amz-bucket-region"))
                .map(str::to_owned);
            let missing = error
                .as_service_error()
                .and_then(aws_sdk_s3::error::ProvideErrorMetadata::code)
                == Some("NoSuchBucket");
            match header {
                Some(region) => region,
                // An S3-compatible store that does not answer this: keep the configured region.
                None if options.endpoint_url.is_some() && !missing => start,
                None => {
                    return Err(SourceError::Bucket {
                        bucket: options.bucket.clone(),
                        message: format!("cannot find the bucket's region: {}", describe(&error)),
                    });
                }
            }
        }
    };
    Ok((build(Some(region)), shared))
}

/// A progress line over the prefixes listed, on stderr when it is a terminal.
fn listing_bar(show: bool, prefixes: usize) -> indicatif::ProgressBar {
    use std::io::IsTerminal as _;
    if !show || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(prefixes as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} listing {pos}/{len} prefixes ({msg}) {wide_bar} {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// The objects under each prefix, listed at most `--concurrency` at a time, in the
/// prefixes' order; a prefix that cannot be listed is a failed read.
async fn list_prefixes(
    client: &Client,
    bucket: &str,
    prefixes: Vec<String>,
    options: &Options,
    listing: &mut Listing,
) -> Vec<Object> {
    let bar = listing_bar(options.progress, prefixes.len());
    let mut objects_listed = 0_usize;
    let found: Vec<(String, Result<Vec<Object>, String>)> =
        futures_util::stream::iter(prefixes.into_iter().map(|prefix| async move {
            let found = objects(client, bucket, &prefix).await;
            (prefix, found)
        }))
        .buffered(options.concurrency.max(1))
        .inspect(|(_, found)| {
            bar.inc(1);
            objects_listed += found.as_ref().map_or(0, Vec::len);
            bar.set_message(format!("{objects_listed} objects"));
        })
        .collect()
        .await;
    bar.finish_and_clear();
    let mut keys = Vec::new();
    for (prefix, found) in found {
        match found {
            Ok(found) => keys.extend(found),
            Err(message) => listing.failed.push(Problem {
                path: format!("s3://{bucket}/{prefix}"),
                message,
            }),
        }
    }
    keys
}

/// Walks the layout down to the accounts' regions: each (account folder, region) to list.
async fn areas(
    client: &Client,
    options: &Options,
) -> Result<(Listing, Vec<(String, String)>), SourceError> {
    let bucket = &options.bucket;
    let fatal = |message: String| SourceError::Bucket {
        bucket: bucket.clone(),
        message,
    };
    let mut listing = Listing::default();
    let logs = join(&options.prefix, "AWSLogs/");
    let top = folders(client, bucket, &logs).await.map_err(fatal)?;
    if top.is_empty() {
        return Err(fatal(format!(
            "no CloudTrail logs under {logs} (check --prefix)"
        )));
    }
    let mut accounts = Vec::new();
    for entry in top {
        if entry.starts_with("o-") {
            if options.org_id.as_ref().is_some_and(|org| *org != entry) {
                continue;
            }
            let org = format!("{logs}{entry}/");
            for account in folders(client, bucket, &org).await.map_err(fatal)? {
                accounts.push((format!("{org}{account}/"), account));
            }
        } else if options.org_id.is_none() {
            accounts.push((format!("{logs}{entry}/"), entry));
        }
    }
    // Every account's regions, then every (account, region, day) prefix, listed
    // concurrently (at most --concurrency listings in flight): an organization trail has
    // accounts × regions × days prefixes. Results are put back in order, so the listing is
    // the same however the requests interleave.
    let concurrency = options.concurrency.max(1);
    let accounts: Vec<(String, String)> = accounts
        .into_iter()
        .filter(|(_, account)| options.accounts.is_empty() || options.accounts.contains(account))
        .collect();
    let region_lists: Vec<(String, Result<Vec<String>, String>)> =
        futures_util::stream::iter(accounts.into_iter().map(|(base, _)| async move {
            let trail = format!("{base}CloudTrail/");
            let regions = if options.regions.is_empty() {
                folders(client, bucket, &trail).await
            } else {
                Ok(options.regions.iter().cloned().collect())
            };
            (base, regions)
        }))
        .buffered(concurrency)
        .collect()
        .await;
    let mut areas = Vec::new();
    for (base, regions) in region_lists {
        match regions {
            Ok(regions) => areas.extend(regions.into_iter().map(|r| (base.clone(), r))),
            Err(message) => listing.failed.push(Problem {
                path: format!("s3://{bucket}/{base}CloudTrail/"),
                message,
            }),
        }
    }
    Ok((listing, areas))
}

/// Lists the keys to read in the areas, down to the window's days.
async fn list(
    client: &Client,
    options: &Options,
    areas: &[(String, String)],
    listing: &mut Listing,
) -> Vec<Object> {
    let bucket = &options.bucket;
    let mut prefixes = Vec::new();
    for (base, region) in areas {
        let region_prefix = format!("{base}CloudTrail/{region}/");
        match days(&options.scope) {
            Some(days) => prefixes.extend(
                days.iter()
                    .map(|d| format!("{region_prefix}{}/", d.strftime("%Y/%m/%d"))),
            ),
            None => prefixes.push(region_prefix),
        }
    }
    let keys = list_prefixes(client, bucket, prefixes, options, listing).await;
    let mut wanted = Vec::new();
    for object in keys {
        let name = object.key.rsplit('/').next().unwrap_or(&object.key);
        match options.scope.file(name) {
            Ok(()) => wanted.push(object),
            Err(reason) => *listing.ignored.entry(reason).or_default() += 1,
        }
    }
    wanted.sort_by(|a, b| a.key.cmp(&b.key));
    listing.blobs = wanted
        .iter()
        .map(|o| Blob::Remote {
            name: format!("s3://{bucket}/{}", o.key),
            size: o.size,
        })
        .collect();
    wanted
}

/// The cache file of an object: a hash of bucket, key and ETag, never the key as a path.
fn cache_path(dir: &Path, bucket: &str, object: &Object) -> PathBuf {
    let mut hash = sha2::Sha256::new();
    for part in [bucket, &object.key, &object.etag] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    let digest = hash
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{byte:02x}");
            hex
        });
    dir.join(format!("{digest}.log"))
}

/// Fetches every object with at most `concurrency` requests in flight, sending each (or its
/// failure) to the parser. Sending blocks while the channel is full: that is the backpressure.
async fn fetch(
    client: Client,
    objects: Vec<Object>,
    options: Options,
    sender: SyncSender<Blob>,
) -> Fetched {
    let bucket = options.bucket.clone();
    let cache = options.cache_dir.clone();
    if let Some(dir) = &cache {
        let _ = std::fs::create_dir_all(dir);
    }
    let mut stats = Fetched::default();
    let mut results = futures_util::stream::iter(objects)
        .map(|object| {
            let client = client.clone();
            let bucket = bucket.clone();
            let cache = cache.clone();
            async move { get(&client, &bucket, &object, cache.as_deref()).await }
        })
        .buffer_unordered(options.concurrency.max(1));
    while let Some((blob, outcome)) = results.next().await {
        // Count what was fetched, not what was asked for: failures are reported on their own.
        stats.objects += u64::from(!matches!(blob, Blob::Failed { .. }));
        stats.failed += u64::from(matches!(blob, Blob::Failed { .. }));
        stats.bytes += outcome.bytes;
        stats.from_cache += u64::from(outcome.cached);
        stats.body_retries += outcome.body_retries;
        let sender = sender.clone();
        // The parser may be behind: wait for room without holding up the runtime's threads.
        if tokio::task::spawn_blocking(move || sender.send(blob))
            .await
            .map_or(true, |sent| sent.is_err())
        {
            break;
        }
    }
    stats
}

#[derive(Default)]
struct Outcome {
    bytes: u64,
    cached: bool,
    body_retries: u64,
}

async fn get(
    client: &Client,
    bucket: &str,
    object: &Object,
    cache: Option<&Path>,
) -> (Blob, Outcome) {
    let name = format!("s3://{bucket}/{}", object.key);
    let mut outcome = Outcome::default();
    let cached = cache.map(|dir| cache_path(dir, bucket, object));
    if let Some(path) = &cached
        && let Ok(bytes) = std::fs::read(path)
    {
        outcome.cached = true;
        return (Blob::Memory { name, bytes }, outcome);
    }
    let mut last = String::new();
    for attempt in 0..3 {
        let response = match client
            .get_object()
            .bucket(bucket)
            .key(&object.key)
            .send()
            .await
        {
            Ok(response) => response,
            Err(error) => {
                return (
                    Blob::Failed {
                        name,
                        message: describe(&error),
                    },
                    outcome,
                );
            }
        };
        match response.body.collect().await {
            Ok(body) => {
                let bytes = body.into_bytes().to_vec();
                outcome.bytes = bytes.len() as u64;
                if let Some(path) = &cached {
                    let temporary = path.with_extension("partial");
                    if std::fs::write(&temporary, &bytes).is_ok() {
                        let _ = std::fs::rename(&temporary, path);
                    }
                }
                return (Blob::Memory { name, bytes }, outcome);
            }
            Err(error) => {
                last = format!("body interrupted: {error}");
                if attempt < 2 {
                    outcome.body_retries += 1;
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                }
            }
        }
    }
    (
        Blob::Failed {
            name,
            message: last,
        },
        outcome,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_files_are_named_by_hash_never_by_key() {
        let dir = Path::new("/cache");
        let object = Object {
            key: "../../etc/passwd".into(),
            size: 1,
            etag: "abc".into(),
        };
        let path = cache_path(dir, "b", &object);
        assert_eq!(path.parent(), Some(dir));
        assert!(!path.to_string_lossy().contains(".."));
        let other = Object {
            etag: "abd".into(),
            ..object.clone()
        };
        assert_ne!(path, cache_path(dir, "b", &other));
    }
}
