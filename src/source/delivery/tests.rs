//! Unit tests of the delivery rule: areas and their labels, the signs that close an area,
//! the judgement and its summary line, and the local copy's areas.

use std::collections::BTreeSet;

use test_case::test_case;

use super::*;
use crate::source::Scope;

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn rule(digests: bool) -> Rule {
    Rule {
        until: at("2026-11-20T10:40:00Z"),
        until_given: true,
        slack: SignedDuration::from_mins(30),
        digests,
    }
}

const LOG: &str = "s3://b/AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/20/111122223333_CloudTrail_eu-west-1_20261120T1045Z_A.json.gz";
const DIGEST: &str = "/copy/AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/20/111122223333_CloudTrail-Digest_eu-west-1_t_us-east-1_20261120T110000Z.json.gz";

#[test_case(
    "AWSLogs/111122223333/",
    "eu-west-1",
    "111122223333/eu-west-1",
    "111122223333"
)]
#[test_case(
    "team/AWSLogs/o-abc123/111122223333/",
    "us-east-1",
    "o-abc123/111122223333/us-east-1",
    "111122223333"
)]
#[test_case(
    "/copy/AWSLogs/111122223333",
    "eu-west-1",
    "111122223333/eu-west-1",
    "111122223333"
)]
fn areas_are_named_after_their_account_folder(
    base: &str,
    region: &str,
    label: &str,
    account: &str,
) {
    let area = Area::new(base, region);
    assert_eq!(area.label, label);
    assert_eq!(area.account, account);
    assert!(area.base.ends_with('/'));
}

#[test_case(LOG, Some(("111122223333/eu-west-1", false)))]
#[test_case(DIGEST, Some(("111122223333/eu-west-1", true)))]
#[test_case("s3://b/AWSLogs/o-abc/111122223333/CloudTrail/us-east-1/x.json.gz", Some(("o-abc/111122223333/us-east-1", false)))]
#[test_case("/tmp/events.json", None)]
#[test_case("AWSLogs/CloudTrail/eu-west-1/x.json.gz", None)]
fn files_belong_to_the_area_of_their_key(name: &str, expected: Option<(&str, bool)>) {
    assert_eq!(
        area_of(name),
        expected.map(|(label, digest)| (label.to_owned(), digest))
    );
}

#[test]
fn a_log_file_five_minutes_after_until_closes_its_area_and_one_earlier_does_not() {
    let mut seen = Seen::default();
    seen.note(&LOG.replace("T1045Z", "T1044Z"));
    assert_eq!(seen.proof("111122223333/eu-west-1", &rule(false)), None);
    seen.note(LOG);
    seen.note(&LOG.replace("T1045Z", "T1030Z"));
    assert_eq!(
        seen.proof("111122223333/eu-west-1", &rule(false)),
        Some(Proof::LaterFile {
            name: LOG.to_owned(),
            delivered: at("2026-11-20T10:45:00Z")
        })
    );
    assert_eq!(seen.proof("111122223333/us-east-1", &rule(false)), None);
}

#[test]
fn a_digest_counts_only_when_digests_are_read() {
    let mut seen = Seen::default();
    seen.note(DIGEST);
    assert_eq!(seen.proof("111122223333/eu-west-1", &rule(false)), None);
    assert_eq!(
        seen.proof("111122223333/eu-west-1", &rule(true)),
        Some(Proof::Digest {
            name: DIGEST.to_owned(),
            end: at("2026-11-20T11:00:00Z")
        })
    );
    let mut early = Seen::default();
    early.note(&DIGEST.replace("T110000Z", "T104400Z"));
    assert_eq!(early.proof("111122223333/eu-west-1", &rule(true)), None);
    let mut merged = Seen::default();
    merged.merge(&early);
    merged.merge(&seen);
    assert!(
        merged
            .proof("111122223333/eu-west-1", &rule(true))
            .is_some()
    );
}

