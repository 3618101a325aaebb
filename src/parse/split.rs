//! Finds where each record of a `{"Records":[…]}` document starts and ends without decoding
//! it, so that records which cannot be the principal's are passed over undecoded.
//!
//! The split must be *exactly* the one a JSON decoder makes, whatever wrote the document —
//! CloudTrail, a SIEM export, a script re-serialising it — since a record glued to its
//! neighbour would be lost and a record cut in two would be miscounted. So nothing is assumed
//! about key order or layout: the document is walked 64 bytes at a time, every string
//! (with its escapes) is masked out, and the brackets left are counted. A record is an object
//! that opens at depth zero of the `Records` array and closes there.
//!
//! In valid JSON this is exact: outside strings the only bytes the bracket test matches are
//! `{`, `}`, `[` and `]` (see [`BRACKETS`]), and inside strings every quote is escaped. Any
//! shape the walk does not vouch for — an element that is not an object, other keys after
//! `Records`, text after the document, an unterminated string or object — returns `None`,
//! and the caller reads the document with the full decoder instead.

// Everything here reads untrusted input: no slicing that can panic.
#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::ops::Range;

use wide::u8x16;

/// The records of a trail document, as found by [`records`].
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// Each record's byte range, in order.
    pub ranges: Vec<Range<usize>>,
    /// Where a `\u` escape starts, in order: JSON may write any character of a name as
    /// `\uXXXX`, so a record holding one may hold a name that its bytes do not show.
    pub escapes: Vec<usize>,
}

/// Bytes walked at once: one 64-bit mask per character class.
const BLOCK: usize = 64;

/// `byte | BRACKETS == 0x7F` holds for `{`, `}`, `[`, `]`, and otherwise only for `Y`, `_`,
/// `y` and DEL, none of which valid JSON has outside a string. Which bracket it is is read
/// from the byte itself (bit 1 is set in `{` and `[`, clear in `}` and `]`).
const BRACKETS: u8 = 0x26;

/// The record ranges of `body` when it is exactly `{"Records":[{…},…]}` (whitespace
/// allowed anywhere JSON allows it), or `None` for the full decoder.
#[must_use]
pub fn records(body: &[u8]) -> Option<Split> {
    let start = records_array(body)?;
    let mut walk = Walk {
        body,
        split: Split {
            ranges: Vec::with_capacity(body.len() / 1024),
            escapes: Vec::new(),
        },
        depth: 0,
        record_start: 0,
    };
    let mut strings = Strings::default();
    let mut next_backslash = find_backslash(body, start);
    let mut at = start;
    let mut padded;
    while at < body.len() {
        let block: &[u8; BLOCK] = if let Some(block) = body.get(at..at + BLOCK) {
            block.try_into().ok()?
        } else {
            // The last, partial block, padded with whitespace.
            let rest = body.get(at..)?;
            padded = [b' '; BLOCK];
            padded.get_mut(..rest.len())?.copy_from_slice(rest);
            &padded
        };
        let lanes = Lanes::of(block);
        let mut quotes = lanes.equal(b'"');
        // Backslashes are rare: the blocks that hold one are found by memchr.
        if strings.escaped_first || next_backslash < at + BLOCK {
            let escaped = strings.escaped(lanes.equal(b'\\'));
            quotes &= !escaped;
            walk.note_unicode_escapes(block, at, escaped);
            next_backslash = find_backslash(body, at + BLOCK);
        }
        let inside = strings.inside(quotes);
        let brackets = lanes.folded_equal(BRACKETS, 0x7F) & !inside;
        if let Step::Closed(close) = walk.brackets(block, at, brackets)? {
            return walk.finish(start, close);
        }
        at += BLOCK;
    }
    None
}

/// The 64 bytes of a block as four vectors.
struct Lanes([u8x16; 4]);

impl Lanes {
    fn of(block: &[u8; BLOCK]) -> Self {
        let (chunks, _) = block.as_chunks::<16>();
        let mut lanes = [u8x16::ZERO; 4];
        for (lane, chunk) in lanes.iter_mut().zip(chunks) {
            *lane = u8x16::new(*chunk);
        }
        Self(lanes)
    }

