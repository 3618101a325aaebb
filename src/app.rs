//! One function per subcommand, wiring the stages: source → parse/filter (scan) → map
//! (evidence) → resources and policy → render.

use std::io::Write;
use std::path::Path;

use anyhow::{Context as _, bail};

use crate::catalog::{self, diff};

use crate::cli::{
    AthenaCommand, CatalogArgs, CatalogCommand, Cli, Command, DiffArgs, DiscoverArgs, ExplainArgs,
    Format, ProposalFormat, ReferenceCommand, SelfPolicyArgs,
};
use crate::config::{Config, Input};
use crate::error::Exit;
use crate::evidence::Discovery;
use crate::iam::Reference;
use crate::integrity::{self, Keys, Origin, Scanned, Verification};
use crate::mapping::Mapper;
use crate::policy::Policy;
use crate::render::{self, report::Report};
use crate::resource::Mode;
use crate::scan::{self, Context};
use crate::source::delivery::{self, Delivery, Stopped, Waited};
use crate::source::{self, Listing, Scope};

/// Runs a parsed command line.
///
/// # Errors
/// Anything fatal; non-fatal problems are reported in the summary instead.
pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        // `--wait` that ended without reading has an exit code of its own.
        Command::Discover(args) => discover(&args).or_else(|error| {
            error
                .downcast::<Stopped>()
                .map(|stopped| stopped_exit(&stopped))
        }),
        Command::Explain(args) => explain(&args),
        Command::Catalog(CatalogCommand::Diff(args)) => catalog_diff(&args),
        Command::SelfPolicy(args) => self_policy(&args),
        Command::Athena(AthenaCommand::Ddl(args)) => athena_ddl(&args),
        Command::Completions(args) => {
            emit(None, &crate::manual::completions(args.shell)?)?;
            Ok(Exit::Success)
        }
        Command::Man(args) => man(&args),
        Command::Reference(args) => match args.command {
            None => reference(),
            Some(ReferenceCommand::Coverage {
                service,
                terraform,
                unmapped,
            }) => coverage(&service, terraform, unmapped),
        },
    }
}

/// What the source read, the tally of the scan, and lines about the source for the summary.
struct Read {
    listing: Listing,
    tally: scan::Tally,
    notes: Vec<String>,
    /// `--verify-digests`: what the digests say about the files read.
    verification: Option<Verification>,
    /// Whether the window is known delivered.
    delivery: Delivery,
}

/// What decides that the window is delivered (`--until`, or the start of the run).
fn delivery_rule(config: &Config) -> delivery::Rule {
    delivery::Rule {
        until: config.filter.until.unwrap_or(config.started),
        until_given: config.filter.until.is_some(),
        slack: config.delivery_slack,
        digests: config.digests.is_some(),
    }
}

/// `--wait`, as the source runs it.
fn delivery_wait(config: &Config) -> Option<delivery::Wait> {
    config.wait.map(|wait| delivery::Wait {
        max: wait.max,
        poll: wait.poll,
        read_anyway: config.allow_partial,
        progress: !config.quiet,
    })
}

/// After `--wait`: the warning when MAX passed and `--allow-partial` reads on; and Ctrl-C
/// still ends the run (the wait's handler replaced the default one), unless the source
/// handles it itself (`engine`: Athena, Lake).
fn after_wait(waited: Option<&Waited>, engine: bool) {
    let Some(waited) = waited else {
        return;
    };
    if !engine {
        delivery::exit_on_interrupt();
    }
    if let Some(open) = &waited.open {
        crate::warnln!(
            "minpriv: WARNING: --allow-partial: the window was not delivered within --wait: still open: {open}; reading what is there, the policy may lack what its last minutes needed"
        );
    }
}

/// Where the listing could not look: a digest's file below one is not a missing file.
fn unlisted(listing: &Listing) -> Vec<String> {
    listing
        .failed
        .iter()
        .chain(&listing.problems)
        .map(|p| p.path.clone())
        .collect()
}

fn scope(config: &Config, mapper: &Mapper) -> Scope {
    Scope::new(
        config.filter.since,
        config.filter.until,
        config.delivery_slack,
        &config.filter.accounts,
        &config.filter.regions,
        &mapper.rules().global_region,
    )
}

