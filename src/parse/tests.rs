//! The parser over every shape of input, gzip, and bad input of each kind.

use flate2::read::MultiGzDecoder;

use super::gzip::inflate_whole;
use super::*;
use std::io::{Read, Write};

fn names(json: &str) -> Result<Vec<String>, ParseError> {
    let mut seen = Vec::new();
    records(json.as_bytes(), &Prefilter::none(), &mut |item: Item<
        '_,
    >| {
        seen.push(match item {
            Item::Event(e) => e.name.into_owned(),
            Item::Bad(e) => format!("bad: {e}"),
            Item::Unmatched => "unmatched".to_owned(),
        });
    })
    .map(|_| seen)
}

const A: &str =
    r#"{"eventTime":"2026-11-20T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"A"}"#;
const B: &str =
    r#"{"eventTime":"2026-11-20T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"B"}"#;

#[test]
fn trail_documents_yield_every_record() {
    let doc = format!(r#"{{"Records":[{A},{B}]}}"#);
    assert_eq!(names(&doc).unwrap(), ["A", "B"]);
}

#[test]
fn records_key_need_not_come_first() {
    let doc = format!(r#"{{"x":1,"Records":[{A}]}}"#);
    assert_eq!(names(&doc).unwrap(), ["A"]);
}

#[test]
fn lookup_events_output_is_unwrapped() {
    let quoted = serde_json::to_string(A).unwrap();
    let doc =
        format!(r#"{{"Events":[{{"EventId":"1","CloudTrailEvent":{quoted}}},{{"EventId":"2"}}]}}"#);
    assert_eq!(
        names(&doc).unwrap(),
        ["A", "bad: LookupEvents entry without a CloudTrailEvent"]
    );
}

#[test]
fn json_lines_and_arrays_are_read() {
    assert_eq!(names(&format!("{A}\n\n{B}\n")).unwrap(), ["A", "B"]);
    assert_eq!(names(&format!("[{A},{B}]")).unwrap(), ["A", "B"]);
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(A).unwrap())
            .unwrap();
    assert_eq!(names(&pretty).unwrap(), ["A"]);
}

#[test]
fn a_record_of_the_wrong_shape_is_one_bad_record_and_the_rest_is_read() {
    let doc = format!(
        r#"{{"Records":[42,{{"eventTime":"t","eventSource":"s","eventName":{{"x":1}},"userIdentity":"odd"}},{B}]}}"#
    );
    assert_eq!(
        names(&doc).unwrap(),
        [
            "bad: record that is not a JSON object",
            "bad: record without eventName",
            "B"
        ]
    );
    // The same through the prefilter's path.
    let mut seen = Vec::new();
    records(
        doc.as_bytes(),
        &Prefilter::any(&["\"".to_owned()]),
        &mut |item| {
            seen.push(matches!(item, Item::Bad(_)));
        },
    )
    .unwrap();
    // `42` holds no quote at all, so the prefilter passes it over undecoded.
    assert_eq!(seen, [false, true, false]);
}

#[test]
fn the_prefilter_passes_over_records_without_its_strings() {
    let doc = format!(r#"{{"Records":[{A},{B}]}}"#);
    let mut seen = Vec::new();
    let count = records(
        doc.as_bytes(),
        &Prefilter::any(&["\"B\"".to_owned()]),
        &mut |item| {
            seen.push(matches!(item, Item::Unmatched));
        },
    )
    .unwrap();
    assert_eq!(count, 2);
    assert_eq!(seen, [true, false]);
}

#[test]
fn a_file_that_is_not_utf8_reads_as_its_bytes_read() {
    // A byte that is not UTF-8 inside one record's string: the whole document fails
    // where serde_json finds it, with the record search as without it.
    let doc = format!(r#"{{"Records":[{A},{B}]}}"#).replacen("\"A\"", "\"A\u{ff}\"", 1);
    let mut bytes = doc.into_bytes();
    let at = bytes.iter().position(|b| *b == 0xc3).unwrap();
    bytes.splice(at..at + 2, [0xff]);
    let whole = records(&bytes, &Prefilter::none(), &mut |_| {}).unwrap_err();
    let plain = serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_err();
    assert!(
        whole.to_string().contains(&plain.to_string()),
        "{whole} / {plain}"
    );
    let searched =
        records(&bytes, &Prefilter::any(&["event".to_owned()]), &mut |_| {}).unwrap_err();
    assert_eq!(searched.to_string(), whole.to_string());
}

#[test]
fn a_record_the_search_cannot_decode_sends_the_document_to_the_full_walk() {
    let search = Prefilter::any(&["needle".to_owned()]);
    let read = |doc: &str, prefilter: &Prefilter| {
        let mut seen = Vec::new();
        let result = records(doc.as_bytes(), prefilter, &mut |item| {
            seen.push(match item {
                Item::Event(e) => e.name.into_owned(),
                Item::Bad(bad) => format!("bad: {bad}"),
                Item::Unmatched => "unmatched".to_owned(),
            });
        });
        (result.map_err(|e| e.to_string()), seen)
    };
    // Not JSON inside the principal's record: the search hands nothing on, the full walk
    // reads the document and fails where the plain decoder fails, with its message.
    let broken = r#"{"Records":[{"eventName":"A","eventTime":"t","eventSource":"s"},{"eventName":"needle","x":tru}]}"#;
    let (fast, fast_seen) = read(broken, &search);
    let (plain, _) = read(broken, &Prefilter::none());
    assert_eq!(fast, plain);
    assert_eq!(fast_seen, ["unmatched"]);
    // A record the walk splits right but that does not decode (a duplicate field): one
    // bad record, each record handed on once, the rest of the document read.
    let duplicate = r#"{"Records":[{"eventName":"A","eventTime":"t","eventSource":"s"},{"eventName":"needle","eventName":"B","eventTime":"t","eventSource":"s"},{"eventName":"needle","eventTime":"t","eventSource":"s"}]}"#;
    let (fast, fast_seen) = read(duplicate, &search);
    assert_eq!(fast, Ok(3));
    assert_eq!(
        fast_seen,
        [
            "unmatched",
            "bad: record that does not decode (not valid JSON, or a field given twice)",
            "needle"
        ]
    );
}

#[test]
fn records_missing_fields_are_handed_on_as_bad() {
    let doc = r#"{"Records":[{"eventName":"X"}]}"#;
    assert_eq!(names(doc).unwrap(), ["bad: record without eventTime"]);
}

#[test]
fn bad_documents_say_what_is_wrong() {
    assert!(matches!(names(""), Err(ParseError::Empty)));
    assert!(matches!(names("  \n"), Err(ParseError::Empty)));
    assert!(matches!(names("42"), Err(ParseError::NotCloudTrail(_))));
    assert!(matches!(
        names(r#"{"foo":[1,2]}"#),
        Err(ParseError::NotCloudTrail(_))
    ));
    assert!(matches!(
        names(r#"{"Records":{"a":1}}"#),
        Err(ParseError::NotCloudTrail(_))
    ));
    let truncated = format!(r#"{{"Records":[{A},{B}"#);
    match names(&truncated) {
        Err(ParseError::Json { records, .. }) => assert_eq!(records, 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn gzip_is_detected_and_bounded() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(A.as_bytes()).unwrap();
    let gz = encoder.finish().unwrap();
    let mut buffer = Vec::new();
    assert_eq!(decode(&gz, &mut buffer, 1 << 20).unwrap(), A.as_bytes());
    assert!(matches!(
        decode(&gz, &mut buffer, 10),
        Err(ParseError::TooLarge { limit: 10 })
    ));
    assert!(matches!(
        decode(
            gz.get(..gz.len() / 2).unwrap_or_default(),
            &mut buffer,
            1 << 20
        ),
        Err(ParseError::Gzip(_))
    ));
    assert!(matches!(
        decode(b"", &mut buffer, 10),
        Err(ParseError::Empty)
    ));
    assert_eq!(decode(b"{}", &mut buffer, 10).unwrap(), b"{}");
}
fn gzip(text: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

/// What flate2 alone makes of `raw` (the slow path, and the behaviour to keep).
pub(super) fn flate2_reads(raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    MultiGzDecoder::new(raw)
        .read_to_end(&mut out)
        .map(|_| out)
        .map_err(|e| ParseError::Gzip(e).to_string())
}

/// Asserts that `raw` is not taken by the one-call inflate and decodes as flate2 alone
/// decodes it.
fn reads_as_flate2_alone(raw: &[u8], limit: u64, case: &str) {
    let mut buffer = Vec::new();
    assert!(!inflate_whole(raw, &mut buffer, limit), "{case}");
    assert!(buffer.capacity() < 1 << 20, "{case}: {}", buffer.capacity());
    let ours = decode(raw, &mut buffer, limit)
        .map(<[u8]>::to_vec)
        .map_err(|e| e.to_string());
    assert_eq!(ours, flate2_reads(raw), "{case}");
}

#[test]
fn one_member_is_inflated_in_one_call() {
    let gz = gzip(A.as_bytes());
    let mut buffer = vec![7; 3];
    assert!(inflate_whole(&gz, &mut buffer, 1 << 20));
    assert_eq!(buffer, A.as_bytes());
    // A smaller file after a larger one reuses the buffer without its old tail.
    let short = gzip(b"{}");
    assert!(inflate_whole(&short, &mut buffer, 1 << 20));
    assert_eq!(buffer, b"{}");
    // Over the limit: not inflated here (flate2 names the limit).
    assert!(!inflate_whole(&gz, &mut buffer, 10));
}

#[test]
fn identical_members_are_not_taken_for_one() {
    // Both members have the same CRC and size in their trailers: libdeflate stops at the
    // first, and only where its size occurs tells that more follows.
    let one = gzip(A.as_bytes());
    let two = [one.clone(), one].concat();
    let mut buffer = Vec::new();
    assert!(!inflate_whole(&two, &mut buffer, 1 << 20));
    let text = decode(&two, &mut buffer, 1 << 20).unwrap().to_vec();
    assert_eq!(text, [A.as_bytes(), A.as_bytes()].concat());
    let mixed = [gzip(A.as_bytes()), gzip(B.as_bytes())].concat();
    assert!(!inflate_whole(&mixed, &mut buffer, 1 << 20));
    assert_eq!(
        decode(&mixed, &mut buffer, 1 << 20).unwrap(),
        [A.as_bytes(), B.as_bytes()].concat()
    );
}

#[test]
fn stray_bytes_that_repeat_the_size_are_not_taken_for_the_end() {
    // A member of 256 bytes (size 00 01 00 00) and then 01 00 00: the input's last four
    // bytes read 00 01 00 00 again, as if they were the member's own size.
    let text: Vec<u8> = "abc"
        .repeat(86)
        .into_bytes()
        .into_iter()
        .take(256)
        .collect();
    for stray in [&[0x01, 0x00, 0x00][..], &[0x00, 0x01, 0x00, 0x00]] {
        let raw = [gzip(&text), stray.to_vec()].concat();
        reads_as_flate2_alone(&raw, 1 << 20, &format!("{stray:?}"));
    }
}

#[test]
fn lenient_deflate_is_read() {
    // 300 × "A" in a dynamic block that declares 288 length codes: zlib refuses it,
    // libdeflate reads it, and the CRC-32 and size are right (see `inflate_whole`).
    let raw = hex::decode(concat!(
        "1f8b08001122334400fffdfd0190244992244902000000000000000000000000000000000000",
        "0000000000000000000000000000020000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000000002000000000",
        "0000000000000000000000200200000000000000000000000000000000000000000000000000",
        "00000000000000000000000000000000000000000000000000402333a0bb2c010000",
    ))
    .unwrap();
    assert!(flate2_reads(&raw).is_err());
    let mut buffer = Vec::new();
    assert_eq!(decode(&raw, &mut buffer, 1 << 20).unwrap(), [b'A'; 300]);
}

#[test]
#[expect(
    clippy::indexing_slicing,
    reason = "rewrites the trailer of the gzip it made"
)]
fn a_trailer_claiming_more_than_deflate_can_give_is_not_trusted() {
    let mut raw = gzip(b"{}");
    let at = raw.len() - 4;
    raw[at..].copy_from_slice(&(512_u32 << 20).to_le_bytes());
    reads_as_flate2_alone(&raw, 1 << 30, "512 MiB claimed");
}

#[test]
fn a_header_with_a_long_name_reads_as_flate2_reads_it() {
    // flate2 caps a header's file name; libdeflate does not.
    for length in [10, 65_535, 65_536, 70_000] {
        let mut encoder = flate2::GzBuilder::new()
            .filename(vec![b'f'; length])
            .write(Vec::new(), flate2::Compression::fast());
        encoder.write_all(A.as_bytes()).unwrap();
        let raw = encoder.finish().unwrap();
        reads_as_flate2_alone(&raw, 1 << 20, &format!("name of {length}"));
    }
}

#[test]
#[expect(clippy::indexing_slicing, reason = "flips bytes of the gzip it made")]
fn odd_gzip_reads_as_flate2_reads_it() {
    let gz = gzip(A.as_bytes());
    let trailing = [gz.clone(), b"\0\0garbage".to_vec()].concat();
    let mut with_header_crc = gz.clone();
    with_header_crc[3] |= 1 << 1;
    let mut corrupt = gz.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle] ^= 0x55;
    let mut wrong_crc = gz.clone();
    let crc_at = wrong_crc.len() - 8;
    wrong_crc[crc_at] ^= 1;
    for (raw, case) in [
        (&trailing, "trailing bytes"),
        (&with_header_crc, "header CRC"),
        (&corrupt, "corrupt"),
        (&wrong_crc, "wrong CRC"),
    ] {
        reads_as_flate2_alone(raw, 1 << 20, case);
    }
}
