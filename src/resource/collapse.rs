//! Many resources of one type collapse to the narrowest patterns that cover them, segment
//! by segment along the ARN's path (`app-data/k/*`, not `app-data/*`). A pattern never
//! reaches above an ARN's root: its partition, service, region, account and first path
//! segment (an S3 bucket, or the resource type's word such as `role/`), so no collapse
//! covers a bucket, account or region the inputs did not name.

use std::collections::{BTreeMap, BTreeSet};

/// Resources of one type in one statement above which they collapse (`--max-resources`).
pub const MAX_RESOURCES: usize = 10;

/// How far resources collapse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Level {
    /// To at most `max` patterns per type, each as narrow as it can be.
    #[default]
    Narrowest,
    /// One pattern per root: `arn:aws:s3:::app-data/*` (used when the policy does not fit).
    Root,
    /// The resource type's own wildcard (`arn:*:s3:::*/*`; used when nothing else fits).
    Type,
}

impl Level {
    /// How the step is named in the summary and report.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Narrowest => "narrowest patterns",
            Self::Root => "coarser patterns (one per bucket or resource type word)",
            Self::Type => "the resource type's wildcard",
        }
    }
}

/// The user's collapse settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Collapsing {
    /// `None`: never collapse (`--resources exact`).
    pub max: Option<usize>,
    pub level: Level,
}

impl Default for Collapsing {
    fn default() -> Self {
        Self {
            max: Some(MAX_RESOURCES),
            level: Level::Narrowest,
        }
    }
}

/// An ARN's root (up to and including its first path segment) and the path segments after
/// it, each with its separator (`/` or `:`) at its end.
#[must_use]
pub fn split(arn: &str) -> (&str, Vec<&str>) {
    let Some(start) = arn.match_indices(':').nth(4).map(|(i, _)| i + 1) else {
        return (arn, Vec::new());
    };
    let rest = &arn[start..];
    let mut segments = Vec::new();
    let mut from = 0;
    for (i, c) in rest.char_indices() {
        if c == '/' || c == ':' {
            segments.push(&rest[from..=i]);
            from = i + 1;
        }
    }
    if from < rest.len() {
        segments.push(&rest[from..]);
    }
    let Some(first) = segments.first() else {
        return (arn, segments);
    };
    let root = start + first.len();
    (&arn[..root], segments.split_off(1))
}

/// A prefix tree without a cap, for one statement's resources of one type.
#[derive(Debug, Default)]
struct Node {
    leaf: bool,
    collapsed: bool,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn patterns(&self) -> usize {
        if self.collapsed {
            return 1;
        }
        usize::from(self.leaf) + self.children.values().map(Node::patterns).sum::<usize>()
    }

    fn insert(&mut self, segments: &[&str]) {
        if self.collapsed {
            return;
        }
        match segments.split_first() {
            None => self.leaf = true,
            Some((first, rest)) => self
                .children
                .entry((*first).to_owned())
                .or_default()
                .insert(rest),
        }
    }

    /// Nodes at `depth` below this one that hold more than one pattern: (patterns, the
    /// segments that lead to it).
    fn candidates(
        &self,
        below: &mut Vec<String>,
        depth: usize,
        out: &mut Vec<(usize, Vec<String>)>,
    ) {
        if self.collapsed {
            return;
        }
        if depth == 0 {
            let patterns = self.patterns();
            if patterns > 1 {
                out.push((patterns, below.clone()));
            }
            return;
        }
        for (segment, child) in &self.children {
            below.push(segment.clone());
            child.candidates(below, depth - 1, out);
            below.pop();
        }
    }

    fn depth(&self) -> usize {
        self.children
            .values()
            .map(|c| c.depth() + 1)
            .max()
            .unwrap_or(0)
    }

    fn collapse_at(&mut self, segments: &[&str]) {
        match segments.split_first() {
            None => {
                self.collapsed = true;
                self.children.clear();
                self.leaf = false;
            }
            Some((first, rest)) => {
                if let Some(child) = self.children.get_mut(*first) {
                    child.collapse_at(rest);
                }
            }
        }
    }

    fn emit(&self, path: &str, out: &mut BTreeSet<String>) {
        if self.collapsed {
            out.insert(format!("{path}*"));
            return;
        }
        if self.leaf {
            out.insert(path.to_owned());
        }
        for (segment, child) in &self.children {
            child.emit(&format!("{path}{segment}"), out);
        }
    }
}

