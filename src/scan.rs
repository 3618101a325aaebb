//! Runs parse → filter → call aggregation over every input in parallel (rayon across
//! files) and tallies what was read, skipped and kept. Memory stays flat: one decompressed
//! file per worker, and kept events collapse into distinct calls as they are seen.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::filter::{Exclusion, Filter};
use crate::mapping::{Call, Mapper};
use crate::parse::{self, BadRecord, Event, Item, Prefilter};
use crate::resource::TypedArn;
use crate::resource::generated::Generated;
use crate::resource::lifecycle::{self, Lifecycle, Watch};
pub use crate::seen::{EXAMPLES, Seen};
use crate::source::{Blob, Problem};
use std::sync::Arc;

/// Distinct calls and their evidence. foldhash is a fast hasher with a per-process random
/// seed: much cheaper than SipHash on these keys, still resistant to crafted collisions.
pub type Calls = foldhash::HashMap<Call, Seen>;

/// What one call's text maps to: the call (its resources apart), its resources, and the
/// change it made to created resources. The same text makes the same change whenever it is
/// sent, so a repeat is neither mapped nor parsed again.
#[derive(Debug)]
struct Memo {
    call: Call,
    arns: Arc<[TypedArn]>,
    change: Option<lifecycle::Change>,
}

/// Most distinct raw calls one worker remembers before starting over (memory stays flat).
const MEMO_LIMIT: usize = 4_096;

/// What the run read, skipped and kept.
#[derive(Debug, Default)]
pub struct Tally {
    pub files_read: u64,
    pub bytes_read: u64,
    pub bytes_json: u64,
    /// Inputs that could not be read or parsed (wholly or in part).
    pub problems: Vec<Problem>,
    /// Inputs that could not be fetched (S3 objects after retries, lost `LookupEvents`
    /// pages): a failed read, not bad input.
    pub failed: Vec<Problem>,
    /// Input name → hex SHA-256 of its uncompressed bytes, or why they are not a log file
    /// (`--verify-digests` only).
    pub hashes: Vec<(String, Result<String, String>)>,
    pub records: u64,
    pub bad_records: BTreeMap<BadRecord, u64>,
    pub excluded: BTreeMap<Exclusion, u64>,
    pub kept: u64,
    pub calls: Calls,
    /// Generated identifiers that kept calls created (their responses named them).
    pub created: crate::resource::generated::Created,
    /// The tags and aliases of what the run created, and when calls named it.
    pub lifecycle: Lifecycle,
    /// The calls that were refused, by what AWS's error message said.
    pub denials: crate::denial::Denials,
    /// The text a call key is made of (source, name, region, account, partition, request,
    /// response, resources) → its call, so identical requests are mapped once.
    memo: foldhash::HashMap<Box<str>, Memo>,
    key: String,
}

/// Whether the call was refused (its error code is a denial's).
fn refused(event: &Event<'_>) -> bool {
    event
        .error_code
        .as_deref()
        .is_some_and(crate::denial::is_denial)
}

impl Tally {
    fn merge(mut self, other: Self) -> Self {
        self.files_read += other.files_read;
        self.bytes_read += other.bytes_read;
        self.bytes_json += other.bytes_json;
        self.problems.extend(other.problems);
        self.failed.extend(other.failed);
        self.hashes.extend(other.hashes);
        self.records += other.records;
        for (reason, n) in other.bad_records {
            *self.bad_records.entry(reason).or_default() += n;
        }
        for (reason, n) in other.excluded {
            *self.excluded.entry(reason).or_default() += n;
        }
        self.kept += other.kept;
        self.created.extend(other.created);
        self.lifecycle.merge(other.lifecycle);
        for (call, seen) in other.calls {
            self.calls.entry(call).or_default().merge(seen);
        }
        self.denials.merge(other.denials);
        self
    }

    /// Tallies the refused calls `seen` by what `event`'s message said. A denial's resources
    /// are kept as the calls' are (all of them under `--resources exact`).
    fn deny(&mut self, event: &Event<'_>, seen: Seen, context: &Context<'_>) {
        self.denials.raise_fanout(context.fanout);
        self.denials.add(
            (&event.source, &event.name),
            event.error_message.as_deref(),
            seen,
            &context.mapper,
        );
    }

