//! Reading a catalog: an IAM policy document, a JSON array of them, a directory of
//! `*.json`, or a Terraform file whose `locals` attribute, `aws_iam_policy` `policy`, or
//! `data "aws_iam_policy_document"` holds the policy (as `jsonencode({...})` or blocks).
//! `${...}` interpolations are kept as placeholders unless `--var NAME=VALUE` gives them a
//! value; commented-out actions are recorded as deliberately excluded.

#![deny(clippy::string_slice, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hcl::expr::{Expression, ObjectKey, TemplateExpr};
use serde_json::{Map, Value};

use super::{Catalog, Format, Statement};

/// A catalog that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: not HCL: {source}")]
    Hcl {
        path: PathBuf,
        #[source]
        source: hcl::Error,
    },
    #[error("{path}: {message}")]
    Shape { path: PathBuf, message: String },
    #[error("{path}: larger than {limit} bytes; a catalog is a policy, not a data set")]
    TooLarge { path: PathBuf, limit: u64 },
}

/// The largest catalog file read (IAM allows 6,144 characters a managed policy: this is
/// thousands of policies). A bigger file is refused before it is parsed (a 200 MB catalog took
/// 1.4 GB).
pub const MAX_CATALOG_BYTES: u64 = 32 << 20;

/// A catalog file's text: at most [`MAX_CATALOG_BYTES`], a UTF-8 byte order mark dropped
/// (editors on Windows write one; trail files with one are read too).
fn read_text(path: &Path) -> Result<String, ReadError> {
    use std::io::Read as _;
    let io = |source| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_CATALOG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_CATALOG_BYTES {
        return Err(ReadError::TooLarge {
            path: path.to_owned(),
            limit: MAX_CATALOG_BYTES,
        });
    }
    let mut text = String::from_utf8(bytes)
        .map_err(|error| io(std::io::Error::new(std::io::ErrorKind::InvalidData, error)))?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// Reads a catalog. `attribute` picks a Terraform attribute (or policy document) by name;
/// `vars` substitutes `${NAME}` placeholders.
///
/// # Errors
/// Unreadable files, invalid JSON/HCL, or no policy where one was expected.
pub fn read(
    path: &Path,
    attribute: Option<&str>,
    vars: &BTreeMap<String, String>,
) -> Result<Catalog, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    let mut catalog = Catalog {
        path: path.to_owned(),
        format: Format::Json,
        statements: Vec::new(),
        excluded: BTreeSet::new(),
        placeholders: BTreeSet::new(),
        documents: Vec::new(),
        files: Vec::new(),
    };
    let mut sources: Vec<(PathBuf, String)> = Vec::new();
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(io)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for file in files {
            let text = read_text(&file)?;
            sources.push((file, text));
        }
        if sources.is_empty() {
            return Err(ReadError::Shape {
                path: path.to_owned(),
                message: "no *.json policy in this directory".into(),
            });
        }
    } else {
        sources.push((path.to_owned(), read_text(path)?));
    }
    for (file, text) in sources {
        let is_terraform = file.extension().is_some_and(|e| e == "tf" || e == "hcl");
        catalog.excluded.extend(commented_actions(&text));
        let mut known = vars.clone();
        let documents = if is_terraform {
            catalog.format = Format::Terraform;
            let (documents, values) = terraform(&file, &text, attribute)?;
            for (name, value) in values {
                known.entry(name).or_insert(value);
            }
            documents
        } else {
            match serde_json::from_str::<Value>(&text).map_err(|source| ReadError::Json {
                path: file.clone(),
                source,
            })? {
                Value::Array(documents) => documents,
                document => vec![document],
            }
        };
        for document in documents {
            let document = substitute(document, &known, &mut catalog.placeholders);
            let index = catalog.documents.len();
            catalog
                .statements
                .extend(statements(&file, &document, index)?);
            catalog.documents.push(document);
            catalog.files.push(file.clone());
        }
    }
    Ok(catalog)
}

