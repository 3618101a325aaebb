//! Bytes → CloudTrail events: gzip detection and decompression, then the three shapes a
//! record can arrive in (a trail log `{"Records":[…]}`, LookupEvents output
//! `{"Events":[{"CloudTrailEvent":"…"}]}`, or JSON lines), decoded without copying.

// Everything here reads untrusted input: no slicing that can panic.
#![deny(clippy::indexing_slicing, clippy::string_slice)]

mod prefilter;
mod record;
mod split;

use std::borrow::Cow;
use std::fmt;
use std::io::Read;

use flate2::read::MultiGzDecoder;
use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

pub use prefilter::Prefilter;
use record::Slot;
pub use record::{BadRecord, Event, Identity, RawRecord};

/// What went wrong with a whole input; the run names the input and goes on.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("empty file")]
    Empty,
    #[error("corrupt or truncated gzip data: {0}")]
    Gzip(#[source] std::io::Error),
    #[error("more than {limit} bytes once decompressed (raise --max-file-size to read it)")]
    TooLarge { limit: u64 },
    #[error("not a CloudTrail log: {0}")]
    NotCloudTrail(String),
    #[error("invalid JSON after {records} records: {source}")]
    Json {
        records: u64,
        #[source]
        source: serde_json::Error,
    },
}

/// One record's outcome, handed to the caller as soon as it is seen.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "handed over once per record; boxing would allocate per record"
)]
pub enum Item<'r> {
    Event(Event<'r>),
    Bad(BadRecord),
    /// Holds none of the prefilter's byte strings, so it was not decoded.
    Unmatched,
}

/// Receives every record of an input in order.
pub type Sink<'s> = dyn for<'r> FnMut(Item<'r>) + 's;

/// Turns raw input bytes into JSON text: gunzips when the gzip magic is present.
/// `buffer` is reused across calls to keep allocations flat.
///
/// # Errors
/// Corrupt gzip data, or more than `limit` bytes of output.
pub fn decode<'b>(
    raw: &'b [u8],
    buffer: &'b mut Vec<u8>,
    limit: u64,
) -> Result<&'b [u8], ParseError> {
    if raw.is_empty() {
        return Err(ParseError::Empty);
    }
    if !raw.starts_with(&[0x1f, 0x8b]) {
        if raw.len() as u64 > limit {
            return Err(ParseError::TooLarge { limit });
        }
        return Ok(raw);
    }
    if inflate_whole(raw, buffer, limit) {
        return Ok(buffer);
    }
    buffer.clear();
    // The gzip trailer holds the size modulo 2^32: a good first guess for one member.
    if let Some(hint) = trailer_size(raw) {
        buffer.reserve(usize::try_from(u64::from(hint).min(limit)).unwrap_or(0));
    }
    let mut decoder = MultiGzDecoder::new(raw).take(limit.saturating_add(1));
    decoder.read_to_end(buffer).map_err(ParseError::Gzip)?;
    if buffer.len() as u64 > limit {
        return Err(ParseError::TooLarge { limit });
    }
    Ok(buffer)
}

/// The last four bytes of a gzip input: its last member's size modulo 2^32 (ISIZE).
#[must_use]
pub fn trailer_size(raw: &[u8]) -> Option<u32> {
    let tail = raw.get(raw.len().checked_sub(4)?..)?;
    Some(u32::from_le_bytes(<[u8; 4]>::try_from(tail).ok()?))
}

/// The gzip header flag FTEXT, a hint both decoders ignore. Any other flag sends a file to
/// flate2: libdeflate skips a header CRC-16 unchecked, and reads names, comments and
/// extra fields of any length, where flate2 checks the one and caps the others.
const FTEXT: u8 = 1;

/// The most output one byte of deflate data can give (a 258-byte match in 2 bits).
const MAX_DEFLATE_RATIO: usize = 1_032;

thread_local! {
    static INFLATER: std::cell::RefCell<libdeflater::Decompressor> =
        std::cell::RefCell::new(libdeflater::Decompressor::new());
}

