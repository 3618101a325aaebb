//! Arguments → a validated `Config`: times parsed, globs compiled, defaults applied.

use std::path::PathBuf;

use jiff::{SignedDuration, Timestamp};

use crate::cli::DiscoverArgs;
use crate::filter::Filter;

/// The input flags, one of which `discover` needs.
const INPUTS: &str =
    "give --trail-dir, --events, --trail-bucket, --lookup, --athena-table or --lake";

/// Where records come from.
#[derive(Debug, Clone)]
pub enum Input {
    TrailDir(PathBuf),
    /// A file, or stdin for `-`.
    Events(PathBuf),
    TrailBucket(Bucket),
    /// The CloudTrail LookupEvents API, in the `--region`s.
    Lookup,
    /// A grouped query on an Athena table of the trail or a CloudTrail Lake event data store.
    Query(Query),
}

/// What the grouped query runs on, and how.
#[derive(Debug, Clone)]
pub struct Query {
    pub target: crate::query::spec::Target,
    /// The Athena workgroup (Athena only).
    pub workgroup: String,
    /// Where Athena writes the result, when the workgroup does not set it (Athena only).
    pub output: Option<String>,
    /// The region the engine runs in (default: the standard chain's).
    pub region: Option<String>,
    pub dry_run: bool,
}

/// Where an S3 trail is and how to read it.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub bucket: String,
    pub prefix: String,
    pub org_id: Option<String>,
    pub concurrency: usize,
    pub cache_dir: Option<PathBuf>,
}

/// Everything `discover` needs, resolved.
#[derive(Debug)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent command-line switches"
)]
pub struct Config {
    pub input: Input,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub filter: Filter,
    pub scoping: crate::resource::Scoping,
    pub conditions: crate::policy::Conditions,
    pub max_policy_size: usize,
    /// `--max-policies`.
    pub max_policies: usize,
    pub format: crate::cli::Format,
    pub report: Option<PathBuf>,
    pub delivery_slack: SignedDuration,
    pub max_file_size: u64,
    pub output: Option<PathBuf>,
    pub strict: bool,
    pub allow_partial: bool,
    pub quiet: bool,
    /// `--verify-digests`.
    pub digests: Option<DigestCheck>,
    /// `--wait`: how long at most, and how often to look.
    pub wait: Option<Waiting>,
    /// When the run started: where a window without `--until` ends.
    pub started: Timestamp,
    /// `--decode-denials`: decode EC2's encoded messages with STS.
    pub decode_denials: bool,
}

/// `--wait[=MAX]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waiting {
    pub max: SignedDuration,
    /// How often to look again (`MINPRIV_WAIT_POLL`, hidden `--wait-poll`).
    pub poll: SignedDuration,
}

/// `--wait` alone waits `--delivery-slack` plus this: long enough for the clock to settle a
/// window that ended before the run started.
pub const WAIT_BEYOND_SLACK: SignedDuration = SignedDuration::from_mins(1);

/// How `--verify-digests` checks signatures.
#[derive(Debug, Clone, Default)]
pub struct DigestCheck {
    /// `--public-keys FILE` instead of ListPublicKeys.
    pub public_keys: Option<PathBuf>,
}

/// An argument that does not make sense.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--{flag} {value:?}: {reason}")]
    Invalid {
        flag: &'static str,
        value: String,
        reason: String,
    },
    #[error("--since {since} is after --until {until}")]
    EmptyWindow { since: Timestamp, until: Timestamp },
}