#[test]
fn the_clock_closes_what_no_file_shows_and_the_line_says_how_each_was_known() {
    let areas = [
        Area::new("AWSLogs/111122223333/", "eu-west-1"),
        Area::new("AWSLogs/111122223333/", "us-east-1"),
    ];
    let mut seen = Seen::default();
    seen.note(LOG);
    let early = Delivery::judge(&areas, &seen, rule(false), at("2026-11-20T10:50:00Z"), "x");
    assert!(!early.delivered());
    assert_eq!(early.open(), ["111122223333/us-east-1"]);
    let text = line(&early, None);
    assert!(
        text.starts_with("completeness: window NOT KNOWN TO BE DELIVERED: 1 of 2 regions still open (111122223333/us-east-1): nothing delivered after 2026-11-20T10:45:00Z yet, and the clock closes them at 2026-11-20T11:10:00Z"),
        "{text}"
    );
    let late = Delivery::judge(&areas, &seen, rule(false), at("2026-11-20T11:10:00Z"), "x");
    assert!(late.delivered());
    let files = Files {
        listed: 25,
        ..Files::default()
    };
    assert_eq!(
        line(&late, Some(&files)),
        "completeness: window delivered in all 2 regions (1 by a log file delivered after --until + 5m, 1 by the clock: --until + 30m passed); every log file listed was read (25)\n"
    );
}

#[test]
fn without_areas_only_the_clock_tells_and_without_until_the_line_says_so() {
    let open = Rule {
        until_given: false,
        ..rule(false)
    };
    let judged = Delivery::judge(
        &[],
        &Seen::default(),
        open,
        at("2026-11-20T10:41:00Z"),
        "LookupEvents",
    );
    assert!(!judged.delivered());
    let text = line(&judged, None);
    assert!(
        text.contains("(no --until: the window runs to the start of the run)"),
        "{text}"
    );
    assert!(text.contains("(LookupEvents)"), "{text}");
    let judged = Delivery::judge(
        &[],
        &Seen::default(),
        rule(false),
        at("2026-11-20T12:00:00Z"),
        "Athena",
    );
    assert_eq!(
        line(&judged, None),
        "completeness: window delivered by the clock: --until + 30m passed (Athena)\n"
    );
    assert!(Delivery::NotJudged.delivered());
}

#[test_case(Files { listed: 25, missing: Some(0), ..Files::default() }, "every log file listed, and every one the digests list, was read (25)")]
#[test_case(Files { listed: 24, missing: Some(1), ..Files::default() }, "1 log files the digests list are MISSING (named above)")]
#[test_case(Files { listed: 25, not_read: 2, unlisted: 1, unreadable: 3, missing: None }, "2 of 25 listed log files NOT read, 1 prefixes or folders NOT listed, 3 inputs unreadable or partly read (named below)")]
fn the_files_half_says_whether_every_listed_file_was_read(files: Files, expected: &str) {
    let delivered = Delivery::judge(
        &[],
        &Seen::default(),
        rule(false),
        at("2027-01-01T00:00:00Z"),
        "x",
    );
    let text = line(&delivered, Some(&files));
    assert!(text.ends_with(&format!("; {expected}\n")), "{text}");
}

#[test_case(SignedDuration::from_mins(30), "30m")]
#[test_case(SignedDuration::from_secs(125), "2m 5s")]
#[test_case(SignedDuration::from_secs(5400), "1h30m")]
#[test_case(SignedDuration::from_millis(200), "0s")]
fn spans_read_as_the_flags_take_them(duration: SignedDuration, expected: &str) {
    assert_eq!(span(duration), expected);
}

#[test]
fn a_local_copy_has_the_areas_of_its_region_folders_in_scope() {
    let root = tempfile::tempdir().unwrap();
    for dir in [
        "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/20",
        "AWSLogs/111122223333/CloudTrail/us-east-1",
        "AWSLogs/111122223333/CloudTrail-Digest/ap-south-1",
        "AWSLogs/o-abc/444455556666/CloudTrail/eu-west-1",
        "elsewhere/CloudTrail/eu-west-1",
    ] {
        std::fs::create_dir_all(root.path().join(dir)).unwrap();
    }
    let labels = |scope: &Scope| -> Vec<String> {
        local_areas(root.path(), scope)
            .into_iter()
            .map(|a| a.label)
            .collect()
    };
    assert_eq!(
        labels(&Scope::default()),
        [
            "111122223333/eu-west-1",
            "111122223333/us-east-1",
            "o-abc/444455556666/eu-west-1"
        ]
    );
    let scope = Scope::new(
        None,
        None,
        SignedDuration::ZERO,
        &BTreeSet::from(["111122223333".to_owned()]),
        &BTreeSet::from(["eu-west-1".to_owned()]),
        "us-east-1",
    );
    assert_eq!(
        labels(&scope),
        ["111122223333/eu-west-1", "111122223333/us-east-1"]
    );
    assert!(local_areas(&root.path().join("elsewhere"), &Scope::default()).is_empty());
}