/// Inflates a one-member gzip input in a single call of libdeflate into a buffer of the
/// size its trailer states (CloudTrail writes each log file as one member, with a bare
/// header). Returns false, with `buffer` unspecified, for anything else — several members,
/// trailing bytes, a size over `limit`, corrupt data, a header with optional fields —
/// which the caller then decodes with flate2, so every error still reads as flate2
/// reports it.
///
/// libdeflate checks the member's CRC-32 and size against the trailer right after its
/// deflate stream, but does not say where that stream ended. It ended at the end of the
/// input when the size it checked (the output's length, four bytes little-endian) occurs
/// in the input only as its last four bytes: a member ending sooner has it at an earlier
/// offset, even one overlapping the last four bytes. A chance occurrence inside the
/// compressed data (about one file in 40,000 of CloudTrail's size) only sends that file
/// down the slower path.
///
/// One difference is left, on purpose: libdeflate decodes a few malformed deflate streams
/// that zlib refuses (a dynamic block declaring 288 length codes, distance codes 30 and
/// 31). Damage cannot produce one that also passes the CRC-32 check, so such a file was
/// made that way deliberately, and whoever can write it could as well write the same
/// content well-formed. The test `lenient_deflate_is_read` pins this.
fn inflate_whole(raw: &[u8], buffer: &mut Vec<u8>, limit: u64) -> bool {
    let Some(size) = trailer_size(raw) else {
        return false;
    };
    let Ok(size) = usize::try_from(size) else {
        return false;
    };
    // Deflate expands at most 1,032 to 1: a trailer claiming more lies, and the buffer it
    // asks for would be zeroed for nothing (flate2 finds the truth without it).
    if size as u64 > limit
        || size > raw.len().saturating_mul(MAX_DEFLATE_RATIO)
        || raw.get(3).is_none_or(|flags| flags & !FTEXT != 0)
    {
        return false;
    }
    // Grown (and zeroed) only past its current length: after a file of the fast path the
    // whole of it, after one of flate2's only what that left.
    if buffer.len() < size {
        buffer.resize(size, 0);
    } else {
        buffer.truncate(size);
    }
    let Ok(written) = INFLATER.with_borrow_mut(|inflater| inflater.gzip_decompress(raw, buffer))
    else {
        return false;
    };
    let Ok(written_isize) = u32::try_from(written) else {
        return false;
    };
    // Every four-byte window but the last: one overlapping the last counts too (a member
    // followed by one to three stray bytes has its size there).
    let before_last = raw.get(..raw.len().saturating_sub(1)).unwrap_or_default();
    if written != size || memchr::memmem::find(before_last, &written_isize.to_le_bytes()).is_some()
    {
        return false;
    }
    true
}

/// Runs `$read` on a JSON deserializer over `$bytes`. Text that is valid UTF-8 (checked
/// once, fast) is read as a `str`, so serde_json does not check every string again; bytes
/// that are not are read as bytes, and fail (or not) exactly where they would have.
macro_rules! with_deserializer {
    ($bytes:expr, |$de:ident| $read:expr) => {
        match std::str::from_utf8($bytes) {
            Ok(text) => {
                let mut $de = serde_json::Deserializer::from_str(text);
                $read
            }
            Err(_) => {
                let mut $de = serde_json::Deserializer::from_slice($bytes);
                $read
            }
        }
    };
}

/// `serde_json::from_slice`, through [`with_deserializer!`].
fn from_bytes<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> serde_json::Result<T> {
    with_deserializer!(bytes, |de| T::deserialize(&mut de).and_then(|value| {
        de.end()?;
        Ok(value)
    }))
}

