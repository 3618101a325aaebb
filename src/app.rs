//! One function per subcommand, wiring the stages: source → parse/filter (scan) → map
//! (evidence) → policy → render.

use std::io::Write;

use anyhow::{Context as _, bail};

use crate::cli::{Cli, Command, DiscoverArgs};
use crate::config::{Config, Input};
use crate::error::Exit;
use crate::evidence::Discovery;
use crate::iam::{Mapper, Reference, Rules};
use crate::policy::Policy;
use crate::render;
use crate::scan::{self, Context};
use crate::source::{self, Scope};

/// Runs a parsed command line.
///
/// # Errors
/// Anything fatal; non-fatal problems are reported in the summary instead.
pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        Command::Discover(args) => discover(&args),
        Command::Reference => reference(),
    }
}

fn mapper() -> anyhow::Result<Mapper> {
    Ok(Mapper::new(Reference::embedded()?, Rules::embedded()?))
}

fn discover(args: &DiscoverArgs) -> anyhow::Result<Exit> {
    let config = Config::from_args(args, jiff::Timestamp::now())?;
    let mapper = mapper()?;
    let listing = match &config.input {
        Input::TrailDir(root) => {
            if !root.is_dir() {
                bail!("--trail-dir {}: not a readable directory", root.display());
            }
            let scope = Scope::new(
                config.filter.since,
                config.filter.until,
                config.delivery_slack,
                &config.filter.accounts,
                &config.filter.regions,
                &mapper.rules().global_region,
            );
            source::list_dir(root, &scope)
        }
        Input::Events(path) => source::list_file(path),
    };
    let tally = scan::scan(
        &listing.blobs,
        &Context::new(&config.filter, mapper, config.max_file_size, !config.quiet),
    );
    let discovery = Discovery::from_calls(&tally.calls, &mapper);
    let summary = render::summary::render(&render::summary::Run {
        listing: &listing,
        tally: &tally,
        discovery: &discovery,
        filter: &config.filter,
    });
    let problems = !listing.problems.is_empty()
        || !tally.problems.is_empty()
        || !tally.bad_records.is_empty()
        || !discovery.unmapped.is_empty();
    if !config.quiet || problems {
        eprint!("{summary}");
    }
    if discovery.actions.is_empty() {
        bail!(
            "no action to put in a policy: {} events kept from {} files (check --principal, --since/--until and the input)",
            tally.kept,
            tally.files_read
        );
    }
    let policy = Policy::from_actions(discovery.actions.keys().map(String::as_str), mapper.rules());
    let text = render::json::policy(&policy)?;
    if let Some(path) = &config.output {
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    } else {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(text.as_bytes())
            .context("writing the policy to stdout")?;
        stdout.flush().context("writing the policy to stdout")?;
    }
    if config.strict && problems {
        eprintln!("minpriv: --strict: inputs were skipped or calls not mapped (see above)");
        return Ok(Exit::Strict);
    }
    Ok(Exit::Success)
}

fn reference() -> anyhow::Result<Exit> {
    let reference = Reference::embedded()?;
    let services = reference.services().count();
    let actions: usize = reference.services().map(|s| s.actions().count()).sum();
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "IAM reference: {}", reference.source)?;
    writeln!(stdout, "{services} services, {actions} actions")?;
    write!(stdout, "{}", crate::iam::reference::SOURCE)?;
    Ok(Exit::Success)
}
