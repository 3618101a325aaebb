//! Where the time goes, stage by stage, over a generated corpus: reading files, gunzip,
//! record decoding, and the whole discover pipeline, each in parallel as minpriv runs them.
//!
//!   cargo bench --bench throughput                    # 240 files, ~300 MB of JSON
//!   MINPRIV_BENCH_FILES=480 cargo bench --bench throughput
//!
//! Prints one line per stage: seconds (best of `MINPRIV_BENCH_RUNS`, default 5), MB/s of
//! uncompressed JSON, and for the discover stages the ratio to the flate2 floor measured in
//! the same run (issue 12's targets are 1.2x with `--principal`, 2x without). The
//! whole-binary comparison with gzip and trailscraper is `scripts/bench`.

use std::error::Error;
use std::io::Read;
use std::path::Path;
use std::time::Instant;

use minpriv::filter::{Criteria, Filter};
use minpriv::mapping::Mapper;
use minpriv::parse::{self, Prefilter};
use minpriv::scan::{Context, scan};
use minpriv::source::{self, Blob, Scope};
use rayon::prelude::*;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, Option<T>) {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let value = f();
        best = best.min(start.elapsed().as_secs_f64());
        // The previous run's result is dropped outside the timing.
        last = Some(value);
    }
    (best, last)
}

/// How a stage turns an input's bytes into JSON.
#[derive(Clone, Copy, PartialEq)]
enum Stage {
    /// Read only.
    Read,
    /// The floor: flate2's `MultiGzDecoder` read to the end, as most tools decompress.
    Flate2,
    /// minpriv's own decompression (`parse::decode`).
    Gunzip,
    /// minpriv's decompression, then every record decoded.
    Decode,
}

/// Bytes of JSON the stage produces over every input, in parallel.
fn stage(blobs: &[Blob], stage: Stage) -> u64 {
    blobs
        .par_iter()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(raw, json), blob| {
                if blob.clone().read_into(raw, u64::MAX).is_err() {
                    return 0;
                }
                match stage {
                    Stage::Read => raw.len() as u64,
                    Stage::Flate2 => {
                        json.clear();
                        json.reserve(parse::trailer_size(raw).map_or(0, |n| n as usize));
                        flate2::read::MultiGzDecoder::new(&raw[..])
                            .read_to_end(json)
                            .map_or(0, |n| n as u64)
                    }
                    Stage::Gunzip | Stage::Decode => {
                        let Ok(text) = parse::decode(raw, json, 1 << 30) else {
                            return 0;
                        };
                        if stage == Stage::Decode {
                            let _ = parse::records(text, &Prefilter::none(), &mut |_| {});
                        }
                        text.len() as u64
                    }
                }
            },
        )
        .sum()
}

fn filter(principals: &[String]) -> Result<Filter> {
    Filter::new(&Criteria {
        principals,
        ..Criteria::default()
    })
    .map_err(|(flag, value, reason)| format!("--{flag} {value}: {reason}").into())
}

fn corpus(files: usize) -> Result<Vec<Blob>> {
    let dir = std::env::temp_dir().join(format!("minpriv-bench-{files}"));
    if !dir.exists() {
        eprintln!("writing {files} files to {}", dir.display());
        minpriv_synth::bulk::write(&dir, files, 1045, 7)?;
    }
    Ok(source::list_dir(Path::new(&dir), &Scope::default()).blobs)
}

fn main() -> Result<()> {
    let files = std::env::var("MINPRIV_BENCH_FILES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(240);
    let runs = std::env::var("MINPRIV_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let blobs = corpus(files)?;
    #[expect(clippy::cast_precision_loss, reason = "a display figure")]
    let mb = stage(&blobs, Stage::Flate2) as f64 / 1e6;
    println!(
        "corpus: {} files, {mb:.0} MB of JSON, {} threads",
        blobs.len(),
        rayon::current_num_threads()
    );
    let report = |label: &str, seconds: f64| {
        println!("{label:<28} {seconds:>6.3} s  {:>7.0} MB/s", mb / seconds);
    };
    report("read files", best_of(runs, || stage(&blobs, Stage::Read)).0);
    let floor = best_of(runs, || stage(&blobs, Stage::Flate2)).0;
    report("read + flate2 (the floor)", floor);
    report(
        "read + gunzip (minpriv)",
        best_of(runs, || stage(&blobs, Stage::Gunzip)).0,
    );
    report(
        "read + gunzip + decode",
        best_of(runs, || stage(&blobs, Stage::Decode)).0,
    );

    // The record search alone, over the JSON already in memory: what the prefilter costs
    // beyond gunzip, without the noise of reading and inflating.
    let texts: Vec<Vec<u8>> = blobs
        .iter()
        .filter_map(|blob| {
            let mut raw = Vec::new();
            blob.clone().read_into(&mut raw, u64::MAX).ok()?;
            let mut json = Vec::new();
            parse::decode(&raw, &mut json, 1 << 30).ok()?;
            Some(json)
        })
        .collect();
    let prefilter = Prefilter::any(&[String::from("ci-provisioner")]);
    report(
        "find records, --principal",
        best_of(5, || {
            texts
                .par_iter()
                .map(|text| parse::records(text, &prefilter, &mut |_| {}).unwrap_or(0))
                .sum::<u64>()
        })
        .0,
    );

    let mapper = Mapper::embedded()?;
    for (label, principals) in [
        (
            "discover --principal",
            vec![minpriv_synth::bulk::ROLE_ARN.to_owned()],
        ),
        ("discover (all principals)", vec![]),
    ] {
        let filter = filter(&principals)?;
        let context = Context::new(&filter, mapper, 1 << 30, false);
        let (seconds, tally) = best_of(runs, || scan(&blobs, &context));
        report(label, seconds);
        println!("{:<28} {:>6.2}x the floor", "", seconds / floor);
        if tally.is_none_or(|t| !t.problems.is_empty()) {
            return Err("the corpus did not scan cleanly".into());
        }
    }
    Ok(())
}