/// `# "iam:CreateUser",` or `// "iam:CreateUser"`: actions someone wrote and took out.
fn commented_actions(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let rest = line.strip_prefix('#').or_else(|| line.strip_prefix("//"))?;
            let rest = rest.trim().strip_prefix('"')?;
            let (action, _) = rest.split_once('"')?;
            let (prefix, name) = action.split_once(':')?;
            let ok = !prefix.is_empty()
                && prefix
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '*');
            ok.then(|| action.to_owned())
        })
        .collect()
}

/// The statements of one policy document.
fn statements(file: &Path, document: &Value, index: usize) -> Result<Vec<Statement>, ReadError> {
    let shape = |message: &str| ReadError::Shape {
        path: file.to_owned(),
        message: message.to_owned(),
    };
    let list = match document.get("Statement") {
        Some(Value::Array(list)) => list.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => return Err(shape("not an IAM policy document (no \"Statement\")")),
    };
    let strings = |value: Option<&Value>| -> Vec<String> {
        match value {
            Some(Value::String(one)) => vec![one.clone()],
            Some(Value::Array(many)) => many
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    };
    Ok(list
        .iter()
        .enumerate()
        .map(|(n, statement)| Statement {
            sid: statement
                .get("Sid")
                .and_then(Value::as_str)
                .map(str::to_owned),
            allow: statement.get("Effect").and_then(Value::as_str) != Some("Deny"),
            actions: strings(statement.get("Action")),
            not_actions: strings(statement.get("NotAction")),
            resources: strings(statement.get("Resource")),
            not_resources: strings(statement.get("NotResource")),
            conditional: statement.get("Condition").is_some(),
            condition: statement
                .get("Condition")
                .map(super::condition::from_json)
                .unwrap_or_default(),
            document: index,
            index: n,
        })
        .collect())
}

/// Replaces `${NAME}` by its `--var` value in every string; records the ones left.
fn substitute(value: Value, vars: &BTreeMap<String, String>, left: &mut BTreeSet<String>) -> Value {
    match value {
        Value::String(mut text) => {
            for (name, replacement) in vars {
                text = text.replace(&format!("${{{name}}}"), replacement);
            }
            let mut rest = text.as_str();
            while let Some((_, after)) = rest.split_once("${") {
                let Some((name, tail)) = after.split_once('}') else {
                    break;
                };
                left.insert(format!("${{{name}}}"));
                rest = tail;
            }
            Value::String(text)
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| substitute(v, vars, left))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, substitute(v, vars, left)))
                .collect(),
        ),
        other => other,
    }
}

/// Policy documents found in a Terraform file, and the plain string values the file itself
/// gives its placeholders (`local.NAME` from `locals`, `var.NAME` from variable defaults).
fn terraform(
    file: &Path,
    text: &str,
    attribute: Option<&str>,
) -> Result<(Vec<Value>, BTreeMap<String, String>), ReadError> {
    let body: hcl::Body = hcl::parse(text).map_err(|source| ReadError::Hcl {
        path: file.to_owned(),
        source,
    })?;
    let mut found = Vec::new();
    let mut values = BTreeMap::new();
    for block in body.blocks() {
        let labels: Vec<&str> = block.labels().iter().map(hcl::BlockLabel::as_str).collect();
        match (block.identifier(), labels.as_slice()) {
            ("variable", [name]) => {
                for attr in block.body().attributes().filter(|a| a.key() == "default") {
                    if let Expression::String(value) = attr.expr() {
                        values.insert(format!("var.{name}"), value.clone());
                    }
                }
            }
            ("locals", _) => {
                for attr in block.body().attributes() {
                    if let Expression::String(value) = attr.expr() {
                        values.insert(format!("local.{}", attr.key()), value.clone());
                    }
                    if attribute.is_none_or(|a| a == attr.key()) {
                        found.push(json_of(attr.expr()));
                    }
                }
            }
            ("resource", ["aws_iam_policy" | "aws_iam_role_policy", name]) => {
                for attr in block.body().attributes().filter(|a| a.key() == "policy") {
                    if attribute.is_none_or(|a| a == *name) {
                        found.push(json_of(attr.expr()));
                    }
                }
            }
            ("data", ["aws_iam_policy_document", name]) if attribute.is_none_or(|a| a == *name) => {
                found.push(document_blocks(block.body()));
            }
            _ => {}
        }
    }
    let documents: Vec<Value> = found
        .into_iter()
        .filter(|v| v.get("Statement").is_some())
        .collect();
    if documents.is_empty() {
        let wanted = attribute.map_or_else(|| "policy".to_owned(), |a| format!("`{a}`"));
        return Err(ReadError::Shape {
            path: file.to_owned(),
            message: format!(
                "no {wanted} found (a locals attribute, an aws_iam_policy policy, or a data \"aws_iam_policy_document\"; pick one with --catalog-attr)"
            ),
        });
    }
    Ok((documents, values))
}

