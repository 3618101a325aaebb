//! Command-line arguments as clap sees them; no I/O and no validation beyond types.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "minpriv",
    version,
    about = "Discover least-privilege AWS IAM policies from CloudTrail",
    long_about = "Reads the CloudTrail records of a reference deployment, keeps the calls one \
                  principal made in one time window, maps each call to the IAM actions it \
                  needed, and prints a minimal IAM policy grouped by service."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read a trail and print the minimal policy for the calls it recorded.
    Discover(Box<DiscoverArgs>),
    /// Compare a catalog with a discovered policy (or a newer catalog) and propose the update.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Explain why an action is in the policy, from an evidence report.
    Explain(ExplainArgs),
    /// Print the least-privilege policy minpriv itself needs to read a trail.
    SelfPolicy(SelfPolicyArgs),
    /// Print what minpriv knows about the embedded IAM reference data.
    Reference(ReferenceArgs),
    /// Amazon Athena helpers.
    #[command(subcommand)]
    Athena(AthenaCommand),
    /// Print a shell completion script (for example `minpriv completions bash`).
    Completions(CompletionsArgs),
    /// Print the manual in roff: minpriv and every subcommand, or one page a file with `--dir`.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command (`minpriv.1`, `minpriv-discover.1`, …) into this directory
    /// instead of printing them all.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AthenaCommand {
    /// Print the CREATE TABLE for a trail bucket with partition projection (the columns of
    /// AWS's documented CloudTrail table), for `discover --athena-table`.
    Ddl(DdlArgs),
}

#[derive(Debug, Args)]
pub struct DdlArgs {
    /// The trail bucket.
    #[arg(long, value_name = "BUCKET")]
    pub trail_bucket: String,
    /// The key prefix the trail writes under, before `AWSLogs/`.
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub prefix: String,
    /// An organization trail's organization (`AWSLogs/o-…/`).
    #[arg(long, value_name = "ID")]
    pub org_id: Option<String>,
    /// An account whose logs the trail holds (repeatable).
    #[arg(long, value_name = "ID", required = true)]
    pub account: Vec<String>,
    /// A region whose logs the trail holds (repeatable).
    #[arg(long, value_name = "REGION", required = true)]
    pub region: Vec<String>,
    /// The table's name.
    #[arg(long, value_name = "NAME", default_value = "cloudtrail_logs_pp")]
    pub table: String,
    /// First day the projection covers (`yyyy/MM/dd`).
    #[arg(long, value_name = "DAY", default_value = "2020/01/01")]
    pub start: String,
}

#[derive(Debug, Args)]
pub struct ReferenceArgs {
    #[command(subcommand)]
    pub command: Option<ReferenceCommand>,
}

#[derive(Debug, Subcommand)]
pub enum ReferenceCommand {
    /// Per service: SDK operations mapped directly, by rename, by pattern, free, with no
    /// action, unmapped; role-passing and tag-carrying operations with a dependent rule.
    Coverage {
        /// Only these IAM prefixes (default: every service).
        #[arg(long, value_name = "PREFIX")]
        service: Vec<String>,
        /// Only the ~40 services a typical Terraform deployment touches.
        #[arg(long, conflicts_with = "service")]
        terraform: bool,
        /// Also list each service's unmapped operations.
        #[arg(long)]
        unmapped: bool,
    },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).multiple(true).args(["trail_bucket", "lookup", "athena_table", "lake", "decode_denials"])))]
pub struct SelfPolicyArgs {
    /// The trail bucket minpriv will read.
    #[arg(long, value_name = "BUCKET")]
    pub trail_bucket: Option<String>,
    /// The key prefix of the trail in the bucket.
    #[arg(
        long,
        value_name = "PREFIX",
        default_value = "",
        requires = "trail_bucket"
    )]
    pub prefix: String,
    /// The KMS key the trail's log files are encrypted with (SSE-KMS), if any.
    #[arg(long, value_name = "ARN", requires = "trail_bucket")]
    pub kms_key: Vec<String>,
    /// Include what `discover --lookup` needs.
    #[arg(long)]
    pub lookup: bool,
    /// Include what `discover --verify-digests` needs (`cloudtrail:ListPublicKeys`).
    #[arg(long, requires = "trail_bucket")]
    pub verify_digests: bool,
    /// The Athena table whose needs to include (Athena reads the trail with the caller's
    /// credentials: give --trail-bucket too).
    #[command(flatten)]
    pub athena: AthenaTableArgs,
    /// Include what `discover --lake EVENT_DATA_STORE` needs (the store's ID or ARN).
    #[arg(long, value_name = "EVENT_DATA_STORE")]
    pub lake: Option<String>,
    /// Include what `discover --decode-denials` needs (`sts:DecodeAuthorizationMessage`).
    #[arg(long)]
    pub decode_denials: bool,
}