impl Config {
    /// Resolves arguments relative to `now`.
    ///
    /// # Errors
    /// Unparseable times, sizes or durations, or an empty window.
    #[expect(
        clippy::too_many_lines,
        reason = "one branch per input flag, resolved in order"
    )]
    pub fn from_args(args: &DiscoverArgs, now: Timestamp) -> Result<Self, ConfigError> {
        let since = args
            .since
            .as_deref()
            .map(|v| parse_time("since", v, now))
            .transpose()?;
        let until = args
            .until
            .as_deref()
            .map(|v| parse_time("until", v, now))
            .transpose()?;
        if let (Some(since), Some(until)) = (since, until)
            && since > until
        {
            return Err(ConfigError::EmptyWindow { since, until });
        }
        let input = if let Some(dir) = &args.trail_dir {
            Input::TrailDir(dir.clone())
        } else if let Some(file) = &args.events {
            Input::Events(file.clone())
        } else if let Some(bucket) = &args.trail_bucket {
            if args.concurrency == 0 {
                return Err(ConfigError::Invalid {
                    flag: "concurrency",
                    value: "0".into(),
                    reason: "must be at least 1".into(),
                });
            }
            Input::TrailBucket(Bucket {
                bucket: bucket.clone(),
                prefix: args.prefix.clone(),
                org_id: args.org_id.clone(),
                concurrency: args.concurrency,
                cache_dir: args.cache_dir.clone(),
            })
        } else if args.lookup {
            if args.region.is_empty() {
                return Err(ConfigError::Invalid {
                    flag: "region",
                    value: String::new(),
                    reason: "--lookup reads one region per --region (IAM and other global services are in us-east-1)".into(),
                });
            }
            Input::Lookup
        } else if let Some(table) = &args.athena.athena_table {
            athena_input(args, table)?
        } else if let Some(store) = &args.lake {
            lake_input(args, store)?
        } else {
            return Err(ConfigError::Invalid {
                flag: "trail-dir",
                value: String::new(),
                reason: INPUTS.to_owned(),
            });
        };
        let filter = Filter::new(&crate::filter::Criteria {
            principals: &args.principal,
            sessions: &args.session,
            since,
            until,
            regions: &args.region,
            accounts: &args.account,
            user_agents: &args.user_agent,
            include_service_events: args.include_service_events,
        })
        .map_err(|(flag, value, reason)| ConfigError::Invalid {
            flag,
            value,
            reason,
        })?;
        let digests = digest_check(args, &input)?;
        let delivery_slack = parse_duration("delivery-slack", &args.delivery_slack)?;
        let wait = waiting(args, delivery_slack)?;
        if args.max_policy_size < 100 {
            return Err(ConfigError::Invalid {
                flag: "max-policy-size",
                value: args.max_policy_size.to_string(),
                reason: "too small to hold a statement".to_owned(),
            });
        }
        for (flag, value) in [
            ("max-policies", args.max_policies),
            ("max-resources", args.max_resources),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    flag,
                    value: value.to_string(),
                    reason: "must be at least 1".to_owned(),
                });
            }
        }
        Ok(Self {
            input,
            endpoint_url: args.endpoint_url.clone(),
            profile: args.profile.clone(),
            filter,
            scoping: crate::resource::Scoping {
                mode: args.resources,
                keep_region: args.keep_region,
                any_account: args.any_account,
                name_prefixes: args.name_prefix.clone(),
                portable: args.portable,
                created: std::sync::Arc::default(),
                lifecycle: std::sync::Arc::default(),
                collapsing: crate::resource::collapse::Collapsing {
                    max: (args.resources != crate::resource::Mode::Exact)
                        .then_some(args.max_resources),
                    level: crate::resource::collapse::Level::Narrowest,
                },
            },
            conditions: args.conditions,
            max_policy_size: args.max_policy_size,
            max_policies: args.max_policies,
            format: args.format,
            report: args.report.clone(),
            delivery_slack,
            max_file_size: parse_size("max-file-size", &args.max_file_size)?,
            output: args.output.clone(),
            strict: args.strict,
            allow_partial: args.allow_partial,
            quiet: args.quiet,
            digests,
            wait,
            started: now,
            decode_denials: args.decode_denials,
        })
    }
}

