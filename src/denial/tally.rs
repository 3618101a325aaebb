//! Every denial of a run, by what AWS said of it: one entry per distinct (event source, event
//! name, action, resource, kind of policy, explicit, policy ARN), with its calls and times.
//! A kind of denial that names more than [`LISTED`] distinct resources folds them into one
//! entry, as a capped prefix tree like the scan's, so memory follows distinct patterns, not
//! distinct denied objects. Encoded messages wait, one per distinct message, until they are
//! decoded (or not).

use std::collections::{BTreeMap, BTreeSet};

use super::entry::{Class, Entry, Key};
use super::message::{Named, Verdict};
use super::table::Table;
use crate::mapping::Mapper;
use crate::resource::tree::FANOUT;
use crate::seen::Seen;

/// Most distinct encoded messages kept for decoding; the rest are counted as encoded.
pub const PENDING_LIMIT: usize = 4_096;

/// Most distinct resources one kind of denial (the same call, action and verdict) lists one
/// by one; one more and all of them fold into one entry (the scan's cap, `FANOUT`).
pub const LISTED: usize = FANOUT;

/// Why an encoded message was not decoded when `--decode-denials` was not given.
pub const NOT_ASKED: &str = "rerun with --decode-denials";

/// Every denial of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Denials {
    pub entries: BTreeMap<Key, Entry>,
    pending: Pending,
    /// Distinct resources listed one by one, per group not folded yet ([`Key::group`]).
    listed: BTreeMap<Key, usize>,
    /// Most children a node of a folded entry's tree lists ([`FANOUT`] when 0): the scan's,
    /// so `--resources exact` keeps the ARNs a denial named as it keeps the calls'.
    fanout: usize,
}

/// Encoded messages waiting for [`Denials::settle`]: (source, name, message) → calls.
type Pending = BTreeMap<(Box<str>, Box<str>, Box<str>), Seen>;

impl Denials {
    /// Adds the calls `seen` of one event source and name whose message (if any) is
    /// `message`: the message is read, its action looked up in the reference.
    pub fn add(
        &mut self,
        (source, name): (&str, &str),
        message: Option<&str>,
        seen: Seen,
        mapper: &Mapper,
    ) {
        let Ok(table) = Table::embedded() else {
            return;
        };
        let verdict = message.map_or(Verdict::Unexplained, |m| super::message::parse(m, table));
        match verdict {
            Verdict::Named(named) => {
                let (time, latest) = (seen.first.clone(), seen.last.clone());
                let (key, mut entry) = named_entry((source, name), &named, seen, mapper);
                if let Some(text) = message {
                    entry.note_message(&time, text);
                }
                if let Some(id) = &named.authorization_id {
                    entry.note_authorization_id(&latest, id);
                }
                self.file(key, entry);
            }
            Verdict::Encoded(encoded) => {
                let key = (source.into(), name.into(), encoded.into_boxed_str());
                if self.pending.len() < PENDING_LIMIT || self.pending.contains_key(&key) {
                    self.pending.entry(key).or_default().merge(seen);
                } else {
                    let why = format!(
                        "more than {PENDING_LIMIT} distinct encoded messages: not kept for decoding"
                    );
                    let count = seen.count;
                    *self
                        .unnamed((source, name), seen)
                        .encoded
                        .entry(why)
                        .or_default() += count;
                }
            }
            Verdict::Unexplained => {
                let (time, count) = (seen.first.clone(), seen.count);
                let entry = self.unnamed((source, name), seen);
                entry.unexplained += count;
                if let Some(text) = message {
                    entry.note_message(&time, text);
                }
            }
        }
    }

    /// Raises the fanout of folded entries' trees to the scan's (`--resources exact`).
    pub fn raise_fanout(&mut self, fanout: usize) {
        self.fanout = self.fanout.max(fanout);
    }

    fn fanout(&self) -> usize {
        self.fanout.max(FANOUT)
    }