/// Reads the input, whatever it is, through parse and filter into a tally.
fn read(config: &Config, mapper: Mapper) -> anyhow::Result<Read> {
    let mut context = Context::new(&config.filter, mapper, config.max_file_size, !config.quiet);
    context.hash_logs = config.digests.is_some();
    if config.scoping.mode == Mode::Exact {
        // Exact ARNs are listed as observed: enough of them that any more could not fit
        // the budget (an ARN takes at least 16 characters) before a node collapses.
        context.fanout = (config.max_policy_size * config.max_policies / 16).max(context.fanout);
    }
    let keys = public_keys(config)?;
    let rule = delivery_rule(config);
    match &config.input {
        Input::TrailDir(root) => read_dir(config, root, &mapper, &context, keys),
        Input::Events(path) => {
            let listing = source::list_file(path);
            if let (true, [problem]) = (listing.blobs.is_empty(), listing.problems.as_slice()) {
                bail!("--events {}: {}", problem.path, problem.message);
            }
            let tally = scan::scan(&listing.blobs, &context);
            Ok(Read {
                listing,
                tally,
                notes: Vec::new(),
                verification: None,
                delivery: Delivery::NotJudged,
            })
        }
        Input::TrailBucket(bucket) => read_bucket(config, bucket, &mapper, &context, keys),
        Input::Query(query) => {
            if let Some(wait) = delivery_wait(config) {
                after_wait(Some(&delivery::wait_clock(&rule, &wait)?), true);
            }
            let mut read = read_query(config, query, &mapper, &context)?;
            let source = match &query.target {
                crate::query::spec::Target::Athena(_) => {
                    "Athena reads the trail's files as they are: only the clock tells"
                }
                crate::query::spec::Target::Lake(_) => {
                    "CloudTrail Lake shows no sign of delivery: only the clock tells"
                }
            };
            read.delivery = Delivery::judge(
                &[],
                &delivery::Seen::default(),
                rule,
                jiff::Timestamp::now(),
                source,
            );
            Ok(read)
        }
        Input::Lookup => read_lookup(config, &mapper, &context),
    }
}

/// Reads a local copy of a trail (and its digests, with `--verify-digests`).
fn read_dir(
    config: &Config,
    root: &Path,
    mapper: &Mapper,
    context: &Context<'_>,
    keys: Option<integrity::PublicKeys>,
) -> anyhow::Result<Read> {
    let rule = delivery_rule(config);
    if !root.is_dir() {
        bail!("--trail-dir {}: not a readable directory", root.display());
    }
    let scope = scope(config, mapper);
    let areas = source::delivery::local_areas(root, &scope);
    let waited = delivery_wait(config)
        .map(|wait| delivery::wait_blocking(&delivery::Folder, &areas, &rule, &wait))
        .transpose()?;
    after_wait(waited.as_ref(), false);
    let listing = source::list_dir(root, &scope);
    let tally = scan::scan(&listing.blobs, context);
    let digests = if config.digests.is_some() {
        source::digest::list_dir(root, &scope)
    } else {
        Vec::new()
    };
    let trail = Trail {
        origin: Origin::Local,
        scope: &scope,
        areas: &areas,
        digests: &digests,
        waited: waited.as_ref(),
        no_areas: "a folder outside the CloudTrail key layout: no region folders to look in",
    };
    let keys = || keys.map_or_else(|| Keys::Unavailable(NO_KEYS.to_owned()), Keys::Given);
    Ok(trail.read(config, keys, listing, tally, Vec::new()))
}

/// Reads the LookupEvents API in each region.
fn read_lookup(config: &Config, mapper: &Mapper, context: &Context<'_>) -> anyhow::Result<Read> {
    let rule = delivery_rule(config);
    if let Some(wait) = delivery_wait(config) {
        after_wait(Some(&delivery::wait_clock(&rule, &wait)?), false);
    }
    let mut regions: Vec<String> = scope(config, mapper).regions.into_iter().collect();
    regions.sort();
    let options = source::lookup::Options {
        regions: regions.clone(),
        since: config.filter.since,
        until: config.filter.until,
        attribute: pushdown(config),
        profile: config.profile.clone(),
        endpoint_url: config.endpoint_url.clone(),
    };
    let (blobs, looked) = source::lookup::read(&options)?;
    let listing = Listing {
        blobs,
        ..Listing::default()
    };
    let tally = scan::scan(&listing.blobs, context);
    let notes = vec![format!(
        "LookupEvents: {} requests in {} ({} events); management events of the last 90 days only, per region, at most 2 requests a second",
        looked.requests,
        regions.join(", "),
        looked.events
    )];
    Ok(Read {
        listing,
        tally,
        notes,
        verification: None,
        delivery: Delivery::judge(
            &[],
            &delivery::Seen::default(),
            rule,
            jiff::Timestamp::now(),
            "LookupEvents shows no sign of delivery: only the clock tells",
        ),
    })
}

