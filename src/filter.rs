//! Which events to keep: time window, event type, AWS service events, principal, session,
//! region, account and user agent. The first test an event fails is the reason counted.

// Everything here reads untrusted input: no slicing that can panic.
#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::collections::BTreeSet;

use jiff::Timestamp;
use wildmatch::WildMatch;

use crate::mapping::Rules;
use crate::parse::Event;

/// Why an event was left out. The order is the order of the checks: the principal comes
/// first because it is the one check made without decoding a record (see `needles`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Exclusion {
    OtherPrincipal,
    /// The `eventTime` is not a time, so the window cannot be decided.
    BadTime,
    OutsideWindow,
    NotApiCall,
    ServiceEvent,
    OtherSession,
    OtherRegion,
    OtherAccount,
    OtherUserAgent,
}

impl Exclusion {
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::BadTime => "eventTime that does not parse (window undecidable)",
            Self::OutsideWindow => "outside the time window",
            Self::NotApiCall => "not API calls (console sign-ins, Insights, …)",
            Self::ServiceEvent => "made by AWS services on their own behalf",
            Self::OtherPrincipal => "other principals (AWS services included)",
            Self::OtherSession => "other session names",
            Self::OtherRegion => "other regions",
            Self::OtherAccount => "other accounts",
            Self::OtherUserAgent => "other user agents",
        }
    }
}

/// The user's filters, as given. The default keeps everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Criteria<'a> {
    pub principals: &'a [String],
    pub sessions: &'a [String],
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub regions: &'a [String],
    pub accounts: &'a [String],
    pub user_agents: &'a [String],
    pub include_service_events: bool,
}

/// The compiled filters.
#[derive(Debug, Default)]
pub struct Filter {
    principals: Vec<WildMatch>,
    pub principal_args: Vec<String>,
    sessions: Vec<WildMatch>,
    pub session_args: Vec<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    since_text: Option<String>,
    until_text: Option<String>,
    pub regions: BTreeSet<String>,
    pub accounts: BTreeSet<String>,
    user_agents: Vec<WildMatch>,
    pub user_agent_args: Vec<String>,
    pub include_service_events: bool,
}