/// `--wait[=MAX]` and how often it looks.
fn waiting(
    args: &DiscoverArgs,
    delivery_slack: SignedDuration,
) -> Result<Option<Waiting>, ConfigError> {
    let Some(max) = &args.wait else {
        return Ok(None);
    };
    let max = match max {
        Some(max) => parse_duration("wait", max)?,
        None => delivery_slack
            .checked_add(WAIT_BEYOND_SLACK)
            .unwrap_or(SignedDuration::MAX),
    };
    let poll = parse_duration("wait-poll", &args.wait_poll)?;
    if poll.is_zero() {
        return Err(ConfigError::Invalid {
            flag: "wait-poll",
            value: args.wait_poll.clone(),
            reason: "must be longer than zero".to_owned(),
        });
    }
    Ok(Some(Waiting { max, poll }))
}

/// `--athena-table` and its settings.
fn athena_input(args: &DiscoverArgs, table: &str) -> Result<Input, ConfigError> {
    let partitions =
        crate::query::spec::Partitions::parse(&args.athena_partitions).map_err(|reason| {
            ConfigError::Invalid {
                flag: "athena-partitions",
                value: args.athena_partitions.clone(),
                reason,
            }
        })?;
    if let Some(output) = &args.athena.athena_output
        && !output.starts_with("s3://")
    {
        return Err(ConfigError::Invalid {
            flag: "athena-output",
            value: output.clone(),
            reason: "expected an S3 location, s3://BUCKET/PREFIX/".to_owned(),
        });
    }
    Ok(Input::Query(Query {
        target: crate::query::spec::Target::Athena(crate::query::spec::Table {
            database: args.athena.athena_database.clone(),
            name: table.to_owned(),
            partitions,
        }),
        workgroup: args.athena.athena_workgroup.clone(),
        output: args.athena.athena_output.clone(),
        region: args.athena_region.clone(),
        dry_run: args.dry_run,
    }))
}

/// `--lake ID` or `--lake ARN`: the query names the store by its ID; an ARN also gives the
/// region the store is in.
fn lake_input(args: &DiscoverArgs, store: &str) -> Result<Input, ConfigError> {
    let (id, region) = crate::query::lake_store(store).map_err(|reason| ConfigError::Invalid {
        flag: "lake",
        value: store.to_owned(),
        reason,
    })?;
    Ok(Input::Query(Query {
        target: crate::query::spec::Target::Lake(id),
        workgroup: String::new(),
        output: None,
        region,
        dry_run: args.dry_run,
    }))
}

/// `--verify-digests` reads digests beside the logs: a trail bucket or its copy.
fn digest_check(args: &DiscoverArgs, input: &Input) -> Result<Option<DigestCheck>, ConfigError> {
    if !args.verify_digests {
        return Ok(None);
    }
    if !matches!(input, Input::TrailDir(_) | Input::TrailBucket(_)) {
        return Err(ConfigError::Invalid {
            flag: "verify-digests",
            value: String::new(),
            reason:
                "digest files are read beside the logs: use it with --trail-bucket or --trail-dir"
                    .to_owned(),
        });
    }
    Ok(Some(DigestCheck {
        public_keys: args.public_keys.clone(),
    }))
}

/// RFC 3339, a bare date (midnight UTC), `now`, or a duration before `now` (`90m`, `2d`).
///
/// # Errors
/// A value of none of those forms.
pub fn parse_time(
    flag: &'static str,
    value: &str,
    now: Timestamp,
) -> Result<Timestamp, ConfigError> {
    let value = value.trim();
    if value.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Ok(at) = value.parse::<Timestamp>() {
        return Ok(at);
    }
    if let Ok(date) = value.parse::<jiff::civil::Date>()
        && let Ok(zoned) = date.to_zoned_datetime(jiff::tz::TimeZone::UTC)
    {
        return Ok(zoned.timestamp());
    }
    if let Ok(ago) = parse_duration(flag, value)
        && let Ok(at) = now.checked_sub(ago)
    {
        return Ok(at);
    }
    Err(ConfigError::Invalid {
        flag,
        value: value.to_owned(),
        reason: "expected RFC 3339 (2026-11-20T10:00:00Z), a date, `now`, or a time before now (90m, 6h, 2d)"
            .to_owned(),
    })
}