/// Decodes every record in `json` and hands each to `sink`; returns the number of records.
///
/// # Errors
/// Input that is not a CloudTrail document or not valid JSON. Records already handed to the
/// sink stay handed; the error says how many there were.
pub fn records(json: &[u8], prefilter: &Prefilter, sink: &mut Sink<'_>) -> Result<u64, ParseError> {
    let start = json
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0xef && *b != 0xbb && *b != 0xbf);
    let Some(body) = start.and_then(|start| json.get(start..)) else {
        return Err(ParseError::Empty);
    };
    let mut counter = Counter {
        records: 0,
        prefilter,
        sink,
    };
    let Some(&first) = body.first() else {
        return Err(ParseError::Empty);
    };
    let result = match first {
        b'[' => with_deserializer!(body, |de| RecordList(&mut counter)
            .deserialize(&mut de)
            .and_then(|()| de.end())),
        // Needle first: where the principal's names occur, in a document whose records
        // the structural walk found without decoding them.
        b'{' if !prefilter.is_empty()
            && let Some(split) = split::records(body) =>
        {
            split_document(body, &split, &mut counter)
        }
        b'{' if matches!(first_key(body), Some("Records" | "Events")) => {
            document(body, &mut counter)
        }
        b'{' => return json_lines(body, &mut counter),
        _ => {
            return Err(ParseError::NotCloudTrail(
                "expected a JSON object or array".to_owned(),
            ));
        }
    };
    let records = counter.records;
    result.map_err(|source| classify(source, records))?;
    Ok(records)
}

/// A document holding a `Records` or `Events` array, in any key order.
fn document(body: &[u8], counter: &mut Counter<'_, '_>) -> serde_json::Result<()> {
    let mut found = false;
    with_deserializer!(body, |de| {
        Document {
            counter,
            found: &mut found,
        }
        .deserialize(&mut de)?;
        de.end()
    })?;
    if found {
        Ok(())
    } else {
        Err(serde::de::Error::custom(
            "no \"Records\" or \"Events\" array",
        ))
    }
}

/// The records of a document [`split::records`] walked: those holding a needle (or an
/// escape) are decoded, the others passed over. Every record to decode is decoded before
/// anything is handed on, so that a record that does not decode as one JSON value — the
/// document is not valid JSON there — sends the whole document to the full decoder, which
/// then reports it exactly as it would have without the search.
fn split_document(
    body: &[u8],
    split: &split::Split,
    counter: &mut Counter<'_, '_>,
) -> serde_json::Result<()> {
    let hits = counter.prefilter.hits(body, split);
    let mut slots = Vec::with_capacity(hits.iter().filter(|hit| **hit).count());
    for (range, _) in split.ranges.iter().zip(&hits).filter(|(_, hit)| **hit) {
        match body.get(range.clone()).map(from_bytes::<Slot>) {
            Some(Ok(slot)) => slots.push(slot),
            _ => return document(body, counter),
        }
    }
    let mut slots = slots.into_iter();
    for hit in hits {
        match hit.then(|| slots.next()).flatten() {
            Some(slot) => {
                counter.records += 1;
                counter.push(slot);
            }
            None => counter.passed_over(),
        }
    }
    Ok(())
}

/// One record per line; a lone record or document (on one line or many) is read whole.
fn json_lines(body: &[u8], counter: &mut Counter<'_, '_>) -> Result<u64, ParseError> {
    let mut lines = body.split(|b| *b == b'\n');
    let first_line = lines.next().unwrap_or(body);
    let more = lines.any(|line| !line.iter().all(u8::is_ascii_whitespace));
    if !more || serde_json::from_slice::<IgnoredAny>(first_line).is_err() {
        return single_value(body, counter);
    }
    for (index, line) in body.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if counter.records == 0 {
            let first: RawRecord = from_bytes(line).map_err(|source| {
                ParseError::NotCloudTrail(format!("line {}: {source}", index + 1))
            })?;
            if !looks_like_record(&first) {
                return Err(ParseError::NotCloudTrail(format!(
                    "line {}: no eventTime, eventSource or eventName",
                    index + 1
                )));
            }
        }
        counter.raw(line);
    }
    Ok(counter.records)
}

/// One JSON value: a document with `Records`/`Events` in any key order, or one record.
fn single_value(body: &[u8], counter: &mut Counter<'_, '_>) -> Result<u64, ParseError> {
    let mut found = false;
    let as_document = with_deserializer!(body, |de| Document {
        counter: &mut *counter,
        found: &mut found,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end()));
    if found {
        as_document.map_err(|source| classify(source, counter.records))?;
        return Ok(counter.records);
    }
    let record: RawRecord = from_bytes(body).map_err(|e| classify(e, 0))?;
    if !looks_like_record(&record) {
        return Err(ParseError::NotCloudTrail(
            "no \"Records\" array, and not a CloudTrail record".to_owned(),
        ));
    }
    counter.raw(body);
    Ok(counter.records)
}