/// Reads an S3 trail bucket (and its digests, with `--verify-digests`).
fn read_bucket(
    config: &Config,
    bucket: &crate::config::Bucket,
    mapper: &Mapper,
    context: &Context<'_>,
    keys: Option<integrity::PublicKeys>,
) -> anyhow::Result<Read> {
    let scope = scope(config, mapper);
    let options = source::s3::Options {
        bucket: bucket.bucket.clone(),
        prefix: bucket.prefix.clone(),
        org_id: bucket.org_id.clone(),
        accounts: config.filter.accounts.clone(),
        regions: scope.regions.clone(),
        scope,
        concurrency: bucket.concurrency,
        cache_dir: bucket.cache_dir.clone(),
        endpoint_url: config.endpoint_url.clone(),
        profile: config.profile.clone(),
        region: None,
        verify_digests: config.digests.is_some(),
        list_public_keys: keys.is_none(),
        progress: !config.quiet,
        wait: delivery_wait(config).map(|wait| (delivery_rule(config), wait)),
    };
    let source::s3::Stream {
        listing,
        blobs,
        fetcher,
        digests,
        keys: listed_keys,
        areas,
        waited,
    } = match source::s3::open(&options) {
        Ok(stream) => stream,
        Err(source::s3::SourceError::Wait(stopped)) => return Err(stopped.into()),
        Err(error) => return Err(error.into()),
    };
    after_wait(waited.as_ref(), false);
    let total = listing.blobs.iter().filter_map(source::Blob::size).sum();
    let tally = scan::scan_stream(blobs.into_iter(), total, context);
    let fetched = fetcher.finish();
    let notes = vec![format!(
        "s3://{}: {} log objects listed in the window, {} fetched, {} not fetched ({}, {} from the cache, {} interrupted bodies fetched again; concurrency {}); {}",
        bucket.bucket,
        listing.blobs.len(),
        fetched.objects,
        fetched.failed,
        source::bytes(fetched.bytes),
        fetched.from_cache,
        fetched.body_retries,
        bucket.concurrency,
        if options.verify_digests {
            format!(
                "{} digest files read; Insights prefixes are not listed",
                digests.len()
            )
        } else {
            "digest and Insights prefixes are not listed".to_owned()
        }
    )];
    let trail = Trail {
        origin: Origin::Bucket,
        scope: &options.scope,
        areas: &areas,
        digests: &digests,
        waited: waited.as_ref(),
        no_areas: "no account or region of the bucket is in scope: only the clock tells",
    };
    let keys = || match (keys, listed_keys) {
        (Some(keys), _) | (None, Some(Ok(keys))) => Keys::Given(keys),
        (None, Some(Err(why))) => Keys::Unavailable(why),
        (None, None) => Keys::Unavailable("no digest files".to_owned()),
    };
    Ok(trail.read(config, keys, listing, tally, notes))
}

/// A trail's files read from a folder or a bucket, and what is known about them beside.
struct Trail<'a> {
    origin: Origin,
    scope: &'a Scope,
    /// The accounts and regions whose delivery the window waits for.
    areas: &'a [delivery::Area],
    /// The window's digest files (with `--verify-digests`).
    digests: &'a [integrity::DigestFile],
    waited: Option<&'a Waited>,
    /// What tells whether the window is delivered when no area is in scope.
    no_areas: &'static str,
}

impl Trail<'_> {
    /// The read put together: the digests' verdict on the files read (with
    /// `--verify-digests`) and whether the window is delivered.
    fn read(
        self,
        config: &Config,
        keys: impl FnOnce() -> Keys,
        listing: Listing,
        tally: scan::Tally,
        notes: Vec<String>,
    ) -> Read {
        let verification = config.digests.is_some().then(|| {
            integrity::verify(
                self.origin,
                self.digests,
                Scanned {
                    scope: self.scope,
                    unlisted: &unlisted(&listing),
                },
                &integrity::log_states(&listing.blobs, &tally.hashes),
                &keys(),
            )
        });
        let listed = listing
            .blobs
            .iter()
            .map(source::Blob::display)
            .chain(self.digests.iter().map(|digest| digest.name.clone()));
        let delivery = Delivery::of_trail(
            self.areas,
            listed,
            self.waited,
            delivery_rule(config),
            self.no_areas,
        );
        Read {
            listing,
            tally,
            notes,
            verification,
            delivery,
        }
    }
}

/// The grouped query for an Athena table or a Lake event data store.
fn query_sql(
    config: &Config,
    query: &crate::config::Query,
    mapper: &Mapper,
) -> anyhow::Result<String> {
    let projection = crate::query::projection::Projection::embedded()?;
    Ok(crate::query::sql::build(&crate::query::spec::Spec {
        target: &query.target,
        filter: &config.filter,
        scope: &scope(config, mapper),
        rules: mapper.rules(),
        projection,
    }))
}

