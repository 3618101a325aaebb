//! Walks a local copy of a trail bucket in a stable order, skipping folders and files the
//! key layout rules out and counting everything it passes over.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{Blob, Listing, Problem, Scope};

pub fn list(root: &Path, scope: &Scope) -> Listing {
    let mut listing = Listing::default();
    match std::fs::metadata(root) {
        Ok(meta) if meta.is_dir() => {
            walk(
                root,
                &mut Vec::new(),
                scope,
                &mut listing,
                &mut HashSet::new(),
            );
        }
        Ok(_) => listing.problems.push(Problem {
            path: root.display().to_string(),
            message: "not a directory (use --events for a single file)".to_owned(),
        }),
        Err(error) => listing.problems.push(Problem {
            path: root.display().to_string(),
            message: error.to_string(),
        }),
    }
    listing.problems.sort();
    listing
}

/// The entries of `dir` on the first visit to its real path, or `None` when it was visited
/// already (a symbolic link back up the tree) or cannot be read. For the walks that look for
/// something and report nothing of their own; [`list`] counts every folder it cannot read.
pub(super) fn first_visit(dir: &Path, visited: &mut HashSet<PathBuf>) -> Option<std::fs::ReadDir> {
    let real = std::fs::canonicalize(dir).ok()?;
    if !visited.insert(real) {
        return None;
    }
    std::fs::read_dir(dir).ok()
}

/// `visited` holds the real path of every folder walked, so a symbolic link back up the tree
/// is walked once, not forever.
fn walk(
    dir: &Path,
    parts: &mut Vec<String>,
    scope: &Scope,
    listing: &mut Listing,
    visited: &mut HashSet<PathBuf>,
) {
    if let Ok(real) = std::fs::canonicalize(dir) {
        visited.insert(real);
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            listing.problems.push(Problem {
                path: dir.display().to_string(),
                message: error.to_string(),
            });
            return;
        }
    };
    let mut entries: Vec<_> = entries
        .filter_map(|entry| match entry {
            Ok(entry) => Some(entry),
            Err(error) => {
                listing.problems.push(Problem {
                    path: dir.display().to_string(),
                    message: error.to_string(),
                });
                None
            }
        })
        .collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(error) => {
                listing.problems.push(Problem {
                    path: path.display().to_string(),
                    message: error.to_string(),
                });
                continue;
            }
        };
        if meta.is_dir() {
            // A symbolic link to a folder (a trail copy assembled from several disks) is
            // followed, once: a link back up the tree is named, not walked again.
            if entry.file_type().is_ok_and(|t| t.is_symlink()) {
                match std::fs::canonicalize(&path).map(|real| visited.contains(&real)) {
                    Ok(false) => {}
                    Ok(true) => {
                        listing.problems.push(Problem {
                            path: path.display().to_string(),
                            message: "symbolic link to a folder already read (a loop), not followed again".to_owned(),
                        });
                        continue;
                    }
                    Err(error) => {
                        listing.problems.push(Problem {
                            path: path.display().to_string(),
                            message: error.to_string(),
                        });
                        continue;
                    }
                }
            }
            parts.push(name);
            let view: Vec<&str> = parts.iter().map(String::as_str).collect();
            match scope.folder(&view) {
                Ok(()) => walk(&path, parts, scope, listing, visited),
                Err(reason) => *listing.ignored.entry(reason).or_default() += count_files(&path),
            }
            parts.pop();
        } else {
            match scope.file(&name) {
                // A FIFO would block the open forever, a device (/dev/zero) never ends:
                // only regular files are opened.
                Ok(()) if !meta.is_file() => listing.problems.push(Problem {
                    path: path.display().to_string(),
                    message: NOT_REGULAR.to_owned(),
                }),
                Ok(()) => listing.blobs.push(Blob::File {
                    path,
                    size: meta.len(),
                }),
                Err(reason) => *listing.ignored.entry(reason).or_default() += 1,
            }
        }
    }
}

/// Why a FIFO, socket or device is passed over.
pub const NOT_REGULAR: &str = "not a regular file (a FIFO, socket or device): not opened";

/// Files below a folder that is passed over, so the summary can say how many.
fn count_files(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => count_files(&entry.path()),
            Ok(_) => 1,
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Ignored;
    use std::collections::BTreeSet;

    #[test]
    fn walks_in_order_and_counts_what_it_passes_over() {
        let root = tempfile::tempdir().unwrap();
        let base = root
            .path()
            .join("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11");
        for (day, file) in [
            (
                "20",
                "111122223333_CloudTrail_us-east-1_20261120T1010Z_b.json.gz",
            ),
            (
                "20",
                "111122223333_CloudTrail_us-east-1_20261120T1005Z_a.json.gz",
            ),
            ("20", "README.txt"),
            (
                "19",
                "111122223333_CloudTrail_us-east-1_20261119T1005Z_a.json.gz",
            ),
        ] {
            std::fs::create_dir_all(base.join(day)).unwrap();
            std::fs::write(base.join(day).join(file), b"x").unwrap();
        }
        let digest = root
            .path()
            .join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1");
        std::fs::create_dir_all(&digest).unwrap();
        std::fs::write(digest.join("d.json.gz"), b"x").unwrap();
        let scope = Scope::new(
            Some("2026-11-20T10:00:00Z".parse().unwrap()),
            Some("2026-11-20T10:30:00Z".parse().unwrap()),
            jiff::SignedDuration::from_mins(30),
            &BTreeSet::new(),
            &BTreeSet::new(),
            "us-east-1",
        );
        let listing = list(root.path(), &scope);
        let names: Vec<String> = listing
            .blobs
            .iter()
            .map(|b| b.display().rsplit('/').next().unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            [
                "111122223333_CloudTrail_us-east-1_20261120T1005Z_a.json.gz",
                "111122223333_CloudTrail_us-east-1_20261120T1010Z_b.json.gz",
            ]
        );
        assert_eq!(listing.ignored.get(&Ignored::Pruned), Some(&1));
        assert_eq!(listing.ignored.get(&Ignored::Digest), Some(&1));
        assert_eq!(listing.ignored.get(&Ignored::NotLog), Some(&1));
        assert!(listing.problems.is_empty());
    }

    #[test]
    fn a_missing_root_is_a_problem_not_a_panic() {
        let listing = list(Path::new("/no/such/trail"), &Scope::default());
        assert_eq!(listing.problems.len(), 1);
        assert!(listing.blobs.is_empty());
    }
}