    /// Adds a kept event to its call, mapping the call only the first time its text is seen.
    fn keep(&mut self, event: &Event<'_>, context: &Context<'_>) {
        fn raw(value: Option<&serde_json::value::RawValue>) -> &str {
            value.map_or("", serde_json::value::RawValue::get)
        }
        if refused(event) {
            let mut seen = Seen::default();
            seen.add(event);
            self.deny(event, seen, context);
        }
        let partition = event
            .identity
            .arn
            .as_deref()
            .and_then(|arn| arn.split(':').nth(1))
            .unwrap_or_default();
        let account = event
            .recipient_account
            .as_deref()
            .or(event.identity.account.as_deref())
            .unwrap_or_default();
        self.key.clear();
        for piece in [
            &*event.source,
            &*event.name,
            &*event.region,
            account,
            partition,
            raw(event.request),
            raw(event.response),
            raw(event.resources),
        ] {
            self.key.push_str(piece);
            self.key.push('\0');
        }
        if let Some(memo) = self.memo.get(self.key.as_str())
            && let Some(seen) = self.calls.get_mut(&memo.call)
        {
            seen.add(event);
            // The call's resources went into its evidence when the memo entry was made, and
            // evidence only grows: nothing to add.
            let (arns, change) = (memo.arns.clone(), memo.change.clone());
            self.follow(event, &arns, change);
            return;
        }
        let (mut call, parts) = context.mapper.call_and_parts(event, &mut self.created);
        let arns: Arc<[TypedArn]> = std::mem::take(&mut call.arns).into();
        let change = watch(event, context)
            .and_then(|watched| observe(event, &arns, watched, parts.as_ref(), context));
        if self.memo.len() >= MEMO_LIMIT {
            self.memo.clear();
        }
        self.memo.insert(
            self.key.as_str().into(),
            Memo {
                call: call.clone(),
                arns: arns.clone(),
                change: change.clone(),
            },
        );
        let seen = self.calls.entry(call).or_default();
        seen.add(event);
        seen.add_arns(&arns, context.fanout);
        self.follow(event, &arns, change);
    }

    /// Adds an engine's aggregated row (Athena's grouped query): `event` is the row's call
    /// as one event at its first time, `seen` the row's evidence, `last` its last time. The
    /// call is mapped as the local scan maps an event, and the resources it named are
    /// followed at the row's first and last time.
    pub fn keep_aggregated(
        &mut self,
        event: &Event<'_>,
        seen: Seen,
        last: &str,
        context: &Context<'_>,
    ) {
        let mut call = context.mapper.call_noting_created(event, &mut self.created);
        let arns: Arc<[TypedArn]> = std::mem::take(&mut call.arns).into();
        let watch = watch(event, context);
        let count = seen.count;
        self.kept += seen.count;
        if refused(event) {
            self.deny(event, seen.clone(), context);
        }
        let entry = self.calls.entry(call).or_default();
        entry.merge(seen);
        entry.add_arns(&arns, context.fanout);
        let change = watch.and_then(|watched| observe(event, &arns, watched, None, context));
        self.follow(event, &arns, change.clone());
        if last != event.time {
            let later = Event {
                time: last.into(),
                ..event.clone()
            };
            self.follow(&later, &arns, change);
        }
        // A row stands for its first and last call: a tag or alias change made more than
        // twice hides when the others were, so none of the service's tags is relied on.
        if watch.is_some()
            && count > 2
            && let (Some(prefix), Some(time)) = (
                context.mapper.prefix_of(&event.source),
                lifecycle::time_of(&event.time),
            )
        {
            self.lifecycle.changes.push(lifecycle::Dated {
                time,
                event: event.name.as_ref().into(),
                change: lifecycle::Change::Unmatched {
                    service: prefix.into(),
                    keys: None,
                },
            });
        }
    }

