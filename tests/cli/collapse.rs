//! Many resources of one type collapse to patterns, and every document fits IAM's quotas,
//! or the run exits 8 saying what to narrow.

use super::*;

/// `n` S3 GetObject and PutObject calls of the role, each on its own key under
/// `app-data/k/`, and one on `app-data/config.json`.
fn objects(n: usize) -> tempfile::NamedTempFile {
    objects_at((0..n).map(|i| format!("k/{:016x}", (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))))
}

/// GetObject and PutObject calls (in turn) on these keys of `app-data`, and a GetObject on
/// its `config.json`.
fn objects_at(keys: impl Iterator<Item = String>) -> tempfile::NamedTempFile {
    let mut records = Vec::new();
    let call = |name: &str, key: &str| {
        format!(
            r#"{{"eventTime":"2026-11-20T10:10:00Z","eventSource":"s3.amazonaws.com","eventName":"{name}","awsRegion":"eu-west-1","recipientAccountId":"111122223333",
            "userIdentity":{{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/ci-provisioner/s","accountId":"111122223333",
            "sessionContext":{{"sessionIssuer":{{"arn":"{ROLE}"}}}}}},"eventType":"AwsApiCall","eventCategory":"Data",
            "requestParameters":{{"bucketName":"app-data","Host":"app-data.s3.eu-west-1.amazonaws.com","key":"{key}"}},
            "resources":[{{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::app-data/{key}"}},{{"accountId":"111122223333","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::app-data"}}]}}"#
        )
    };
    for (i, key) in keys.enumerate() {
        let name = if i % 2 == 0 { "GetObject" } else { "PutObject" };
        records.push(call(name, &key));
    }
    records.push(call("GetObject", "config.json"));
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(file, r#"{{"Records":[{}]}}"#, records.join(",")).unwrap();
    file
}

fn discover_events(file: &Path, extra: &[&str]) -> std::process::Output {
    minpriv()
        .args(["discover", "--events"])
        .arg(file)
        .args(["--principal", ROLE])
        .args(extra)
        .output()
        .unwrap()
}

/// Characters IAM counts: the JSON without whitespace.
fn size(document: &Value) -> usize {
    serde_json::to_string(document)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .count()
}

#[test]
fn ten_thousand_object_arns_collapse_and_every_document_fits() {
    let events = objects(10_000);
    let report = tempfile::NamedTempFile::new().unwrap();
    let output = discover_events(
        events.path(),
        &["--report", report.path().to_str().unwrap()],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let policy: Value = serde_json::from_slice(&output.stdout).unwrap();
    let documents = match &policy {
        Value::Array(many) => many.clone(),
        one => vec![one.clone()],
    };
    assert!(documents.len() <= 10);
    for document in &documents {
        assert!(size(document) <= 6144, "{}", size(document));
    }
    let text = serde_json::to_string(&policy).unwrap();
    assert!(text.contains(r#""arn:aws:s3:::app-data/k/*""#), "{text}");
    assert!(
        text.contains(r#""arn:aws:s3:::app-data/config.json""#),
        "{text}"
    );
    assert!(!text.contains("arn:aws:s3:::app-data/*"), "{text}");
    assert!(
        stderr.contains("arn:aws:s3:::app-data/k/* [narrowest patterns]: s3:GetObject about"),
        "{stderr}"
    );
    // The report keeps the count and a bounded sample; explain shows the collapse.
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(report.path()).unwrap()).unwrap();
    let collapsed = &json["actions"]["s3:PutObject"]["collapsed"][0];
    assert_eq!(collapsed["pattern"], "arn:aws:s3:::app-data/k/*");
    let count = collapsed["count"].as_u64().unwrap();
    assert!((4_500..5_500).contains(&count), "{count}");
    assert_eq!(collapsed["sample"].as_array().unwrap().len(), 5);
    let explained = stdout_of(
        minpriv()
            .args(["explain", "s3:PutObject", "--report"])
            .arg(report.path()),
    );
    assert!(
        explained.contains("collapsed: about")
            && explained.contains("to arn:aws:s3:::app-data/k/*"),
        "{explained}"
    );
}

#[test]
fn a_budget_nothing_fits_exits_8_naming_what_to_narrow() {
    let events = objects(200);
    let output = discover_events(
        events.path(),
        &["--max-policy-size", "100", "--max-policies", "1"],
    );
    assert_eq!(output.status.code(), Some(8));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("does not fit IAM's quotas"), "{stderr}");
    assert!(
        stderr.contains("--principal") && stderr.contains("--since/--until"),
        "{stderr}"
    );
}

#[test]
fn exact_resources_never_collapse_and_exit_8_naming_scoped() {
    let events = objects(2_000);
    let output = discover_events(events.path(), &["--resources", "exact"]);
    assert_eq!(output.status.code(), Some(8));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--resources scoped"), "{stderr}");
    // Under the budget, exact lists every ARN as observed.
    let few = objects(12);
    let output = discover_events(few.path(), &["--resources", "exact"]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains("app-data/k/*"), "{text}");
}

#[test]
fn a_policy_over_the_budget_collapses_further_and_says_so() {
    // Keys in twelve buckets: more roots than --max-resources, so the narrowest patterns
    // stay over it, and the budget takes the type's wildcard.
    let mut records = Vec::new();
    for bucket in 0..12 {
        let text =
            std::fs::read_to_string(objects_at((0..3).map(|k| format!("k/{k}"))).path()).unwrap();
        let body = &text[r#"{"Records":["#.len()..text.len() - 2];
        records.push(body.replace("app-data", &format!("bucket-{bucket:02}")));
    }
    let mut file = tempfile::NamedTempFile::new().unwrap();
    write!(file, r#"{{"Records":[{}]}}"#, records.join(",")).unwrap();
    let output = discover_events(
        file.path(),
        &["--max-policy-size", "300", "--max-policies", "1"],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("collapsed further to the resource type's wildcard"),
        "{stderr}"
    );
    let policy = String::from_utf8_lossy(&output.stdout);
    assert!(policy.contains("arn:*:s3:::*/*"), "{policy}");
}
