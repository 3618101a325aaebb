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
    let mut at = records_array(body)?;
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

/// The records of a trail document written the way CloudTrail writes one, found from where
/// they start rather than by walking them: each record is an object whose first key is
/// `eventVersion`, so `{"eventVersion":` marks every record start (a key, since a quote
/// inside a string is escaped). Each mark is checked locally — the first right after the
/// array's `[`, every other after the `}` and `,` that close the record before it, the
/// last followed only by `]}` — and any other shape returns `None` for the structural walk
/// ([`records`]). Returns each record's byte range.
pub fn marked(body: &[u8]) -> Option<Vec<Range<usize>>> {
    static MARK: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"{\"eventVersion\":"));
    let at = records_array(body)?;
    let first = skip_space(body, at);
    // The document's end: `]` and `}`, whitespace around them.
    let mut end = back_space(body, body.len());
    end = end.checked_sub(1).filter(|e| body.get(*e) == Some(&b'}'))?;
    end = back_space(body, end);
    let close = end.checked_sub(1).filter(|e| body.get(*e) == Some(&b']'))?;
    let starts: Vec<usize> = MARK.find_iter(body.get(..close)?).collect();
    let Some((&head, rest)) = starts.split_first() else {
        return (first == close).then(Vec::new);
    };
    if head != first {
        return None;
    }
    let mut ranges = Vec::with_capacity(starts.len());
    let mut start = head;
    for &next in rest {
        let comma = back_space(body, next).checked_sub(1)?;
        if body.get(comma) != Some(&b',') {
            return None;
        }
        let brace = back_space(body, comma);
        if brace <= start || body.get(brace - 1) != Some(&b'}') {
            return None;
        }
        ranges.push(start..brace);
        start = next;
    }
    let last = back_space(body, close);
    if last <= start || body.get(last - 1) != Some(&b'}') {
        return None;
    }
    ranges.push(start..last);
    Some(ranges)
}

/// The position after the last non-whitespace byte before `at`.
fn back_space(body: &[u8], mut at: usize) -> usize {
    while at > 0 && body.get(at - 1).is_some_and(u8::is_ascii_whitespace) {
        at -= 1;
    }
    at
}

/// The position just after the `[` of a document's opening `{"Records":[`.
fn records_array(body: &[u8]) -> Option<usize> {
    let mut at = skip_space(body, 0);
    at = expect(body, at, b'{')?;
    at = skip_space(body, at);
    at = expect_text(body, at, b"\"Records\"")?;
    at = skip_space(body, at);
    at = expect(body, at, b':')?;
    at = skip_space(body, at);
    expect(body, at, b'[')
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

    fn marked_pieces(body: &str) -> Option<Vec<&str>> {
        marked(body.as_bytes()).map(|ranges| ranges.into_iter().map(|r| &body[r]).collect())
    }

    #[test]
    fn records_are_found_from_their_marks_as_cloudtrail_writes_them() {
        let body = r#"{"Records":[{"eventVersion":"1.09","a":"},{\"eventVersion\":"},
            {"eventVersion":"1.08","b":[{"c":1}]} ]}"#;
        assert_eq!(
            marked_pieces(body).unwrap(),
            [
                r#"{"eventVersion":"1.09","a":"},{\"eventVersion\":"}"#,
                r#"{"eventVersion":"1.08","b":[{"c":1}]}"#
            ]
        );
        assert_eq!(
            marked_pieces(r#"{"Records":[ ]}"#).unwrap(),
            Vec::<&str>::new()
        );
        // Every shape it cannot vouch for is left to the walk.
        for body in [
            r#"{"Records":[{"a":1,"eventVersion":"1"}]}"#,
            r#"{"Records":[{"eventVersion":"1"},{"a":1}]}"#.replace(r#"{"a":1}"#, r#"{"a":1,"x":{"eventVersion":"2"}}"#).as_str(),
            r#"{"Records":[{"eventVersion":"1"} {"eventVersion":"2"}]}"#,
            r#"{"Records":[{"eventVersion":"1"}]"#,
            r#"{"Records":[{"eventVersion":"1"}]} x"#,
            r#"{"Records":[{"a":1}]}"#,
        ] {
            assert!(marked(body.as_bytes()).is_none(), "{body}");
        }
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