/// Runs the grouped query on its engine and tallies its rows. A query that fails, is
/// cancelled or returns a malformed row is a failed read: nothing of it is tallied.
fn read_query(
    config: &Config,
    query: &crate::config::Query,
    mapper: &Mapper,
    context: &Context<'_>,
) -> anyhow::Result<Read> {
    use crate::query::spec::Target;
    let projection = crate::query::projection::Projection::embedded()?;
    let dialect = query.target.dialect();
    let sql = query_sql(config, query, mapper)?;
    crate::query::check_size(dialect, &sql).map_err(|reason| match &query.target {
        Target::Athena(table) => anyhow::anyhow!("--athena-table {}: {reason}", table.name),
        Target::Lake(store) => anyhow::anyhow!("--lake {store}: {reason}"),
    })?;
    let outcome = match &query.target {
        Target::Athena(table) => source::athena::run(&source::athena::Options {
            sql,
            database: table.database.clone(),
            workgroup: query.workgroup.clone(),
            output: query.output.clone(),
            endpoint_url: config.endpoint_url.clone(),
            profile: config.profile.clone(),
            region: query.region.clone(),
            progress: !config.quiet,
        }),
        Target::Lake(_) => source::lake::run(&source::lake::Options {
            sql,
            columns: crate::query::sql::columns(projection, dialect),
            endpoint_url: config.endpoint_url.clone(),
            profile: config.profile.clone(),
            region: query.region.clone(),
            progress: !config.quiet,
        }),
    };
    // The source's errors name the query; the rows' are named after it here.
    let failed = |path: String, message: String| {
        let mut listing = Listing::default();
        listing.failed.push(source::Problem { path, message });
        Ok(Read {
            listing,
            tally: scan::Tally::default(),
            notes: Vec::new(),
            verification: None,
            delivery: Delivery::NotJudged,
        })
    };
    let engine = dialect.engine();
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(error) => {
            let mut message = error.to_string();
            if let Some(hint) = crate::query::hint(dialect, &message) {
                message = format!("{message} ({hint})");
            }
            let what = match &query.target {
                Target::Athena(table) => {
                    format!("--athena-table {}.{}", table.database, table.name)
                }
                Target::Lake(store) => format!("--lake {store}"),
            };
            return failed(what, message);
        }
    };
    let id = outcome.query_id.as_str();
    let Some((header, rows)) = outcome.rows.split_first() else {
        return failed(
            format!("{engine} query {id}"),
            "the result has no header row".to_owned(),
        );
    };
    let tally = crate::query::rows::check_header(header, projection, dialect)
        .and_then(|()| crate::query::rows::tally(rows, projection, dialect, context));
    let tally = match tally {
        Ok(tally) => tally,
        Err(error) => return failed(format!("{engine} query {id}"), error.to_string()),
    };
    let price = crate::query::Price::of(dialect).map_err(anyhow::Error::msg)?;
    let place = match &query.target {
        Target::Athena(_) => format!("in workgroup {}", query.workgroup),
        Target::Lake(store) => format!("on event data store {store}"),
    };
    let notes = vec![format!(
        "{engine} query {id} {place}: {} grouped rows in {} result pages; {} scanned, ${:.4} at the list price of ${}/TB",
        rows.len(),
        outcome.pages,
        source::bytes(outcome.bytes_scanned),
        price.cost(outcome.bytes_scanned),
        price.per_tb
    )];
    Ok(Read {
        listing: Listing::default(),
        tally,
        notes,
        verification: None,
        delivery: Delivery::NotJudged,
    })
}

/// Why a local copy's signatures are not checked without a key file.
const NO_KEYS: &str = "a local copy has no S3 metadata, and no --public-keys FILE was given";

/// The `--public-keys` file, when given.
fn public_keys(config: &Config) -> anyhow::Result<Option<integrity::PublicKeys>> {
    let Some(path) = config.digests.as_ref().and_then(|d| d.public_keys.as_ref()) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--public-keys {}", path.display()))?;
    let keys = integrity::PublicKeys::from_cli_json(&text)
        .with_context(|| format!("--public-keys {}", path.display()))?;
    Ok(Some(keys))
}

/// The one lookup attribute the API can filter on, when the filters name a single literal
/// session (LookupEvents calls an assumed role's session name its user name).
fn pushdown(config: &Config) -> Option<(aws_sdk_cloudtrail::types::LookupAttributeKey, String)> {
    match config.filter.session_args.as_slice() {
        [one] if !one.contains(['*', '?']) => Some((
            aws_sdk_cloudtrail::types::LookupAttributeKey::Username,
            one.clone(),
        )),
        _ => None,
    }
}

