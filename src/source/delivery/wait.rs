//! `--wait[=MAX]`: before reading, poll each open account × region for a sign of delivery
//! (see [`super::Rule`]) until every one is delivered, MAX passes, or the user presses
//! Ctrl-C. Progress goes to stderr, one line per change and one a minute while nothing
//! changes, so a CI log shows what is awaited.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

use super::{Area, Proof, Rule, Seen, span, time};

/// How long to wait, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wait {
    pub max: SignedDuration,
    /// How often to look again.
    pub poll: SignedDuration,
    /// `--allow-partial`: when MAX passes, read what is there instead of stopping.
    pub read_anyway: bool,
    /// Progress lines on stderr (not `--quiet`).
    pub progress: bool,
}

/// What the wait saw.
#[derive(Debug, Clone, Default)]
pub struct Waited {
    /// The signs of delivery found.
    pub seen: Seen,
    pub waited: SignedDuration,
    /// When MAX passed and `--allow-partial` read on anyway: the areas still open, with what
    /// would have closed them.
    pub open: Option<String>,
}

/// Why a wait ended without reading.
#[derive(Debug, thiserror::Error)]
pub enum Stopped {
    #[error(
        "--wait {max}: the window was not delivered in time: still open after {waited}: {open}; nothing read, no policy written. Wait longer (--wait=MAX), or pass --allow-partial to read what is there"
    )]
    NotDelivered {
        max: String,
        waited: String,
        open: String,
    },
    #[error(
        "interrupted after waiting {waited} for the window to be delivered; nothing read, no policy written"
    )]
    Interrupted { waited: String },
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

/// Where to look for signs of delivery.
pub trait Probe {
    /// The log files delivered, and digests ending, at or after `from` in `area`, noted in a
    /// [`Seen`] (digests only when `digests`); or why the area could not be looked at.
    fn look(
        &self,
        area: &Area,
        from: Timestamp,
        now: Timestamp,
        digests: bool,
    ) -> impl Future<Output = Result<Seen, String>>;
}

