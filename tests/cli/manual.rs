//! `minpriv completions` and `minpriv man`: the bash script parses and completes, and the man
//! page has a NAME and a SYNOPSIS for every subcommand.

use std::collections::BTreeSet;
use std::process::Command as Process;

use clap::CommandFactory as _;

use super::*;

/// Every page the manual must have: `minpriv` and each subcommand, named after its path as
/// man pages of git-style subcommands are (`minpriv-catalog-diff`).
fn expected_titles() -> BTreeSet<String> {
    fn walk(command: &clap::Command, path: &str, titles: &mut BTreeSet<String>) {
        titles.insert(path.to_uppercase());
        for sub in command.get_subcommands() {
            walk(sub, &format!("{path}-{}", sub.get_name()), titles);
        }
    }
    let mut titles = BTreeSet::new();
    walk(&minpriv::cli::Cli::command(), "minpriv", &mut titles);
    titles
}

/// The roff stream split into pages at each `.TH`, with the page's title.
fn pages(roff: &str) -> Vec<(String, String)> {
    let mut pages: Vec<(String, String)> = Vec::new();
    for line in roff.lines() {
        if let Some(header) = line.strip_prefix(".TH ") {
            let title = header.split_whitespace().next().unwrap().to_string();
            pages.push((title, String::new()));
        }
        if let Some((_, page)) = pages.last_mut() {
            page.push_str(line);
            page.push('\n');
        }
    }
    pages
}

#[test]
fn man_has_a_name_and_a_synopsis_for_every_subcommand() {
    let roff = stdout_of(minpriv().arg("man"));
    assert_eq!(pages(&roff)[0].0, "MINPRIV", "{roff}");
    let pages = pages(&roff);
    let titles: BTreeSet<String> = pages.iter().map(|(title, _)| title.clone()).collect();
    assert_eq!(titles, expected_titles());
    assert_eq!(titles.len(), pages.len(), "one page each");
    for (title, page) in &pages {
        assert!(page.contains("\n.SH NAME\n"), "{title}: {page}");
        assert!(page.contains("\n.SH SYNOPSIS\n"), "{title}: {page}");
        let source = format!(
            "\"minpriv {}\" \"minpriv manual\"",
            env!("CARGO_PKG_VERSION")
        );
        assert!(page.contains(&source), "{title}: {page}");
    }
    let discover = &pages
        .iter()
        .find(|(title, _)| title == "MINPRIV-DISCOVER")
        .unwrap()
        .1;
    assert!(
        discover.contains("minpriv\\-discover \\- Read a trail"),
        "{discover}"
    );
    assert!(discover.contains("\\fBminpriv discover\\fR"), "{discover}");
    assert!(discover.contains("\\-\\-trail\\-bucket"), "{discover}");
}

#[test]
fn man_dir_writes_one_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let output = minpriv().args(["man", "--dir"]).arg(&out).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let files: BTreeSet<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    let expected: BTreeSet<String> = expected_titles()
        .iter()
        .map(|title| format!("{}.1", title.to_lowercase()))
        .collect();
    assert_eq!(files, expected);
    for file in &files {
        let page = std::fs::read_to_string(out.join(file)).unwrap();
        assert!(
            page.contains(".SH NAME") && page.contains(".SH SYNOPSIS"),
            "{file}"
        );
    }
    // The paths go to stderr, one a line; stdout stays empty.
    assert!(output.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).lines().count(),
        files.len()
    );
}

/// Sources the bash script in a fresh bash, completes `words` (the last one being completed)
/// through the function `complete -p minpriv` names, and returns the candidates.
fn complete_bash(script: &Path, words: &[&str]) -> Vec<String> {
    let program = r#"
        source "$1"; shift
        spec=$(complete -p minpriv) || exit 9
        function=$(sed -E 's/.*-F ([^ ]+).*/\1/' <<< "$spec")
        COMP_WORDS=("$@")
        COMP_CWORD=$(( $# - 1 ))
        COMP_LINE="$*"
        COMP_POINT=${#COMP_LINE}
        "$function" minpriv "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf '%s\n' "${COMPREPLY[@]}"
    "#;
    let output = Process::new("bash")
        .args(["--norc", "--noprofile", "-c", program, "bash"])
        .arg(script)
        .args(words)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .filter(|line| !line.is_empty())
        .collect()
}

#[test]
fn bash_completion_parses_and_completes_subcommands_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("minpriv.bash");
    std::fs::write(&script, stdout_of(minpriv().args(["completions", "bash"]))).unwrap();
    let syntax = Process::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(syntax.status.success(), "{syntax:?}");

    let spec = Process::new("bash")
        .args([
            "--norc",
            "-c",
            r#"source "$1" && complete -p minpriv"#,
            "bash",
        ])
        .arg(&script)
        .output()
        .unwrap();
    let spec = String::from_utf8_lossy(&spec.stdout);
    assert!(spec.starts_with("complete "), "{spec}");
    assert!(spec.contains(" -F _minpriv "), "{spec}");
    assert!(spec.trim_end().ends_with(" minpriv"), "{spec}");

    assert_eq!(complete_bash(&script, &["minpriv", "disc"]), ["discover"]);
    assert_eq!(
        complete_bash(&script, &["minpriv", "comp"]),
        ["completions"]
    );
    assert_eq!(
        complete_bash(&script, &["minpriv", "discover", "--trail-b"]),
        ["--trail-bucket"]
    );
    assert_eq!(
        complete_bash(&script, &["minpriv", "completions", "z"]),
        ["zsh"]
    );
}

#[test]
fn every_shell_gets_a_script_and_an_unknown_shell_is_a_usage_error() {
    for (shell, marker) in [
        ("bash", "complete -F _minpriv"),
        ("zsh", "#compdef minpriv"),
        ("fish", "complete -c minpriv"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[minpriv]"),
    ] {
        let script = stdout_of(minpriv().args(["completions", shell]));
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("discover"), "{shell}");
    }
    let output = minpriv().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
}