/// Collapses `arns` to at most `max` patterns where the paths allow it, deepest nodes
/// first (among nodes as deep, those that save the most, then in sort order). Roots are
/// never crossed, so more roots than `max` leave more than `max` patterns.
#[must_use]
pub fn narrowest(arns: &BTreeSet<String>, max: usize) -> BTreeSet<String> {
    if arns.len() <= max {
        return arns.clone();
    }
    let mut roots: BTreeMap<&str, Node> = BTreeMap::new();
    for arn in arns {
        let (root, segments) = split(arn);
        roots.entry(root).or_default().insert(&segments);
    }
    let total = |roots: &BTreeMap<&str, Node>| roots.values().map(Node::patterns).sum::<usize>();
    let deepest = roots.values().map(Node::depth).max().unwrap_or(0);
    let mut count = total(&roots);
    for depth in (0..=deepest).rev() {
        if count <= max {
            break;
        }
        let mut candidates: Vec<(usize, String, &str, Vec<String>)> = Vec::new();
        for (root, node) in &roots {
            let mut found = Vec::new();
            node.candidates(&mut Vec::new(), depth, &mut found);
            candidates.extend(
                found
                    .into_iter()
                    .map(|(n, below)| (n, format!("{root}{}", below.concat()), *root, below)),
            );
        }
        candidates.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        for (patterns, _, root, below) in candidates {
            if count <= max {
                break;
            }
            let below: Vec<&str> = below.iter().map(String::as_str).collect();
            if let Some(node) = roots.get_mut(root) {
                node.collapse_at(&below);
            }
            count = count + 1 - patterns;
        }
    }
    let mut out = BTreeSet::new();
    for (root, node) in &roots {
        node.emit(root, &mut out);
    }
    out
}

/// One pattern per root that holds several ARNs (`arn:aws:s3:::app-data/*`).
#[must_use]
pub fn per_root(arns: &BTreeSet<String>) -> BTreeSet<String> {
    let mut by_root: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
    for arn in arns {
        by_root.entry(split(arn).0).or_default().push(arn);
    }
    by_root
        .into_iter()
        .flat_map(|(root, arns)| match arns.as_slice() {
            [one] => vec![(*one).clone()],
            _ => vec![format!("{root}*")],
        })
        .collect()
}

/// Collapses one type's resources as `level` says (`star`: the type's wildcard). The
/// further levels are the steps taken when the narrowest patterns do not fit IAM's quotas.
#[must_use]
pub fn collapse(arns: &BTreeSet<String>, max: usize, level: Level, star: &str) -> BTreeSet<String> {
    match level {
        Level::Narrowest => narrowest(arns, max),
        Level::Root => per_root(&narrowest(arns, max)),
        Level::Type => {
            if arns.len() <= 1 {
                arns.clone()
            } else {
                BTreeSet::from([star.to_owned()])
            }
        }
    }
}

/// Whether `pattern` (with `*` and `?` wildcards) covers `arn`.
#[must_use]
pub fn covers(pattern: &str, arn: &str) -> bool {
    wildmatch::WildMatch::new(pattern).matches(arn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(arns: &[&str]) -> BTreeSet<String> {
        arns.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn roots_end_at_the_first_path_segment() {
        assert_eq!(
            split("arn:aws:s3:::app-data/k/abc"),
            ("arn:aws:s3:::app-data/", vec!["k/", "abc"])
        );
        assert_eq!(
            split("arn:aws:s3:::bucket"),
            ("arn:aws:s3:::bucket", vec![])
        );
        assert_eq!(
            split("arn:aws:lambda:eu-west-1:1:function:f:3"),
            ("arn:aws:lambda:eu-west-1:1:function:", vec!["f:", "3"])
        );
        assert_eq!(split("*"), ("*", vec![]));
    }

    #[test]
    fn keys_collapse_to_their_own_folder() {
        let mut arns: BTreeSet<String> = (0..50)
            .map(|i| format!("arn:aws:s3:::app-data/k/{i:03}"))
            .collect();
        arns.insert("arn:aws:s3:::app-data/config.json".to_owned());
        arns.insert("arn:aws:s3:::other/x".to_owned());
        let collapsed = narrowest(&arns, 10);
        assert_eq!(
            collapsed,
            set(&[
                "arn:aws:s3:::app-data/config.json",
                "arn:aws:s3:::app-data/k/*",
                "arn:aws:s3:::other/x",
            ])
        );
        assert_eq!(narrowest(&collapsed, 10), collapsed);
    }

    #[test]
    fn buckets_are_never_crossed() {
        let arns: BTreeSet<String> = (0..20).map(|i| format!("arn:aws:s3:::b{i:02}")).collect();
        assert_eq!(narrowest(&arns, 10), arns);
        assert_eq!(per_root(&arns), arns);
        let star = collapse(&arns, 10, Level::Type, "arn:*:s3:::*");
        assert_eq!(star, set(&["arn:*:s3:::*"]));
    }

    #[test]
    fn coarser_patterns_take_one_per_root() {
        let arns: BTreeSet<String> = (0..30)
            .map(|i| format!("arn:aws:s3:::app-data/run-{}/part-{i}", i % 15))
            .collect();
        let narrow = narrowest(&arns, 10);
        assert!(narrow.len() <= 10, "{narrow:?}");
        assert_eq!(
            collapse(&arns, 0, Level::Root, "*"),
            set(&["arn:aws:s3:::app-data/*"])
        );
    }
}
