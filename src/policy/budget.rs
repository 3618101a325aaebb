//! Fits the policy into IAM's quotas: documents of at most 6,144 characters (whitespace not
//! counted) and at most `--max-policies` of them. Split along service boundaries, then by
//! statements, then a statement by its actions; when that is not enough, resources collapse
//! further (a coarser pattern, then the type's wildcard), each step named; when nothing
//! fits, the run says what to narrow.

use std::fmt::Write as _;

use super::{Built, Conditions, Policy, Statement};
use crate::evidence::Discovery;
use crate::mapping::Mapper;
use crate::resource::collapse::Level;
use crate::resource::{Mode, Scoping};

/// Managed policies a role may have attached by default (IAM quota).
pub const MAX_POLICIES: usize = 10;

/// The quotas a policy must fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Characters per document, whitespace not counted.
    pub size: usize,
    /// Documents.
    pub documents: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            size: super::MANAGED_POLICY_LIMIT,
            documents: MAX_POLICIES,
        }
    }
}

/// A policy that does not fit, even collapsed as far as allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct DoesNotFit {
    pub budget: Budget,
    /// Documents needed at the last step.
    pub documents: usize,
    /// The largest document's size at the last step.
    pub largest: usize,
    /// `--resources exact`: nothing was collapsed.
    pub exact: bool,
}

impl DoesNotFit {
    fn message(&self) -> String {
        let mut text = format!(
            "the policy does not fit IAM's quotas: it needs {} documents (the largest {} characters without whitespace) where at most {} of at most {} characters are allowed (--max-policies, --max-policy-size)",
            self.documents, self.largest, self.budget.documents, self.budget.size
        );
        if self.exact {
            text.push_str(
                "; --resources exact lists every ARN as observed and never collapses: use --resources scoped (the default) to collapse them to patterns, or",
            );
        } else {
            text.push_str(
                "; even with every resource type collapsed to its wildcard. Narrow what the policy is for:",
            );
        }
        let _ = write!(
            text,
            " narrow the run to one principal (--principal ARN), a shorter window (--since/--until), or fewer services (one role per group of services, --region, --account)"
        );
        text
    }
}

/// The size IAM counts of any policy document: its JSON without whitespace.
#[must_use]
pub fn size_of(document: &serde_json::Value) -> usize {
    serde_json::to_string(document).map_or(0, |json| {
        json.chars().filter(|c| !c.is_whitespace()).count()
    })
}

/// The policy as it fits, with the steps taken to make it fit.
#[derive(Debug, Clone)]
pub struct Fitted {
    pub built: Built,
    pub documents: Vec<Policy>,
    /// Each collapse beyond the narrowest patterns, named.
    pub steps: Vec<String>,
    /// Set when even the last step does not fit: no document may be written.
    pub refused: Option<DoesNotFit>,
}

/// Builds the policy and fits it into `budget`, collapsing further step by step.
#[must_use]
pub fn fit(
    discovery: &Discovery,
    mapper: &Mapper,
    scoping: &Scoping,
    conditions: Conditions,
    budget: Budget,
) -> Fitted {
    let exact = scoping.collapsing.max.is_none() || scoping.mode != Mode::Scoped;
    let levels: &[Level] = if exact {
        &[Level::Narrowest]
    } else {
        &[Level::Narrowest, Level::Root, Level::Type]
    };
    let mut steps = Vec::new();
    let mut last = None;
    for (n, level) in levels.iter().enumerate() {
        let mut scoping = scoping.clone();
        scoping.collapsing.level = *level;
        let built = Policy::build(discovery, mapper, &scoping, conditions);
        let documents = built.policy.clone().split(budget.size);
        let largest = documents.iter().map(Policy::size).max().unwrap_or(0);
        // `--resources exact` cannot list ARNs the scan only kept as a pattern.
        let unlisted = scoping.mode == Mode::Exact
            && discovery.actions.values().any(|e| !e.scanned.is_empty());
        if documents.len() <= budget.documents && largest <= budget.size && !unlisted {
            return Fitted {
                built,
                documents,
                steps,
                refused: None,
            };
        }
        if let Some(next) = levels.get(n + 1) {
            steps.push(format!(
                "with {} the policy needs {} documents, the largest {largest} characters: collapsed further to {}",
                level.label(),
                documents.len(),
                next.label()
            ));
        }
        last = Some((built, documents, largest));
    }
    let (built, documents, largest) = last.unwrap_or_else(|| {
        let built = Policy::build(discovery, mapper, scoping, conditions);
        let documents = built.policy.clone().split(budget.size);
        (built, documents, 0)
    });
    let refused = DoesNotFit {
        budget,
        documents: documents.len(),
        largest,
        exact: scoping.mode == Mode::Exact,
    };
    Fitted {
        built,
        documents,
        steps,
        refused: Some(refused),
    }
}

