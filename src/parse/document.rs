//! The serde side of reading records: a document's `Records` or `Events` array, LookupEvents
//! entries holding a record as a JSON string, and the counter that hands each record on
//! (passed over undecoded unless the prefilter admits it).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::record::Slot;
use super::{BadRecord, Event, Item, Prefilter, Sink};

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
pub(super) fn from_bytes<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> serde_json::Result<T> {
    with_deserializer!(bytes, |de| T::deserialize(&mut de).and_then(|value| {
        de.end()?;
        Ok(value)
    }))
}

pub(super) use with_deserializer;

pub(super) struct Counter<'c, 's> {
    pub(super) records: u64,
    pub(super) prefilter: &'c Prefilter,
    pub(super) sink: &'c mut Sink<'s>,
}

impl Counter<'_, '_> {
    /// A record the prefilter passed over undecoded.
    pub(super) fn passed_over(&mut self) {
        self.records += 1;
        (self.sink)(Item::Unmatched);
    }

    /// One record's JSON text: passed over unless the prefilter admits it, then decoded.
    pub(super) fn raw(&mut self, text: &[u8]) {
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
    pub(super) fn push(&mut self, slot: Slot<'_>) {
        let item = match slot.0 {
            Some(raw) => Event::try_from(raw).map_or_else(Item::Bad, Item::Event),
            None => Item::Bad(BadRecord::Shape),
        };
        (self.sink)(item);
    }
}

pub(super) struct Document<'c, 'x, 's> {
    pub(super) counter: &'c mut Counter<'x, 's>,
    pub(super) found: &'c mut bool,
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
pub(super) struct RecordList<'c, 'x, 's>(pub(super) &'c mut Counter<'x, 's>);

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