impl Filter {
    /// Compiles the criteria.
    ///
    /// # Errors
    /// `(flag, value, reason)` for a principal that is not an ARN or an account that is not
    /// twelve digits.
    pub fn new(criteria: &Criteria<'_>) -> Result<Self, (&'static str, String, String)> {
        let mut principals = Vec::new();
        for arn in criteria.principals {
            if arn != "*" && !arn.starts_with("arn:") {
                return Err((
                    "principal",
                    arn.clone(),
                    "expected an IAM role or user ARN, e.g. arn:aws:iam::111122223333:role/ci-provisioner"
                        .to_owned(),
                ));
            }
            principals.push(WildMatch::new(arn));
            if let Some(short) = without_role_path(arn) {
                principals.push(WildMatch::new(&short));
            }
        }
        for account in criteria.accounts {
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err((
                    "account",
                    account.clone(),
                    "expected a 12-digit account id".to_owned(),
                ));
            }
        }
        Ok(Self {
            principals,
            principal_args: criteria.principals.to_vec(),
            sessions: criteria
                .sessions
                .iter()
                .map(|g| WildMatch::new(g))
                .collect(),
            session_args: criteria.sessions.to_vec(),
            since: criteria.since,
            until: criteria.until,
            since_text: criteria.since.map(|t| canonical(ceil_second(t))),
            until_text: criteria.until.map(canonical),
            regions: criteria.regions.iter().cloned().collect(),
            accounts: criteria.accounts.iter().cloned().collect(),
            user_agents: criteria
                .user_agents
                .iter()
                .map(|g| WildMatch::new(g))
                .collect(),
            user_agent_args: criteria.user_agents.to_vec(),
            include_service_events: criteria.include_service_events,
        })
    }

    /// Keeps the event, or says why not.
    ///
    /// # Errors
    /// The first exclusion that applies.
    pub fn check(&self, event: &Event<'_>, rules: &Rules) -> Result<(), Exclusion> {
        if !self.principals.is_empty() && !self.principal_matches(event) {
            return Err(Exclusion::OtherPrincipal);
        }
        if !self.in_window(&event.time)? {
            return Err(Exclusion::OutsideWindow);
        }
        let service_event = is_service_event(event, rules);
        if !service_event
            && (event
                .event_type
                .as_deref()
                .is_some_and(|t| t != "AwsApiCall")
                || event.category.as_deref() == Some("Insight"))
        {
            return Err(Exclusion::NotApiCall);
        }
        if service_event && !self.include_service_events {
            return Err(Exclusion::ServiceEvent);
        }
        if !self.sessions.is_empty() {
            let session = session_name(event).unwrap_or_default();
            if !self.sessions.iter().any(|glob| glob.matches(session)) {
                return Err(Exclusion::OtherSession);
            }
        }
        if !self.regions.is_empty()
            && !self.regions.contains(event.region.as_ref())
            && (!rules.is_global(&event.source) || event.region != rules.global_region)
        {
            return Err(Exclusion::OtherRegion);
        }
        if !self.accounts.is_empty() {
            let account = event
                .recipient_account
                .as_deref()
                .or(event.identity.account.as_deref())
                .unwrap_or_default();
            if !self.accounts.contains(account) {
                return Err(Exclusion::OtherAccount);
            }
        }
        if !self.user_agents.is_empty() {
            let agent = event.user_agent.as_deref().unwrap_or_default();
            if !self.user_agents.iter().any(|glob| glob.matches(agent)) {
                return Err(Exclusion::OtherUserAgent);
            }
        }
        Ok(())
    }

    /// The principal globs an event's issuer, caller or session's role is matched against:
    /// each `--principal`, and a role ARN with a path also without it (for a query engine
    /// to filter the same way).
    #[must_use]
    pub fn principal_globs(&self) -> Vec<String> {
        let mut globs = Vec::new();
        for arn in &self.principal_args {
            globs.push(arn.clone());
            globs.extend(without_role_path(arn));
        }
        globs
    }

    /// The window's ends as the canonical text event times are compared with.
    #[must_use]
    pub fn window_text(&self) -> (Option<&str>, Option<&str>) {
        (self.since_text.as_deref(), self.until_text.as_deref())
    }

    /// Literal text every record of the wanted principals contains — the role or user name,
    /// which both the session ARN and the issuer ARN carry — so records without it can be
    /// passed over undecoded. `None` when a principal has no usable literal (`*`).
    #[must_use]
    pub fn needles(&self) -> Option<Vec<String>> {
        if self.principal_args.is_empty() {
            return None;
        }
        self.principal_args
            .iter()
            .map(|arn| name_literal(arn))
            .collect()
    }

    /// Whether an event time lies in the window (both ends included). CloudTrail writes
    /// `YYYY-MM-DDTHH:MM:SSZ`, which compares as text; anything else is parsed.
    /// A time that does not parse is its own exclusion, not "outside".
    fn in_window(&self, time: &str) -> Result<bool, Exclusion> {
        if self.since_text.is_none() && self.until_text.is_none() {
            return Ok(true);
        }
        if is_canonical(time) {
            return Ok(self.since_text.as_deref().is_none_or(|since| time >= since)
                && self.until_text.as_deref().is_none_or(|until| time <= until));
        }
        let at = time.parse::<Timestamp>().map_err(|_| Exclusion::BadTime)?;
        Ok(
            self.since.is_none_or(|since| at >= since)
                && self.until.is_none_or(|until| at <= until),
        )
    }

    fn principal_matches(&self, event: &Event<'_>) -> bool {
        let identity = &event.identity;
        let derived = identity.arn.as_deref().and_then(role_of_session);
        [
            identity.issuer_arn.as_deref(),
            identity.arn.as_deref(),
            derived.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|candidate| self.principals.iter().any(|p| p.matches(candidate)))
    }
}

/// The longest literal run of a principal's name (`role/path/NAME`, `user/NAME`,
/// `assumed-role/NAME/SESSION`), if it is long enough to be selective.
fn name_literal(arn: &str) -> Option<String> {
    let resource = arn.rsplit(':').next()?;
    let mut parts = resource.split('/');
    let kind = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    let name = match kind {
        "assumed-role" => rest.first()?,
        "role" | "user" => rest.last()?,
        _ => return None,
    };
    name.split(['*', '?'])
        .max_by_key(|run| run.len())
        .filter(|run| run.len() >= 3)
        .map(str::to_owned)
}

/// Whether AWS made the call on its own behalf, not with the principal's credentials.
#[must_use]
pub fn is_service_event(event: &Event<'_>, rules: &Rules) -> bool {
    event.identity.kind.as_deref() == Some("AWSService")
        || event.event_type.as_deref() == Some("AwsServiceEvent")
        || event
            .identity
            .issuer_arn
            .as_deref()
            .is_some_and(|arn| rules.is_service_linked(arn))
}

/// The session name of an assumed-role caller.
#[must_use]
pub fn session_name<'e>(event: &'e Event<'_>) -> Option<&'e str> {
    let arn = event.identity.arn.as_deref()?;
    let (_, rest) = split_assumed_role(arn)?;
    rest.split_once('/').map(|(_, session)| session)
}

