//! Writes synthetic CloudTrail trails.
//!
//!   cargo run -p minpriv-synth -- sample samples/trail
//!   cargo run --release -p minpriv-synth -- bulk /tmp/corpus 240 950
//!   cargo run -p minpriv-synth -- replay /tmp/next 7                      # new generated ids
//!   cargo run -p minpriv-synth -- replay /tmp/other 7 444455556666 us-west-2  # another account

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["sample", dir] => minpriv_synth::deploy::sample().write(&PathBuf::from(dir), ""),
        ["replay", dir, seed, rest @ ..] => {
            use minpriv_synth::deploy::{ACCOUNT, Ids, REGION, sample_with};
            let Ok(seed) = seed.parse::<u64>() else {
                eprintln!("synth replay DIR SEED [ACCOUNT REGION]: SEED is a number");
                return ExitCode::from(2);
            };
            let trail = sample_with(&Ids::fresh(seed), seed);
            let trail = match rest {
                [account, region] => trail.relocate((ACCOUNT, REGION), (account, region)),
                _ => trail,
            };
            trail.write(&PathBuf::from(dir), "")
        }
        ["bulk", dir, files, records] => {
            let (Ok(files), Ok(records)) = (files.parse(), records.parse()) else {
                eprintln!(
                    "synth bulk DIR FILES RECORDS_PER_FILE: FILES and RECORDS_PER_FILE are numbers"
                );
                return ExitCode::from(2);
            };
            minpriv_synth::bulk::write(&PathBuf::from(dir), files, records, 7)
        }
        _ => {
            eprintln!(
                "usage: synth sample DIR | synth replay DIR SEED [ACCOUNT REGION] | synth bulk DIR FILES RECORDS_PER_FILE"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(paths) => {
            eprintln!("wrote {} log files", paths.len());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("synth: {error}");
            ExitCode::FAILURE
        }
    }
}
