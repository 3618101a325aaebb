//! The scan's resources per resource type, as a prefix tree along each ARN's path, capped so
//! memory follows distinct patterns, not distinct objects: a node with more than
//! [`FANOUT`] children stops listing them and keeps only an estimate of how many ARNs it
//! stands for and the [`SAMPLE`] first of them (it becomes the pattern `path/*`).

use std::collections::{BTreeMap, BTreeSet};

use super::TypedArn;
use super::collapse::split;
use super::sketch::Sketch;

/// Most children a node lists; one more and it collapses to `path/*`.
pub const FANOUT: usize = 64;
/// Concrete ARNs kept as examples of a collapsed node (the first in sort order).
pub const SAMPLE: usize = 5;

/// One resource type's ARNs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    /// Root (the ARN up to its first path segment: bucket, or the type's word) → node.
    roots: BTreeMap<Box<str>, Node>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Node {
    /// An ARN ends here.
    leaf: bool,
    children: BTreeMap<Box<str>, Node>,
    /// Set when the node collapsed: it no longer lists what is below it.
    many: Option<Box<Many>>,
}

/// What a collapsed node keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Many {
    sketch: Sketch,
    sample: BTreeSet<Box<str>>,
}

impl Many {
    fn add(&mut self, arn: &str) {
        self.sketch.add(arn);
        if self.sample.len() < SAMPLE || self.sample.last().is_some_and(|l| **l > *arn) {
            self.sample.insert(arn.into());
            while self.sample.len() > SAMPLE {
                self.sample.pop_last();
            }
        }
    }

    fn absorb(&mut self, other: &Self) {
        self.sketch.merge(&other.sketch);
        for arn in &other.sample {
            self.add_sample(arn);
        }
    }

    fn add_sample(&mut self, arn: &str) {
        self.sample.insert(arn.into());
        while self.sample.len() > SAMPLE {
            self.sample.pop_last();
        }
    }
}

/// An entry of the tree: a concrete ARN, or a collapsed node's pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The ARN, or `path*` for a collapsed node.
    pub arn: String,
    /// 1, or the estimated number of distinct ARNs a collapsed node stands for.
    pub count: u64,
    /// Some examples of what a collapsed node stood for (empty for an ARN).
    pub sample: Vec<String>,
}

impl Node {
    /// Collapses the node at `path`: everything below goes into its estimate and sample.
    fn collapse(&mut self, path: &str) {
        if self.many.is_some() {
            return;
        }
        let mut many = Many::default();
        self.gather(path, &mut many);
        self.children.clear();
        self.leaf = false;
        self.many = Some(Box::new(many));
    }

    fn gather(&self, path: &str, into: &mut Many) {
        if let Some(many) = &self.many {
            into.absorb(many);
            return;
        }
        if self.leaf {
            into.add(path);
        }
        for (segment, child) in &self.children {
            child.gather(&format!("{path}{segment}"), into);
        }
    }

    /// Inserts `arn`, whose first `end` bytes are this node's path and whose segments below
    /// it are `segments`. Nothing is allocated for a path already in the tree: this runs for
    /// every resource of every distinct call.
    fn insert(&mut self, end: usize, segments: &[&str], arn: &str, fanout: usize) {
        if let Some(many) = &mut self.many {
            many.add(arn);
            return;
        }
        let Some((first, rest)) = segments.split_first() else {
            self.leaf = true;
            return;
        };
        let child = if let Some(child) = self.children.get_mut(*first) {
            child
        } else if self.children.len() >= fanout {
            self.collapse(&arn[..end]);
            if let Some(many) = &mut self.many {
                many.add(arn);
            }
            return;
        } else {
            self.children.entry((*first).into()).or_default()
        };
        child.insert(end + first.len(), rest, arn, fanout);
    }

    fn merge(&mut self, path: &str, other: Self, fanout: usize) {
        if self.many.is_some() || other.many.is_some() {
            self.collapse(path);
            if let Some(many) = &mut self.many {
                other.gather(path, many);
            }
            return;
        }
        self.leaf |= other.leaf;
        for (segment, child) in other.children {
            let here = format!("{path}{segment}");
            match self.children.get_mut(&segment) {
                Some(mine) => mine.merge(&here, child, fanout),
                None => {
                    self.children.insert(segment, child);
                }
            }
        }
        if self.children.len() > fanout {
            self.collapse(path);
        }
    }

    fn entries(&self, path: &str, out: &mut Vec<Entry>) {
        if let Some(many) = &self.many {
            out.push(Entry {
                arn: format!("{path}*"),
                count: many.sketch.estimate().max(1),
                sample: many.sample.iter().map(ToString::to_string).collect(),
            });
            return;
        }
        if self.leaf {
            out.push(Entry {
                arn: path.to_owned(),
                count: 1,
                sample: Vec::new(),
            });
        }
        for (segment, child) in &self.children {
            child.entries(&format!("{path}{segment}"), out);
        }
    }
}

