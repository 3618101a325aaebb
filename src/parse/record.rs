//! The JSON shape of one CloudTrail record (`RawRecord`, only the fields minpriv reads,
//! borrowed from the input buffer) and the validated domain `Event` made from it.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

type Text<'a> = Option<Cow<'a, str>>;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawRecord<'a> {
    #[serde(borrow)]
    pub event_time: Text<'a>,
    #[serde(borrow)]
    pub event_source: Text<'a>,
    #[serde(borrow)]
    pub event_name: Text<'a>,
    #[serde(borrow)]
    pub aws_region: Text<'a>,
    #[serde(borrow, rename = "sourceIPAddress")]
    pub source_ip_address: Text<'a>,
    #[serde(borrow)]
    pub user_agent: Text<'a>,
    #[serde(borrow)]
    pub error_code: Text<'a>,
    #[serde(borrow)]
    pub event_type: Text<'a>,
    #[serde(borrow)]
    pub event_category: Text<'a>,
    #[serde(borrow)]
    pub recipient_account_id: Text<'a>,
    #[serde(borrow)]
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
    #[serde(borrow, rename = "type")]
    pub kind: Text<'a>,
    #[serde(borrow)]
    pub arn: Text<'a>,
    #[serde(borrow)]
    pub account_id: Text<'a>,
    #[serde(borrow)]
    pub invoked_by: Text<'a>,
    #[serde(borrow)]
    pub session_context: Option<RawSessionContext<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawSessionContext<'a> {
    #[serde(borrow)]
    pub session_issuer: Option<RawIssuer<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawIssuer<'a> {
    #[serde(borrow, rename = "type")]
    pub kind: Text<'a>,
    #[serde(borrow)]
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
    #[error("CloudTrailEvent string is not a CloudTrail record")]
    BadLookupEvent,
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
