//! Denials end to end: what AWS's error messages prove missing goes into the policy, what
//! other policies refused is reported and fails `--strict`, the report's `denials` array has
//! its documented shape, `explain` and `catalog diff` show the evidence, and
//! `--decode-denials` asks STS over its query protocol (a loopback stand-in).

use super::*;
use serde_json::json;

#[path = "../support/sts_server.rs"]
mod sts_server;

const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/ci-provisioner/terraform-run-43";

/// One record of the provisioning role, denied with `error` (code, message) when given.
fn call(
    time: &str,
    source: &str,
    name: &str,
    request: &Value,
    error: Option<(&str, &str)>,
) -> Value {
    let mut record = json!({
        "eventVersion": "1.09", "eventTime": time, "eventSource": source, "eventName": name,
        "awsRegion": "eu-west-1", "recipientAccountId": "111122223333", "eventType": "AwsApiCall",
        "userIdentity": {"type": "AssumedRole", "arn": SESSION, "accountId": "111122223333",
            "sessionContext": {"sessionIssuer": {"type": "Role", "arn": ROLE}}},
        "requestParameters": request, "responseElements": null,
    });
    if let (Some((code, message)), Some(object)) = (error, record.as_object_mut()) {
        object.insert("errorCode".to_owned(), json!(code));
        object.insert("errorMessage".to_owned(), json!(message));
    }
    record
}

/// The records as a trail document in `dir`.
fn events(dir: &Path, records: &[Value]) -> PathBuf {
    let path = dir.join("events.json");
    std::fs::write(&path, json!({ "Records": records }).to_string()).unwrap();
    path
}

fn discover(events: &Path, extra: &[&str]) -> std::process::Output {
    minpriv()
        .args(["discover", "--principal", ROLE, "--events"])
        .arg(events)
        .args(extra)
        .output()
        .unwrap()
}