impl Tree {
    /// Adds an ARN; a node past `fanout` children collapses.
    pub fn insert(&mut self, arn: &str, fanout: usize) {
        let (root, segments) = split(arn);
        let node = if let Some(node) = self.roots.get_mut(root) {
            node
        } else {
            self.roots.entry(root.into()).or_default()
        };
        node.insert(root.len(), &segments, arn, fanout);
    }

    /// Takes in another tree's ARNs: the result is the same as inserting them one by one.
    pub fn merge(&mut self, other: Self, fanout: usize) {
        for (root, node) in other.roots {
            match self.roots.get_mut(&root) {
                Some(mine) => mine.merge(&root, node, fanout),
                None => {
                    self.roots.insert(root, node);
                }
            }
        }
    }

    /// Every ARN and collapsed pattern, in sort order of their paths.
    #[must_use]
    pub fn entries(&self) -> Vec<Entry> {
        let mut out = Vec::new();
        for (root, node) in &self.roots {
            node.entries(root, &mut out);
        }
        out
    }
}

/// The resources a call named, per resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resources {
    /// (service, resource type) → its ARNs.
    trees: BTreeMap<(Box<str>, Box<str>), Tree>,
    /// Most children a node lists ([`FANOUT`], more for `--resources exact`).
    fanout: usize,
}

impl Default for Resources {
    fn default() -> Self {
        Self {
            trees: BTreeMap::new(),
            fanout: FANOUT,
        }
    }
}

impl Resources {
    /// Adds an ARN; `fanout` as [`Tree::insert`] takes it.
    pub fn insert(&mut self, typed: &TypedArn, fanout: usize) {
        self.fanout = self.fanout.max(fanout);
        // A call names resources of one or two types: finding the tree by a scan allocates
        // no key, where `entry` would copy both names for every resource.
        let found = self
            .trees
            .iter_mut()
            .find(|((service, kind), _)| **service == *typed.service && **kind == *typed.kind);
        let tree = match found {
            Some((_, tree)) => tree,
            None => self
                .trees
                .entry((typed.service.clone(), typed.kind.clone()))
                .or_default(),
        };
        tree.insert(&typed.arn, self.fanout);
    }

    pub fn merge(&mut self, other: Self) {
        self.fanout = self.fanout.max(other.fanout);
        for (key, tree) in other.trees {
            self.trees.entry(key).or_default().merge(tree, self.fanout);
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.trees.is_empty()
    }

    /// Every typed ARN or collapsed pattern, with what it stands for.
    #[must_use]
    pub fn typed(&self) -> Vec<(TypedArn, Entry)> {
        self.trees
            .iter()
            .flat_map(|((service, kind), tree)| {
                tree.entries().into_iter().map(move |entry| {
                    let typed = TypedArn {
                        service: service.clone(),
                        kind: kind.clone(),
                        arn: entry.arn.as_str().into(),
                    };
                    (typed, entry)
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(arns: impl IntoIterator<Item = String>) -> Tree {
        let mut tree = Tree::default();
        for arn in arns {
            tree.insert(&arn, FANOUT);
        }
        tree
    }

    #[test]
    fn a_node_past_the_fanout_collapses_and_keeps_a_sample() {
        let keys = (0..1000).map(|i| format!("arn:aws:s3:::app-data/k/{i:04}"));
        let mut all = tree(keys);
        all.insert("arn:aws:s3:::app-data/config.json", FANOUT);
        let entries = all.entries();
        let arns: Vec<&str> = entries.iter().map(|e| e.arn.as_str()).collect();
        assert_eq!(
            arns,
            [
                "arn:aws:s3:::app-data/config.json",
                "arn:aws:s3:::app-data/k/*"
            ]
        );
        let many = &entries[1];
        assert!((900..1100).contains(&many.count), "{}", many.count);
        assert_eq!(many.sample.len(), SAMPLE);
        assert_eq!(many.sample[0], "arn:aws:s3:::app-data/k/0000");
    }

    #[test]
    fn merging_gives_what_inserting_gives() {
        let arns: Vec<String> = (0..300)
            .map(|i| format!("arn:aws:s3:::b{}/run/{}/out-{i}", i % 3, i % 70))
            .collect();
        let whole = tree(arns.clone());
        let mut parts = tree(arns.iter().skip(100).cloned());
        parts.merge(tree(arns.iter().take(100).cloned()), FANOUT);
        assert_eq!(parts.entries(), whole.entries());
        let mut reversed = tree(arns.iter().rev().cloned());
        reversed.merge(Tree::default(), FANOUT);
        assert_eq!(reversed.entries(), whole.entries());
    }

    #[test]
    fn few_arns_are_kept_as_they_are() {
        let arns = ["arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"].map(String::from);
        let entries = tree(arns.clone()).entries();
        let kept: Vec<&str> = entries.iter().map(|e| e.arn.as_str()).collect();
        assert_eq!(kept, arns);
        assert!(entries.iter().all(|e| e.count == 1 && e.sample.is_empty()));
    }
}
