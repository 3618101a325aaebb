//! Collapse properties: for any set of ARNs the patterns cover every input, name no bucket,
//! account or region the inputs did not, and collapsing again changes nothing; and over a
//! whole generated corpus, the fitted policy allows every (action, resource) its calls
//! used, each taken from its record before any collapse.

use std::collections::BTreeSet;

use minpriv::evidence::Discovery;
use minpriv::filter::{Criteria, Filter};
use minpriv::mapping::{Mapper, Mapping};
use minpriv::parse::{self, Item, Prefilter};
use minpriv::policy::Conditions;
use minpriv::policy::budget::{self, Budget};
use minpriv::resource::Scoping;
use minpriv::resource::collapse::{covers, narrowest, split};
use minpriv::scan::{Context, scan};
use minpriv::source::Blob;
use proptest::prelude::*;

/// ARNs that share roots and path prefixes often: S3 objects in three buckets, IAM roles
/// with paths in two accounts, Lambda functions in two regions.
fn arn() -> impl Strategy<Value = String> {
    let segment = prop::sample::select(vec!["a", "b", "k", "runs", "x1", "x2", "cfg.json"]);
    let path = prop::collection::vec(segment, 1..5).prop_map(|s| s.join("/"));
    (0..3_usize, 0..3_usize, path).prop_map(|(kind, place, path)| match kind {
        0 => format!("arn:aws:s3:::{}/{path}", ["app-data", "logs", "web"][place]),
        1 => format!(
            "arn:aws:iam::{}:role/{path}",
            ["111122223333", "444455556666", "111122223333"][place]
        ),
        _ => format!(
            "arn:aws:lambda:{}:111122223333:function:{}",
            ["eu-west-1", "us-east-1", "eu-west-1"][place],
            path.replace('/', "-")
        ),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn collapsed_patterns_cover_every_input_and_cross_no_root(
        arns in prop::collection::btree_set(arn(), 0..120),
        max in 1_usize..15,
    ) {
        let collapsed = narrowest(&arns, max);
        for arn in &arns {
            prop_assert!(collapsed.iter().any(|p| covers(p, arn)), "{arn} not covered by {collapsed:?}");
        }
        // The root holds partition, service, region, account and bucket (or type word).
        let roots: BTreeSet<&str> = arns.iter().map(|a| split(a).0).collect();
        for pattern in &collapsed {
            prop_assert!(roots.contains(split(pattern).0), "{pattern} crosses a root of {roots:?}");
        }
        prop_assert!(collapsed.len() <= max.max(roots.len()), "{} patterns", collapsed.len());
        prop_assert_eq!(narrowest(&collapsed, max), collapsed.clone());
        if arns.len() <= max {
            prop_assert_eq!(collapsed, arns);
        }
    }
}

/// (action, concrete resource, request context).
type Need = (String, String, Vec<(&'static str, String)>);

/// Every (action, concrete resource, service a role was passed to) a record of `path`
/// needed, mapped record by record: nothing aggregated, nothing collapsed.
fn needs_of(path: &std::path::Path, filter: &Filter, mapper: &Mapper) -> Vec<Need> {
    let raw = std::fs::read(path).unwrap();
    let mut buffer = Vec::new();
    let json = parse::decode(&raw, &mut buffer, 1 << 30).unwrap();
    let mut needs = Vec::new();
    parse::records(json, &Prefilter::none(), &mut |item| {
        let Item::Event(event) = item else { return };
        if filter.check(&event, mapper.rules()).is_err() {
            return;
        }
        let Mapping::Actions(grants) = mapper.map(&mapper.call(&event)) else {
            return;
        };
        for grant in grants {
            let mut context = vec![("ec2:CreateAction", event.name.to_string())];
            if let Some(service) = &grant.passed_to {
                context.push(("iam:PassedToService", service.clone()));
            }
            for resource in grant.resources {
                needs.push((
                    grant.action.clone(),
                    resource.arn.to_string(),
                    context.clone(),
                ));
            }
        }
    })
    .unwrap();
    needs
}

#[test]
fn the_fitted_policy_allows_every_call_of_a_whole_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let paths = minpriv_synth::bulk::write(dir.path(), 8, 1000, 1045).unwrap();
    let filter = Filter::new(&Criteria::default()).unwrap();
    let mapper = Mapper::embedded().unwrap();
    let blobs: Vec<Blob> = paths
        .iter()
        .map(|path| Blob::File {
            path: path.clone(),
            size: 0,
        })
        .collect();
    let tally = scan(&blobs, &Context::new(&filter, mapper, 1 << 30, false));
    let discovery = Discovery::from_calls(&tally.calls, &mapper);
    let scoping = Scoping {
        created: std::sync::Arc::new(tally.created.clone()),
        lifecycle: std::sync::Arc::new(tally.lifecycle.clone()),
        ..Scoping::default()
    };
    let fitted = budget::fit(
        &discovery,
        &mapper,
        &scoping,
        Conditions::Auto,
        Budget::default(),
    );
    assert!(fitted.refused.is_none(), "{:?}", fitted.refused);
    assert!(fitted.documents.len() <= 10);
    for document in &fitted.documents {
        assert!(document.size() <= 6144, "{}", document.size());
    }
    assert!(
        fitted
            .built
            .collapses
            .iter()
            .any(|c| c.pattern.starts_with("arn:aws:s3:::data-")),
        "{:?}",
        fitted.built.collapses
    );
    let mut checked = 0;
    let mut refused = BTreeSet::new();
    for path in &paths {
        for (action, resource, context) in needs_of(path, &filter, &mapper) {
            let context: Vec<(&str, &str)> =
                context.iter().map(|(k, v)| (*k, v.as_str())).collect();
            checked += 1;
            if !super::allows(&fitted.documents, &action, &resource, &context) {
                refused.insert((action, resource));
            }
        }
    }
    assert!(checked > 1000, "only {checked} needs");
    assert!(
        refused.is_empty(),
        "{} refused, e.g. {:?}",
        refused.len(),
        refused.iter().take(5).collect::<Vec<_>>()
    );
}
