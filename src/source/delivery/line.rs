//! The summary's `completeness:` line: whether the window is delivered, and how that is
//! known, then whether every listed file was read.

use std::fmt::Write as _;

use super::{Delivery, Proof, span, time};

/// How the files of the window were read, for the second half of the `completeness:` line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Files {
    /// Log files the listing found.
    pub listed: usize,
    /// Of those, not fetched (failed reads).
    pub not_read: usize,
    /// Prefixes or folders whose listing failed.
    pub unlisted: usize,
    /// Inputs read but unreadable or partly read (bad input, named in the summary).
    pub unreadable: usize,
    /// With `--verify-digests`: log files a valid digest lists that were not there (none:
    /// the digests were not read).
    pub missing: Option<usize>,
}

/// The summary's `completeness:` line.
#[must_use]
pub fn line(delivery: &Delivery, files: Option<&Files>) -> String {
    let mut out = "completeness: ".to_owned();
    match delivery {
        Delivery::Areas { rule, areas } => {
            let open = delivery.open();
            if open.is_empty() {
                let count =
                    |kind: fn(&Proof) -> bool| areas.values().flatten().filter(|p| kind(p)).count();
                let kinds = [
                    (
                        count(|p| matches!(p, Proof::Digest { .. })),
                        "by a digest ending after --until + 5m",
                    ),
                    (
                        count(|p| matches!(p, Proof::LaterFile { .. })),
                        "by a log file delivered after --until + 5m",
                    ),
                    (count(|p| *p == Proof::Clock), ""),
                ];
                let parts: Vec<String> = kinds
                    .iter()
                    .filter(|(n, _)| *n > 0)
                    .map(|(n, how)| {
                        if how.is_empty() {
                            format!("{n} by the clock: --until + {} passed", span(rule.slack))
                        } else {
                            format!("{n} {how}")
                        }
                    })
                    .collect();
                let _ = write!(
                    out,
                    "window delivered in all {} regions ({})",
                    areas.len(),
                    parts.join(", ")
                );
            } else {
                let _ = write!(
                    out,
                    "window NOT KNOWN TO BE DELIVERED: {} of {} regions still open ({}): nothing delivered after {} yet{}, and the clock closes them at {} (--until + --delivery-slack {}): the last minutes may be missing (--wait waits for them)",
                    open.len(),
                    areas.len(),
                    open.join(", "),
                    time(rule.threshold()),
                    if rule.until_given {
                        ""
                    } else {
                        " (no --until: the window runs to the start of the run)"
                    },
                    time(rule.by_clock()),
                    span(rule.slack)
                );
            }
        }
        Delivery::Clock {
            rule,
            delivered: true,
            source,
        } => {
            let _ = write!(
                out,
                "window delivered by the clock: --until + {} passed ({source})",
                span(rule.slack)
            );
        }
        Delivery::Clock {
            rule,
            delivered: false,
            source,
        } => {
            let _ = write!(
                out,
                "window NOT KNOWN TO BE DELIVERED: --until + --delivery-slack {} is {}{}, not passed yet ({source}): the last minutes may be missing (--wait waits for them)",
                span(rule.slack),
                time(rule.by_clock()),
                if rule.until_given {
                    ""
                } else {
                    " (no --until: the window runs to the start of the run)"
                },
            );
        }
        Delivery::NotJudged => {
            out.push_str(
                "delivery not judged (--events: a saved file holds what was delivered when it was saved)",
            );
        }
    }
    if let Some(files) = files {
        out.push_str("; ");
        out.push_str(&files_read(files));
    }
    out.push('\n');
    out
}

/// Whether every listed file was read.
fn files_read(files: &Files) -> String {
    let mut parts = Vec::new();
    if let Some(missing) = files.missing.filter(|n| *n > 0) {
        parts.push(format!(
            "{missing} log files the digests list are MISSING (named above)"
        ));
    }
    if files.not_read > 0 {
        parts.push(format!(
            "{} of {} listed log files NOT read",
            files.not_read, files.listed
        ));
    }
    if files.unlisted > 0 {
        parts.push(format!("{} prefixes or folders NOT listed", files.unlisted));
    }
    if files.unreadable > 0 {
        parts.push(format!(
            "{} inputs unreadable or partly read (named below)",
            files.unreadable
        ));
    }
    if !parts.is_empty() {
        return parts.join(", ");
    }
    match files.missing {
        Some(_) => format!(
            "every log file listed, and every one the digests list, was read ({})",
            files.listed
        ),
        None => format!("every log file listed was read ({})", files.listed),
    }
}
