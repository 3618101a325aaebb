//! One kind of denial: what the report keys it by, the calls behind it and what else AWS
//! said of them, and what can be done about it.

use std::collections::{BTreeMap, BTreeSet};

use crate::resource::tree::Tree;
use crate::seen::Seen;

/// What the report keys a denial by.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub source: Box<str>,
    pub name: Box<str>,
    /// In the reference's spelling when it has the action, else as AWS wrote it.
    pub action: Option<Box<str>>,
    pub resource: Option<Box<str>>,
    /// The denial named more distinct resources than the tally lists one by one: they are
    /// all in the entry's [`Entry::resources`], and `resource` is `None`.
    pub folded: bool,
    pub decided_by: Option<Box<str>>,
    pub explicit: Option<bool>,
    pub policy_arn: Option<Box<str>>,
}

impl Key {
    /// The folded key of this one's group: the same call, action and verdict, whatever
    /// resource it named.
    #[must_use]
    pub fn group(&self) -> Self {
        Self {
            resource: None,
            folded: true,
            ..self.clone()
        }
    }
}

/// The calls behind one key, and what else AWS said of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    pub seen: Seen,
    /// The action is in the IAM reference.
    pub known: bool,
    /// The kind of policy is the principal's own identity-based policies.
    pub identity: bool,
    /// AWS's message (or, for a decoded one, what STS said), of the earliest call: (time,
    /// text).
    pub message: Option<(String, String)>,
    /// The authorization id of the latest call that had one: (time, id).
    pub authorization_id: Option<(String, String)>,
    /// Calls whose message only STS can read, not decoded; why not → calls.
    pub encoded: BTreeMap<String, u64>,
    /// Calls whose message said nothing of why.
    pub unexplained: u64,
    /// Words naming a kind of policy the table does not know.
    pub unknown_policies: BTreeSet<String>,
    /// The second policy of chained denials.
    pub through: BTreeSet<String>,
    /// Statements a decoded message said matched.
    pub statements: BTreeSet<String>,
    /// For a folded key: every resource it named, as a capped prefix tree (empty otherwise).
    pub resources: Tree,
}

/// What can be done about a denial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// An implicit deny by the identity-based policy: the grant goes into the policy.
    Fixable,
    /// Refused by another policy, or by an explicit deny: no identity policy makes it
    /// succeed.
    Refused,
    /// AWS named the action but not the kind of policy (or a kind not in the table).
    Undecided,
    /// A fixable denial of an action the IAM reference does not have: reported, not added.
    NotInReference,
    /// No action named: the message said nothing of why, or only STS can read it.
    Unnamed,
}

impl Entry {
    /// What can be done about the denials of `key`.
    #[must_use]
    pub fn class(&self, key: &Key) -> Class {
        if key.action.is_none() {
            Class::Unnamed
        } else if key.explicit == Some(true) || (key.decided_by.is_some() && !self.identity) {
            Class::Refused
        } else if self.identity && key.explicit == Some(false) {
            if self.known {
                Class::Fixable
            } else {
                Class::NotInReference
            }
        } else {
            Class::Undecided
        }
    }

    /// The error code most of its calls returned (the first by name on a tie).
    #[must_use]
    pub fn error_code(&self) -> &str {
        self.seen
            .errors
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map_or("", |(code, _)| code.as_str())
    }

    pub(super) fn note_message(&mut self, time: &str, text: &str) {
        let earlier = self
            .message
            .as_ref()
            .is_none_or(|(t, m)| (time, text) < (t.as_str(), m.as_str()));
        if earlier {
            self.message = Some((time.to_owned(), text.to_owned()));
        }
    }

    pub(super) fn note_authorization_id(&mut self, time: &str, id: &str) {
        let later = self
            .authorization_id
            .as_ref()
            .is_none_or(|(t, i)| (time, id) > (t.as_str(), i.as_str()));
        if later {
            self.authorization_id = Some((time.to_owned(), id.to_owned()));
        }
    }

    /// Takes in `other`'s calls; `fanout` as the resource tree takes it.
    pub(super) fn merge(&mut self, other: Self, fanout: usize) {
        if let Some((time, text)) = &other.message {
            self.note_message(time, text);
        }
        if let Some((time, id)) = &other.authorization_id {
            self.note_authorization_id(time, id);
        }
        self.seen.merge(other.seen);
        self.known |= other.known;
        self.identity |= other.identity;
        for (why, n) in other.encoded {
            *self.encoded.entry(why).or_default() += n;
        }
        self.unexplained += other.unexplained;
        self.unknown_policies.extend(other.unknown_policies);
        self.through.extend(other.through);
        self.statements.extend(other.statements);
        self.resources.merge(other.resources, fanout);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case(Some(true), Some("identity-based"), true, Class::Refused ; "explicit identity")]
    #[test_case(Some(false), Some("service control"), false, Class::Refused ; "implicit scp")]
    #[test_case(Some(false), Some("identity-based"), true, Class::Fixable ; "implicit identity")]
    #[test_case(None, None, false, Class::Undecided ; "no context")]
    #[test_case(Some(false), None, false, Class::Undecided ; "implicit, kind not given")]
    #[test_case(Some(true), None, false, Class::Refused ; "explicit, kind not given")]
    fn what_can_be_done_follows_what_aws_said(
        explicit: Option<bool>,
        decided_by: Option<&str>,
        identity: bool,
        class: Class,
    ) {
        let key = Key {
            action: Some("iam:PassRole".into()),
            decided_by: decided_by.map(Into::into),
            explicit,
            ..Key::default()
        };
        let entry = Entry {
            known: true,
            identity,
            ..Entry::default()
        };
        assert_eq!(entry.class(&key), class);
        assert_eq!(entry.class(&Key::default()), Class::Unnamed);
    }
}