#[expect(
    clippy::too_many_lines,
    reason = "the run's steps in order; the quota check added the last lines"
)]
fn discover(args: &DiscoverArgs) -> anyhow::Result<Exit> {
    let config = Config::from_args(args, jiff::Timestamp::now())?;
    let mut mapper = Mapper::embedded()?;
    if config.scoping.mode == Mode::Wildcard {
        mapper = mapper.without_resources();
    }
    if let Input::Query(query) = &config.input
        && query.dry_run
    {
        emit(None, &(query_sql(&config, query, &mapper)? + ";\n"))?;
        return Ok(Exit::Success);
    }
    let Read {
        listing,
        mut tally,
        mut notes,
        verification,
        delivery,
    } = read(&config, mapper)?;
    let files = matches!(config.input, Input::TrailDir(_) | Input::TrailBucket(_))
        .then(|| files_read(&listing, &tally, verification.as_ref()));
    let discovery = discovery(&config, &mut tally, &mapper, &mut notes)?;
    let scoping = crate::resource::Scoping {
        created: std::sync::Arc::new(tally.created.clone()),
        lifecycle: std::sync::Arc::new(tally.lifecycle.clone()),
        ..config.scoping.clone()
    };
    let fitted = crate::policy::budget::fit(
        &discovery,
        &mapper,
        &scoping,
        config.conditions,
        budget(&config),
    );
    let (built, policies) = (&fitted.built, &fitted.documents);
    let summary = render::summary::render(&render::summary::Run {
        listing: &listing,
        tally: &tally,
        discovery: &discovery,
        filter: &config.filter,
        built,
        documents: policies.len(),
        max_policy_size: config.max_policy_size,
        steps: &fitted.steps,
        refused: fitted.refused.as_ref(),
        mapper: &mapper,
        integrity: verification.as_ref(),
        completeness: Some((&delivery, files.as_ref())),
    });
    let failed = listing.failed.len() + tally.failed.len();
    let problems =
        skipped(&listing, &tally, &discovery, verification.as_ref()) || !delivery.delivered();
    let tampered = verification.as_ref().is_some_and(Verification::tampered);
    tell(config.quiet, &notes, &summary, problems || tampered);
    if tampered {
        let report = report_of(&discovery, built, policies, &mapper, &config, &tally);
        return tampered_exit(config.report.as_deref(), report, verification.as_ref());
    }
    if failed > 0 {
        if !config.allow_partial {
            crate::warnln!(
                "minpriv: {failed} inputs or prefixes of the window could not be read (listed above); no policy written: a partial policy under-grants. Retry, or pass --allow-partial to write it anyway"
            );
            return Ok(Exit::FailedRead);
        }
        crate::warnln!(
            "minpriv: WARNING: --allow-partial: {failed} inputs or prefixes of the window were NOT read (listed above); the policy below may lack actions the principal uses"
        );
    }
    if discovery.actions.is_empty() {
        bail!(
            "no action to put in a policy: {} events kept from {} files (check --principal, --since/--until and the input)",
            tally.kept,
            tally.files_read
        );
    }
    let mut report = report_of(&discovery, built, policies, &mapper, &config, &tally);
    report.integrity = verification.as_ref().map(Verification::statuses);
    if let Some(path) = &config.report {
        write_report(path, &report)?;
    }
    // No document IAM would refuse is written; the report (evidence) is.
    if let Some(refused) = &fitted.refused {
        crate::warnln!("minpriv: {refused}; no policy written");
        return Ok(Exit::DoesNotFit);
    }
    if let Some(seed) = &args.seed {
        write_file(seed, &render::json::policies(policies)?)?;
        write_file(&evidence_path(seed), &report.to_json()?)?;
    }
    let text = render_policies(config.format, policies, &report)?;
    let mut exit = Exit::Success;
    if args.catalog.catalog.is_some() {
        // The proposal takes stdout; the policy goes to -o when asked for.
        if let Some(path) = &config.output {
            write_file(path, &text)?;
        }
        exit = propose(
            &args.catalog,
            &diff::needs_from_run(&discovery, &report),
            args.proposal_format,
            &mapper,
            budget(&config),
        )?;
    } else {
        emit(config.output.as_deref(), &text)?;
    }
    if config.strict && problems {
        crate::warnln!(
            "minpriv: --strict: inputs skipped or not verified, calls not mapped, refused by other policies or not decoded, or the window not known to be delivered (above)"
        );
        return Ok(Exit::Strict);
    }
    Ok(exit)
}

/// IAM's quotas as the user set them (`--max-policy-size`, `--max-policies`).
fn budget(config: &Config) -> crate::policy::budget::Budget {
    crate::policy::budget::Budget {
        size: config.max_policy_size,
        documents: config.max_policies,
    }
}

/// How the listed files of a trail were read, for the `completeness:` line.
fn files_read(
    listing: &Listing,
    tally: &scan::Tally,
    verification: Option<&Verification>,
) -> delivery::Files {
    delivery::Files {
        listed: listing.blobs.len(),
        not_read: tally.failed.len(),
        unlisted: listing.failed.len(),
        unreadable: listing.problems.len() + tally.problems.len(),
        missing: verification.map(Verification::missing),
    }
}

/// The source's notes (unless `--quiet`), then the summary (unless `--quiet`, or when it
/// tells of a problem), on stderr.
fn tell(quiet: bool, notes: &[String], summary: &str, problems: bool) {
    if !quiet {
        for note in notes {
            crate::warnln!("{note}");
        }
    }
    if !quiet || problems {
        crate::warn_!("{summary}");
    }
}

/// Whether anything was skipped, not read, not verified or not mapped (what `--strict`
/// fails on, with a window not known to be delivered).
fn skipped(
    listing: &Listing,
    tally: &scan::Tally,
    discovery: &Discovery,
    verification: Option<&Verification>,
) -> bool {
    !listing.failed.is_empty()
        || !tally.failed.is_empty()
        || !listing.problems.is_empty()
        || !tally.problems.is_empty()
        || !tally.bad_records.is_empty()
        || !discovery.unmapped.is_empty()
        || verification.is_some_and(|v| v.unverified() > 0)
        || tally.denials.refused() > 0
        || tally.denials.undecoded() > 0
}

/// The evidence report of a run, its denials included.
fn report_of(
    discovery: &Discovery,
    built: &crate::policy::Built,
    policies: &[Policy],
    mapper: &Mapper,
    config: &Config,
    tally: &scan::Tally,
) -> Report {
    let mut report = Report::new(discovery, built, policies, mapper, &config.filter);
    report.denials = render::denials::reports(&tally.denials);
    report
}

