//! Names under a `--name-prefix` beside a generated identifier: the name generalises to the
//! prefix, the identifier to its wildcard, so the resource covers every other name under that
//! prefix with any identifier of the same kind (the next deploy, another environment) — and no
//! name outside the prefix.

use super::{Generated, Shape};
use crate::iam::Reference;
use crate::resource::arn::{Template, Vars};
use crate::resource::{Locator, Scoping, TypedArn};
use proptest::prelude::*;
use proptest::string::string_regex;
use wildmatch::WildMatch;

/// A template in which a generated identifier sits beside a name the caller chose: in
/// the same value (a partial shape) or in another variable of the same ARN.
#[derive(Debug, Clone)]
struct Case {
    shape: &'static Shape,
    kind: String,
    template: String,
    /// The template's variables that are names (neither context nor generated).
    names: Vec<String>,
    /// Its other generated variables, with an example of each (the same in every ARN).
    others: Vec<(String, String)>,
}

const CONTEXT: [&str; 3] = ["Partition", "Region", "Account"];

fn cases() -> Vec<Case> {
    let reference = Reference::embedded().unwrap();
    let table = Generated::embedded().unwrap();
    let mut cases = Vec::new();
    for shape in table.shapes() {
        let service = reference.service(&shape.service).unwrap();
        for (kind, templates) in &service.resource_types {
            for template in templates.split(", ") {
                let parsed = Template::parse(template);
                if !parsed.variables().any(|v| v == shape.variable) {
                    continue;
                }
                let names: Vec<String> = parsed
                    .variables()
                    .filter(|v| !CONTEXT.contains(v) && table.shape(&shape.service, v).is_none())
                    .map(str::to_owned)
                    .collect();
                let others = parsed
                    .variables()
                    .filter(|v| *v != shape.variable)
                    .filter_map(|v| table.shape(&shape.service, v))
                    .map(|other| (other.variable.clone(), other.examples[0].clone()))
                    .collect();
                if shape.partial() || !names.is_empty() {
                    cases.push(Case {
                        shape,
                        kind: kind.to_string(),
                        template: template.to_owned(),
                        names,
                        others,
                    });
                }
            }
        }
    }
    cases
}

/// A value of the shape: the whole value generated from its pattern, and for a partial
/// shape its name replaced by `name`.
fn id(shape: &Shape) -> BoxedStrategy<String> {
    let pattern = shape
        .pattern
        .as_str()
        .trim_start_matches('^')
        .trim_end_matches('$')
        .to_owned();
    string_regex(&pattern).unwrap().boxed()
}

fn with_name(shape: &Shape, value: &str, name: &str) -> String {
    let captures = shape.pattern.captures(value).unwrap();
    match captures.name("name") {
        Some(part) => format!("{}{name}{}", &value[..part.start()], &value[part.end()..]),
        None => value.to_owned(),
    }
}

/// (case, prefix, names under it, an id, other names under it, another id, names
/// outside it, a third id, portable)
type Drawn = (
    Case,
    String,
    Vec<String>,
    String,
    Vec<String>,
    String,
    Vec<String>,
    String,
    bool,
);

fn drawn() -> impl Strategy<Value = Drawn> {
    let tails = || proptest::collection::vec("[a-z0-9_-]{0,10}", 3);
    (
        proptest::sample::select(cases()),
        "[a-z]{2,6}[-_]?",
        any::<bool>(),
    )
        .prop_flat_map(move |(case, prefix, portable)| {
            let outside = proptest::collection::vec(
                prop_oneof![
                    "[a-z][a-z0-9_-]{0,10}".boxed(),
                    // The prefix without its last character: `psoxy` for `psoxy-`.
                    Just(prefix[..prefix.len() - 1].to_owned()).boxed(),
                ],
                3,
            );
            (
                Just(case.clone()),
                Just(prefix.clone()),
                tails(),
                id(case.shape),
                tails(),
                id(case.shape),
                outside,
                id(case.shape),
                Just(portable),
            )
        })
        .prop_map(|mut d| {
            d.2 = d.2.iter().map(|t| format!("{}{t}", d.1)).collect();
            d.4 = d.4.iter().map(|t| format!("{}{t}", d.1)).collect();
            d
        })
        .prop_filter("outside names start elsewhere", |d| {
            d.6.iter().all(|n| !n.starts_with(d.1.as_str()))
        })
}

/// The ARN of a case with these names and this id in `account` and `region`.
fn render(case: &Case, names: &[String], id: &str, account: &str, region: &str) -> String {
    let mut vars = Vars::new();
    vars.insert("Partition".into(), "aws".into());
    vars.insert("Region".into(), region.into());
    vars.insert("Account".into(), account.into());
    for (variable, name) in case.names.iter().zip(names.iter().cycle()) {
        vars.insert(variable.clone(), name.clone());
    }
    vars.extend(case.others.iter().cloned());
    let name = names.first().map_or("", String::as_str);
    vars.insert(case.shape.variable.clone(), with_name(case.shape, id, name));
    Template::parse(&case.template).render(&vars).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_name_beside_a_generated_id_keeps_its_prefix(
        (case, prefix, names, id, others, other_id, outside, outside_id, portable) in drawn()
    ) {
        let locator = Locator::new(Reference::embedded().unwrap()).unwrap();
        let observed = render(&case, &names, &id, "111122223333", "eu-west-1");
        let typed = TypedArn {
            service: case.shape.service.as_str().into(),
            kind: case.kind.as_str().into(),
            arn: observed.as_str().into(),
        };
        let value = Template::parse(&case.template).fit(&observed).unwrap()[&case.shape.variable].clone();
        let scoping = Scoping {
            name_prefixes: vec![prefix.clone()],
            portable,
            created: std::sync::Arc::new(
                [(case.shape.service.as_str().into(), value.as_str().into())].into(),
            ),
            ..Scoping::default()
        };
        let general = locator.generalise(&typed, &scoping);
        let pattern = WildMatch::new(&general);
        prop_assert!(pattern.matches(&observed), "{general} does not cover {observed}");
        let account = if portable { "444455556666" } else { "111122223333" };
        let next = render(&case, &others, &other_id, account, "us-west-2");
        prop_assert!(pattern.matches(&next), "{general} does not cover {next}");
        let foreign = render(&case, &outside, &outside_id, account, "us-west-2");
        prop_assert!(!pattern.matches(&foreign), "{general} covers {foreign}");
    }
}