fn looks_like_record(record: &RawRecord<'_>) -> bool {
    record.event_time.is_some() || record.event_source.is_some() || record.event_name.is_some()
}

/// The first key of an object, when it is a plain string.
fn first_key(body: &[u8]) -> Option<&str> {
    let rest = body.get(1..)?;
    let open = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = rest.get(open..)?.strip_prefix(b"\"")?;
    let close = memchr::memchr2(b'"', b'\\', rest)?;
    std::str::from_utf8(rest.get(..close)?).ok()
}

fn classify(source: serde_json::Error, records: u64) -> ParseError {
    if source.is_data() || records == 0 && !source.is_eof() && !source.is_syntax() {
        ParseError::NotCloudTrail(source.to_string())
    } else {
        ParseError::Json { records, source }
    }
}

struct Counter<'c, 's> {
    records: u64,
    prefilter: &'c Prefilter,
    sink: &'c mut Sink<'s>,
}

impl Counter<'_, '_> {
    /// A record the prefilter passed over undecoded.
    fn passed_over(&mut self) {
        self.records += 1;
        (self.sink)(Item::Unmatched);
    }

    /// One record's JSON text: passed over unless the prefilter admits it, then decoded.
    fn raw(&mut self, text: &[u8]) {
        self.records += 1;
        if !self.prefilter.admits(text) {
            (self.sink)(Item::Unmatched);
            return;
        }
        match from_bytes::<Slot>(text) {
            Ok(slot) => self.push(slot),
            Err(_) => (self.sink)(Item::Bad(BadRecord::Undecodable)),
        }
    }

    /// One decoded record slot.
    fn push(&mut self, slot: Slot<'_>) {
        let item = match slot.0 {
            Some(raw) => Event::try_from(raw).map_or_else(Item::Bad, Item::Event),
            None => Item::Bad(BadRecord::Shape),
        };
        (self.sink)(item);
    }
}

struct Document<'c, 'x, 's> {
    counter: &'c mut Counter<'x, 's>,
    found: &'c mut bool,
}

impl<'de> DeserializeSeed<'de> for Document<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail document")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "Records" => {
                    *self.found = true;
                    map.next_value_seed(RecordList(self.counter))?;
                }
                "Events" => {
                    *self.found = true;
                    map.next_value_seed(LookupList(self.counter))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// `[record, record, …]`
struct RecordList<'c, 'x, 's>(&'c mut Counter<'x, 's>);

impl<'de> DeserializeSeed<'de> for RecordList<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RecordList<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of CloudTrail records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if self.0.prefilter.is_empty() {
            // Nothing to pass over: decode in one pass.
            while let Some(slot) = seq.next_element::<Slot<'de>>()? {
                self.0.records += 1;
                self.0.push(slot);
            }
        } else {
            while let Some(record) = seq.next_element::<&'de RawValue>()? {
                self.0.raw(record.get().as_bytes());
            }
        }
        Ok(())
    }
}

/// LookupEvents output: `[{"CloudTrailEvent": "<record as a JSON string>", …}, …]`
struct LookupList<'c, 'x, 's>(&'c mut Counter<'x, 's>);

#[derive(Deserialize)]
struct LookupEntry<'a> {
    #[serde(borrow, rename = "CloudTrailEvent")]
    event: Option<Cow<'a, str>>,
}

impl<'de> DeserializeSeed<'de> for LookupList<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for LookupList<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of LookupEvents results")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(entry) = seq.next_element::<LookupEntry<'de>>()? {
            if let Some(text) = entry.event.as_deref() {
                self.0.raw(text.as_bytes());
            } else {
                self.0.records += 1;
                (self.0.sink)(Item::Bad(BadRecord::BadLookupEvent));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

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
        let doc = format!(
            r#"{{"Events":[{{"EventId":"1","CloudTrailEvent":{quoted}}},{{"EventId":"2"}}]}}"#
        );
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
}

