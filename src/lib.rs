//! minpriv: least-privilege AWS IAM policies discovered from CloudTrail.
//!
//! Data flows one way: `source` lists inputs → `parse` decodes records → `filter` keeps the
//! principal's calls in the window → `scan` aggregates them into distinct calls → `mapping`
//! maps calls to actions (`evidence`) over the reference data of `iam` → `policy` merges
//! them → `render` writes the output.
//! With `--verify-digests`, `integrity` checks the files read against CloudTrail's digests;
//! with `--athena-table` or `--lake`, `query` pushes the filter and the grouping to the engine
//! and turns its rows into the scan's tally. docs/architecture.md has the module map and
//! which way imports run (tests/architecture.rs holds the code to it).

pub mod app;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod denial;
pub mod error;
pub mod evidence;
pub mod fields;
pub mod filter;
pub mod iam;
pub mod integrity;
pub mod manual;
pub mod mapping;
pub mod parse;
pub mod policy;
pub mod query;
pub mod render;
pub mod resource;
pub mod scan;
pub mod seen;
pub mod source;