    /// Files one entry under `key`. A resource its group has not listed yet is listed, until
    /// the group lists more than [`LISTED`]: then the group folds, and every later resource
    /// goes into the folded entry. Whether a group folds depends only on how many distinct
    /// resources it named, so the result is the same in any order of calls and merges.
    fn file(&mut self, key: Key, mut entry: Entry) {
        let Some(resource) = key.resource.as_deref() else {
            let (folds, group, fanout) = (key.folded, key.group(), self.fanout());
            self.entries.entry(key).or_default().merge(entry, fanout);
            if folds {
                self.fold(&group);
            }
            return;
        };
        let (group, fanout) = (key.group(), self.fanout());
        if let Some(folded) = self.entries.get_mut(&group) {
            entry.resources.insert(resource, fanout);
            folded.merge(entry, fanout);
            return;
        }
        if let Some(mine) = self.entries.get_mut(&key) {
            mine.merge(entry, fanout);
            return;
        }
        self.entries.insert(key, entry);
        let listed = self.listed.entry(group.clone()).or_default();
        *listed += 1;
        if *listed > LISTED {
            self.fold(&group);
        }
    }

    /// Folds every resource `group` lists one by one into its folded entry.
    fn fold(&mut self, group: &Key) {
        self.listed.remove(group);
        // A group's keys share source, name and action, and sort from the one without
        // resource and verdict (`Key::default()`'s fields) on.
        let start = Key {
            source: group.source.clone(),
            name: group.name.clone(),
            action: group.action.clone(),
            ..Key::default()
        };
        let listed: Vec<Key> = self
            .entries
            .range(start..)
            .map(|(key, _)| key)
            .take_while(|key| {
                (&key.source, &key.name, &key.action) == (&group.source, &group.name, &group.action)
            })
            .filter(|key| key.resource.is_some() && key.group() == *group)
            .cloned()
            .collect();
        let fanout = self.fanout();
        let mut folded = self.entries.remove(group).unwrap_or_default();
        for key in listed {
            if let (Some(mut entry), Some(resource)) = (self.entries.remove(&key), key.resource) {
                entry.resources.insert(&resource, fanout);
                folded.merge(entry, fanout);
            }
        }
        self.entries.insert(group.clone(), folded);
    }

    fn unnamed_entry(&mut self, (source, name): (&str, &str)) -> &mut Entry {
        self.entries
            .entry(Key {
                source: source.into(),
                name: name.into(),
                ..Key::default()
            })
            .or_default()
    }

    /// The entry of the calls of `source` and `name` whose message named no action.
    fn unnamed(&mut self, call: (&str, &str), seen: Seen) -> &mut Entry {
        let entry = self.unnamed_entry(call);
        entry.seen.merge(seen);
        entry
    }

    /// Merges another worker's denials.
    pub fn merge(&mut self, other: Self) {
        self.raise_fanout(other.fanout);
        for (key, entry) in other.entries {
            self.file(key, entry);
        }
        for (key, seen) in other.pending {
            self.pending.entry(key).or_default().merge(seen);
        }
    }

    /// The distinct encoded messages waiting to be decoded, in order.
    #[must_use]
    pub fn pending(&self) -> Vec<String> {
        let messages: BTreeSet<&str> = self.pending.keys().map(|(_, _, m)| &**m).collect();
        messages.into_iter().map(str::to_owned).collect()
    }

    /// Files every encoded message: `decoded` holds what STS made of each one decoded (its
    /// verdict, or why it could not be decoded); one not in it was not asked about.
    pub fn settle(&mut self, decoded: &BTreeMap<String, Result<Verdict, String>>, mapper: &Mapper) {
        for ((source, name, message), seen) in std::mem::take(&mut self.pending) {
            let call = (&*source, &*name);
            match decoded.get(&*message) {
                Some(Ok(Verdict::Named(named))) => {
                    let (time, text) = (seen.first.clone(), describe(named));
                    let (key, mut entry) = named_entry(call, named, seen, mapper);
                    entry.note_message(&time, &text);
                    self.file(key, entry);
                }
                Some(Ok(_)) => {
                    let count = seen.count;
                    self.unnamed(call, seen).unexplained += count;
                }
                Some(Err(why)) => {
                    let count = seen.count;
                    *self
                        .unnamed(call, seen)
                        .encoded
                        .entry(why.clone())
                        .or_default() += count;
                }
                None => {
                    let count = seen.count;
                    *self
                        .unnamed(call, seen)
                        .encoded
                        .entry(NOT_ASKED.to_owned())
                        .or_default() += count;
                }
            }
        }
    }

    /// The entries of one class.
    pub fn of(&self, class: Class) -> impl Iterator<Item = (&Key, &Entry)> {
        self.entries
            .iter()
            .filter(move |(key, entry)| entry.class(key) == class)
    }

