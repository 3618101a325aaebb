//! The JSON shape of one CloudTrail record (`RawRecord`, only the fields minpriv reads,
//! borrowed from the input buffer) and the validated domain `Event` made from it.

// Everything here reads untrusted input: no slicing that can panic.
#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::borrow::Cow;

use std::fmt;

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

type Text<'a> = Option<Cow<'a, str>>;

/// A record slot in a `Records` array: a record, or `None` when the element is not an object.
pub struct Slot<'a>(pub Option<RawRecord<'a>>);

impl<'de> Deserialize<'de> for Slot<'de> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        object(de).map(Slot)
    }
}

/// `visit_*` for the JSON scalars a lenient field reads as absent.
macro_rules! absent_scalars {
    () => {
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
    };
}

/// A string field, read leniently: any other JSON value reads as absent, so one odd field
/// costs that field, not the rest of the file.
fn text<'de, D: Deserializer<'de>>(de: D) -> Result<Text<'de>, D::Error> {
    struct Lenient;
    impl<'de> Visitor<'de> for Lenient {
        type Value = Text<'de>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v)))
        }
        absent_scalars!();
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            IgnoredAny.visit_seq(seq).map(|_| None)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            IgnoredAny.visit_map(map).map(|_| None)
        }
    }
    de.deserialize_any(Lenient)
}

/// An object field, read leniently: any other JSON value reads as absent.
fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(de: D) -> Result<Option<T>, D::Error> {
    struct Lenient<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Lenient<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Some)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            IgnoredAny.visit_seq(seq).map(|_| None)
        }
        absent_scalars!();
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    de.deserialize_any(Lenient(std::marker::PhantomData))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawRecord<'a> {
    #[serde(borrow, default, deserialize_with = "text")]
    pub event_time: Text<'a>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub event_source: Text<'a>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub event_name: Text<'a>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub aws_region: Text<'a>,
    #[serde(borrow, rename = "sourceIPAddress", default, deserialize_with = "text")]
    pub source_ip_address: Text<'a>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub user_agent: Text<'a>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub error_code: Text<'a>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub error_message: Text<'a>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub event_type: Text<'a>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub event_category: Text<'a>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub recipient_account_id: Text<'a>,
    #[serde(borrow, default, deserialize_with = "object")]
    pub user_identity: Option<RawIdentity<'a>>,
    #[serde(borrow)]
    pub request_parameters: Option<&'a RawValue>,
    #[serde(borrow)]
    pub response_elements: Option<&'a RawValue>,
    #[serde(borrow)]
    pub resources: Option<&'a RawValue>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawIdentity<'a> {
    #[serde(borrow, rename = "type", default, deserialize_with = "text")]
    pub kind: Text<'a>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub arn: Text<'a>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub account_id: Text<'a>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub invoked_by: Text<'a>,
    #[serde(borrow, default, deserialize_with = "object")]
    pub session_context: Option<RawSessionContext<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawSessionContext<'a> {
    #[serde(borrow, default, deserialize_with = "object")]
    pub session_issuer: Option<RawIssuer<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawIssuer<'a> {
    #[serde(borrow, rename = "type", default, deserialize_with = "text")]
    pub kind: Text<'a>,
    #[serde(borrow, default, deserialize_with = "text")]
    pub arn: Text<'a>,
}

/// Who made a call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity<'a> {
    /// `IAMUser`, `AssumedRole`, `AWSService`, `Root`, …
    pub kind: Option<Cow<'a, str>>,
    /// The caller's ARN: a user ARN or an `sts` assumed-role session ARN.
    pub arn: Option<Cow<'a, str>>,
    pub account: Option<Cow<'a, str>>,
    /// The role (or user) that issued the session, for role sessions.
    pub issuer_arn: Option<Cow<'a, str>>,
    /// The AWS service that made the call on the caller's behalf, if any.
    pub invoked_by: Option<Cow<'a, str>>,
}