/// `discover --report` (and `extra`) over `records`, which must exit 0: the policy, the
/// summary and the report's path.
fn reported(dir: &Path, records: &[Value], extra: &[&str]) -> (String, String, PathBuf) {
    let report = dir.join("report.json");
    let mut args = vec!["--report", report.to_str().unwrap()];
    args.extend_from_slice(extra);
    let output = discover(&events(dir, records), &args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    (String::from_utf8(output.stdout).unwrap(), stderr, report)
}

const PASS_ROLE: &str = "You are not authorized to perform this operation. User: arn:aws:sts::111122223333:assumed-role/ci-provisioner/terraform-run-43 is not authorized to perform: iam:PassRole on resource: arn:aws:iam::111122223333:role/app-ec2 because no identity-based policy allows the iam:PassRole action. Encoded authorization failure message: EXAMPLE-ENCODED";

/// A refused RunInstances, launching with an instance profile or not.
fn launch(time: &str, message: &str, profile: bool) -> Value {
    let mut request = json!({"instanceType": "t3.micro"});
    if profile {
        request["iamInstanceProfile"] = json!({"name": "app-ec2"});
    }
    call(
        time,
        "ec2.amazonaws.com",
        "RunInstances",
        &request,
        Some(("Client.UnauthorizedOperation", message)),
    )
}

fn run_instances(time: &str, message: &str) -> Value {
    launch(time, message, false)
}

/// The statements granting `action`.
fn granting(policy: &str, action: &str) -> Vec<Value> {
    let policy: Value = serde_json::from_str(policy).unwrap();
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Action"].as_array().unwrap().contains(&json!(action)))
        .cloned()
        .collect()
}

fn policy_resources(policy: &str, action: &str) -> Vec<Value> {
    granting(policy, action)
        .into_iter()
        .map(|s| s["Resource"].clone())
        .collect()
}

#[test]
fn an_implicit_identity_deny_adds_the_named_grant_and_the_report_has_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    // Launches with an instance profile: the trail shows no role, AWS's error names it.
    let records: Vec<Value> = ["10:04", "10:01", "10:02"]
        .iter()
        .map(|t| launch(&format!("2026-11-20T{t}:00Z"), PASS_ROLE, true))
        .collect();
    let (policy, stderr, report) = reported(dir.path(), &records, &[]);
    // The named grant, on the named role, still only to EC2; the call's own action is kept.
    let pass = granting(&policy, "iam:PassRole");
    assert_eq!(pass.len(), 1, "{policy}");
    assert_eq!(
        pass[0]["Resource"],
        json!(["arn:aws:iam::111122223333:role/app-ec2"])
    );
    assert_eq!(
        pass[0]["Condition"],
        json!({"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com"]}})
    );
    assert_eq!(policy_resources(&policy, "ec2:RunInstances").len(), 1);
    assert!(
        stderr.contains("named by AWS as missing from the identity-based policy, added to the policy (1):\n  iam:PassRole on arn:aws:iam::111122223333:role/app-ec2: in the error of ec2.amazonaws.com RunInstances ×3 (Client.UnauthorizedOperation)\n"),
        "{stderr}"
    );
    // Exactly the documented shape, keys in order.
    let text = std::fs::read_to_string(&report).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let expected = json!([{
        "event_source": "ec2.amazonaws.com", "event_name": "RunInstances",
        "error_code": "Client.UnauthorizedOperation", "action": "iam:PassRole",
        "resource": "arn:aws:iam::111122223333:role/app-ec2", "decided_by": "identity-based",
        "explicit": false, "policy_arn": null, "authorization_id": null, "fixable": true,
        "calls": 3, "first": "2026-11-20T10:01:00Z", "last": "2026-11-20T10:04:00Z"
    }]);
    assert_eq!(json["denials"].to_string(), expected.to_string());
    // explain shows AWS's message.
    let explained = stdout_of(
        minpriv()
            .args(["explain", "IAM:passrole", "--report"])
            .arg(&report),
    );
    assert!(
        explained.contains(&format!("AWS's error: {PASS_ROLE}")),
        "{explained}"
    );
    assert!(
        explained.contains("; fixable: the grant is added to the policy"),
        "{explained}"
    );
    // Byte-identical again.
    let again = discover(&events(dir.path(), &records), &[]);
    assert_eq!(again.stdout, policy.as_bytes());
}

/// `n` GetObject calls on distinct keys under `app-data/k/`, each denied by the
/// identity-based policy.
fn denied_objects(n: usize) -> Vec<Value> {
    (0..n)
        .map(|n| {
            let message = format!("User: {SESSION} is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::app-data/k/{n:05}\" because no identity-based policy allows the s3:GetObject action");
            call(
                &format!("2026-11-20T10:{:02}:00Z", n % 60),
                "s3.amazonaws.com",
                "GetObject",
                &json!({"bucketName": "app-data", "key": format!("k/{n:05}")}),
                Some(("AccessDenied", &message)),
            )
        })
        .collect()
}

#[test]
fn a_denial_of_many_objects_folds_into_one_line_and_one_report_entry() {
    let dir = tempfile::tempdir().unwrap();
    let records = denied_objects(2_000);
    let (policy, stderr, report) = reported(dir.path(), &records, &[]);
    assert_eq!(
        policy_resources(&policy, "s3:GetObject"),
        [json!(["arn:aws:s3:::app-data/k/*"])],
        "{policy}"
    );
    // One report entry: no single resource, every one in the folded patterns.
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let denials = json["denials"].as_array().unwrap();
    assert_eq!(denials.len(), 1, "{denials:?}");
    assert_eq!(denials[0]["resource"], Value::Null);
    assert_eq!(denials[0]["calls"], json!(2000));
    let folded = denials[0]["folded_resources"].as_array().unwrap();
    assert_eq!(folded.len(), 1, "{folded:?}");
    assert_eq!(folded[0]["pattern"], json!("arn:aws:s3:::app-data/k/*"));
    assert_eq!(folded[0]["estimated"], json!(true));
    let count = folded[0]["count"].as_u64().unwrap();
    assert!((1_800..2_200).contains(&count), "{count}");
    // One summary line for the 2,000 denials, naming the pattern and what it stands for.
    assert!(
        stderr.contains(&format!("named by AWS as missing from the identity-based policy, added to the policy (1):\n  s3:GetObject on arn:aws:s3:::app-data/k/* (about {count} resources): in the error of s3.amazonaws.com GetObject ×2000 (AccessDenied)\n")),
        "{stderr}"
    );
    assert_eq!(
        folded[0]["sample"],
        json!([
            "arn:aws:s3:::app-data/k/00000",
            "arn:aws:s3:::app-data/k/00001",
            "arn:aws:s3:::app-data/k/00002",
            "arn:aws:s3:::app-data/k/00003",
            "arn:aws:s3:::app-data/k/00004"
        ])
    );
}