    /// Notes when the call named generated resources, and the change it made to them.
    fn follow(&mut self, event: &Event<'_>, arns: &[TypedArn], change: Option<lifecycle::Change>) {
        let Ok(generated) = Generated::embedded() else {
            return;
        };
        // A time that does not parse could be any time: such a call spans all of them, so
        // nothing that changed is relied on for it. Parsed only when needed: most calls
        // name no generated resource and change nothing.
        let mut parsed = None;
        let mut time = || *parsed.get_or_insert_with(|| lifecycle::time_of(&event.time));
        for arn in arns.iter().filter(|a| generated.has_service(&a.service)) {
            if let Some(time) = time() {
                self.lifecycle.touch(&event.name, arn, time);
            } else {
                self.lifecycle.touch(&event.name, arn, i64::MIN);
                self.lifecycle.touch(&event.name, arn, i64::MAX);
            }
        }
        if let Some(change) = change
            && let Some(time) = time()
        {
            self.lifecycle.changes.push(lifecycle::Dated {
                time,
                event: event.name.as_ref().into(),
                change,
            });
        }
    }

    /// Reads one input and tallies it; a read failure is a problem, not a stop.
    fn take(&mut self, blob: Blob, raw: &mut Vec<u8>, json: &mut Vec<u8>, context: &Context<'_>) {
        let name = blob.display();
        if let Blob::Failed { message, .. } = blob {
            self.failed.push(Problem {
                path: name,
                message,
            });
            return;
        }
        if let Blob::File { size, .. } = blob
            && size > context.max_file_size
        {
            // Larger on disk than allowed decompressed: refuse before reading it.
            let message = parse::ParseError::TooLarge {
                limit: context.max_file_size,
            }
            .to_string();
            self.problems.push(Problem {
                path: name,
                message,
            });
            return;
        }
        match blob.read_into(raw, context.max_file_size) {
            Ok(()) => self.scan(&name, raw, json, context),
            Err(error) => self.problems.push(Problem {
                path: name,
                message: error.to_string(),
            }),
        }
    }

    /// Tallies one input's bytes.
    fn scan(&mut self, name: &str, raw: &[u8], json_buffer: &mut Vec<u8>, context: &Context<'_>) {
        self.files_read += 1;
        self.bytes_read += raw.len() as u64;
        // Decompressed bytes come out of the run's budget: a reservation from the gzip
        // trailer's size (or the compressed size), decoded with the reservation as limit;
        // a file that lies about its size is decoded again under the whole per-file limit.
        // One reservation at a time per worker, released before another is asked for, so
        // waiting cannot deadlock.
        let gzip = raw.starts_with(&[0x1f, 0x8b]);
        let guess = parse::trailer_size(raw)
            .map_or(0, u64::from)
            .max(raw.len() as u64)
            .min(context.max_file_size);
        let mut permit = context.budget.acquire(if gzip { guess } else { 0 });
        let first_limit = if gzip {
            permit.bytes()
        } else {
            context.max_file_size
        };
        let mut decoded = parse::decode(raw, json_buffer, first_limit);
        if gzip
            && permit.bytes() < context.max_file_size
            && matches!(decoded, Err(parse::ParseError::TooLarge { .. }))
        {
            drop(permit);
            permit = context.budget.acquire(context.max_file_size);
            decoded = parse::decode(raw, json_buffer, context.max_file_size);
        }
        let _permit = permit;
        let json = match decoded {
            Ok(json) => json,
            Err(error) => {
                // Bytes that are no longer a log file speak against it (a file too large
                // was just not read).
                if context.hash_logs
                    && matches!(error, parse::ParseError::Gzip(_) | parse::ParseError::Empty)
                {
                    self.hashes.push((name.to_owned(), Err(error.to_string())));
                }
                self.problems.push(Problem {
                    path: name.to_owned(),
                    message: error.to_string(),
                });
                return;
            }
        };
        self.bytes_json += json.len() as u64;
        if context.hash_logs {
            // Hashed where the bytes are already decompressed: digests list the SHA-256
            // of a log file's uncompressed content.
            self.hashes.push((
                name.to_owned(),
                Ok(crate::integrity::digest::sha256_hex(json)),
            ));
        }
        let mut bad_here = 0_u64;
        let result = parse::records(json, &context.prefilter, &mut |item| match item {
            Item::Event(event) => match context.filter.check(&event, context.mapper.rules()) {
                Ok(()) => {
                    self.kept += 1;
                    self.keep(&event, context);
                }
                Err(reason) => *self.excluded.entry(reason).or_default() += 1,
            },
            Item::Unmatched => *self.excluded.entry(Exclusion::OtherPrincipal).or_default() += 1,
            Item::Bad(bad) => {
                bad_here += 1;
                *self.bad_records.entry(bad).or_default() += 1;
            }
        });
        match result {
            Ok(records) => self.records += records,
            Err(error) => {
                if let parse::ParseError::Json { records, .. } = &error {
                    self.records += records;
                }
                self.problems.push(Problem {
                    path: name.to_owned(),
                    message: error.to_string(),
                });
            }
        }
        if bad_here > 0 {
            self.problems.push(Problem {
                path: name.to_owned(),
                message: format!(
                    "{bad_here} records without the fields every CloudTrail record has"
                ),
            });
        }
    }
}