/// One CloudTrail record with the fields every stage relies on present.
#[derive(Debug, Clone, Default)]
pub struct Event<'a> {
    pub time: Cow<'a, str>,
    pub source: Cow<'a, str>,
    pub name: Cow<'a, str>,
    pub region: Cow<'a, str>,
    pub identity: Identity<'a>,
    pub source_ip: Option<Cow<'a, str>>,
    pub user_agent: Option<Cow<'a, str>>,
    pub error_code: Option<Cow<'a, str>>,
    /// AWS's message for a failed call (a denial's names what was missing).
    pub error_message: Option<Cow<'a, str>>,
    pub event_type: Option<Cow<'a, str>>,
    pub category: Option<Cow<'a, str>>,
    pub recipient_account: Option<Cow<'a, str>>,
    pub request: Option<&'a RawValue>,
    pub response: Option<&'a RawValue>,
    pub resources: Option<&'a RawValue>,
}

/// Why a record could not become an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, thiserror::Error)]
pub enum BadRecord {
    #[error("record without eventSource")]
    NoSource,
    #[error("record without eventName")]
    NoName,
    #[error("record without eventTime")]
    NoTime,
    #[error("LookupEvents entry without a CloudTrailEvent")]
    BadLookupEvent,
    #[error("record that is not a JSON object")]
    Shape,
    /// Text the decoder refuses as a record: not valid JSON, a field given twice, an
    /// escape that is no character.
    #[error("record that does not decode (not valid JSON, or a field given twice)")]
    Undecodable,
}

impl<'a> TryFrom<RawRecord<'a>> for Event<'a> {
    type Error = BadRecord;

    fn try_from(raw: RawRecord<'a>) -> Result<Self, Self::Error> {
        let identity = raw
            .user_identity
            .map_or_else(Identity::default, |id| Identity {
                kind: id.kind,
                arn: id.arn,
                account: id.account_id,
                issuer_arn: id
                    .session_context
                    .and_then(|context| context.session_issuer)
                    .and_then(|issuer| issuer.arn),
                invoked_by: id.invoked_by,
            });
        Ok(Event {
            time: raw
                .event_time
                .filter(|t| !t.is_empty())
                .ok_or(BadRecord::NoTime)?,
            source: raw
                .event_source
                .filter(|s| !s.is_empty())
                .ok_or(BadRecord::NoSource)?,
            name: raw
                .event_name
                .filter(|n| !n.is_empty())
                .ok_or(BadRecord::NoName)?,
            region: raw.aws_region.unwrap_or_default(),
            identity,
            source_ip: raw.source_ip_address,
            user_agent: raw.user_agent,
            error_code: raw.error_code,
            error_message: raw.error_message,
            event_type: raw.event_type,
            category: raw.event_category,
            recipient_account: raw.recipient_account_id,
            request: raw.request_parameters,
            response: raw.response_elements,
            resources: raw.resources,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_record_becomes_an_event() {
        let json = r#"{"eventVersion":"1.08","eventTime":"2026-11-20T10:00:00Z",
            "eventSource":"iam.amazonaws.com","eventName":"CreateRole","awsRegion":"us-east-1",
            "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s",
              "accountId":"1","sessionContext":{"sessionIssuer":{"type":"Role",
              "arn":"arn:aws:iam::1:role/r"}}},
            "requestParameters":{"roleName":"x"},"responseElements":null}"#;
        let raw: RawRecord = serde_json::from_str(json).unwrap();
        let event = Event::try_from(raw).unwrap();
        assert_eq!(event.name, "CreateRole");
        assert_eq!(
            event.identity.issuer_arn.as_deref(),
            Some("arn:aws:iam::1:role/r")
        );
        assert_eq!(event.request.unwrap().get(), r#"{"roleName":"x"}"#);
        assert!(event.response.is_none());
    }

    #[test]
    fn records_missing_required_fields_are_rejected_with_the_field() {
        let raw: RawRecord = serde_json::from_str(r#"{"eventSource":"s3.amazonaws.com"}"#).unwrap();
        assert_eq!(Event::try_from(raw).unwrap_err(), BadRecord::NoTime);
        let raw: RawRecord =
            serde_json::from_str(r#"{"eventTime":"t","eventName":"","eventSource":"x"}"#).unwrap();
        assert_eq!(Event::try_from(raw).unwrap_err(), BadRecord::NoName);
    }
}