/// An Athena table of the trail, its database, workgroup and result location.
#[derive(Debug, Clone, clap::Args)]
pub struct AthenaTableArgs {
    /// An Athena table of the trail (AWS's documented CloudTrail table, or `athena ddl`'s):
    /// `discover` runs the filter and aggregation there and maps only the grouped rows;
    /// `self-policy` adds what that needs (with --trail-bucket: Athena reads the trail with
    /// the caller's credentials).
    #[arg(long, value_name = "TABLE")]
    pub athena_table: Option<String>,

    /// The Athena (Glue) database of --athena-table.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "default",
        requires = "athena_table"
    )]
    pub athena_database: String,

    /// The Athena workgroup to run the query in.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "primary",
        requires = "athena_table"
    )]
    pub athena_workgroup: String,

    /// Where Athena writes the result (`s3://…/`), unless the workgroup sets it.
    #[arg(long, value_name = "S3_URL", requires = "athena_table")]
    pub athena_output: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Show what the catalog lacks and does not use; `--check` and `--write` as in discover.
    Diff(Box<DiffArgs>),
}

/// Reading a catalog and acting on the proposal.
#[derive(Debug, Args, Clone, Default)]
pub struct CatalogArgs {
    /// The catalog: an IAM policy JSON (one document or an array), a directory of `*.json`,
    /// or a Terraform file.
    #[arg(long, value_name = "FILE")]
    pub catalog: Option<PathBuf>,

    /// In a Terraform catalog, the `locals` attribute (or policy resource / document name)
    /// holding the policy.
    #[arg(long, value_name = "NAME", requires = "catalog")]
    pub catalog_attr: Option<String>,
    /// Give a `${NAME}` placeholder of the catalog a value, e.g. `module.env_id.id=psoxy`.
    #[arg(long = "var", value_name = "NAME=VALUE", requires = "catalog")]
    pub vars: Vec<String>,
    /// Exit 3 when the catalog lacks an action (or resource) the deployment used.
    #[arg(long, requires = "catalog")]
    pub check: bool,
    /// Write the updated catalog (JSON catalogs only).
    #[arg(long, value_name = "FILE", requires = "catalog")]
    pub write: Option<PathBuf>,
    /// With --write, also drop the actions this run did not use.
    #[arg(long, requires = "write")]
    pub prune: bool,
}

/// The proposal's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProposalFormat {
    /// For people: paste it into a pull request.
    #[default]
    Markdown,
    /// For machines.
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub catalog: CatalogArgs,
    /// The discovered policy (`discover -o policy.json`).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "catalog_new",
        conflicts_with = "catalog_new"
    )]
    pub discovered: Option<PathBuf>,
    /// The evidence report of that discovery (`discover --report`), for evidence and exact
    /// resources.
    #[arg(long, value_name = "FILE", requires = "discovered")]
    pub report: Option<PathBuf>,
    /// A newer version of the catalog to compare the catalog with.
    #[arg(long, value_name = "FILE")]
    pub catalog_new: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: ProposalFormat,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The action, e.g. `lambda:CreateFunction` (case does not matter).
    pub action: String,
    /// The evidence report written by `discover --report FILE`.
    #[arg(long, value_name = "FILE")]
    pub report: PathBuf,
}

/// What `discover` prints on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// IAM policy JSON.
    #[default]
    Json,
    /// A Terraform `data "aws_iam_policy_document"` block.
    Hcl,
    /// A Terraform `jsonencode({...})` expression.
    TerraformJson,
    /// A CloudFormation `PolicyDocument` (YAML).
    Cloudformation,
    /// The evidence report for people, with the policy at the end.
    Markdown,
}

#[derive(Debug, Args)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent command-line switches"
)]
#[command(group(ArgGroup::new("input").required(true).args(["trail_dir", "events", "trail_bucket", "lookup", "athena_table", "lake"])))]
#[command(group(ArgGroup::new("pushed").args(["athena_table", "lake"])))]
pub struct DiscoverArgs {
    /// A local copy of a trail bucket (`aws s3 sync` layout), or any tree of CloudTrail
    /// `.json.gz` / `.json` files.
    #[arg(long, value_name = "DIR")]
    pub trail_dir: Option<PathBuf>,

    /// An S3 trail bucket, read where it lives (standard, organization and prefixed trails).
    #[arg(long, value_name = "BUCKET")]
    pub trail_bucket: Option<String>,