#[cfg(test)]
#[expect(
    clippy::indexing_slicing,
    reason = "tests cut and flip bytes of the gzip they made"
)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut buffer = Vec::new();
            if let Ok(json) = decode(&bytes, &mut buffer, 1 << 20) {
                let _ = records(json, &Prefilter::none(), &mut |_| {});
            }
        }

        #[test]
        fn json_shaped_noise_never_panics(text in r#"[\[\]{}",:a-zA-Z0-9 \n]{0,200}"#) {
            let _ = records(text.as_bytes(), &Prefilter::none(), &mut |_| {});
            let doc = format!(r#"{{"Records":[{text}]}}"#);
            let _ = records(doc.as_bytes(), &Prefilter::any(&["x".to_owned()]), &mut |_| {});
        }

        /// The one-call inflate changes nothing: any text, cut into any number of gzip
        /// members, with stray bytes after them, cut short or with a byte flipped, decodes
        /// as flate2 alone decodes it.
        #[test]
        fn decode_matches_flate2(
            text in proptest::collection::vec(any::<u8>(), 0..4096),
            cuts in proptest::collection::vec(0_usize..4096, 0..3),
            damage in proptest::option::of((0_usize..8192, any::<u8>())),
            cut in proptest::option::of(0_usize..8192),
            stray in proptest::collection::vec(any::<u8>(), 0..5),
        ) {
            use std::io::Write;
            let mut at: Vec<usize> = cuts.into_iter().map(|c| c.min(text.len())).collect();
            at.sort_unstable();
            let mut gz = Vec::new();
            let mut from = 0;
            for to in at.into_iter().chain([text.len()]) {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                encoder.write_all(&text[from..to]).unwrap();
                gz.extend(encoder.finish().unwrap());
                from = to;
            }
            gz.extend(stray);
            if let Some((at, xor)) = damage && at < gz.len() {
                gz[at] ^= xor;
            }
            if let Some(cut) = cut {
                gz.truncate(cut.max(2));
            }
            let mut buffer = Vec::new();
            let ours = decode(&gz, &mut buffer, 1 << 20).map(<[u8]>::to_vec).map_err(|e| e.to_string());
            let theirs = super::tests::flate2_reads(&gz);
            if gz.first() == Some(&0x1f) && gz.get(1) == Some(&0x8b) {
                prop_assert_eq!(ours, theirs);
            }
        }

        /// Reading valid UTF-8 as a `str` changes nothing: any bytes, shaped like JSON or
        /// not, with invalid UTF-8 in strings or out of them, read as serde_json reads the
        /// bytes themselves, value for value and error for error.
        #[test]
        fn reading_as_text_matches_reading_bytes(
            text in r#"[\[\]{}",:a-z0-9 \\]{0,60}"#,
            bytes in proptest::collection::vec(any::<u8>(), 0..4),
            at in 0_usize..64,
        ) {
            let mut input = text.into_bytes();
            let at = at.min(input.len());
            input.splice(at..at, bytes);
            let ours = from_bytes::<serde_json::Value>(&input).map_err(|e| e.to_string());
            let theirs = serde_json::from_slice::<serde_json::Value>(&input).map_err(|e| e.to_string());
            prop_assert_eq!(ours, theirs);
        }

        #[test]
        fn corrupted_gzip_never_panics(cut in 0_usize..200, flip in 0_usize..200) {
            use std::io::Write;
            let doc = br#"{"Records":[{"eventTime":"2026-11-20T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject"}]}"#;
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(doc).unwrap();
            let mut gz = encoder.finish().unwrap();
            if flip < gz.len() {
                gz[flip] ^= 0x5a;
            }
            gz.truncate(cut.max(2));
            let mut buffer = Vec::new();
            if let Ok(json) = decode(&gz, &mut buffer, 1 << 20) {
                let _ = records(json, &Prefilter::none(), &mut |_| {});
            }
        }
    }
}