    /// Calls refused by other policies (what `--strict` fails on).
    #[must_use]
    pub fn refused(&self) -> u64 {
        self.of(Class::Refused).map(|(_, e)| e.seen.count).sum()
    }

    /// Calls whose encoded message STS was asked to decode and did not (what `--strict`
    /// fails on).
    #[must_use]
    pub fn undecoded(&self) -> u64 {
        self.entries
            .values()
            .flat_map(|e| &e.encoded)
            .filter(|(why, _)| *why != NOT_ASKED)
            .map(|(_, n)| n)
            .sum()
    }
}

/// The key and entry of the calls `seen` whose message named an action.
fn named_entry(
    (source, name): (&str, &str),
    named: &Named,
    seen: Seen,
    mapper: &Mapper,
) -> (Key, Entry) {
    // A decoded message may give the action without its service (`RunInstances`).
    let qualified = if named.action.contains(':') {
        named.action.clone()
    } else {
        format!(
            "{}:{}",
            mapper.prefix_of(source).unwrap_or(source),
            named.action
        )
    };
    let canonical = mapper
        .reference()
        .action(&qualified)
        .map(|(service, action)| format!("{}:{}", service.prefix, action.name));
    let key = Key {
        source: source.into(),
        name: name.into(),
        action: Some(canonical.as_deref().unwrap_or(&qualified).into()),
        resource: named.resource.as_deref().map(Into::into),
        folded: false,
        decided_by: named.decided_by.as_deref().map(Into::into),
        explicit: named.explicit,
        policy_arn: named.policy_arn.as_deref().map(Into::into),
    };
    let entry = Entry {
        seen,
        known: canonical.is_some(),
        identity: named.identity,
        unknown_policies: named.unknown_policy.iter().cloned().collect(),
        through: named.through.iter().cloned().collect(),
        statements: named.statements.iter().cloned().collect(),
        ..Entry::default()
    };
    (key, entry)
}

