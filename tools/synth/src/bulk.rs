//! The benchmark corpus: many CloudTrail files of realistic records, mostly other
//! principals' traffic with a small share of the provisioning role's calls, as an
//! organization trail over a busy day looks.

use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::{CallSpec, Trail, Who, write_gz};

/// The role whose calls the benchmark discovers.
pub const ROLE_ARN: &str = "arn:aws:iam::111122223333:role/ci-provisioner";
pub const START: &str = "2026-11-20T00:00:00Z";

const AGENTS: [&str; 3] = [
    "aws-sdk-java/2.29.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/21",
    "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.12.7",
    "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 terraform-provider-aws/5.76.0 aws-sdk-go-v2/1.32.4",
];

/// Writes `files` log files of about `records` records each under `root` (key layout,
/// two regions, five-minute deliveries from `START`). Returns the paths written.
///
/// # Errors
/// Any I/O error.
pub fn write(
    root: &Path,
    files: usize,
    records: usize,
    seed: u64,
) -> std::io::Result<Vec<PathBuf>> {
    let start: Timestamp = START.parse().unwrap_or(Timestamp::UNIX_EPOCH);
    let account = "111122223333";
    let mut trail = Trail::new(account, seed);
    let principals: Vec<Who> = (0..40)
        .map(|i| match i {
            0 => Who::Role {
                account: account.into(),
                role: "ci-provisioner".into(),
                session: "terraform-run-7".into(),
            },
            1..=29 => Who::Role {
                account: account.into(),
                role: format!("app-{i:02}"),
                session: format!("i-0{i:015x}"),
            },
            _ => Who::User {
                account: account.into(),
                name: format!("user{i}"),
            },
        })
        .collect();
    let mut written = Vec::with_capacity(files);
    for file in 0..files {
        let region = if file % 3 == 0 {
            "us-east-1"
        } else {
            "eu-west-1"
        };
        let minutes = i64::try_from(file / 2 * 5).unwrap_or(0);
        let batch_start = start
            .checked_add(SignedDuration::from_mins(minutes))
            .unwrap_or(start);
        let mut batch = Vec::with_capacity(records);
        for n in 0..records {
            let offset = SignedDuration::from_millis(
                i64::try_from(n * 300_000 / records.max(1)).unwrap_or(0),
            );
            let at = batch_start.checked_add(offset).unwrap_or(batch_start);
            // One call in forty is the provisioning role's.
            let who = if trail.dice().below(40) == 0 {
                &principals[0]
            } else {
                &principals[1 + usize::try_from(trail.dice().below(39)).unwrap_or(0)]
            };
            let provisioning = matches!(who, Who::Role { role, .. } if role == "ci-provisioner");
            let (source, name, request) = pick(&mut trail, provisioning, region);
            trail.call(
                at,
                CallSpec {
                    who,
                    source,
                    name,
                    region,
                    request,
                    response: Value::Null,
                    error: None,
                    agent: AGENTS[file % AGENTS.len()],
                    read_only: name.starts_with("Get")
                        || name.starts_with("Describe")
                        || name.starts_with("List"),
                    via: None,
                    resources: None,
                },
            );
            batch.extend(trail.records.pop().map(|(_, _, record)| record));
        }
        let delivered = batch_start
            .checked_add(SignedDuration::from_mins(7))
            .unwrap_or(batch_start);
        let day = delivered.strftime("%Y/%m/%d").to_string();
        let dir = root.join(format!("AWSLogs/{account}/CloudTrail/{region}/{day}"));
        std::fs::create_dir_all(&dir)?;
        let name = format!(
            "{account}_CloudTrail_{region}_{}_{file:06}.json.gz",
            delivered.strftime("%Y%m%dT%H%MZ")
        );
        let path = dir.join(name);
        write_gz(
            &path,
            serde_json::to_string(&json!({"Records": batch}))?.as_bytes(),
        )?;
        written.push(path);
    }
    Ok(written)
}

fn pick(
    trail: &mut Trail,
    provisioning: bool,
    region: &str,
) -> (&'static str, &'static str, Value) {
    let dice = trail.dice();
    let roll = dice.below(10);
    let id = dice.below(1000);
    if provisioning {
        return match roll {
            0..=2 => (
                "iam.amazonaws.com",
                "CreateRole",
                json!({
                    "roleName": format!("app-{id}-exec"),
                    "assumeRolePolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}",
                    "tags": [{"key": "app", "value": "psoxy"}]
                }),
            ),
            3..=5 => (
                "lambda.amazonaws.com",
                "CreateFunction20150331",
                json!({
                    "functionName": format!("app-{id}"), "runtime": "python3.12",
                    "role": format!("arn:aws:iam::111122223333:role/app-{id}-exec"), "handler": "main.handler",
                    "code": {}, "timeout": 30, "memorySize": 256, "tags": {"app": "psoxy"}
                }),
            ),
            6 => (
                "s3.amazonaws.com",
                "PutBucketTagging",
                json!({"bucketName": format!("app-{id}"), "Host": format!("app-{id}.s3.{region}.amazonaws.com"), "tagging": ""}),
            ),
            7 => (
                "logs.amazonaws.com",
                "CreateLogGroup",
                json!({"logGroupName": format!("/aws/lambda/app-{id}"), "tags": {"app": "psoxy"}}),
            ),
            _ => (
                "ssm.amazonaws.com",
                "GetParameter",
                json!({"name": format!("APP_{id}_SECRET"), "withDecryption": true}),
            ),
        };
    }
    match roll {
        0..=2 => (
            "s3.amazonaws.com",
            "GetObject",
            json!({
                "bucketName": format!("data-{}", id % 7), "Host": format!("data-{}.s3.{region}.amazonaws.com", id % 7),
                "key": format!("exports/2026/11/20/part-{id:05}.parquet")
            }),
        ),
        3 => (
            "kms.amazonaws.com",
            "Decrypt",
            json!({
                "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                "encryptionContext": {"aws:s3:arn": format!("arn:aws:s3:::data-{}/exports/part-{id:05}.parquet", id % 7)}
            }),
        ),
        4 => (
            "ec2.amazonaws.com",
            "DescribeInstances",
            json!({"instancesSet": {"items": [{"instanceId": format!("i-0{id:016x}")}]}, "filterSet": {}}),
        ),
        5 => (
            "sts.amazonaws.com",
            "AssumeRole",
            json!({
                "roleArn": format!("arn:aws:iam::111122223333:role/app-{:02}", id % 30), "roleSessionName": format!("session-{id}"), "durationSeconds": 3600
            }),
        ),
        6 => (
            "dynamodb.amazonaws.com",
            "DescribeTable",
            json!({"tableName": format!("table-{}", id % 12)}),
        ),
        7 => (
            "lambda.amazonaws.com",
            "GetFunction20150331v2",
            json!({"functionName": format!("app-{}", id % 50)}),
        ),
        8 => (
            "monitoring.amazonaws.com",
            "GetMetricData",
            json!({
                "metricDataQueries": [{"id": "m1", "metricStat": {"metric": {"namespace": "AWS/Lambda", "metricName": "Errors"}, "period": 60, "stat": "Sum"}}],
                "startTime": "Nov 20, 2026, 9:00:00 AM", "endTime": "Nov 20, 2026, 10:00:00 AM"
            }),
        ),
        _ => (
            "ssm.amazonaws.com",
            "GetParameters",
            json!({"names": [format!("/app/{}/db-password", id % 30)], "withDecryption": true}),
        ),
    }
}