impl Policy {
    /// Splits into documents of at most `limit` characters, keeping each service's
    /// statements together where they fit, then statement by statement; a statement over
    /// the limit on its own is split by its actions. One action whose resources alone are
    /// over the limit stays alone (and over it: [`fit`] collapses further).
    #[must_use]
    pub fn split(self, limit: usize) -> Vec<Self> {
        if self.size() <= limit {
            return vec![self];
        }
        let mut services: Vec<Vec<Statement>> = Vec::new();
        let mut last_prefix = String::new();
        for statement in self.statements {
            let prefix = statement
                .actions
                .first()
                .and_then(|a| a.split(':').next())
                .unwrap_or_default()
                .to_owned();
            if prefix != last_prefix || services.is_empty() {
                services.push(Vec::new());
                last_prefix = prefix;
            }
            if let Some(group) = services.last_mut() {
                group.push(statement);
            }
        }
        let empty = || Self {
            version: "2012-10-17",
            statements: Vec::new(),
        };
        let mut documents = vec![empty()];
        for group in services {
            let fits = |doc: &Self, extra: &[Statement]| {
                let mut trial = doc.clone();
                trial.statements.extend_from_slice(extra);
                trial.size() <= limit
            };
            let current = documents.len() - 1;
            if fits(&documents[current], &group) {
                documents[current].statements.extend(group);
                continue;
            }
            if !documents[current].statements.is_empty() && fits(&empty(), &group) {
                documents.push(empty());
                let last = documents.len() - 1;
                documents[last].statements.extend(group);
                continue;
            }
            for statement in group.into_iter().flat_map(|s| s.pieces(limit)) {
                let current = documents.len() - 1;
                if !documents[current].statements.is_empty()
                    && !fits(&documents[current], std::slice::from_ref(&statement))
                {
                    documents.push(empty());
                }
                let last = documents.len() - 1;
                documents[last].statements.push(statement);
            }
        }
        documents
    }
}

impl Statement {
    /// The statement as statements of at most `limit` characters each (alone in a
    /// document), its actions shared out in order; numbered Sids when it takes several.
    fn pieces(self, limit: usize) -> Vec<Self> {
        let alone = |statement: &Self| {
            Policy {
                version: "2012-10-17",
                statements: vec![statement.clone()],
            }
            .size()
        };
        if self.actions.len() < 2 || alone(&self) <= limit {
            return vec![self];
        }
        // Measured with the longest Sid a piece may get, so renaming keeps each within.
        let measured = Self {
            sid: format!("{}Part999", self.sid),
            actions: Vec::new(),
            ..self.clone()
        };
        let mut pieces: Vec<Self> = Vec::new();
        for action in &self.actions {
            let grown = pieces.last().map(|last| {
                let mut trial = last.clone();
                trial.actions.push(action.clone());
                trial
            });
            match grown {
                Some(trial) if alone(&trial) <= limit => {
                    if let Some(last) = pieces.last_mut() {
                        *last = trial;
                    }
                }
                _ => pieces.push(Self {
                    actions: vec![action.clone()],
                    ..measured.clone()
                }),
            }
        }
        let several = pieces.len() > 1;
        for (n, piece) in pieces.iter_mut().enumerate() {
            piece.sid = if several {
                format!("{}Part{}", self.sid, n + 1)
            } else {
                self.sid.clone()
            };
        }
        pieces
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Condition, Resource};

    #[test]
    fn a_statement_too_large_alone_is_split_by_its_actions() {
        let statement = Statement {
            sid: "S3".to_owned(),
            effect: "Allow",
            actions: (0..400).map(|i| format!("s3:Action{i:03}")).collect(),
            resource: Resource::One("*".to_owned()),
            condition: Condition::new(),
        };
        let policy = Policy {
            version: "2012-10-17",
            statements: vec![statement.clone()],
        };
        let documents = policy.split(2000);
        assert!(documents.len() > 1);
        let actions: Vec<&str> = documents.iter().flat_map(Policy::actions).collect();
        assert_eq!(actions, statement.actions);
        for document in &documents {
            assert!(document.size() <= 2000, "{}", document.size());
        }
        assert_eq!(documents[0].statements[0].sid, "S3Part1");
    }
}