/// `30s`, `90m`, `6h`, `2d`, or a combination jiff understands (`1h30m`).
///
/// # Errors
/// A value that is not a non-negative duration.
pub fn parse_duration(flag: &'static str, value: &str) -> Result<SignedDuration, ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        flag,
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = value.trim();
    let (digits, unit) = trimmed.split_at(
        trimmed
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(trimmed.len()),
    );
    let seconds_per_unit = match unit {
        "s" => Some(1),
        "m" => Some(60),
        "h" => Some(3600),
        "d" => Some(86_400),
        _ => None,
    };
    if let (Ok(count), Some(unit)) = (digits.parse::<i64>(), seconds_per_unit) {
        return count
            .checked_mul(unit)
            .map(SignedDuration::from_secs)
            .ok_or_else(|| invalid("too large"));
    }
    let span: jiff::Span = trimmed
        .parse()
        .map_err(|_| invalid("expected a duration such as 30m, 6h or 2d"))?;
    let duration = SignedDuration::try_from(span)
        .map_err(|_| invalid("use hours, minutes and seconds (days are 24h)"))?;
    if duration.is_negative() {
        return Err(invalid("must not be negative"));
    }
    Ok(duration)
}

/// `1048576`, `64KiB`, `512MiB`, `2GiB` (also KB/MB/GB as powers of ten).
///
/// # Errors
/// A value that is not a size.
pub fn parse_size(flag: &'static str, value: &str) -> Result<u64, ConfigError> {
    let trimmed = value.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" | "k" => 1 << 10,
        "mib" | "m" => 1 << 20,
        "gib" | "g" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => 0,
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .filter(|n| *n > 0)
        .ok_or_else(|| ConfigError::Invalid {
            flag,
            value: value.to_owned(),
            reason: "expected a size such as 512MiB".to_owned(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn now() -> Timestamp {
        "2026-11-20T12:00:00Z".parse().unwrap()
    }

    #[test_case("2026-11-20T10:00:00Z", "2026-11-20T10:00:00Z")]
    #[test_case("2026-11-20T11:00:00+01:00", "2026-11-20T10:00:00Z")]
    #[test_case("2026-11-20", "2026-11-20T00:00:00Z")]
    #[test_case("90m", "2026-11-20T10:30:00Z")]
    #[test_case("6h", "2026-11-20T06:00:00Z")]
    #[test_case("2d", "2026-11-18T12:00:00Z")]
    #[test_case("1h30m", "2026-11-20T10:30:00Z")]
    #[test_case("now", "2026-11-20T12:00:00Z")]
    fn times_parse(value: &str, expected: &str) {
        assert_eq!(
            parse_time("since", value, now()).unwrap(),
            expected.parse::<Timestamp>().unwrap()
        );
    }

    #[test_case("yesterday")]
    #[test_case("10:00")]
    #[test_case("-5m")]
    fn bad_times_name_the_flag(value: &str) {
        let message = parse_time("since", value, now()).unwrap_err().to_string();
        assert!(message.starts_with("--since"), "{message}");
    }

    #[test_case("512MiB", 512 << 20)]
    #[test_case("64KiB", 64 << 10)]
    #[test_case("1000", 1000)]
    #[test_case("2GB", 2_000_000_000)]
    fn sizes_parse(value: &str, expected: u64) {
        assert_eq!(parse_size("max-file-size", value).unwrap(), expected);
    }

    #[test_case("0")]
    #[test_case("12XB")]
    #[test_case("")]
    fn bad_sizes_are_rejected(value: &str) {
        assert!(parse_size("max-file-size", value).is_err());
    }
}