#[test]
fn under_resources_exact_a_folded_denial_keeps_every_arn() {
    let dir = tempfile::tempdir().unwrap();
    let (policy, stderr, _) = reported(dir.path(), &denied_objects(100), &["--resources", "exact"]);
    let granted = &policy_resources(&policy, "s3:GetObject")[0];
    let expected: Vec<String> = (0..100)
        .map(|n| format!("arn:aws:s3:::app-data/k/{n:05}"))
        .collect();
    assert_eq!(granted, &json!(expected), "{policy}");
    assert!(
        stderr.contains("  s3:GetObject on 100 resources: arn:aws:s3:::app-data/k/00000, arn:aws:s3:::app-data/k/00001, arn:aws:s3:::app-data/k/00002, and 97 more: in the error of s3.amazonaws.com GetObject ×100 (AccessDenied)\n"),
        "{stderr}"
    );
}

#[test]
fn a_grant_only_a_denial_shows_says_so_in_explain() {
    let dir = tempfile::tempdir().unwrap();
    let (policy, _, report) = reported(
        dir.path(),
        &[run_instances("2026-11-20T10:01:00Z", PASS_ROLE)],
        &[],
    );
    assert_eq!(
        policy_resources(&policy, "iam:PassRole"),
        [json!(["arn:aws:iam::111122223333:role/app-ec2"])]
    );
    let explained = stdout_of(
        minpriv()
            .args(["explain", "iam:PassRole", "--report"])
            .arg(&report),
    );
    assert!(
        explained.contains("needed by 1 calls: RunInstances ×1\n  because named by AWS in the error of RunInstances\n"),
        "{explained}"
    );
}

const SCP: &str =
    "arn:aws:organizations::999988887777:policy/o-abcd1234/service_control_policy/p-abcd1234";

fn refused() -> Vec<Value> {
    let parameter = "arn:aws:ssm:eu-west-1:111122223333:parameter/psoxy-salt";
    vec![
        call(
            "2026-11-20T10:05:00Z",
            "ssm.amazonaws.com",
            "PutParameter",
            &json!({"name": "psoxy-salt"}),
            Some((
                "AccessDeniedException",
                &format!(
                    "User: {SESSION} is not authorized to perform: ssm:PutParameter on resource: {parameter} with an explicit deny in a service control policy: {SCP}"
                ),
            )),
        ),
        call(
            "2026-11-20T10:06:00Z",
            "sns.amazonaws.com",
            "Publish",
            &json!({"topicArn": "arn:aws:sns:eu-west-1:111122223333:psoxy-t"}),
            Some((
                "AuthorizationError",
                &format!(
                    "User: {SESSION} is not authorized to perform: SNS:Publish on resource: arn:aws:sns:eu-west-1:111122223333:psoxy-t with an explicit deny in a VPC endpoint policy transitively through a service control policy"
                ),
            )),
        ),
        run_instances(
            "2026-11-20T10:07:00Z",
            &format!(
                "User: {SESSION} is not authorized to perform: iam:PassRole on resource: arn:aws:iam::111122223333:role/app-ec2 because no permissions boundary allows the iam:PassRole action"
            ),
        ),
    ]
}