/// `data "aws_iam_policy_document"` statement blocks as an IAM document.
fn document_blocks(body: &hcl::Body) -> Value {
    let statements: Vec<Value> = body
        .blocks()
        .filter(|b| b.identifier() == "statement")
        .map(|block| {
            let mut statement = Map::new();
            for attr in block.body().attributes() {
                let key = match attr.key() {
                    "sid" => "Sid",
                    "effect" => "Effect",
                    "actions" => "Action",
                    "not_actions" => "NotAction",
                    "resources" => "Resource",
                    "not_resources" => "NotResource",
                    _ => continue,
                };
                statement.insert(key.to_owned(), json_of(attr.expr()));
            }
            // `condition { test, variable, values }` blocks, as the JSON `Condition`.
            let mut condition = Map::new();
            for block in block
                .body()
                .blocks()
                .filter(|b| b.identifier() == "condition")
            {
                let attribute = |name: &str| {
                    block
                        .body()
                        .attributes()
                        .find(|a| a.key() == name)
                        .map(|a| json_of(a.expr()))
                };
                let (Some(Value::String(test)), Some(Value::String(variable))) =
                    (attribute("test"), attribute("variable"))
                else {
                    // A condition minpriv cannot read (an expression): undecided.
                    condition.insert("?".to_owned(), serde_json::json!({"?": []}));
                    continue;
                };
                let values = attribute("values").unwrap_or(Value::Array(Vec::new()));
                if let Value::Object(keys) = condition
                    .entry(test)
                    .or_insert_with(|| Value::Object(Map::new()))
                {
                    keys.insert(variable, values);
                }
            }
            if block.body().blocks().any(|b| b.identifier() == "condition") {
                statement.insert("Condition".to_owned(), Value::Object(condition));
            }
            Value::Object(statement)
        })
        .collect();
    serde_json::json!({"Version": "2012-10-17", "Statement": statements})
}

/// An HCL expression as JSON; interpolations and references stay as `${...}` text.
fn json_of(expr: &Expression) -> Value {
    match expr {
        Expression::Null => Value::Null,
        Expression::Bool(b) => Value::Bool(*b),
        Expression::Number(n) => serde_json::to_value(n).unwrap_or(Value::Null),
        Expression::String(s) => Value::String(s.clone()),
        Expression::Array(items) => Value::Array(items.iter().map(json_of).collect()),
        Expression::Object(object) => Value::Object(
            object
                .iter()
                .map(|(key, value)| {
                    let key = match key {
                        ObjectKey::Identifier(id) => id.to_string(),
                        ObjectKey::Expression(e) => json_of(e)
                            .as_str()
                            .map_or_else(|| placeholder(e), str::to_owned),
                        _ => "${key}".to_owned(),
                    };
                    (key, json_of(value))
                })
                .collect(),
        ),
        Expression::TemplateExpr(template) => match template.as_ref() {
            TemplateExpr::QuotedString(s) => Value::String(s.clone()),
            TemplateExpr::Heredoc(h) => Value::String(h.template.clone()),
        },
        Expression::FuncCall(call)
            if call.name.name.as_str() == "jsonencode" && call.args.len() == 1 =>
        {
            call.args.first().map_or(Value::Null, json_of)
        }
        Expression::Parenthesis(inner) => json_of(inner),
        other => Value::String(placeholder(other)),
    }
}