/// The map stage over the tally: its calls mapped, and what its denials prove added, once
/// every encoded denial message is filed.
fn discovery(
    config: &Config,
    tally: &mut scan::Tally,
    mapper: &Mapper,
    notes: &mut Vec<String>,
) -> anyhow::Result<Discovery> {
    settle_denials(config, &mut tally.denials, mapper, notes)?;
    let mut discovery = Discovery::from_calls(&tally.calls, mapper);
    discovery.add_denials(&tally.denials, mapper);
    Ok(discovery)
}

/// Files every encoded denial message: with `--decode-denials`, each distinct one is decoded
/// by STS first (and the summary says how that went); without, they are listed as encoded.
fn settle_denials(
    config: &Config,
    denials: &mut crate::denial::Denials,
    mapper: &Mapper,
    notes: &mut Vec<String>,
) -> anyhow::Result<()> {
    let mut decoded = std::collections::BTreeMap::new();
    let pending = denials.pending();
    if config.decode_denials && !pending.is_empty() {
        let results = source::sts::decode(
            &pending,
            &source::sts::Options {
                profile: config.profile.clone(),
                region: None,
            },
        )
        .context("--decode-denials")?;
        for (message, result) in pending.into_iter().zip(results) {
            let verdict = result
                .and_then(|text| crate::denial::decoded::parse(&text).map_err(|e| e.to_string()));
            decoded.insert(message, verdict);
        }
        let failed = decoded.values().filter(|v| v.is_err()).count();
        notes.push(format!(
            "STS DecodeAuthorizationMessage: {} encoded denial messages sent, {} decoded, {failed} not",
            decoded.len(),
            decoded.len() - failed
        ));
    }
    denials.settle(&decoded, mapper);
    Ok(())
}

/// `--wait` ended without reading: MAX passed (7) or Ctrl-C (130).
fn stopped_exit(stopped: &Stopped) -> Exit {
    crate::warnln!("minpriv: {stopped}");
    match stopped {
        Stopped::NotDelivered { .. } => Exit::NotDelivered,
        Stopped::Interrupted { .. } => Exit::Interrupted,
        Stopped::Runtime(_) => Exit::Failure,
    }
}

/// Log files or digests failed verification: no policy from a trail that was changed. The
/// report, when asked for, records each file's status: the evidence of what was changed.
fn tampered_exit(
    path: Option<&Path>,
    mut report: Report,
    verification: Option<&Verification>,
) -> anyhow::Result<Exit> {
    if let Some(path) = path {
        report.integrity = verification.map(Verification::statuses);
        write_report(path, &report)?;
    }
    crate::warnln!(
        "minpriv: --verify-digests: log files or digests are INVALID (listed above): the trail was changed, or files deleted, after CloudTrail delivered it; no policy written"
    );
    Ok(Exit::Tampered)
}

/// The policy documents in the output format asked for.
fn render_policies(format: Format, policies: &[Policy], report: &Report) -> anyhow::Result<String> {
    Ok(match format {
        Format::Json => render::json::policies(policies)?,
        Format::Hcl => render::hcl::documents(policies),
        Format::TerraformJson => render::hcl::jsonencode(policies),
        Format::Cloudformation => render::cloudformation::render(policies),
        Format::Markdown => format!(
            "{}\n## Policy\n\n```json\n{}```\n",
            report.to_markdown(),
            render::json::policies(policies)?
        ),
    })
}

/// `catalog.json` → `catalog.evidence.json`.
fn evidence_path(seed: &Path) -> std::path::PathBuf {
    let stem = seed
        .file_stem()
        .map_or_else(|| "catalog".into(), |s| s.to_string_lossy().into_owned());
    seed.with_file_name(format!("{stem}.evidence.json"))
}

fn vars(args: &CatalogArgs) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    args.vars
        .iter()
        .map(|pair| {
            let (name, value) = pair
                .split_once('=')
                .with_context(|| format!("--var {pair:?}: expected NAME=VALUE"))?;
            Ok((name.trim().to_owned(), value.to_owned()))
        })
        .collect()
}