#[test]
fn denials_by_other_policies_are_reported_not_granted_and_fail_strict() {
    let dir = tempfile::tempdir().unwrap();
    let (policy, stderr, report) = reported(dir.path(), &refused(), &[]);
    assert!(
        stderr.contains(&format!("REFUSED by other policies: the deployment needs these, and no identity policy makes them succeed (3):\n  ec2.amazonaws.com RunInstances ×1 (Client.UnauthorizedOperation): iam:PassRole on arn:aws:iam::111122223333:role/app-ec2 (implicit deny; decided by permissions boundary)\n  sns.amazonaws.com Publish ×1 (AuthorizationError): sns:Publish on arn:aws:sns:eu-west-1:111122223333:psoxy-t (explicit deny; decided by VPC endpoint; through a service control policy)\n  ssm.amazonaws.com PutParameter ×1 (AccessDeniedException): ssm:PutParameter on arn:aws:ssm:eu-west-1:111122223333:parameter/psoxy-salt (explicit deny; decided by service control; policy {SCP})\n")),
        "{stderr}"
    );
    // The calls' own actions are in the policy (the deployment needs them); the role the
    // boundary refused is not granted.
    assert!(policy.contains("ssm:PutParameter") && policy.contains("sns:Publish"));
    assert!(
        policy_resources(&policy, "iam:PassRole").is_empty(),
        "{policy}"
    );
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let denials = json["denials"].as_array().unwrap();
    assert_eq!(denials.len(), 3);
    assert!(denials.iter().all(|d| d["fixable"] == false));
    assert_eq!(denials[2]["decided_by"], "service control");
    assert_eq!(denials[2]["policy_arn"], SCP);
    assert_eq!(denials[1]["action"], "sns:Publish");
    // explain: the refused action in the policy, and the one it is not.
    let explained = stdout_of(
        minpriv()
            .args(["explain", "ssm:PutParameter", "--report"])
            .arg(&report),
    );
    assert!(
        explained.contains("explicit deny decided by the service control policy"),
        "{explained}"
    );
    let explained = stdout_of(
        minpriv()
            .args(["explain", "iam:PassRole", "--report"])
            .arg(&report),
    );
    assert!(
        explained.starts_with("iam:PassRole is not in the policy; AWS named it in these denials:\n  denied in ec2.amazonaws.com RunInstances ×1"),
        "{explained}"
    );
    // --strict fails on them, after writing the policy.
    let strict = discover(&dir.path().join("events.json"), &["--strict"]);
    assert_eq!(strict.status.code(), Some(4));
    assert_eq!(strict.stdout, policy.as_bytes());
}

#[test]
fn denials_aws_did_not_explain_are_listed_never_guessed() {
    let dir = tempfile::tempdir().unwrap();
    let records = vec![
        call(
            "2026-11-20T10:01:00Z",
            "s3.amazonaws.com",
            "GetBucketAccelerateConfiguration",
            &json!({"bucketName": "psoxy-b", "accelerate": ""}),
            Some(("AccessDenied", "Access Denied")),
        ),
        run_instances(
            "2026-11-20T10:02:00Z",
            "You are not authorized to perform this operation. Encoded authorization failure message: ENC-ONE",
        ),
        run_instances(
            "2026-11-20T10:03:00Z",
            "You are not authorized to perform this operation. Encoded authorization failure message: ENC-TWO",
        ),
        run_instances(
            "2026-11-20T10:04:00Z",
            &format!(
                "User: {SESSION} is not authorized to perform: iam:PassRole on resource: arn:aws:iam::111122223333:role/app-ec2"
            ),
        ),
    ];
    // Nothing was refused by another policy: --strict passes.
    let (policy, stderr, report) = reported(dir.path(), &records, &["--strict"]);
    for expected in [
        "denied, AWS did not say why (1):\n  s3.amazonaws.com GetBucketAccelerateConfiguration ×1 (AccessDenied): \"Access Denied\"\n",
        "denied with an encoded message only STS can read: rerun with --decode-denials (1):\n  ec2.amazonaws.com RunInstances ×2\n",
        "denied: AWS named the action, not which policy refused it (not added; check by hand) (1):\n  ec2.amazonaws.com RunInstances ×1 (Client.UnauthorizedOperation): iam:PassRole on arn:aws:iam::111122223333:role/app-ec2 (AWS did not say whether explicit; AWS did not name the kind of policy)\n",
    ] {
        assert!(stderr.contains(expected), "{expected}\n---\n{stderr}");
    }
    assert!(
        policy_resources(&policy, "iam:PassRole").is_empty(),
        "{policy}"
    );
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let unnamed: Vec<&Value> = json["denials"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["action"].is_null())
        .collect();
    assert_eq!(unnamed.len(), 2);
    assert!(
        unnamed
            .iter()
            .all(|d| d["fixable"] == false && d["decided_by"].is_null())
    );
}