/// A decoded verdict in words, for `explain` (AWS's own message is the encoded text).
fn describe(named: &Named) -> String {
    let mut text = format!(
        "decoded by STS DecodeAuthorizationMessage: {}",
        named.action
    );
    if let Some(resource) = &named.resource {
        text.push_str(" on ");
        text.push_str(resource);
    }
    text.push_str(match named.explicit {
        Some(true) => ", an explicit deny",
        Some(false) => ", no statement allows it",
        None => "",
    });
    if !named.statements.is_empty() {
        text.push_str(" (statements ");
        text.push_str(&named.statements.join(", "));
        text.push(')');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Event;

    fn mapper() -> Mapper {
        Mapper::embedded().unwrap()
    }

    fn seen(time: &str, code: &str) -> Seen {
        let mut seen = Seen::default();
        seen.add(&Event {
            time: time.to_owned().into(),
            region: "eu-west-1".into(),
            error_code: Some(code.to_owned().into()),
            ..Event::default()
        });
        seen
    }

    const PASS_ROLE: &str = "User: arn:aws:sts::111122223333:assumed-role/deployer/ci is not authorized to perform: iam:PassRole on resource: arn:aws:iam::111122223333:role/app-ec2 because no identity-based policy allows the iam:PassRole action";
    const RUN: (&str, &str) = ("ec2.amazonaws.com", "RunInstances");

    #[test]
    fn the_same_verdict_is_one_entry_with_every_call_and_the_earliest_message() {
        let mut denials = Denials::default();
        let m = mapper();
        for time in ["2026-11-20T10:04:00Z", "2026-11-20T10:01:00Z"] {
            denials.add(
                RUN,
                Some(PASS_ROLE),
                seen(time, "Client.UnauthorizedOperation"),
                &m,
            );
        }
        let (key, entry) = denials.entries.iter().next().unwrap();
        assert_eq!(denials.entries.len(), 1);
        assert_eq!(key.action.as_deref(), Some("iam:PassRole"));
        assert_eq!(entry.seen.count, 2);
        assert_eq!(entry.seen.first, "2026-11-20T10:01:00Z");
        assert_eq!(entry.seen.last, "2026-11-20T10:04:00Z");
        assert_eq!(entry.class(key), Class::Fixable);
        assert_eq!(entry.error_code(), "Client.UnauthorizedOperation");
    }

    #[test]
    fn actions_are_spelled_as_the_reference_spells_them() {
        let mut denials = Denials::default();
        let m = mapper();
        let message = |action: &str| {
            format!(
                "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: {action} on resource: arn:aws:sns:us-east-1:1:t because no identity-based policy allows the {action} action"
            )
        };
        let call = ("sns.amazonaws.com", "Publish");
        denials.add(
            call,
            Some(&message("SNS:Publish")),
            seen("t1", "AuthorizationError"),
            &m,
        );
        denials.add(
            call,
            Some(&message("sns:publish")),
            seen("t2", "AuthorizationError"),
            &m,
        );
        denials.add(
            call,
            Some(&message("sns:NoSuchAction")),
            seen("t3", "AuthorizationError"),
            &m,
        );
        let actions: Vec<(Option<&str>, Class)> = denials
            .entries
            .iter()
            .map(|(k, e)| (k.action.as_deref(), e.class(k)))
            .collect();
        assert_eq!(
            actions,
            [
                (Some("sns:NoSuchAction"), Class::NotInReference),
                (Some("sns:Publish"), Class::Fixable)
            ]
        );
    }

    const ENCODED: &str =
        "You are not authorized to perform this operation. Encoded authorization failure message: ";

    #[test]
    fn encoded_messages_wait_and_are_filed_by_what_sts_said() {
        let m = mapper();
        let mut denials = Denials::default();
        for (n, code) in ["abc", "def", "ghi", "jkl"].iter().enumerate() {
            let time = format!("2026-11-20T10:0{n}:00Z");
            let message = format!("{ENCODED}{code}");
            denials.add(
                RUN,
                Some(&message),
                seen(&time, "Client.UnauthorizedOperation"),
                &m,
            );
        }
        assert_eq!(denials.pending(), ["abc", "def", "ghi", "jkl"]);
        let decoded: BTreeMap<String, Result<Verdict, String>> = [
            (
                "abc".to_owned(),
                Ok(Verdict::Named(Named {
                    action: "RunInstances".to_owned(),
                    resource: Some("arn:aws:ec2:us-east-1:1:instance/*".to_owned()),
                    explicit: Some(true),
                    statements: vec!["VisualEditor0".to_owned()],
                    ..Named::default()
                })),
            ),
            ("def".to_owned(), Err("STS: AccessDenied".to_owned())),
            ("ghi".to_owned(), Ok(Verdict::Unexplained)),
        ]
        .into_iter()
        .collect();
        denials.settle(&decoded, &m);
        assert!(denials.pending().is_empty());
        let (named_key, named) = denials
            .entries
            .iter()
            .find(|(k, _)| k.action.is_some())
            .unwrap();
        // A decoded action without its service takes the call's.
        assert_eq!(named_key.action.as_deref(), Some("ec2:RunInstances"));
        assert_eq!(named.class(named_key), Class::Refused);
        assert!(named.statements.contains("VisualEditor0"));
        assert!(
            named
                .message
                .as_ref()
                .unwrap()
                .1
                .starts_with("decoded by STS")
        );
        let unnamed = denials.entries.get(&Key {
            source: RUN.0.into(),
            name: RUN.1.into(),
            ..Key::default()
        });
        let unnamed = unnamed.unwrap();
        assert_eq!(unnamed.unexplained, 1);
        assert_eq!(
            unnamed.encoded,
            BTreeMap::from([
                ("STS: AccessDenied".to_owned(), 1),
                (NOT_ASKED.to_owned(), 1)
            ])
        );
        assert_eq!(denials.undecoded(), 1);
        assert_eq!(denials.refused(), 1);
    }

    #[test]
    fn merging_in_either_order_gives_the_same_denials() {
        let m = mapper();
        let (mut a, mut b) = (Denials::default(), Denials::default());
        a.add(
            RUN,
            Some(PASS_ROLE),
            seen("2026-11-20T10:05:00Z", "Client.UnauthorizedOperation"),
            &m,
        );
        a.add(
            RUN,
            Some(&format!("{ENCODED}x")),
            seen("2026-11-20T10:05:00Z", "Client.UnauthorizedOperation"),
            &m,
        );
        b.add(
            RUN,
            Some(PASS_ROLE),
            seen("2026-11-20T10:01:00Z", "UnauthorizedOperation"),
            &m,
        );
        b.add(
            RUN,
            Some("Access Denied"),
            seen("2026-11-20T10:02:00Z", "AccessDenied"),
            &m,
        );
        let (mut ab, mut ba) = (a.clone(), b.clone());
        ab.merge(b);
        ba.merge(a);
        assert_eq!(ab, ba);
        assert_eq!(ab.entries.len(), 2);
    }

    #[test]
    fn encoded_messages_past_the_limit_are_counted_not_kept() {
        let m = mapper();
        let mut denials = Denials::default();
        for n in 0..=PENDING_LIMIT {
            let message = format!("{ENCODED}m{n}");
            denials.add(RUN, Some(&message), seen("t", "UnauthorizedOperation"), &m);
        }
        assert_eq!(denials.pending().len(), PENDING_LIMIT);
        denials.settle(&BTreeMap::new(), &m);
        let counted: u64 = denials
            .entries
            .values()
            .flat_map(|e| e.encoded.values())
            .sum();
        assert_eq!(counted, PENDING_LIMIT as u64 + 1);
    }

    /// A fixable GetObject denial on `key` in bucket `app-data`.
    fn get_object(key: &str) -> String {
        format!(
            "User: arn:aws:sts::111122223333:assumed-role/app/s is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::app-data/{key} because no identity-based policy allows the s3:GetObject action"
        )
    }

    const GET: (&str, &str) = ("s3.amazonaws.com", "GetObject");

    #[test]
    fn a_denial_naming_many_resources_folds_them_into_one_bounded_entry() {
        let m = mapper();
        let mut denials = Denials::default();
        for n in 0..LISTED {
            denials.add(
                GET,
                Some(&get_object(&format!("k/{n}"))),
                seen("t", "AccessDenied"),
                &m,
            );
        }
        // Up to the limit, each resource is its own entry.
        assert_eq!(denials.entries.len(), LISTED);
        assert!(
            denials
                .entries
                .keys()
                .all(|k| !k.folded && k.resource.is_some())
        );
        for n in LISTED..10_000 {
            denials.add(
                GET,
                Some(&get_object(&format!("k/{n}"))),
                seen("t", "AccessDenied"),
                &m,
            );
        }
        assert_eq!(denials.entries.len(), 1);
        let (key, entry) = denials.entries.iter().next().unwrap();
        assert!(key.folded);
        assert_eq!(key.resource, None);
        assert_eq!(key.action.as_deref(), Some("s3:GetObject"));
        assert_eq!(entry.class(key), Class::Fixable);
        assert_eq!(entry.seen.count, 10_000);
        let resources = entry.resources.entries();
        assert_eq!(resources.len(), 1, "{resources:?}");
        assert_eq!(resources[0].arn, "arn:aws:s3:::app-data/k/*");
        assert!(
            (9_000..11_000).contains(&resources[0].count),
            "{}",
            resources[0].count
        );
        assert_eq!(resources[0].sample.len(), crate::resource::tree::SAMPLE);
        assert!(denials.listed.is_empty());
    }

    /// Every way of splitting a run's denials over workers and merging them back gives the
    /// same tally as adding them one by one.
    #[test]
    fn folding_is_the_same_in_any_order_of_calls_and_merges() {
        use proptest::prelude::*;
        let m = mapper();
        // 256 cases, or `PROPTEST_CASES`.
        proptest!(ProptestConfig::default(), |(keys in proptest::collection::vec(0..150_u32, 0..200), split in any::<u64>())| {
            let add = |denials: &mut Denials, n: u32| {
                denials.add(GET, Some(&get_object(&format!("k/{n}"))), seen("t", "AccessDenied"), &m);
            };
            let mut whole = Denials::default();
            let (mut a, mut b) = (Denials::default(), Denials::default());
            for (i, &n) in keys.iter().enumerate() {
                add(&mut whole, n);
                add(if split >> (i % 64) & 1 == 1 { &mut a } else { &mut b }, n);
            }
            let (mut ab, mut ba) = (a.clone(), b.clone());
            ab.merge(b);
            ba.merge(a);
            prop_assert_eq!(&ab, &whole);
            prop_assert_eq!(&ba, &whole);
            let distinct: std::collections::BTreeSet<u32> = keys.iter().copied().collect();
            let folded = distinct.len() > LISTED;
            prop_assert_eq!(whole.entries.keys().any(|k| k.folded), folded);
            prop_assert_eq!(whole.entries.len(), if folded { 1 } else { distinct.len() });
        });
    }
}