/// `arn.split_once(":assumed-role/")`, with a searcher built once: it runs on every event.
fn split_assumed_role(arn: &str) -> Option<(&str, &str)> {
    const MARK: &str = ":assumed-role/";
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(MARK));
    let at = FINDER.find(arn.as_bytes())?;
    Some((arn.get(..at)?, arn.get(at + MARK.len()..)?))
}

/// `arn:aws:sts::1:assumed-role/NAME/SESSION` → `arn:aws:iam::1:role/NAME`.
fn role_of_session(arn: &str) -> Option<String> {
    let (head, rest) = split_assumed_role(arn)?;
    let (name, _) = rest.split_once('/')?;
    let head = head.replacen(":sts:", ":iam:", 1);
    Some(format!("{head}:role/{name}"))
}

/// A role ARN with a path, without it: session ARNs do not carry role paths.
fn without_role_path(arn: &str) -> Option<String> {
    let (head, rest) = arn.split_once(":role/")?;
    let (_, name) = rest.rsplit_once('/')?;
    Some(format!("{head}:role/{name}"))
}

fn is_canonical(time: &str) -> bool {
    let b = time.as_bytes();
    b.len() == 20 && b.get(4) == Some(&b'-') && b.get(10) == Some(&b'T') && b.get(19) == Some(&b'Z')
}