/// Resolves on Ctrl-C. The handler is installed when this is made, so a signal that comes
/// after the first progress line is never the default one (which would kill the process
/// without a word).
struct Interrupt {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Interrupt {
    fn new() -> Self {
        Self {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok(),
        }
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        if let Some(signal) = &mut self.signal {
            signal.recv().await;
            return;
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_ok() {
            return;
        }
        std::future::pending::<()>().await;
    }
}

/// The time since `start`, as a duration.
fn since(start: Instant) -> SignedDuration {
    SignedDuration::try_from(start.elapsed()).unwrap_or(SignedDuration::MAX)
}

fn names(open: &[&Area]) -> String {
    open.iter()
        .map(|a| a.label.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A wait under way.
struct Waiting<'a> {
    areas: &'a [Area],
    rule: &'a Rule,
    options: &'a Wait,
    start: Instant,
    seen: Seen,
    /// Why an area could not be looked at, the last time it could not.
    failures: BTreeMap<String, String>,
    /// When the last progress line was written (none yet: the wait has not begun).
    told: Option<Instant>,
}

impl<'a> Waiting<'a> {
    fn say(&self, line: &str) {
        if self.options.progress {
            crate::warnln!("minpriv: {line}");
        }
    }

    /// The areas no sign closes yet (none once the clock has passed).
    fn open(&self, now: Timestamp) -> Vec<&'a Area> {
        if self.rule.clock_passed(now) {
            return Vec::new();
        }
        self.areas
            .iter()
            .filter(|a| a.base.is_empty() || self.seen.proof(&a.label, self.rule).is_none())
            .collect()
    }

    /// Looks in every open area, at once; says which are delivered now.
    async fn look<P: Probe>(&mut self, probe: &P, open: &[&'a Area], now: Timestamp) {
        let lookable: Vec<&'a Area> = open
            .iter()
            .copied()
            .filter(|a| !a.base.is_empty())
            .collect();
        let looks = lookable
            .iter()
            .map(|a| probe.look(a, self.rule.threshold(), now, self.rule.digests));
        let found = futures_util::future::join_all(looks).await;
        for (area, result) in lookable.into_iter().zip(found) {
            match result {
                Ok(more) => {
                    self.seen.merge(&more);
                    self.failures.remove(&area.label);
                    if let Some(proof) = self.seen.proof(&area.label, self.rule)
                        && self.told.is_some()
                    {
                        self.say(&format!("{} delivered: {}", area.label, proof.describe()));
                    }
                }
                Err(why) => {
                    self.failures.insert(area.label.clone(), why);
                }
            }
        }
    }

    /// MAX passed with `open` still open: read on (`--allow-partial`) or stop.
    fn ran_out(self, open: &[&Area], waited: SignedDuration) -> Result<Waited, Stopped> {
        let open: Vec<String> = open
            .iter()
            .map(|a| match self.failures.get(&a.label) {
                Some(why) => format!("{} (could not be looked at: {why})", a.label),
                None => a.label.clone(),
            })
            .collect();
        let open = format!(
            "{} (nothing delivered after {} yet; the clock closes them at {})",
            open.join(", "),
            time(self.rule.threshold()),
            time(self.rule.by_clock())
        );
        if self.options.read_anyway {
            return Ok(Waited {
                seen: self.seen,
                waited,
                open: Some(open),
            });
        }
        Err(Stopped::NotDelivered {
            max: span(self.options.max),
            waited: span(waited),
            open,
        })
    }

    /// A line when the wait begins, then one a minute while it goes on.
    fn tell(&mut self, open: &[&Area], waited: SignedDuration) {
        let line = match self.told {
            None => format!(
                "waiting for CloudTrail to deliver the window (--until {}; at most {}; the clock closes every region at {}): {} of {} open: {}",
                time(self.rule.until),
                span(self.options.max),
                time(self.rule.by_clock()),
                open.len(),
                self.areas.len(),
                names(open)
            ),
            Some(at) if at.elapsed() >= Duration::from_mins(1) => format!(
                "still waiting after {}: {} of {} open: {}",
                span(waited),
                open.len(),
                self.areas.len(),
                names(open)
            ),
            Some(_) => return,
        };
        self.say(&line);
        self.told = Some(Instant::now());
    }
}

/// Waits until every area shows a sign of delivery or the clock passes `--until` plus
/// `--delivery-slack`, at most `wait.max`. No area (nothing to look in): the clock alone.
///
/// # Errors
/// MAX passed (without `read_anyway`) or Ctrl-C.
pub async fn wait<P: Probe>(
    probe: &P,
    areas: &[Area],
    rule: &Rule,
    options: &Wait,
) -> Result<Waited, Stopped> {
    let mut interrupt = Interrupt::new();
    let clock_only = [Area {
        label: "the window (no region folders to look in: only the clock tells)".to_owned(),
        base: String::new(),
        account: String::new(),
        region: String::new(),
    }];
    let mut waiting = Waiting {
        areas: if areas.is_empty() { &clock_only } else { areas },
        rule,
        options,
        start: Instant::now(),
        seen: Seen::default(),
        failures: BTreeMap::new(),
        told: None,
    };
    loop {
        let now = Timestamp::now();
        let open = waiting.open(now);
        waiting.look(probe, &open, now).await;
        let open = waiting.open(now);
        let waited = since(waiting.start);
        if open.is_empty() {
            if waiting.told.is_some() {
                let how = if rule.clock_passed(now) {
                    format!(" ({})", Proof::Clock.describe())
                } else {
                    String::new()
                };
                waiting.say(&format!("window delivered after {}{how}", span(waited)));
            }
            return Ok(Waited {
                seen: waiting.seen,
                waited,
                open: None,
            });
        }
        let left = options
            .max
            .checked_sub(waited)
            .unwrap_or(SignedDuration::ZERO)
            .max(SignedDuration::ZERO);
        let to_clock = rule.by_clock().duration_since(now);
        // Nothing but the clock can close these, and it will not within MAX: say so now
        // rather than sleep for nothing.
        let hopeless = open.iter().all(|a| a.base.is_empty()) && to_clock > left;
        if left.is_zero() || hopeless {
            return waiting.ran_out(&open, waited);
        }
        waiting.tell(&open, waited);
        let nap = [
            options.poll,
            left,
            to_clock.max(SignedDuration::from_millis(10)),
        ]
        .into_iter()
        .min()
        .unwrap_or(options.poll);
        let nap = Duration::try_from(nap).unwrap_or(Duration::from_secs(1));
        tokio::select! {
            () = tokio::time::sleep(nap) => {}
            () = interrupt.recv() => {
                return Err(Stopped::Interrupted { waited: span(since(waiting.start)) });
            }
        }
    }
}

/// A probe that finds nothing: for sources with no region folders.
struct Nothing;

impl Probe for Nothing {
    async fn look(&self, _: &Area, _: Timestamp, _: Timestamp, _: bool) -> Result<Seen, String> {
        Ok(Seen::default())
    }
}

/// [`wait`] on a runtime of its own (a local copy).
///
/// # Errors
/// As [`wait`], or the runtime cannot start.
pub fn wait_blocking<P: Probe>(
    probe: &P,
    areas: &[Area],
    rule: &Rule,
    options: &Wait,
) -> Result<Waited, Stopped> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Stopped::Runtime)?
        .block_on(wait(probe, areas, rule, options))
}

/// `--wait` for a source with nothing to look in (LookupEvents, Athena, Lake): the clock
/// alone.
///
/// # Errors
/// As [`wait`]; MAX shorter than the time left to `--until` plus `--delivery-slack` fails at
/// once.
pub fn wait_clock(rule: &Rule, options: &Wait) -> Result<Waited, Stopped> {
    wait_blocking(&Nothing, &[], rule, options)
}

/// After a wait, Ctrl-C still ends the run: the wait's handler replaced the default one for
/// the rest of the process, so a thread takes over and exits with 130.
pub fn exit_on_interrupt() {
    let _ = std::thread::Builder::new()
        .name("interrupt".to_owned())
        .spawn(|| {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                Interrupt::new().recv().await;
            });
            crate::warnln!("minpriv: interrupted; no policy written");
            std::process::exit(crate::error::Exit::Interrupted as i32);
        });
}
