//! Bytes → CloudTrail events: gzip detection and decompression, then the three shapes a
//! record can arrive in (a trail log `{"Records":[…]}`, LookupEvents output
//! `{"Events":[{"CloudTrailEvent":"…"}]}`, or JSON lines), decoded without copying.

// Everything here reads untrusted input: no slicing that can panic.
#![deny(clippy::indexing_slicing, clippy::string_slice)]

mod document;
mod gzip;
mod prefilter;
mod record;
mod shape;
mod split;

pub use gzip::{decode, trailer_size};
pub use prefilter::Prefilter;
pub use record::{BadRecord, Event, Identity, RawRecord};
pub use shape::records;

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

#[cfg(test)]
mod tests;

#[cfg(test)]
#[expect(
    clippy::indexing_slicing,
    reason = "tests cut and flip bytes of the gzip they made"
)]
mod properties {
    use super::document::from_bytes;
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