    /// The key prefix the trail writes under, before `AWSLogs/`.
    #[arg(
        long,
        value_name = "PREFIX",
        default_value = "",
        requires = "trail_bucket"
    )]
    pub prefix: String,

    /// Only this organization's folder (`AWSLogs/o-…/`) of an organization trail.
    #[arg(long, value_name = "ID", requires = "trail_bucket")]
    pub org_id: Option<String>,

    /// How many S3 objects to fetch at once.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 16,
        requires = "trail_bucket"
    )]
    pub concurrency: usize,

    /// Keep fetched objects here (by bucket, key and ETag) so a second run reads nothing
    /// from S3 again.
    #[arg(long, value_name = "DIR", requires = "trail_bucket")]
    pub cache_dir: Option<PathBuf>,

    /// Read the CloudTrail LookupEvents API (management events of the last 90 days, per
    /// `--region`) instead of a trail.
    #[arg(long)]
    pub lookup: bool,

    #[command(flatten)]
    pub athena: AthenaTableArgs,

    /// The table's partition columns: `timestamp` (AWS's documented table),
    /// `account,region,timestamp` (`athena ddl`'s).
    #[arg(
        long,
        value_name = "COLUMNS",
        default_value = "timestamp",
        requires = "athena_table"
    )]
    pub athena_partitions: String,

    /// The region Athena runs in (default: the standard chain's).
    #[arg(long, value_name = "REGION", requires = "athena_table")]
    pub athena_region: Option<String>,

    /// A CloudTrail Lake event data store (its ID, or its ARN, which also gives the region):
    /// the filter and aggregation run there, as with --athena-table.
    #[arg(long, value_name = "EVENT_DATA_STORE")]
    pub lake: Option<String>,

    /// Print the SQL --athena-table or --lake would run, and run nothing.
    #[arg(long, requires = "pushed")]
    pub dry_run: bool,

    /// An S3 (or CloudTrail) endpoint to use instead of AWS's, with path-style addressing.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,

    /// The AWS profile to take credentials and region from (default: the standard chain).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// CloudTrail records in a file (`-` for stdin): `{"Records":[…]}`, JSON lines, or
    /// LookupEvents output (`{"Events":[{"CloudTrailEvent":"…"}]}`); gzip is detected.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,

    /// Keep calls of this principal: a role ARN matches every session of the role, a user
    /// ARN that user. `*` and `?` globs allowed. Repeatable; without it, all principals.
    #[arg(long, value_name = "ARN")]
    pub principal: Vec<String>,

    /// Keep only role sessions whose name matches this glob. Repeatable.
    #[arg(long, value_name = "GLOB")]
    pub session: Vec<String>,

    /// Start of the window: RFC 3339 (`2026-11-20T10:00:00Z`), a date, or a time before
    /// now (`90m`, `6h`, `2d`).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// End of the window (same forms as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Keep calls made in this region (repeatable). Calls to global services such as IAM,
    /// recorded in us-east-1, are kept too.
    #[arg(long, value_name = "REGION")]
    pub region: Vec<String>,

    /// Keep calls recorded in this account's logs (repeatable).
    #[arg(long, value_name = "ID")]
    pub account: Vec<String>,

    /// Keep calls whose user agent matches this glob, e.g. `*terraform*` (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub user_agent: Vec<String>,

    /// Keep events AWS services made on their own behalf (excluded by default).
    #[arg(long)]
    pub include_service_events: bool,

    /// How much later than its last event a log file may be delivered; log files named
    /// after a time past --until plus this are not opened.
    #[arg(long, value_name = "DURATION", default_value = "30m")]
    pub delivery_slack: String,

    /// Largest decompressed size of one input file.
    #[arg(long, value_name = "BYTES", default_value = "512MiB")]
    pub max_file_size: String,

    /// How resources appear: `scoped` (observed ARNs, region `*`, name prefixes `P*`),
    /// `exact` (observed ARNs), or `wildcard` (`*`).
    #[arg(long, value_enum, value_name = "MODE", default_value = "scoped")]
    pub resources: crate::resource::Mode,

    /// With scoped resources, keep the region of each ARN instead of `*`.
    #[arg(long)]
    pub keep_region: bool,

    /// With scoped resources, replace the account of each ARN by `*`.
    #[arg(long)]
    pub any_account: bool,

    /// A policy for any account and region: account and region `*`, and every identifier
    /// AWS generates (key ids, `sg-…`, API ids, secret suffixes) generalised whether or not
    /// this run created it. Names the deployer chooses keep their --name-prefix scoping.
    #[arg(long, conflicts_with = "keep_region")]
    pub portable: bool,

    /// Conditions that narrow grants (`iam:PassedToService` on `iam:PassRole`, the run's
    /// own tags and aliases where a generated id became `*`): `auto` adds them where the
    /// trail shows they held for every call, `none` leaves them out.
    #[arg(long, value_enum, value_name = "WHICH", default_value = "auto")]
    pub conditions: crate::policy::Conditions,

    /// Resource names starting with this become `PREFIX*` (repeatable), in every ARN shape:
    /// `function:P*`, `role/P*`, `parameter/P*`, buckets `P*` and objects `P*/*`, log groups
    /// `/aws/lambda/P*`.
    #[arg(long, value_name = "PREFIX")]
    pub name_prefix: Vec<String>,

    /// Split the policy into several documents over this many characters (whitespace not
    /// counted; 6144 is the managed-policy limit).
    #[arg(long, value_name = "CHARS", default_value_t = crate::policy::MANAGED_POLICY_LIMIT)]
    pub max_policy_size: usize,

    /// Most documents the policy may take: 10 is the default number of managed policies a
    /// role may have attached. Past it, resources collapse further, or the run exits 8.
    #[arg(long, value_name = "N", default_value_t = crate::policy::budget::MAX_POLICIES)]
    pub max_policies: usize,

    /// Most resources of one type in one statement: past it they collapse to the narrowest
    /// patterns along their path (`arn:aws:s3:::app-data/k/*`), never across a bucket,
    /// account or region (`--resources exact` never collapses).
    #[arg(long, value_name = "N", default_value_t = crate::resource::collapse::MAX_RESOURCES)]
    pub max_resources: usize,

    /// Output format on stdout (or -o).
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,

    /// Write the evidence report (JSON; markdown if FILE ends in `.md`).
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    #[command(flatten)]
    pub catalog: CatalogArgs,

    /// With --catalog: the proposal's format on stdout.
    #[arg(long, value_enum, default_value = "markdown", requires = "catalog")]
    pub proposal_format: ProposalFormat,

    /// Write a first catalog from this discovery (the policy as JSON), with its evidence
    /// report beside it (`NAME.evidence.json`).
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,

    /// Write the policy here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Check every log file read against CloudTrail's signed, chained digest files
    /// (`--trail-bucket` or `--trail-dir`); exit 6 when a log file or digest is invalid.
    #[arg(long)]
    pub verify_digests: bool,

    /// CloudTrail's public keys as `aws cloudtrail list-public-keys` prints them, instead of
    /// asking ListPublicKeys (with --trail-dir: to check the signatures the chain records).
    #[arg(long, value_name = "FILE", requires = "verify_digests")]
    pub public_keys: Option<PathBuf>,

    /// Decode EC2's encoded authorization failure messages with STS
    /// DecodeAuthorizationMessage (standard credential chain; needs
    /// `sts:DecodeAuthorizationMessage`, see `self-policy --decode-denials`), so that those
    /// denials say which action and resource were refused.
    #[arg(long)]
    pub decode_denials: bool,

    /// Fail (exit 4) if any file or record was unreadable, any call could not be mapped, any
    /// call was refused by a policy other than the identity policy (or an explicit deny), an
    /// encoded denial could not be decoded, (with --verify-digests) any log file could not
    /// be verified, or the window is not known to be delivered.
    #[arg(long)]
    pub strict: bool,

    /// Write the policy even when part of the window could not be read (objects not
    /// fetched, listings refused, lookup pages lost), with a warning; otherwise such a run
    /// fails (exit 5). With --wait: read what is there when MAX passes instead of exit 7.
    #[arg(long)]
    pub allow_partial: bool,

    /// Before reading, wait until CloudTrail has delivered the window: in every account and
    /// region, a digest (with --verify-digests) or a log file delivered 5 minutes after
    /// --until, or the clock past --until plus --delivery-slack. At most MAX (`--wait` alone:
    /// --delivery-slack plus 1m); exit 7 when MAX passes first. Ctrl-C stops (exit 130).
    #[arg(
        long,
        value_name = "MAX",
        num_args = 0..=1,
        require_equals = true,
        conflicts_with_all = ["events", "dry_run"]
    )]
    pub wait: Option<Option<String>>,

    /// How often --wait looks again (tests shorten it; see docs/usage.md).
    #[arg(
        long,
        value_name = "DURATION",
        hide = true,
        env = "MINPRIV_WAIT_POLL",
        default_value = "20s"
    )]
    pub wait_poll: String,

    /// No progress bar and no summary on stderr; problems are still reported.
    #[arg(short, long)]
    pub quiet: bool,
}