fn placeholder(expr: &Expression) -> String {
    let text = hcl::format::to_string(expr).unwrap_or_else(|_| "expression".to_owned());
    format!("${{{}}}", text.trim())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn commented_out_actions_are_found() {
        let text = "  # \"iam:CreateUser\",\n  // \"s3:Get*\"\n  \"iam:GetRole\", # \"x\"\n  # not an action\n";
        assert_eq!(commented_actions(text), ["iam:CreateUser", "s3:Get*"]);
    }

    #[test]
    fn terraform_locals_with_jsonencode_and_interpolations() {
        let text = r#"
locals {
  other = "x"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid = "Lambda"
        Effect = "Allow"
        Action = ["lambda:CreateFunction"]
        Resource = "arn:aws:lambda:*:${local.account_id}:function:${module.env_id.id}*"
      },
    ]
  })
}
"#;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("main.tf");
        std::fs::write(&file, text).unwrap();
        let vars = BTreeMap::from([("module.env_id.id".to_owned(), "psoxy-".to_owned())]);
        let catalog = read(&file, Some("policy"), &vars).unwrap();
        assert_eq!(catalog.format, Format::Terraform);
        assert_eq!(
            catalog.statements[0].resources,
            ["arn:aws:lambda:*:${local.account_id}:function:psoxy-*"]
        );
        assert_eq!(
            catalog.placeholders.iter().collect::<Vec<_>>(),
            ["${local.account_id}"]
        );
        // The file's own string locals resolve their placeholders.
        std::fs::write(
            &file,
            text.replace("other = \"x\"", "account_id = \"111122223333\""),
        )
        .unwrap();
        let catalog = read(&file, Some("policy"), &vars).unwrap();
        assert_eq!(
            catalog.statements[0].resources,
            ["arn:aws:lambda:*:111122223333:function:psoxy-*"]
        );
        assert!(catalog.placeholders.is_empty());
        assert!(read(&file, Some("missing"), &vars).is_err());
    }

    #[test]
    fn data_policy_documents_are_read() {
        let text = r#"
data "aws_iam_policy_document" "deployer" {
  statement {
    sid       = "S3"
    actions   = ["s3:CreateBucket"]
    resources = ["arn:aws:s3:::psoxy-*"]
  }
}
"#;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("policy.tf");
        std::fs::write(&file, text).unwrap();
        let catalog = read(&file, None, &BTreeMap::new()).unwrap();
        assert_eq!(catalog.statements[0].sid.as_deref(), Some("S3"));
        assert!(catalog.statements[0].allow);
    }

    #[test]
    fn condition_blocks_are_read_as_iam_conditions() {
        let text = r#"
data "aws_iam_policy_document" "deployer" {
  statement {
    sid       = "PassRole"
    actions   = ["iam:PassRole"]
    resources = ["arn:aws:iam::*:role/psoxy-*"]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringLike"
      variable = "aws:ResourceTag/app"
      values   = [local.app]
    }
  }
}
"#;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("policy.tf");
        std::fs::write(&file, text).unwrap();
        let catalog = read(&file, None, &BTreeMap::new()).unwrap();
        let statement = &catalog.statements[0];
        assert!(statement.conditional);
        assert_eq!(
            statement.condition["StringEquals"]["iam:PassedToService"],
            ["lambda.amazonaws.com"]
        );
        assert_eq!(
            statement.condition["StringLike"]["aws:ResourceTag/app"],
            ["${local.app}"]
        );
    }

    #[test]
    fn json_arrays_and_directories_hold_several_documents() {
        let dir = tempfile::tempdir().unwrap();
        let doc = |sid: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{sid}","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}]}}"#
            )
        };
        std::fs::write(dir.path().join("a.json"), doc("A")).unwrap();
        std::fs::write(
            dir.path().join("b.json"),
            format!("[{},{}]", doc("B"), doc("C")),
        )
        .unwrap();
        let catalog = read(dir.path(), None, &BTreeMap::new()).unwrap();
        let sids: Vec<_> = catalog
            .statements
            .iter()
            .map(|s| s.sid.clone().unwrap())
            .collect();
        assert_eq!(sids, ["A", "B", "C"]);
        assert_eq!(catalog.documents.len(), 3);
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, r#"{"x":1}"#).unwrap();
        assert!(
            read(&bad, None, &BTreeMap::new())
                .unwrap_err()
                .to_string()
                .contains("no \"Statement\"")
        );
    }
}
