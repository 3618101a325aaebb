//! The manual outside `--help`: shell completion scripts and roff man pages, generated from
//! the same clap definitions the parser uses, so they cannot drift from it.

use std::io;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::Man;

use crate::cli::Cli;

/// The completion script for `shell`, for the binary named `minpriv`.
///
/// # Errors
/// Never in practice: the script is generated in memory; an error means it was not UTF-8.
pub fn completions(shell: Shell) -> io::Result<String> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "minpriv", &mut script);
    text(script)
}

/// Every page of the manual, `minpriv(1)` first and then each subcommand depth first
/// (`minpriv-discover(1)`, `minpriv-catalog(1)`, `minpriv-catalog-diff(1)`, …), as one roff
/// stream: `minpriv man | man -l -` reads them in turn.
///
/// # Errors
/// Never in practice: the pages are rendered in memory; an error means one was not UTF-8.
pub fn man() -> io::Result<String> {
    let mut roff = Vec::new();
    for page in pages() {
        page.render(&mut roff)?;
    }
    text(roff)
}

/// Writes one file per page (`minpriv.1`, `minpriv-discover.1`, …) into `dir`, creating it
/// if needed, and returns the paths written in order.
///
/// # Errors
/// When the directory cannot be created or a page cannot be written.
pub fn write_pages(dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    pages().iter().map(|page| page.generate_to(dir)).collect()
}

/// The pages: the built command tree (which gives each subcommand its `minpriv discover` usage
/// name and its `minpriv-discover` page name), walked depth first, without clap's `help`
/// subcommands, which have nothing to say that the pages do not.
fn pages() -> Vec<Man> {
    let mut root = without_help(Cli::command());
    root.build();
    let mut pages = Vec::new();
    collect(&root, &mut pages);
    pages
}

fn without_help(command: clap::Command) -> clap::Command {
    command
        .disable_help_subcommand(true)
        .mut_subcommands(without_help)
}

fn collect(command: &clap::Command, pages: &mut Vec<Man>) {
    let title = command
        .get_display_name()
        .unwrap_or_else(|| command.get_name())
        .to_uppercase();
    pages.push(
        Man::new(command.clone())
            .title(title)
            .source(concat!("minpriv ", env!("CARGO_PKG_VERSION")))
            .manual("minpriv manual"),
    );
    for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
        collect(sub, pages);
    }
}

fn text(bytes: Vec<u8>) -> io::Result<String> {
    String::from_utf8(bytes).map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_has_a_page_named_after_its_path() {
        let names: Vec<String> = pages().iter().map(Man::get_filename).collect();
        for name in [
            "minpriv.1",
            "minpriv-discover.1",
            "minpriv-catalog-diff.1",
            "minpriv-athena-ddl.1",
            "minpriv-reference-coverage.1",
            "minpriv-completions.1",
            "minpriv-man.1",
        ] {
            assert!(names.iter().any(|page| page == name), "{name} in {names:?}");
        }
        assert!(!names.iter().any(|page| page.contains("help")), "{names:?}");
    }

    #[test]
    fn a_subcommand_page_shows_the_full_command_line() {
        let roff = man().unwrap();
        assert!(roff.contains(".TH MINPRIV-DISCOVER 1"), "{roff}");
        assert!(roff.contains("\\fBminpriv discover\\fR"), "{roff}");
        assert!(roff.contains("\\fBminpriv catalog diff\\fR"), "{roff}");
    }

    #[test]
    fn every_shell_gets_a_script() {
        for shell in [
            Shell::Bash,
            Shell::Zsh,
            Shell::Fish,
            Shell::PowerShell,
            Shell::Elvish,
        ] {
            let script = completions(shell).unwrap();
            assert!(script.contains("discover"), "{shell}: {script}");
        }
    }
}