#[test]
fn a_missing_action_a_denial_proves_is_marked_in_the_catalog_proposal() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog.json");
    std::fs::write(
        &catalog,
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "EC2", "Effect": "Allow", "Action": ["ec2:RunInstances"], "Resource": "*"},
            {"Sid": "IAM", "Effect": "Allow", "Action": ["iam:GetRole"], "Resource": "*"}
        ]})
        .to_string(),
    )
    .unwrap();
    let path = events(
        dir.path(),
        &[run_instances("2026-11-20T10:01:00Z", PASS_ROLE)],
    );
    let output = discover(&path, &["--catalog", catalog.to_str().unwrap(), "--check"]);
    assert_eq!(output.status.code(), Some(3));
    let proposal = String::from_utf8(output.stdout).unwrap();
    let line = proposal
        .lines()
        .find(|l| l.starts_with("| `iam:PassRole`"))
        .unwrap_or_else(|| panic!("{proposal}"));
    assert!(
        line.contains("**proven missing: AWS refused it**"),
        "{line}"
    );
    // AWS's message, quoted up to a length (explain prints it whole).
    assert!(
        line.contains("is not authorized to perform: iam:PassRole on resource: arn:aws:iam::111122223333:role/app-ec2 because no identit…`"),
        "{line}"
    );
}

/// The CLI reference's example of a decoded message (an explicit deny of RunInstances).
const EXPLICIT: &str = r#"{"allowed":false,"explicitDeny":true,"matchedStatements":{"items":[{"statementId":"VisualEditor0","effect":"DENY","principals":{"items":[{"value":"AROA123456789EXAMPLE"}]},"principalGroups":{"items":[]},"actions":{"items":[{"value":"ec2:RunInstances"}]},"resources":{"items":[{"value":"*"}]},"conditions":{"items":[]}}]},"failures":{"items":[]},"context":{"principal":{"id":"AROA123456789EXAMPLE:Ana","arn":"arn:aws:sts::111122223333:assumed-role/Developer/Ana"},"action":"RunInstances","resource":"arn:aws:ec2:us-east-1:111122223333:instance/*","conditions":{"items":[]}}}"#;
/// An implicit deny of the role passed to the instance (the knowledge center's example).
const IMPLICIT: &str = r#"{"allowed":false,"explicitDeny":false,"matchedStatements":{"items":[]},"failures":{"items":[]},"context":{"principal":{"id":"ABCDEFGHIJKLMNO","name":"AWS-User"},"action":"iam:PassRole","resource":"arn:aws:iam::111122223333:role/app-ec2","conditions":{"items":[]}}}"#;

fn encoded(time: &str, message: &str) -> Value {
    run_instances(
        time,
        &format!(
            "You are not authorized to perform this operation. Encoded authorization failure message: {message}"
        ),
    )
}

