//! How much of each service's API the mapping covers: operations by how they map, and the
//! role-passing and tag-carrying operations that have a dependent rule.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::map::{Class, Mapper};
use super::rules::PASS_ROLE;

/// The figures of one IAM service prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceCoverage {
    pub direct: usize,
    pub renamed: usize,
    pub pattern: usize,
    pub free: usize,
    pub no_action: usize,
    /// Operation names that map to no action.
    pub unmapped: Vec<String>,
    /// Operations with a role-ARN member: how many have an `iam:PassRole` rule.
    pub role_passing: usize,
    pub role_rules: usize,
    /// Operations with a tag member: how many have a rule adding a tagging action.
    pub tag_carrying: usize,
    pub tag_rules: usize,
    /// Role-passing and tag-carrying operations without a rule, by name.
    pub without_rule: Vec<String>,
}

/// Coverage per IAM prefix, over every operation of the SDK models.
#[must_use]
pub fn coverage(mapper: &Mapper) -> BTreeMap<String, ServiceCoverage> {
    let rules = mapper.rules();
    let mut out: BTreeMap<String, ServiceCoverage> = BTreeMap::new();
    for (key, op) in rules.operations() {
        let Some((prefix, name)) = key.split_once(':') else {
            continue;
        };
        let entry = out.entry(prefix.to_owned()).or_default();
        match mapper.classify(prefix, name) {
            Class::Direct => entry.direct += 1,
            Class::Renamed => entry.renamed += 1,
            Class::Pattern => entry.pattern += 1,
            Class::Free => entry.free += 1,
            Class::NoAction => entry.no_action += 1,
            Class::Unmapped => entry.unmapped.push(name.to_owned()),
        }
        let dependents = rules.dependents(key);
        if !op.roles.is_empty() {
            entry.role_passing += 1;
            if dependents
                .iter()
                .any(|d| d.actions.iter().any(|a| a == PASS_ROLE))
            {
                entry.role_rules += 1;
            } else {
                entry.without_rule.push(format!("{name} (role)"));
            }
        }
        if !op.tags.is_empty() {
            entry.tag_carrying += 1;
            // A tagging call needs no other action for its tags.
            let tagging = mapper
                .reference()
                .action(key)
                .is_some_and(|(_, a)| a.access == crate::iam::Access::Tagging);
            if tagging
                || dependents.iter().any(|d| {
                    d.when.iter().any(|w| op.tags.contains(&w.as_str()))
                        && d.actions.iter().any(|a| {
                            mapper.reference().action(a).is_some_and(|(_, action)| {
                                action.access == crate::iam::Access::Tagging
                            })
                        })
                })
            {
                entry.tag_rules += 1;
            } else {
                entry.without_rule.push(format!("{name} (tags)"));
            }
        }
    }
    out
}

/// The coverage as a Markdown table, one row per prefix (all when `only` is empty), then
/// each service's unmapped operations when `unmapped` is set.
#[must_use]
pub fn render(
    coverage: &BTreeMap<String, ServiceCoverage>,
    only: &[&str],
    unmapped: bool,
) -> String {
    let mut out = String::from(
        "| service | direct | renamed | pattern | free | no action | unmapped | passes a role (rule) | takes tags (rule) |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for (prefix, c) in coverage {
        if !only.is_empty() && !only.contains(&prefix.as_str()) {
            continue;
        }
        let _ = writeln!(
            out,
            "| {prefix} | {} | {} | {} | {} | {} | {} | {} ({}) | {} ({}) |",
            c.direct,
            c.renamed,
            c.pattern,
            c.free,
            c.no_action,
            c.unmapped.len(),
            c.role_passing,
            c.role_rules,
            c.tag_carrying,
            c.tag_rules
        );
    }
    if unmapped {
        for (prefix, c) in coverage {
            if !only.is_empty() && !only.contains(&prefix.as_str()) {
                continue;
            }
            if !c.unmapped.is_empty() {
                let _ = writeln!(out, "\n{prefix}: {}", c.unmapped.join(", "));
            }
            if !c.without_rule.is_empty() {
                let _ = writeln!(
                    out,
                    "\n{prefix}, without a dependent rule: {}",
                    c.without_rule.join(", ")
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_a_row_per_service_asked_for() {
        let all = coverage(&Mapper::embedded().unwrap());
        let text = render(&all, &["lambda", "sts"], false);
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.contains("| lambda |"));
        // sts: GetCallerIdentity, GetSessionToken, AssumeRoleWithSAML, …WithWebIdentity.
        assert!(text.contains("| sts | 7 | 0 | 0 | 4 |"), "{text}");
    }

    #[test]
    fn every_terraform_service_is_in_the_sdk_models() {
        let mapper = Mapper::embedded().unwrap();
        let all = coverage(&mapper);
        let terraform = mapper.rules().terraform_services();
        assert_eq!(terraform.len(), 40);
        for prefix in terraform {
            assert!(all.contains_key(prefix.as_str()), "{prefix}");
        }
    }

    #[test]
    fn no_operation_of_the_terraform_services_is_unmapped() {
        let mapper = Mapper::embedded().unwrap();
        let all = coverage(&mapper);
        let unmapped: Vec<String> = mapper
            .rules()
            .terraform_services()
            .iter()
            .filter_map(|p| all.get(p.as_str()).map(|c| (p, c)))
            .flat_map(|(p, c)| c.unmapped.iter().map(move |n| format!("{p}:{n}")))
            .collect();
        assert!(
            unmapped.is_empty(),
            "{} unmapped: {unmapped:?}",
            unmapped.len()
        );
    }
}