    /// One bit per byte equal to `byte`.
    fn equal(&self, byte: u8) -> u64 {
        let byte = u8x16::splat(byte);
        self.mask(|lane| lane.simd_eq(byte))
    }

    /// One bit per byte whose value ORed with `fold` is `byte`.
    fn folded_equal(&self, fold: u8, byte: u8) -> u64 {
        let (fold, byte) = (u8x16::splat(fold), u8x16::splat(byte));
        self.mask(|lane| (lane | fold).simd_eq(byte))
    }

    fn mask(&self, test: impl Fn(u8x16) -> u8x16) -> u64 {
        let mut mask = 0;
        for (index, lane) in self.0.iter().enumerate() {
            // `to_bitmask` gives the 16 lanes' top bits in its low 16 bits.
            let bits = u64::from(test(*lane).to_bitmask() & 0xffff);
            mask |= bits << (16 * index);
        }
        mask
    }
}

/// Which bytes lie inside strings, carried from block to block.
#[derive(Default)]
struct Strings {
    /// The block ended inside a string.
    inside: bool,
    /// The block ended with a backslash that escapes the next block's first byte.
    escaped_first: bool,
}

impl Strings {
    /// The bits of the bytes a backslash escapes, from the block's backslashes. A backslash
    /// escapes the byte after it; an escaped backslash escapes nothing.
    fn escaped(&mut self, mut backslashes: u64) -> u64 {
        let mut escaped = u64::from(self.escaped_first);
        backslashes &= !escaped;
        self.escaped_first = false;
        while backslashes != 0 {
            let at = backslashes.trailing_zeros();
            backslashes &= backslashes - 1;
            if at == 63 {
                self.escaped_first = true;
                break;
            }
            let next = 1 << (at + 1);
            escaped |= next;
            backslashes &= !next;
        }
        escaped
    }

    /// The bits of the bytes inside strings (an opening quote counts as inside, a closing
    /// one as outside), given the block's unescaped quotes.
    fn inside(&mut self, quotes: u64) -> u64 {
        // Bit i of the prefix XOR is the parity of the quotes up to and including byte i.
        let mut inside = quotes;
        for shift in [1, 2, 4, 8, 16, 32] {
            inside ^= inside << shift;
        }
        if self.inside {
            inside = !inside;
        }
        self.inside = inside >> 63 == 1;
        inside
    }
}

/// Where the walk stands after a block.
enum Step {
    /// The array is still open.
    Open,
    /// The `]` at this position closed it.
    Closed(usize),
}

/// The state of the walk over the `Records` array.
struct Walk<'b> {
    body: &'b [u8],
    split: Split,
    /// Brackets open inside the array.
    depth: u64,
    record_start: usize,
}

impl Walk<'_> {
    /// Follows the block's brackets (bits of `brackets`). Returns the position of the `]`
    /// that closes the array once it is met, and `None` for a shape it does not vouch for.
    fn brackets(&mut self, block: &[u8; BLOCK], at: usize, mut brackets: u64) -> Option<Step> {
        while brackets != 0 {
            let bit = brackets.trailing_zeros() as usize;
            brackets &= brackets - 1;
            let opens = match *block.get(bit)? {
                b'{' | b'[' => true,
                b'}' | b']' => false,
                _ => return None,
            };
            let byte = *block.get(bit)?;
            if opens {
                if self.depth == 0 {
                    if byte != b'{' {
                        return None;
                    }
                    self.record_start = at + bit;
                }
                self.depth += 1;
            } else if self.depth == 0 {
                return (byte == b']').then_some(Step::Closed(at + bit));
            } else {
                self.depth -= 1;
                if self.depth == 0 {
                    if byte != b'}' {
                        return None;
                    }
                    self.split.ranges.push(self.record_start..at + bit + 1);
                }
            }
        }
        Some(Step::Open)
    }

    /// Notes the block's `\u` escapes (where their `u` is), from the bits of the escaped
    /// bytes.
    fn note_unicode_escapes(&mut self, block: &[u8; BLOCK], at: usize, mut escaped: u64) {
        while escaped != 0 {
            let bit = escaped.trailing_zeros() as usize;
            escaped &= escaped - 1;
            if block.get(bit) == Some(&b'u') {
                self.split.escapes.push(at + bit);
            }
        }
    }

    /// The split, once the `]` at `close` ends the array: between records only whitespace
    /// and one comma each, after the array only `}` and whitespace.
    fn finish(self, start: usize, close: usize) -> Option<Split> {
        let mut from = start;
        for (index, range) in self.split.ranges.iter().enumerate() {
            separator(self.body.get(from..range.start)?, index > 0)?;
            from = range.end;
        }
        separator(self.body.get(from..close)?, false)?;
        let mut rest = self.body.get(close + 1..)?.iter();
        rest.find(|b| !b.is_ascii_whitespace())
            .filter(|b| **b == b'}')?;
        rest.all(u8::is_ascii_whitespace).then_some(self.split)
    }
}

