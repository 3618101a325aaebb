//! The `minpriv` binary: parse arguments, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use minpriv::error::{Exit, is_broken_pipe};

fn main() -> ExitCode {
    let cli = match minpriv::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Success.into()
            };
        }
    };
    match minpriv::app::run(cli) {
        Ok(exit) => exit.into(),
        Err(error) if is_broken_pipe(&error) => Exit::Success.into(),
        Err(error) => {
            minpriv::warnln!("minpriv: {}", minpriv::error::describe(&error));
            Exit::Failure.into()
        }
    }
}
