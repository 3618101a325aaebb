//! Writing the updated catalog: the existing documents, statements, Sids and order kept;
//! each missing action added to the statement of its service (a new statement when the
//! service has none), actions kept sorted where they were; resources widened only where a
//! statement must grant a resource it does not cover; unused actions dropped only with
//! `--prune`.

use serde_json::{Map, Value};

use super::diff::{Proposal, home};
use super::{Catalog, Format};
use crate::mapping::Rules;

/// The updated documents, one per catalog document (JSON catalogs only).
///
/// # Errors
/// A Terraform catalog, which is not rewritten: the proposal lists the lines to add.
pub fn update(
    catalog: &Catalog,
    proposal: &Proposal,
    prune: bool,
    rules: &Rules,
) -> Result<Vec<Value>, String> {
    if catalog.format == Format::Terraform {
        return Err(format!(
            "{} is Terraform: minpriv does not rewrite it; add the lines the proposal lists per statement",
            catalog.path.display()
        ));
    }
    let mut documents = catalog.documents.clone();
    let mut new_statements: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    let additions = proposal.services.values().flat_map(|s| {
        s.missing
            .iter()
            .filter(|m| m.denied_by.is_none())
            .map(|m| (&m.action, &m.grant_on))
            .chain(
                s.resource_mismatches
                    .iter()
                    .map(|m| (&m.action, &m.grant_on)),
            )
    });
    for (action, grant_on) in additions {
        let grant_on: Vec<String> = if grant_on.is_empty() {
            vec!["*".to_owned()]
        } else {
            grant_on.clone()
        };
        if let Some(statement) = home(catalog, action, &grant_on) {
            if let Some(target) = statement_mut(&mut documents, statement.document, statement.index)
            {
                add(target, "Action", action);
                for resource in grant_on.iter().filter(|r| !statement.covers_resource(r)) {
                    add(target, "Resource", resource);
                }
            }
        } else {
            let prefix = action
                .split(':')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            let sid = rules.sid(&prefix);
            match new_statements.iter_mut().find(|(s, _, _)| *s == sid) {
                Some((_, actions, resources)) => {
                    actions.push(action.clone());
                    resources.extend(grant_on);
                }
                None => new_statements.push((sid, vec![action.clone()], grant_on)),
            }
        }
    }
    for (sid, mut actions, mut resources) in new_statements {
        actions.sort();
        actions.dedup();
        resources.sort();
        resources.dedup();
        let statement = serde_json::json!({
            "Sid": sid,
            "Effect": "Allow",
            "Action": actions,
            "Resource": if resources == ["*"] { Value::String("*".into()) } else { Value::from(resources) },
        });
        if let Some(list) = documents
            .last_mut()
            .and_then(|d| d.get_mut("Statement"))
            .and_then(Value::as_array_mut)
        {
            list.push(statement);
        }
    }
    if prune {
        for unused in proposal.services.values().flat_map(|s| &s.unused) {
            for statement in catalog
                .statements
                .iter()
                .filter(|s| s.label() == unused.statement)
            {
                if let Some(target) =
                    statement_mut(&mut documents, statement.document, statement.index)
                {
                    remove(target, &unused.action);
                }
            }
        }
        for document in &mut documents {
            if let Some(list) = document.get_mut("Statement").and_then(Value::as_array_mut) {
                list.retain(|s| !matches!(s.get("Action"), Some(Value::Array(a)) if a.is_empty()));
            }
        }
    }
    Ok(documents)
}

fn statement_mut(
    documents: &mut [Value],
    document: usize,
    index: usize,
) -> Option<&mut Map<String, Value>> {
    let statements = documents.get_mut(document)?.get_mut("Statement")?;
    match statements {
        Value::Array(list) => list.get_mut(index)?.as_object_mut(),
        Value::Object(one) if index == 0 => Some(one),
        _ => None,
    }
}

/// Adds a value to a string-or-list field in place (the statement's key order is kept),
/// keeping a sorted list sorted.
fn add(statement: &mut Map<String, Value>, key: &str, value: &str) {
    let field = statement
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::String(one) = field {
        *field = Value::Array(vec![Value::String(std::mem::take(one))]);
    }
    let Value::Array(list) = field else {
        return;
    };
    if list
        .iter()
        .any(|v| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(value)))
    {
        return;
    }
    let sorted = list.windows(2).all(|w| w[0].as_str() <= w[1].as_str());
    let at = if sorted {
        list.partition_point(|v| v.as_str().is_some_and(|s| s < value))
    } else {
        list.len()
    };
    list.insert(at, Value::String(value.to_owned()));
}

fn remove(statement: &mut Map<String, Value>, action: &str) {
    match statement.get_mut("Action") {
        Some(Value::Array(list)) => list.retain(|v| v.as_str() != Some(action)),
        Some(Value::String(one)) if one == action => {
            statement.insert("Action".to_owned(), Value::Array(Vec::new()));
        }
        _ => {}
    }
}
