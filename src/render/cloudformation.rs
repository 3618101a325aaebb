//! The policy as a CloudFormation `PolicyDocument` (YAML), or a `Policies` list of named
//! documents when it was split. Strings are written as JSON strings, which YAML reads as
//! double-quoted scalars.

use std::fmt::Write;

use crate::policy::Policy;

fn quote(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

fn document(out: &mut String, policy: &Policy, indent: &str) {
    let _ = writeln!(out, "{indent}Version: {}", quote(policy.version));
    let _ = writeln!(out, "{indent}Statement:");
    for statement in &policy.statements {
        let _ = writeln!(out, "{indent}  - Sid: {}", quote(&statement.sid));
        let _ = writeln!(out, "{indent}    Effect: {}", quote(statement.effect));
        let _ = writeln!(out, "{indent}    Action:");
        for action in &statement.actions {
            let _ = writeln!(out, "{indent}      - {}", quote(action));
        }
        match statement.resource.patterns().as_slice() {
            ["*"] => {
                let _ = writeln!(out, "{indent}    Resource: \"*\"");
            }
            patterns => {
                let _ = writeln!(out, "{indent}    Resource:");
                for pattern in patterns {
                    let _ = writeln!(out, "{indent}      - {}", quote(pattern));
                }
            }
        }
        if !statement.condition.is_empty() {
            let _ = writeln!(out, "{indent}    Condition:");
            for (test, keys) in &statement.condition {
                let _ = writeln!(out, "{indent}      {test}:");
                for (key, values) in keys {
                    let _ = writeln!(out, "{indent}        {}:", quote(key));
                    for value in values {
                        let _ = writeln!(out, "{indent}          - {}", quote(value));
                    }
                }
            }
        }
    }
}

#[must_use]
pub fn render(policies: &[Policy]) -> String {
    let mut out = String::new();
    if let [single] = policies {
        out.push_str("PolicyDocument:\n");
        document(&mut out, single, "  ");
        return out;
    }
    out.push_str("Policies:\n");
    for (index, policy) in policies.iter().enumerate() {
        let _ = writeln!(
            out,
            "  - PolicyName: {}",
            quote(&format!("minpriv-{}", index + 1))
        );
        out.push_str("    PolicyDocument:\n");
        document(&mut out, policy, "      ");
    }
    out
}