/// Whitespace around one comma (or none, when `comma` is false).
fn separator(gap: &[u8], comma: bool) -> Option<()> {
    let mut commas = 0;
    for byte in gap {
        match byte {
            b',' => commas += 1,
            byte if byte.is_ascii_whitespace() => {}
            _ => return None,
        }
    }
    (commas == usize::from(comma)).then_some(())
}

/// The position of the next backslash from `from`, or `usize::MAX`.
fn find_backslash(body: &[u8], from: usize) -> usize {
    body.get(from..)
        .and_then(|rest| memchr::memchr(b'\\', rest))
        .map_or(usize::MAX, |found| from + found)
}

/// The position just after the `[` of a document's opening `{"Records":[`.
fn records_array(body: &[u8]) -> Option<usize> {
    let mut at = skip_space(body, 0);
    at = expect(body, at, b"{")?;
    at = skip_space(body, at);
    at = expect(body, at, b"\"Records\"")?;
    at = skip_space(body, at);
    at = expect(body, at, b":")?;
    at = skip_space(body, at);
    expect(body, at, b"[")
}

fn skip_space(body: &[u8], mut at: usize) -> usize {
    while body.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

fn expect(body: &[u8], at: usize, text: &[u8]) -> Option<usize> {
    body.get(at..)?.starts_with(text).then_some(at + text.len())
}

#[cfg(test)]
#[expect(
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "tests slice the fixtures they wrote"
)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::value::RawValue;
    use std::fmt::Write as _;

    /// What a JSON decoder makes of `body`: each element of `Records` as a byte range, when
    /// `body` is `{"Records":[…]}` with `Records` its only key and every element an object.
    fn decoder_ranges(body: &str) -> Option<Vec<Range<usize>>> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Document<'a> {
            #[serde(borrow, rename = "Records")]
            records: Vec<&'a RawValue>,
        }
        let document: Document<'_> = serde_json::from_str(body).ok()?;
        let base = body.as_ptr() as usize;
        document
            .records
            .iter()
            .map(|raw| {
                let text = raw.get();
                text.starts_with('{').then(|| {
                    let start = text.as_ptr() as usize - base;
                    start..start + text.len()
                })
            })
            .collect()
    }

    fn pieces(body: &str) -> Option<Vec<&str>> {
        records(body.as_bytes()).map(|split| split.ranges.into_iter().map(|r| &body[r]).collect())
    }

    #[test]
    fn a_record_that_does_not_start_with_event_version_is_its_own_record() {
        // The shape a SIEM export gives: the middle record's keys in another order.
        let body = r#"{"Records":[{"eventVersion":"1.09","eventName":"CreateTopic"},{"awsRegion":"us-east-1","eventVersion":"1.09","eventName":"ListTopics"},{"eventVersion":"1.09","eventName":"DeleteTopic"}]}"#;
        assert_eq!(
            pieces(body).unwrap(),
            [
                r#"{"eventVersion":"1.09","eventName":"CreateTopic"}"#,
                r#"{"awsRegion":"us-east-1","eventVersion":"1.09","eventName":"ListTopics"}"#,
                r#"{"eventVersion":"1.09","eventName":"DeleteTopic"}"#,
            ]
        );
    }

    #[test]
    fn nested_objects_and_tricky_strings_stay_inside_their_record() {
        for body in [
            // A nested object whose first key is eventVersion, after `},`.
            r#"{"Records":[{"a":[{"b":1},{"eventVersion":"2"}]},{"c":"}"}]}"#,
            // Strings holding brackets, quotes, a record's start and escaped backslashes.
            r#" { "Records" : [ {"a":{"b":"}"},"c":"\"{","d":"},{\"eventVersion\":"} , {"e":"\\","f":"\\\"]}"} ] } "#,
            "{\r\n  \"Records\": [\r\n    {\"a\": \"x\"},\r\n\t{\"b\": [1, {\"c\": null}]}\r\n  ]\r\n}\r\n",
            r#"{"Records":[]}"#,
            r#"{"Records":[ ]}"#,
            r#"{"Records":[{}]}"#,
        ] {
            let expected: Vec<&str> = decoder_ranges(body)
                .unwrap()
                .into_iter()
                .map(|r| &body[r])
                .collect();
            assert_eq!(pieces(body).unwrap(), expected, "{body}");
        }
    }

    #[test]
    fn escapes_and_strings_across_block_boundaries() {
        // Backslash runs and quotes at every offset around the 64-byte boundaries.
        for pad in 0..130 {
            for tail in [r"\\", r#"\""#, r#"\\\""#, r"\\\\", r"\u0041", r"}]{["] {
                let body = format!(
                    r#"{{"Records":[{{"a":"{}{tail}"}},{{"b":"{tail}{}"}}]}}"#,
                    "x".repeat(pad),
                    "y".repeat(pad % 7)
                );
                let expected = decoder_ranges(&body).unwrap();
                let split = records(body.as_bytes()).unwrap();
                assert_eq!(split.ranges, expected, "{body}");
                assert_eq!(split.escapes, unicode_escapes(&body), "{body}");
            }
        }
    }

    #[test]
    fn unicode_escapes_are_noted_where_they_are() {
        let body = r#"{"Records":[{"a":"b"},{"a":"ci\u002dprovisioner","b":"\\u"}]}"#;
        let split = records(body.as_bytes()).unwrap();
        // The `\\u` is an escaped backslash and a `u`, not an escape.
        assert_eq!(split.escapes, [body.find("u002d").unwrap()]);
        assert_eq!(split.escapes, unicode_escapes(body));
    }

    #[test]
    fn any_other_shape_is_left_to_the_full_decoder() {
        for body in [
            r#"{"Records":[{"a":1}"#,
            r#"{"Records":[{"a":"1}]}"#,
            r#"{"Records":[42]}"#,
            r#"{"Records":[{"a":1},42]}"#,
            r#"{"Records":[{"a":1},"x"]}"#,
            r#"{"Records":[[1]]}"#,
            r#"{"Records":[{"a":1},]}"#,
            r#"{"Records":[,{"a":1}]}"#,
            r#"{"Records":[{"a":1},,{"a":1}]}"#,
            r#"{"Records":[{"a":1}{"a":1}]}"#,
            r#"{"Records":[{"a":1}]} {}"#,
            r#"{"Records":[{"a":1}],"x":1}"#,
            r#"{"x":1,"Records":[]}"#,
            r#"{"\u0052ecords":[]}"#,
            r#"{"Records":[{"a":1}}"#,
            r#"{"Records":[{"a":1]}]}"#,
            r#"{"Records":[{"a":y}]}"#,
            "",
        ] {
            assert!(records(body.as_bytes()).is_none(), "{body}");
        }
    }

    /// Any JSON value, with strings full of what a walk could trip on.
    fn value() -> impl Strategy<Value = serde_json::Value> {
        let text =
            proptest::string::string_regex(r#"([a-z]|\\|"|\{|\}|\[|\]|,|:|u|/|é|😀| ){0,12}"#)
                .unwrap()
                .boxed();
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i32>().prop_map(serde_json::Value::from),
            text.clone().prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::from),
                proptest::collection::vec((text.clone(), inner), 0..5).prop_map(|members| {
                    serde_json::Value::Object(members.into_iter().collect())
                }),
            ]
        })
    }

    /// How a document is written: whitespace between tokens, taken in turn, and every
    /// `escape`-th character of a string written as `\uXXXX` (0: none).
    struct Layout<'s> {
        spaces: &'s [&'s str],
        escape: usize,
        turn: usize,
    }

    impl Layout<'_> {
        fn space(&mut self, out: &mut String) {
            self.turn += 1;
            out.push_str(self.spaces[self.turn % self.spaces.len()]);
        }

        fn string(&self, text: &str, out: &mut String) {
            out.push('"');
            for (index, c) in text.chars().enumerate() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    c if self.escape > 0 && index % self.escape == 0 => {
                        let mut units = [0_u16; 2];
                        for unit in c.encode_utf16(&mut units) {
                            let _ = write!(out, "\\u{unit:04x}");
                        }
                    }
                    c => out.push(c),
                }
            }
            out.push('"');
        }

        fn write(&mut self, value: &serde_json::Value, out: &mut String) {
            match value {
                serde_json::Value::Array(items) => {
                    out.push('[');
                    for (index, item) in items.iter().enumerate() {
                        if index > 0 {
                            out.push(',');
                        }
                        self.space(out);
                        self.write(item, out);
                        self.space(out);
                    }
                    out.push(']');
                }
                serde_json::Value::Object(members) => {
                    out.push('{');
                    for (index, (key, item)) in members.iter().enumerate() {
                        if index > 0 {
                            out.push(',');
                        }
                        self.space(out);
                        self.string(key, out);
                        self.space(out);
                        out.push(':');
                        self.space(out);
                        self.write(item, out);
                    }
                    self.space(out);
                    out.push('}');
                }
                serde_json::Value::String(text) => self.string(text, out),
                scalar => out.push_str(&scalar.to_string()),
            }
        }
    }

    /// Where real `\u` escapes are in `body` (the position of their `u`): a `u` after an odd
    /// run of backslashes.
    fn unicode_escapes(body: &str) -> Vec<usize> {
        let bytes = body.as_bytes();
        (1..bytes.len())
            .filter(|&at| {
                bytes[at] == b'u'
                    && bytes[..at]
                        .iter()
                        .rev()
                        .take_while(|b| **b == b'\\')
                        .count()
                        % 2
                        == 1
            })
            .collect()
    }

    /// 512 cases, or `PROPTEST_CASES` for a longer run.
    fn cases() -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(512)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]

        /// Whatever the records hold and however they are laid out, the walk finds exactly
        /// the elements a JSON decoder finds — and never declines a document of objects.
        #[test]
        fn the_walk_splits_as_a_decoder_does(
            records in proptest::collection::vec(value(), 0..6),
            objects_only in any::<bool>(),
            spaces in proptest::sample::subsequence(vec!["", " ", "\n", "\r\n", "\t", "  \n  "], 1..4),
            escape in prop_oneof![Just(0_usize), 1_usize..5],
        ) {
            let records: Vec<serde_json::Value> = records
                .into_iter()
                .map(|record| match record {
                    serde_json::Value::Object(_) => record,
                    other if objects_only => serde_json::json!({"v": other}),
                    other => other,
                })
                .collect();
            // The `Records` key as it is written (an escaped key is the full decoder's).
            let mut layout = Layout { spaces: &spaces, escape, turn: 0 };
            let mut body = String::from("{");
            layout.space(&mut body);
            body.push_str("\"Records\"");
            layout.space(&mut body);
            body.push(':');
            layout.space(&mut body);
            layout.write(&serde_json::Value::Array(records), &mut body);
            layout.space(&mut body);
            body.push('}');
            layout.space(&mut body);
            let expected = decoder_ranges(&body);
            let found = super::records(body.as_bytes());
            prop_assert_eq!(found.as_ref().map(|s| &s.ranges), expected.as_ref(), "{}", body);
            if let Some(split) = found {
                prop_assert_eq!(split.escapes, unicode_escapes(&body), "{}", body);
            }
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = records(&bytes);
            let mut doc = b"{\"Records\":[".to_vec();
            doc.extend(&bytes);
            let _ = records(&doc);
        }
    }
}