/// Diffs the catalog against the needs, prints the proposal, writes the update if asked,
/// and returns the exit code `--check` calls for.
fn propose(
    args: &CatalogArgs,
    needs: &[diff::Need],
    format: ProposalFormat,
    mapper: &Mapper,
    budget: crate::policy::budget::Budget,
) -> anyhow::Result<Exit> {
    let Some(path) = &args.catalog else {
        bail!("--catalog is required");
    };
    let catalog = catalog::read::read(path, args.catalog_attr.as_deref(), &vars(args)?)?;
    let proposal = diff::diff(&catalog, needs);
    let text = match format {
        ProposalFormat::Markdown => catalog::proposal::markdown(&proposal),
        ProposalFormat::Json => catalog::proposal::json(&proposal)?,
    };
    emit(None, &text)?;
    if let Some(out) = &args.write {
        let documents = catalog::update::update(&catalog, &proposal, args.prune, mapper.rules())
            .map_err(anyhow::Error::msg)?;
        // The same quotas as a discovered policy: IAM would refuse the catalog otherwise.
        let sizes: Vec<usize> = documents
            .iter()
            .map(crate::policy::budget::size_of)
            .collect();
        let largest = sizes.iter().copied().max().unwrap_or(0);
        if documents.len() > budget.documents || largest > budget.size {
            crate::warnln!(
                "minpriv: --catalog --write {}: the updated catalog does not fit IAM's quotas: {} documents, the largest {largest} characters without whitespace, where at most {} of at most {} characters are allowed (--max-policies, --max-policy-size); nothing written. Narrow the run (--principal, --since/--until, fewer services) or split the catalog",
                out.display(),
                documents.len(),
                budget.documents,
                budget.size
            );
            return Ok(Exit::DoesNotFit);
        }
        let json = match documents.as_slice() {
            [one] => serde_json::to_string_pretty(one)?,
            many => serde_json::to_string_pretty(many)?,
        };
        write_file(out, &(json + "\n"))?;
    }
    if args.check && proposal.drifted() {
        crate::warnln!(
            "minpriv: --check: the catalog lacks {} actions the deployment used ({} more allowed only on other resources, {} only under conditions its calls did not meet)",
            proposal.count(|s| s.missing.len()),
            proposal.count(|s| s.resource_mismatches.len()),
            proposal.count(|s| s.condition_mismatches.len())
        );
        return Ok(Exit::Drift);
    }
    Ok(Exit::Success)
}

fn catalog_diff(args: &DiffArgs) -> anyhow::Result<Exit> {
    let mapper = Mapper::embedded()?;
    let none = std::collections::BTreeMap::new();
    let needs = if let Some(new) = &args.catalog_new {
        diff::needs_from_statements(
            &catalog::read::read(
                new,
                args.catalog.catalog_attr.as_deref(),
                &vars(&args.catalog)?,
            )?
            .statements,
        )
    } else if let Some(report) = &args.report {
        let text = std::fs::read_to_string(report)
            .with_context(|| format!("reading {}", report.display()))?;
        let report: Report = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a minpriv evidence report", report.display()))?;
        diff::needs_from_report(&report)
    } else if let Some(discovered) = &args.discovered {
        diff::needs_from_statements(&catalog::read::read(discovered, None, &none)?.statements)
    } else {
        bail!("give --discovered (with --report for evidence) or --catalog-new");
    };
    propose(
        &args.catalog,
        &needs,
        args.format,
        &mapper,
        crate::policy::budget::Budget::default(),
    )
}

/// The report as JSON, or markdown for a `.md` file.
fn write_report(path: &Path, report: &Report) -> anyhow::Result<()> {
    let text = if path.extension().is_some_and(|e| e == "md") {
        report.to_markdown()
    } else {
        report.to_json()?
    };
    write_file(path, &text)
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Data goes to the file asked for, or stdout.
fn emit(output: Option<&Path>, text: &str) -> anyhow::Result<()> {
    if let Some(path) = output {
        return write_file(path, text);
    }
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A reader that stopped early (`--check | head`) ends the writing, not the run: the
        // exit code stays the one the run decided (3 for drift, 4 for strict).
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        result => result.context("writing to stdout"),
    }
}

fn explain(args: &ExplainArgs) -> anyhow::Result<Exit> {
    let text = std::fs::read_to_string(&args.report)
        .with_context(|| format!("reading {}", args.report.display()))?;
    let report: Report = serde_json::from_str(&text).with_context(|| {
        format!(
            "{}: not a minpriv evidence report (write one with discover --report FILE.json)",
            args.report.display()
        )
    })?;
    if let Some(explanation) = report
        .explain(&args.action)
        .or_else(|| report.explain_denied(&args.action))
    {
        emit(None, &explanation)?;
        return Ok(Exit::Success);
    }
    let prefix = args
        .action
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let same_service: Vec<&str> = report
        .actions
        .keys()
        .filter(|a| a.starts_with(&format!("{prefix}:")))
        .map(String::as_str)
        .collect();
    if same_service.is_empty() {
        bail!(
            "{} is not in the policy of {}",
            args.action,
            args.report.display()
        );
    }
    bail!(
        "{} is not in the policy of {}; its {prefix} actions are: {}",
        args.action,
        args.report.display(),
        same_service.join(", ")
    );
}

