//! Finds where each record of a `{"Records":[…]}` document starts and ends without decoding
//! it: strings are skipped with memchr, braces counted. Used only with a prefilter, so that
//! records that cannot match are passed over at memory speed; any shape it does not
//! recognise returns `None` and the caller falls back to the full decoder.

// Everything here reads untrusted input: no slicing that can panic.
#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::ops::Range;

/// Byte ranges of the records of a trail document, or `None` if `body` is not exactly
/// `{"Records":[{…},…]}` (whitespace allowed) with balanced objects and closed strings.
pub fn records(body: &[u8]) -> Option<Vec<Range<usize>>> {
    let mut at = skip_space(body, 0);
    at = expect(body, at, b'{')?;
    at = skip_space(body, at);
    at = expect_text(body, at, b"\"Records\"")?;
    at = skip_space(body, at);
    at = expect(body, at, b':')?;
    at = skip_space(body, at);
    at = expect(body, at, b'[')?;
    let mut ranges = Vec::with_capacity(body.len() / 1024);
    at = skip_space(body, at);
    if body.get(at) == Some(&b']') {
        at += 1;
    } else {
        loop {
            at = skip_space(body, at);
            let end = object_end(body, at)?;
            ranges.push(at..end);
            at = skip_space(body, end);
            match body.get(at)? {
                b',' => at += 1,
                b']' => {
                    at += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    at = skip_space(body, at);
    at = expect(body, at, b'}')?;
    (skip_space(body, at) == body.len()).then_some(ranges)
}

/// The end (exclusive) of the object starting at `start`.
fn object_end(body: &[u8], start: usize) -> Option<usize> {
    if body.get(start) != Some(&b'{') {
        return None;
    }
    let mut depth = 1_usize;
    let mut at = start + 1;
    // Outside strings the text is short runs of punctuation and numbers: a byte loop beats
    // setting up a vector search per run. Inside strings, memchr jumps to the end.
    loop {
        match *body.get(at)? {
            b'"' => at = string_end(body, at + 1)?,
            b'{' => {
                depth += 1;
                at += 1;
            }
            b'}' => {
                depth -= 1;
                at += 1;
                if depth == 0 {
                    return Some(at);
                }
            }
            _ => at += 1,
        }
    }
}

/// The position just after the closing quote of a string whose body starts at `at`.
fn string_end(body: &[u8], mut at: usize) -> Option<usize> {
    loop {
        at += memchr::memchr2(b'"', b'\\', body.get(at..)?)?;
        if body.get(at) == Some(&b'\\') {
            at += 2;
        } else {
            return Some(at + 1);
        }
    }
}

fn skip_space(body: &[u8], mut at: usize) -> usize {
    while body.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

fn expect(body: &[u8], at: usize, byte: u8) -> Option<usize> {
    (body.get(at) == Some(&byte)).then_some(at + 1)
}

fn expect_text(body: &[u8], at: usize, text: &[u8]) -> Option<usize> {
    body.get(at..)?.starts_with(text).then_some(at + text.len())
}

#[cfg(test)]
#[expect(
    clippy::string_slice,
    reason = "tests slice the ASCII fixtures they wrote"
)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pieces(body: &str) -> Option<Vec<&str>> {
        records(body.as_bytes()).map(|ranges| ranges.into_iter().map(|r| &body[r]).collect())
    }

    #[test]
    fn splits_records_with_nested_objects_and_tricky_strings() {
        let body = r#" { "Records" : [ {"a":{"b":"}"},"c":"\"{"} , {"d":[{"e":1}]} ] } "#;
        assert_eq!(
            pieces(body).unwrap(),
            [r#"{"a":{"b":"}"},"c":"\"{"}"#, r#"{"d":[{"e":1}]}"#]
        );
        assert_eq!(pieces(r#"{"Records":[]}"#).unwrap(), Vec::<&str>::new());
    }

    #[test]
    fn anything_else_is_left_to_the_full_decoder() {
        for body in [
            r#"{"Records":[{"a":1}"#,
            r#"{"Records":[{"a":"1}]}"#,
            r#"{"Records":[42]}"#,
            r#"{"Records":[{"a":1},]}"#,
            r#"{"Records":[{"a":1}]} {}"#,
            r#"{"x":1,"Records":[]}"#,
            r#"{"Records":[{"a":1}}"#,
            "",
        ] {
            assert!(records(body.as_bytes()).is_none(), "{body}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn agrees_with_serde_on_valid_documents(values in proptest::collection::vec(any::<std::collections::BTreeMap<String, String>>(), 0..8)) {
            let body = serde_json::json!({"Records": values}).to_string();
            let expected: Vec<String> = values.iter().map(|v| serde_json::to_string(v).unwrap()).collect();
            let found: Vec<String> = records(body.as_bytes()).unwrap().into_iter().map(|r| body[r].to_owned()).collect();
            prop_assert_eq!(found, expected);
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = records(&bytes);
        }
    }
}
