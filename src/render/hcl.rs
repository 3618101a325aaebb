//! Terraform forms of the policy: `data "aws_iam_policy_document"` blocks, and the
//! `jsonencode({...})` expression hand-kept catalogs use.

use std::fmt::Write;

use crate::policy::{Policy, Resource};

/// An HCL string literal: quotes and backslashes escaped, and Terraform's template
/// sequences (`${`, `%{`) doubled so ARNs stay literal.
fn quote(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace("${", "$${")
        .replace("%{", "%%{");
    format!("\"{escaped}\"")
}

fn list(out: &mut String, indent: &str, items: &[&str]) {
    let _ = writeln!(out, "[");
    for item in items {
        let _ = writeln!(out, "{indent}  {},", quote(item));
    }
    let _ = write!(out, "{indent}]");
}

/// One `data "aws_iam_policy_document"` block per document (`minpriv`, `minpriv_2`, …).
#[must_use]
pub fn documents(policies: &[Policy]) -> String {
    let mut out = String::new();
    for (index, policy) in policies.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let name = if index == 0 {
            "minpriv".to_owned()
        } else {
            format!("minpriv_{}", index + 1)
        };
        let _ = writeln!(out, "data \"aws_iam_policy_document\" \"{name}\" {{");
        for (n, statement) in policy.statements.iter().enumerate() {
            if n > 0 {
                out.push('\n');
            }
            let _ = writeln!(out, "  statement {{");
            let _ = writeln!(out, "    sid    = {}", quote(&statement.sid));
            let _ = writeln!(out, "    effect = {}", quote(statement.effect));
            let actions: Vec<&str> = statement.actions.iter().map(String::as_str).collect();
            let _ = write!(out, "    actions = ");
            list(&mut out, "    ", &actions);
            out.push('\n');
            let _ = write!(out, "    resources = ");
            list(&mut out, "    ", &statement.resource.patterns());
            out.push('\n');
            for (test, keys) in &statement.condition {
                for (variable, values) in keys {
                    let values: Vec<&str> = values.iter().map(String::as_str).collect();
                    let _ = writeln!(out, "\n    condition {{");
                    let _ = writeln!(out, "      test     = {}", quote(test));
                    let _ = writeln!(out, "      variable = {}", quote(variable));
                    let _ = write!(out, "      values = ");
                    list(&mut out, "      ", &values);
                    let _ = writeln!(out, "\n    }}");
                }
            }
            let _ = writeln!(out, "  }}");
        }
        let _ = writeln!(out, "}}");
    }
    out
}

/// A `jsonencode({...})` expression per document; several are wrapped in a list.
#[must_use]
pub fn jsonencode(policies: &[Policy]) -> String {
    let one = |policy: &Policy, indent: &str| {
        let mut out = String::new();
        let _ = writeln!(out, "jsonencode({{");
        let _ = writeln!(out, "{indent}  Version = {}", quote(policy.version));
        let _ = writeln!(out, "{indent}  Statement = [");
        for statement in &policy.statements {
            let _ = writeln!(out, "{indent}    {{");
            let _ = writeln!(out, "{indent}      Sid    = {}", quote(&statement.sid));
            let _ = writeln!(out, "{indent}      Effect = {}", quote(statement.effect));
            let actions: Vec<&str> = statement.actions.iter().map(String::as_str).collect();
            let _ = write!(out, "{indent}      Action = ");
            list(&mut out, &format!("{indent}      "), &actions);
            out.push('\n');
            match &statement.resource {
                Resource::One(one) => {
                    let _ = writeln!(out, "{indent}      Resource = {}", quote(one));
                }
                Resource::Many(many) => {
                    let many: Vec<&str> = many.iter().map(String::as_str).collect();
                    let _ = write!(out, "{indent}      Resource = ");
                    list(&mut out, &format!("{indent}      "), &many);
                    out.push('\n');
                }
            }
            if !statement.condition.is_empty() {
                let _ = writeln!(out, "{indent}      Condition = {{");
                for (test, keys) in &statement.condition {
                    let _ = writeln!(out, "{indent}        {} = {{", quote(test));
                    for (key, values) in keys {
                        let values: Vec<&str> = values.iter().map(String::as_str).collect();
                        let _ = write!(out, "{indent}          {} = ", quote(key));
                        list(&mut out, &format!("{indent}          "), &values);
                        out.push('\n');
                    }
                    let _ = writeln!(out, "{indent}        }}");
                }
                let _ = writeln!(out, "{indent}      }}");
            }
            let _ = writeln!(out, "{indent}    }},");
        }
        let _ = writeln!(out, "{indent}  ]");
        let _ = write!(out, "{indent}}})");
        out
    };
    match policies {
        [single] => one(single, "") + "\n",
        many => {
            let mut out = String::from("[\n");
            for policy in many {
                let _ = writeln!(out, "  {},", one(policy, "  "));
            }
            out.push_str("]\n");
            out
        }
    }
}