#[test]
fn decode_denials_asks_sts_over_its_query_protocol() {
    let server = sts_server::Server::start(
        [("ENC-A+/=", IMPLICIT), ("ENC-B", EXPLICIT)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = events(
        dir.path(),
        &[
            encoded("2026-11-20T10:01:00Z", "ENC-A+/="),
            encoded("2026-11-20T10:02:00Z", "ENC-A+/="),
            encoded("2026-11-20T10:03:00Z", "ENC-B"),
            encoded("2026-11-20T10:04:00Z", "ENC-UNKNOWN"),
            // A plain verdict is read as it is, never sent.
            run_instances("2026-11-20T10:05:00Z", PASS_ROLE),
        ],
    );
    let run = |extra: &[&str]| {
        minpriv()
            .env("AWS_ACCESS_KEY_ID", "minpriv-test")
            .env("AWS_SECRET_ACCESS_KEY", "minpriv-test-secret")
            .env("AWS_ENDPOINT_URL_STS", &server.endpoint)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .args(["discover", "--principal", ROLE, "--events"])
            .arg(&path)
            .args(extra)
            .output()
            .unwrap()
    };
    // Without the flag, STS is not asked.
    let plain = run(&[]);
    assert!(plain.status.success());
    assert!(server.received().is_empty());

    let output = run(&["--decode-denials"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let received = server.received();
    let mut sent: Vec<&str> = received
        .iter()
        .map(|r| r.form["EncodedMessage"].as_str())
        .collect();
    sent.sort_unstable();
    assert_eq!(sent, ["ENC-A+/=", "ENC-B", "ENC-UNKNOWN"]);
    for request in &received {
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("POST", "/")
        );
        assert!(
            request
                .content_type
                .starts_with("application/x-www-form-urlencoded")
        );
        assert_eq!(request.form["Action"], "DecodeAuthorizationMessage");
        assert_eq!(request.form["Version"], "2011-06-15");
        // Signed with SigV4 for STS, in the default region (none was configured).
        assert!(
            request
                .authorization
                .starts_with("AWS4-HMAC-SHA256 Credential=minpriv-test/")
                && request
                    .authorization
                    .contains("/us-east-1/sts/aws4_request"),
            "{}",
            request.authorization
        );
    }
    for expected in [
        "STS DecodeAuthorizationMessage: 3 encoded denial messages sent, 2 decoded, 1 not\n",
        "REFUSED by other policies: the deployment needs these, and no identity policy makes them succeed (1):\n  ec2.amazonaws.com RunInstances ×1 (Client.UnauthorizedOperation): ec2:RunInstances on arn:aws:ec2:us-east-1:111122223333:instance/* (explicit deny; AWS did not name the kind of policy; statements VisualEditor0)\n",
        "denied: AWS named the action, not which policy refused it (not added; check by hand) (1):\n  ec2.amazonaws.com RunInstances ×2 (Client.UnauthorizedOperation): iam:PassRole on arn:aws:iam::111122223333:role/app-ec2 (implicit deny; AWS did not name the kind of policy)\n",
        "encoded messages STS did not decode (1):\n  ec2.amazonaws.com RunInstances ×1: STS DecodeAuthorizationMessage: InvalidAuthorizationMessageException: ",
        "named by AWS as missing from the identity-based policy, added to the policy (1):\n  iam:PassRole on arn:aws:iam::111122223333:role/app-ec2: in the error of ec2.amazonaws.com RunInstances ×1 ",
    ] {
        assert!(stderr.contains(expected), "{expected}\n---\n{stderr}");
    }
    // A message STS would not decode, and a refusal, fail --strict.
    assert_eq!(
        run(&["--decode-denials", "--strict"]).status.code(),
        Some(4)
    );
}

#[test]
fn self_policy_adds_what_decode_denials_needs() {
    let policy: Value = serde_json::from_str(&stdout_of(
        minpriv().args(["self-policy", "--decode-denials"]),
    ))
    .unwrap();
    assert_eq!(
        policy["Statement"],
        json!([{"Sid": "DecodeDenials", "Effect": "Allow", "Action": "sts:DecodeAuthorizationMessage", "Resource": "*"}])
    );
    let reference = minpriv::iam::Reference::embedded().unwrap();
    let (_, action) = reference.action("sts:DecodeAuthorizationMessage").unwrap();
    assert!(
        action.resource_types.is_empty(),
        "{:?}",
        action.resource_types
    );
}