fn canonical(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn ceil_second(at: Timestamp) -> Timestamp {
    if at.subsec_nanosecond() == 0 {
        at
    } else {
        Timestamp::from_second(at.as_second() + 1).unwrap_or(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Identity;
    use std::borrow::Cow;
    use test_case::test_case;

    const ROLE: &str = "arn:aws:iam::111122223333:role/ci-provisioner";

    fn event(kind: &str, arn: &str, issuer: Option<&str>) -> Event<'static> {
        Event {
            time: Cow::Borrowed("2026-11-20T10:15:00Z"),
            source: Cow::Borrowed("lambda.amazonaws.com"),
            name: Cow::Borrowed("CreateFunction20150331"),
            region: Cow::Borrowed("eu-west-1"),
            identity: Identity {
                kind: Some(Cow::Owned(kind.to_owned())),
                arn: Some(Cow::Owned(arn.to_owned())),
                account: Some(Cow::Borrowed("111122223333")),
                issuer_arn: issuer.map(|i| Cow::Owned(i.to_owned())),
                invoked_by: None,
            },
            event_type: Some(Cow::Borrowed("AwsApiCall")),
            user_agent: Some(Cow::Borrowed("APN/1.0 HashiCorp/1.0 Terraform/1.9.5")),
            ..Event::default()
        }
    }

    fn filter(principals: &[&str], sessions: &[&str], regions: &[&str]) -> Filter {
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Filter::new(&Criteria {
            principals: &owned(principals),
            sessions: &owned(sessions),
            since: Some("2026-11-20T10:00:00Z".parse().unwrap()),
            until: Some("2026-11-20T11:00:00Z".parse().unwrap()),
            regions: &owned(regions),
            ..Criteria::default()
        })
        .unwrap()
    }

    fn session() -> Event<'static> {
        event(
            "AssumedRole",
            "arn:aws:sts::111122223333:assumed-role/ci-provisioner/tf-run-7",
            Some(ROLE),
        )
    }

    #[test]
    fn a_role_arn_matches_every_session_of_the_role() {
        let rules = Rules::embedded().unwrap();
        assert_eq!(filter(&[ROLE], &[], &[]).check(&session(), rules), Ok(()));
        let other = event(
            "AssumedRole",
            "arn:aws:sts::111122223333:assumed-role/other/x",
            Some("arn:aws:iam::111122223333:role/other"),
        );
        assert_eq!(
            filter(&[ROLE], &[], &[]).check(&other, rules),
            Err(Exclusion::OtherPrincipal)
        );
    }

    #[test]
    fn a_role_matches_without_session_context_and_with_a_path() {
        let rules = Rules::embedded().unwrap();
        let bare = event(
            "AssumedRole",
            "arn:aws:sts::111122223333:assumed-role/ci-provisioner/s",
            None,
        );
        assert_eq!(filter(&[ROLE], &[], &[]).check(&bare, rules), Ok(()));
        let with_path = "arn:aws:iam::111122223333:role/deploy/ci-provisioner";
        assert_eq!(filter(&[with_path], &[], &[]).check(&bare, rules), Ok(()));
    }

    #[test_case("arn:aws:iam::111122223333:user/erik", true)]
    #[test_case("arn:aws:iam::*:user/er*", true)]
    #[test_case("arn:aws:iam::111122223333:user/someone", false)]
    fn user_arns_and_globs(pattern: &str, kept: bool) {
        let rules = Rules::embedded().unwrap();
        let user = event("IAMUser", "arn:aws:iam::111122223333:user/erik", None);
        assert_eq!(
            filter(&[pattern], &[], &[]).check(&user, rules).is_ok(),
            kept
        );
    }

    #[test]
    fn session_globs_narrow_role_sessions() {
        let rules = Rules::embedded().unwrap();
        assert!(
            filter(&[ROLE], &["tf-*"], &[])
                .check(&session(), rules)
                .is_ok()
        );
        assert_eq!(
            filter(&[ROLE], &["manual-*"], &[]).check(&session(), rules),
            Err(Exclusion::OtherSession)
        );
    }

    #[test]
    fn an_unparsable_event_time_is_not_counted_as_outside_the_window() {
        let rules = Rules::embedded().unwrap();
        let f = filter(&[], &[], &[]);
        let mut e = session();
        e.time = Cow::Borrowed("not a time");
        assert_eq!(f.check(&e, rules), Err(Exclusion::BadTime));
    }

    #[test]
    fn the_window_includes_both_ends_and_parses_odd_times() {
        let rules = Rules::embedded().unwrap();
        let f = filter(&[], &[], &[]);
        for (time, kept) in [
            ("2026-11-20T10:00:00Z", true),
            ("2026-11-20T11:00:00Z", true),
            ("2026-11-20T11:00:01Z", false),
            ("2026-11-20T09:59:59Z", false),
            ("2026-11-20T10:30:00.123Z", true),
            ("2026-11-20T12:30:00+02:00", true),
            ("not a time", false),
        ] {
            let mut e = session();
            e.time = Cow::Borrowed(time);
            assert_eq!(f.check(&e, rules).is_ok(), kept, "{time}");
        }
    }

    #[test]
    fn service_events_and_non_api_events_are_excluded() {
        let rules = Rules::embedded().unwrap();
        let f = filter(&[], &[], &[]);
        let service = event("AWSService", "", None);
        assert_eq!(f.check(&service, rules), Err(Exclusion::ServiceEvent));
        let linked = event(
            "AssumedRole",
            "arn:aws:sts::1:assumed-role/AWSServiceRoleForX/x",
            Some("arn:aws:iam::1:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX"),
        );
        assert_eq!(f.check(&linked, rules), Err(Exclusion::ServiceEvent));
        let mut signin = session();
        signin.event_type = Some(Cow::Borrowed("AwsConsoleSignIn"));
        assert_eq!(f.check(&signin, rules), Err(Exclusion::NotApiCall));
    }

    #[test]
    fn forward_access_calls_made_with_the_principals_credentials_are_kept() {
        let rules = Rules::embedded().unwrap();
        let mut via_s3 = session();
        via_s3.identity.invoked_by = Some(Cow::Borrowed("s3.amazonaws.com"));
        assert_eq!(filter(&[ROLE], &[], &[]).check(&via_s3, rules), Ok(()));
    }

    #[test]
    fn a_region_filter_keeps_global_service_events() {
        let rules = Rules::embedded().unwrap();
        let f = filter(&[], &[], &["eu-west-1"]);
        assert!(f.check(&session(), rules).is_ok());
        let mut iam = session();
        iam.source = Cow::Borrowed("iam.amazonaws.com");
        iam.region = Cow::Borrowed("us-east-1");
        assert!(f.check(&iam, rules).is_ok());
        let mut elsewhere = session();
        elsewhere.region = Cow::Borrowed("us-east-1");
        assert_eq!(f.check(&elsewhere, rules), Err(Exclusion::OtherRegion));
    }

    #[test_case(&["arn:aws:iam::1:role/ci-provisioner"], Some(vec!["ci-provisioner"]))]
    #[test_case(&["arn:aws:iam::1:role/deploy/ci-provisioner"], Some(vec!["ci-provisioner"]))]
    #[test_case(&["arn:aws:iam::*:role/ci-*"], Some(vec!["ci-"]))]
    #[test_case(&["arn:aws:iam::1:user/erik", "arn:aws:sts::1:assumed-role/deployer/s"], Some(vec!["erik", "deployer"]))]
    #[test_case(&["arn:aws:iam::1:role/*"], None)]
    #[test_case(&["*"], None)]
    #[test_case(&[], None)]
    fn needles_are_the_principal_names(principals: &[&str], expected: Option<Vec<&str>>) {
        let f = filter(principals, &[], &[]);
        assert_eq!(
            f.needles(),
            expected.map(|v| v.into_iter().map(str::to_owned).collect())
        );
    }

    #[test]
    fn principals_must_be_arns() {
        let bad = ["ci-provisioner".to_owned()];
        let result = Filter::new(&Criteria {
            principals: &bad,
            ..Criteria::default()
        });
        assert!(result.is_err());
    }
}
