//! The shapes an input comes in — a trail log `{"Records":[…]}`, LookupEvents output
//! `{"Events":[{"CloudTrailEvent":"…"}]}`, a bare array, JSON lines, or one record — told
//! apart and each read with the visitors of [`super::document`].

use serde::de::{DeserializeSeed, IgnoredAny};

use super::document::{Counter, Document, RecordList, from_bytes, with_deserializer};
use super::record::Slot;
use super::{ParseError, Prefilter, RawRecord, Sink, split};

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