/// The change an event made to created resources, given the change its kind of call can
/// make: from the request and response the mapping parsed (`parts`), or parsed here.
fn observe(
    event: &Event<'_>,
    arns: &[TypedArn],
    watched: Watched<'_>,
    parts: Option<&crate::fields::Parts>,
    context: &Context<'_>,
) -> Option<lifecycle::Change> {
    let generated = Generated::embedded().ok()?;
    let table = lifecycle::Table::embedded()?;
    let (mut request, mut response) = (None, None);
    let request = parts.and_then(|p| p.request.as_ref()).or_else(|| {
        request
            .insert(crate::fields::parsed(event.request))
            .as_ref()
    });
    let response = parts.and_then(|p| p.response.as_ref()).or_else(|| {
        response
            .insert(crate::fields::parsed(event.response))
            .as_ref()
    });
    let mapper = &context.mapper;
    let prefix = mapper.prefix_of(&event.source).unwrap_or_default();
    let mut created = crate::resource::generated::Created::new();
    if let Some(response) = response {
        mapper
            .locator()
            .created(prefix, &event.name, response, &mut created);
    }
    let observed = lifecycle::Observed {
        service: prefix,
        request,
        tag_paths: watched.tag_paths,
        created: created
            .into_iter()
            .map(|(service, value)| {
                let variable = generated.variable_of(&service, &value);
                ((service, value), variable)
            })
            .collect(),
        own: arns
            .iter()
            .filter_map(|arn| Some((&*arn.kind, mapper.locator().own_id(arn)?)))
            .collect(),
    };
    observed.change(watched.watch, table)
}

/// The change to created resources an event's kind of call can make, and where its
/// request gives tags (from the SDK model's operation).
#[derive(Debug, Clone, Copy)]
struct Watched<'c> {
    watch: Watch,
    tag_paths: &'c [&'static str],
}

/// The change to created resources an event can make.
fn watch<'c>(event: &Event<'_>, context: &'c Context<'_>) -> Option<Watched<'c>> {
    let table = lifecycle::Table::embedded()?;
    let generated = Generated::embedded().ok()?;
    let mapper = &context.mapper;
    let prefix = mapper.prefix_of(&event.source)?;
    let name = crate::mapping::strip_api_version(&event.name).unwrap_or(&event.name);
    let key = format!("{prefix}:{name}");
    let tagging = mapper
        .reference()
        .action(&key)
        .is_some_and(|(_, a)| a.access == crate::iam::Access::Tagging);
    let tag_paths = mapper
        .rules()
        .operations()
        .get(&key)
        .map_or(&[][..], |op| op.tags.as_slice());
    let watch = table.watch(
        &event.source,
        (prefix, name),
        generated.creates(name),
        !tag_paths.is_empty(),
        tagging,
    )?;
    Some(Watched { watch, tag_paths })
}

/// What every worker needs.
pub struct Context<'a> {
    pub filter: &'a Filter,
    pub mapper: Mapper,
    pub max_file_size: u64,
    pub progress: bool,
    /// Passes over records that cannot be the principal's without decoding them.
    pub prefilter: Prefilter,
    /// Decompressed bytes all workers may hold at once.
    pub budget: Budget,
    /// Hash every input's uncompressed bytes (`--verify-digests`).
    pub hash_logs: bool,
    /// Most children a node of a call's resource tree lists before it collapses
    /// (`crate::resource::tree`): 64, more for `--resources exact`.
    pub fanout: usize,
}