/// The policy minpriv itself needs: read-only access to the trail's keys (and key),
/// LookupEvents, Athena's query actions with what Athena reads and writes for them, and
/// CloudTrail Lake's query actions on the event data store.
fn self_policy(args: &SelfPolicyArgs) -> anyhow::Result<Exit> {
    let mut statements = Vec::new();
    if let Some(bucket) = &args.trail_bucket {
        let prefix = if args.prefix.is_empty() || args.prefix.ends_with('/') {
            args.prefix.clone()
        } else {
            format!("{}/", args.prefix)
        };
        statements.push(serde_json::json!({
            "Sid": "FindTrailBucketRegion",
            "Effect": "Allow",
            "Action": "s3:GetBucketLocation",
            "Resource": format!("arn:aws:s3:::{bucket}"),
        }));
        statements.push(serde_json::json!({
            "Sid": "ListTrailLogs",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": format!("arn:aws:s3:::{bucket}"),
            "Condition": {"StringLike": {"s3:prefix": [format!("{prefix}AWSLogs/*")]}},
        }));
        // The log files only (`CloudTrail/`, not Insights), and the digests with
        // --verify-digests; `*` spans the organization and account levels of the key.
        let mut readable = vec![format!(
            "arn:aws:s3:::{bucket}/{prefix}AWSLogs/*/CloudTrail/*"
        )];
        if args.verify_digests {
            readable.push(format!(
                "arn:aws:s3:::{bucket}/{prefix}AWSLogs/*/CloudTrail-Digest/*"
            ));
        }
        statements.push(serde_json::json!({
            "Sid": "ReadTrailLogs",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": readable,
        }));
        if !args.kms_key.is_empty() {
            statements.push(serde_json::json!({
                "Sid": "DecryptTrailLogs",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": args.kms_key,
                "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
            }));
        }
    }
    if args.lookup {
        statements.push(serde_json::json!({
            "Sid": "LookupEvents",
            "Effect": "Allow",
            "Action": "cloudtrail:LookupEvents",
            "Resource": "*",
        }));
    }
    if args.verify_digests {
        // The digests' public keys (the digests themselves are in ReadTrailLogs).
        statements.push(serde_json::json!({
            "Sid": "ListDigestPublicKeys",
            "Effect": "Allow",
            "Action": "cloudtrail:ListPublicKeys",
            "Resource": "*",
        }));
    }
    if let Some(table) = &args.athena.athena_table {
        statements.extend(crate::query::permissions(&crate::query::Needs {
            table,
            database: &args.athena.athena_database,
            workgroup: &args.athena.athena_workgroup,
            output: args.athena.athena_output.as_deref(),
        }));
    }
    if let Some(store) = &args.lake {
        crate::query::lake_store(store)
            .map_err(|reason| anyhow::anyhow!("--lake {store}: {reason}"))?;
        statements.push(crate::query::lake_permissions(store));
    }
    if args.decode_denials {
        // STS API reference, DecodeAuthorizationMessage; the action takes no resource.
        statements.push(serde_json::json!({
            "Sid": "DecodeDenials",
            "Effect": "Allow",
            "Action": "sts:DecodeAuthorizationMessage",
            "Resource": "*",
        }));
    }
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
    emit(None, &(serde_json::to_string_pretty(&policy)? + "\n"))?;
    if args.trail_bucket.is_some() && args.kms_key.is_empty() {
        crate::warnln!(
            "minpriv: if the trail's log files are SSE-KMS encrypted, add --kms-key ARN for kms:Decrypt on the trail's key"
        );
    }
    Ok(Exit::Success)
}

/// `athena ddl`: the table to create over a trail bucket.
fn athena_ddl(args: &crate::cli::DdlArgs) -> anyhow::Result<Exit> {
    let text = crate::query::ddl::render(&crate::query::ddl::Options {
        table: args.table.clone(),
        bucket: args.trail_bucket.clone(),
        prefix: args.prefix.clone(),
        org_id: args.org_id.clone(),
        accounts: args.account.clone(),
        regions: args.region.clone(),
        start: args.start.clone(),
    })
    .map_err(anyhow::Error::msg)?;
    emit(None, &text)?;
    Ok(Exit::Success)
}

fn man(args: &crate::cli::ManArgs) -> anyhow::Result<Exit> {
    match &args.dir {
        Some(dir) => {
            for path in crate::manual::write_pages(dir)
                .with_context(|| format!("writing man pages into {}", dir.display()))?
            {
                crate::warnln!("{}", path.display());
            }
        }
        None => emit(None, &crate::manual::man()?)?,
    }
    Ok(Exit::Success)
}

fn coverage(services: &[String], terraform: bool, unmapped: bool) -> anyhow::Result<Exit> {
    let mapper = Mapper::embedded()?;
    let all = crate::mapping::coverage::coverage(&mapper);
    let only: Vec<&str> = if terraform {
        mapper
            .rules()
            .terraform_services()
            .iter()
            .map(String::as_str)
            .collect()
    } else {
        services.iter().map(String::as_str).collect()
    };
    let text = crate::mapping::coverage::render(&all, &only, unmapped);
    emit(None, &text)?;
    Ok(Exit::Success)
}

fn reference() -> anyhow::Result<Exit> {
    let reference = Reference::embedded()?;
    let services = reference.services().count();
    let actions: usize = reference.services().map(|s| s.actions().count()).sum();
    let text = format!(
        "IAM reference: {}\n{services} services, {actions} actions\n{}",
        reference.source,
        crate::iam::reference::SOURCE
    );
    emit(None, &text)?;
    Ok(Exit::Success)
}