/// The decompressed bytes all workers may hold at once, unless `max_file_size` is larger.
pub const MEMORY_BUDGET: u64 = 1 << 30;

/// A semaphore of bytes shared by the workers: one global bound on decompressed data,
/// however many threads run.
#[derive(Debug)]
pub struct Budget {
    total: u64,
    free: std::sync::Mutex<u64>,
    freed: std::sync::Condvar,
}

/// Bytes held from a [`Budget`] until dropped.
#[derive(Debug)]
pub struct Permit<'b> {
    budget: &'b Budget,
    bytes: u64,
}

impl Budget {
    #[must_use]
    pub fn new(total: u64) -> Self {
        Self {
            total,
            free: std::sync::Mutex::new(total),
            freed: std::sync::Condvar::new(),
        }
    }

    /// Waits until `bytes` (at most the whole budget, so a request can always be met once
    /// the others are done) are free, and holds them.
    pub fn acquire(&self, bytes: u64) -> Permit<'_> {
        let bytes = bytes.min(self.total);
        let mut free = self
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while *free < bytes {
            free = self
                .freed
                .wait(free)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *free -= bytes;
        Permit {
            budget: self,
            bytes,
        }
    }

    /// Bytes free now (for tests and the summary).
    #[must_use]
    pub fn free(&self) -> u64 {
        *self
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Permit<'_> {
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut free = self
            .budget
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *free += self.bytes;
        self.budget.freed.notify_all();
    }
}

impl<'a> Context<'a> {
    /// The context for a filter, with the prefilter it allows.
    #[must_use]
    pub fn new(filter: &'a Filter, mapper: Mapper, max_file_size: u64, progress: bool) -> Self {
        let prefilter = filter
            .needles()
            .map_or_else(Prefilter::none, |needles| Prefilter::any(&needles));
        Self {
            filter,
            mapper,
            max_file_size,
            progress,
            prefilter,
            budget: Budget::new(MEMORY_BUDGET.max(max_file_size)),
            hash_logs: false,
            fanout: crate::resource::tree::FANOUT,
        }
    }
}

/// A progress bar over `total` bytes on stderr, when it is a terminal and not quiet.
fn progress(show: bool, total: u64) -> ProgressBar {
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} reading {bytes}/{total_bytes} ({bytes_per_sec}, {msg}) {wide_bar} {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Scans listed inputs in parallel.
#[must_use]
pub fn scan(blobs: &[Blob], context: &Context<'_>) -> Tally {
    let total = blobs.iter().filter_map(Blob::size).sum();
    scan_stream(blobs.iter().cloned(), total, context)
}

/// Scans inputs as they come (a listing, or S3 objects from a channel as they are fetched)
/// on every worker thread.
///
/// Each worker keeps one tally and takes the next input whenever it is done with one, so
/// the load balances and only one tally per worker is merged at the end. (With rayon's
/// `fold`, every split kept a tally of its own: 16 on two threads, each holding most of a
/// large corpus's resources and lifecycle spans until merged, which took the peak of an
/// all-principals run over 3 GB of JSON from 61 MB to 82 MB.)
#[must_use]
pub fn scan_stream(
    blobs: impl Iterator<Item = Blob> + Send,
    total: u64,
    context: &Context<'_>,
) -> Tally {
    let bar = progress(context.progress, total);
    let queue = std::sync::Mutex::new(blobs);
    let files = std::sync::atomic::AtomicU64::new(0);
    let next = || {
        queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .next()
    };
    let tallies: Vec<Tally> = (0..rayon::current_num_threads())
        .into_par_iter()
        .map(|_| {
            let mut tally = Tally::default();
            let (mut raw, mut json) = (Vec::new(), Vec::new());
            while let Some(blob) = next() {
                tally.take(blob, &mut raw, &mut json, context);
                bar.inc(raw.len() as u64);
                let done = files.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                bar.set_message(format!("{done} files"));
                // Keep one big file from pinning its buffers for the rest of the run.
                if raw.capacity() > 64 << 20 {
                    raw = Vec::new();
                }
                if json.capacity() > 256 << 20 {
                    json = Vec::new();
                }
            }
            // The memo is of no use past the scan: dropped here, on every worker at once,
            // rather than one after another in the merge.
            tally.memo = foldhash::HashMap::default();
            tally
        })
        .collect();
    let mut tally = tallies.into_iter().reduce(Tally::merge).unwrap_or_default();
    bar.finish_and_clear();
    tally.problems.sort();
    tally.failed.sort();
    tally.hashes.sort();
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_budget_is_global_across_workers_and_cannot_deadlock() {
        let budget = Budget::new(100);
        let held = std::sync::atomic::AtomicU64::new(0);
        let peak = std::sync::atomic::AtomicU64::new(0);
        std::thread::scope(|scope| {
            for n in 0..8_u64 {
                let (budget, held, peak) = (&budget, &held, &peak);
                scope.spawn(move || {
                    for _ in 0..50 {
                        // Some ask for more than the whole budget: clamped, they wait.
                        let permit = budget.acquire(30 + n * 20);
                        let now = held
                            .fetch_add(permit.bytes(), std::sync::atomic::Ordering::SeqCst)
                            + permit.bytes();
                        peak.fetch_max(now, std::sync::atomic::Ordering::SeqCst);
                        std::thread::yield_now();
                        held.fetch_sub(permit.bytes(), std::sync::atomic::Ordering::SeqCst);
                    }
                });
            }
        });
        assert!(peak.load(std::sync::atomic::Ordering::SeqCst) <= 100);
        assert_eq!(budget.free(), 100);
    }

    #[test]
    fn a_gzip_file_larger_than_its_trailer_says_is_still_read_under_the_budget() {
        use std::io::Write as _;
        // Two members: the trailer (of the last, small one) understates the whole.
        let member = |text: &str| {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(text.as_bytes()).unwrap();
            encoder.finish().unwrap()
        };
        let mut gz = member(&format!(r#"{{"Records":[{}"#, " ".repeat(100_000)));
        gz.extend(member("]}"));
        let filter = Filter::new(&crate::filter::Criteria::default()).unwrap();
        let context = Context::new(&filter, Mapper::embedded().unwrap(), 1 << 20, false);
        let tally = scan(
            &[Blob::Memory {
                name: "liar.json.gz".to_owned(),
                bytes: gz,
            }],
            &context,
        );
        assert!(tally.problems.is_empty(), "{:?}", tally.problems);
        assert_eq!(context.budget.free(), MEMORY_BUDGET);
    }
    use crate::filter::Criteria;

    #[test]
    fn seen_keeps_first_last_and_errors_across_merges() {
        let mk = |time: &'static str, error: Option<&'static str>| Event {
            time: time.into(),
            region: "eu-west-1".into(),
            error_code: error.map(Into::into),
            ..Event::default()
        };
        let mut a = Seen::default();
        a.add(&mk("2026-11-20T10:05:00Z", None));
        a.add(&mk("2026-11-20T10:01:00Z", Some("AccessDenied")));
        let mut b = Seen::default();
        b.add(&mk("2026-11-20T10:09:00Z", None));
        a.merge(b);
        assert_eq!(a.count, 3);
        assert_eq!(a.first, "2026-11-20T10:01:00Z");
        assert_eq!(a.last, "2026-11-20T10:09:00Z");
        assert_eq!(a.errors.get("AccessDenied"), Some(&1));
    }

    #[test]
    fn the_prefilter_never_changes_what_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        minpriv_synth::deploy::sample()
            .write(dir.path(), "")
            .unwrap();
        let blobs = crate::source::list_dir(dir.path(), &crate::source::Scope::default()).blobs;
        let mapper = Mapper::embedded().unwrap();
        for principal in [
            "arn:aws:iam::111122223333:role/ci-provisioner",
            "arn:aws:iam::111122223333:role/developer",
            "arn:aws:iam::111122223333:role/psoxy-*-exec",
        ] {
            let principals = [principal.to_owned()];
            let filter = Filter::new(&Criteria {
                principals: &principals,
                ..Criteria::default()
            })
            .unwrap();
            let fast = Context::new(&filter, mapper, 1 << 20, false);
            assert!(!fast.prefilter.is_empty(), "{principal}");
            let slow = Context {
                prefilter: Prefilter::none(),
                ..Context::new(&filter, mapper, 1 << 20, false)
            };
            let (a, b) = (scan(&blobs, &fast), scan(&blobs, &slow));
            assert!(a.kept > 0, "{principal}");
            assert_eq!(
                (a.records, a.kept, &a.calls),
                (b.records, b.kept, &b.calls),
                "{principal}"
            );
            assert_eq!(
                a.excluded.values().sum::<u64>(),
                b.excluded.values().sum::<u64>()
            );
        }
    }

    /// One record by `role` (or by another principal naming it in its request).
    fn record(role: &str, n: usize, order: bool) -> serde_json::Value {
        let identity = serde_json::json!({
            "type": "AssumedRole",
            "arn": format!("arn:aws:sts::111122223333:assumed-role/{role}/s{n}"),
            "accountId": "111122223333",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": format!("arn:aws:iam::111122223333:role/{role}")}}
        });
        let mut fields = vec![
            ("eventVersion", serde_json::json!("1.09")),
            (
                "eventTime",
                serde_json::json!(format!("2026-11-20T10:{:02}:00Z", n % 60)),
            ),
            ("eventSource", serde_json::json!("iam.amazonaws.com")),
            ("eventName", serde_json::json!("GetRole")),
            ("awsRegion", serde_json::json!("us-east-1")),
            ("userIdentity", identity),
            // Escapes and a name that is another principal's.
            (
                "requestParameters",
                serde_json::json!({"roleName": "ci-provisioner", "description": "quote \" and caf\u{e9} \u{1F600}"}),
            ),
            ("recipientAccountId", serde_json::json!("111122223333")),
        ];
        if order {
            fields.reverse();
        }
        serde_json::Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    #[test]
    fn the_prefilter_gives_what_the_plain_decoder_gives_on_every_input_shape() {
        let role = |n: usize| {
            if n.is_multiple_of(3) {
                "ci-provisioner"
            } else {
                "developer"
            }
        };
        let records: Vec<serde_json::Value> =
            (0..12).map(|n| record(role(n), n, n % 2 == 0)).collect();
        let trail = serde_json::json!({ "Records": records });
        // As CloudTrail writes them, eventVersion first: the needle-first path.
        let ordered: Vec<serde_json::Value> = (0..12).map(|n| record(role(n), n, false)).collect();
        let cloudtrail = serde_json::json!({ "Records": ordered });
        let cloudtrail_escaped = cloudtrail
            .to_string()
            .replace("ci-provisioner", "ci\\u002dprovisioner");
        let lines: String = records.iter().map(|r| r.to_string() + "\n").collect();
        let lookup = serde_json::json!({ "Events": records.iter().enumerate()
            .map(|(n, r)| serde_json::json!({"EventId": n.to_string(), "CloudTrailEvent": r.to_string()}))
            .collect::<Vec<_>>() });
        // JSON may escape `/` and any character as \uXXXX: the principal's name is not
        // literally in such a record.
        let escaped = trail
            .to_string()
            .replace('/', "\\/")
            .replace("ci-provisioner", "ci\\u002dprovisioner");
        let shapes = [
            ("trail document", trail.to_string()),
            ("CloudTrail's field order", cloudtrail.to_string()),
            (
                "CloudTrail's field order, pretty",
                serde_json::to_string_pretty(&cloudtrail).unwrap(),
            ),
            ("CloudTrail's field order, escaped", cloudtrail_escaped),
            (
                "pretty-printed",
                serde_json::to_string_pretty(&trail).unwrap(),
            ),
            ("JSON lines", lines),
            ("LookupEvents output", lookup.to_string()),
            ("escaped slashes and \\u sequences", escaped),
        ];
        let principals = ["arn:aws:iam::111122223333:role/ci-provisioner".to_owned()];
        let filter = Filter::new(&Criteria {
            principals: &principals,
            ..Criteria::default()
        })
        .unwrap();
        let mapper = Mapper::embedded().unwrap();
        for (shape, text) in shapes {
            let blobs = [Blob::Memory {
                name: format!("{shape}.json"),
                bytes: text.into_bytes(),
            }];
            let fast = scan(&blobs, &Context::new(&filter, mapper, 1 << 20, false));
            let plain = scan(
                &blobs,
                &Context {
                    prefilter: Prefilter::none(),
                    ..Context::new(&filter, mapper, 1 << 20, false)
                },
            );
            assert_eq!(plain.kept, 4, "{shape}");
            assert_eq!(
                (
                    fast.records,
                    fast.kept,
                    &fast.calls,
                    &fast.bad_records,
                    &fast.excluded
                ),
                (
                    plain.records,
                    plain.kept,
                    &plain.calls,
                    &plain.bad_records,
                    &plain.excluded
                ),
                "{shape}"
            );
        }
    }

    #[test]
    fn a_repeated_call_makes_its_change_again_at_its_own_time() {
        // The same tagging call three times: the memo answers the repeats, and each repeat
        // is dated with its own time (a time that does not parse dates nothing).
        let record = |time: &str| {
            serde_json::json!({
                "eventVersion": "1.09", "eventTime": time, "eventSource": "kms.amazonaws.com",
                "eventName": "TagResource", "awsRegion": "us-east-1",
                "recipientAccountId": "111122223333",
                "userIdentity": {"type": "AssumedRole", "accountId": "111122223333",
                    "arn": "arn:aws:sts::111122223333:assumed-role/ci/s"},
                "requestParameters": {
                    "keyId": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                    "tags": [{"tagKey": "app", "tagValue": "psoxy"}]},
                "responseElements": null
            })
        };
        let times = ["2026-11-20T10:00:00Z", "2026-11-20T10:05:00Z", "not a time"];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trail.json");
        let records: Vec<_> = times.iter().map(|t| record(t)).collect();
        std::fs::write(&path, serde_json::json!({"Records": records}).to_string()).unwrap();
        let blobs = vec![Blob::File { path, size: 1 }];
        let filter = Filter::new(&Criteria::default()).unwrap();
        let context = Context::new(&filter, Mapper::embedded().unwrap(), 1 << 20, false);
        let tally = scan(&blobs, &context);
        assert_eq!(tally.kept, 3);
        let mut changes = tally.lifecycle.changes.clone();
        changes.sort();
        let dated: Vec<_> = changes.iter().map(|d| d.time).collect();
        let expected: Vec<_> = times.iter().filter_map(|t| lifecycle::time_of(t)).collect();
        assert_eq!(dated, expected);
        let Some(lifecycle::Change::Tagged { ids, tags }) = changes.first().map(|d| &d.change)
        else {
            panic!("{changes:?}");
        };
        assert_eq!(ids.len(), 1, "{ids:?}");
        assert_eq!(tags.get("app").map(|v| &**v), Some("psoxy"));
        assert!(changes.iter().all(|d| d.change == changes[0].change));
    }

    #[test]
    fn a_bad_input_is_a_problem_and_the_rest_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.json");
        std::fs::write(&good, r#"{"Records":[{"eventTime":"2026-11-20T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets"},{"eventName":"x"}]}"#).unwrap();
        let bad = dir.path().join("bad.json.gz");
        std::fs::write(&bad, [0x1f, 0x8b, 8, 0, 0]).unwrap();
        let blobs = vec![
            Blob::File {
                path: good,
                size: 1,
            },
            Blob::File { path: bad, size: 1 },
            Blob::File {
                path: dir.path().join("gone.json"),
                size: 1,
            },
        ];
        let filter = Filter::new(&Criteria::default()).unwrap();
        let mapper = Mapper::embedded().unwrap();
        let context = Context::new(&filter, mapper, 1 << 20, false);
        let tally = scan(&blobs, &context);
        assert_eq!(tally.records, 2);
        assert_eq!(tally.kept, 1);
        assert_eq!(tally.bad_records.get(&BadRecord::NoTime), Some(&1));
        assert_eq!(tally.problems.len(), 3, "{:?}", tally.problems);
    }
}
