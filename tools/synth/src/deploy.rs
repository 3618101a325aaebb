//! The bundled sample: a Terraform apply and destroy of a small serverless app (S3 buckets,
//! Lambda functions with execution roles, IAM roles and policies, SSM parameters, log
//! groups, a KMS key, an SQS queue) by `role/ci-provisioner`, mixed with other principals'
//! calls, AWS service events, a console sign-in, and calls outside the window.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use super::{CallSpec, Trail, Who};

pub const ACCOUNT: &str = "111122223333";
pub const REGION: &str = "eu-west-1";
pub const ROLE: &str = "ci-provisioner";
/// The window the sample deploy ran in.
pub const SINCE: &str = "2026-11-20T10:00:00Z";
pub const UNTIL: &str = "2026-11-20T10:40:00Z";

const TERRAFORM: &str = "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.76.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.32.4 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64";
const CONSOLE: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36";
/// A VPC that existed before the deploy: not created by the run, so it stays pinned.
pub const EXISTING_VPC: &str = "vpc-0e1d2c3b4a5968778";
const QUEUE_URL: &str = "https://sqs.eu-west-1.amazonaws.com/111122223333/psoxy-batch";

/// The tags the module gives every resource it creates.
const MODULE_TAGS: [(&str, &str); 2] = [("managed-by", "terraform"), ("app", "psoxy")];

/// The identifiers AWS generates for what the deploy creates: another deploy of the same
/// module gets other ones.
#[derive(Debug, Clone)]
pub struct Ids {
    pub key: String,
    pub security_group: String,
    /// The six characters Secrets Manager appends to a secret's ARN.
    pub secret_suffix: String,
    pub subscription: String,
    pub api: String,
}

impl Ids {
    /// The ids of the bundled sample.
    #[must_use]
    pub fn sample() -> Self {
        Self {
            key: "0f4d6a2e-5b7c-4e18-9a3d-2c61b8e7f905".into(),
            security_group: "sg-0a1b2c3d4e5f67890".into(),
            secret_suffix: "Xy12Ab".into(),
            subscription: "5c7e9a1b-3d4f-4a6b-8c9d-0e1f2a3b4c5d".into(),
            api: "k3m9x2p7qa".into(),
        }
    }

    /// Fresh ids, as a second deploy would get.
    #[must_use]
    pub fn fresh(seed: u64) -> Self {
        let mut dice = super::Dice::new(seed);
        let hex = |dice: &mut super::Dice, n: usize| -> String {
            (0..n)
                .map(|_| {
                    char::from(b"0123456789abcdef"[usize::try_from(dice.below(16)).unwrap_or(0)])
                })
                .collect()
        };
        let lower = |dice: &mut super::Dice, n: usize| -> String {
            (0..n)
                .map(|_| {
                    char::from(
                        b"abcdefghijklmnopqrstuvwxyz0123456789"
                            [usize::try_from(dice.below(36)).unwrap_or(0)],
                    )
                })
                .collect()
        };
        Self {
            key: dice.uuid(),
            security_group: format!("sg-{}", hex(&mut dice, 17)),
            secret_suffix: dice.token(3) + &lower(&mut dice, 3),
            subscription: dice.uuid(),
            api: lower(&mut dice, 10),
        }
    }
}

/// A clock that moves forward a little with every call.
struct Clock(Timestamp);

impl Clock {
    fn at(text: &str) -> Self {
        Self(text.parse().unwrap_or(Timestamp::UNIX_EPOCH))
    }
    fn tick(&mut self, seconds: i64) -> Timestamp {
        self.0 = self
            .0
            .checked_add(SignedDuration::from_secs(seconds))
            .unwrap_or(self.0);
        self.0
    }
}

/// Calls of one principal, made with one user agent.
struct Actor<'t> {
    trail: &'t mut Trail,
    who: Who,
    agent: &'static str,
    clock: Clock,
    /// The `resources` array of the next call recorded.
    resources: Option<Value>,
    ids: Ids,
    /// The tags every created resource is given: the module's, then the deployer's own.
    tags: Vec<(String, String)>,
}

impl Actor<'_> {
    /// The tags as `[{"key": …, "value": …}]` (IAM, SSM, SNS, Secrets Manager), or with
    /// other member names (KMS's `tagKey`, `tagValue`).
    fn tags_list(&self, key: &str, value: &str) -> Value {
        self.tags
            .iter()
            .map(|(k, v)| {
                let mut tag = serde_json::Map::new();
                tag.insert(key.to_owned(), Value::String(k.clone()));
                tag.insert(value.to_owned(), Value::String(v.clone()));
                Value::Object(tag)
            })
            .collect()
    }

    fn tags_kv(&self) -> Value {
        self.tags_list("key", "value")
    }

    /// The tags as `{"key": "value"}` (Lambda, SQS, CloudWatch Logs, API Gateway).
    fn tags_map(&self) -> Value {
        Value::Object(
            self.tags
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        )
    }

    fn call(&mut self, source: &str, name: &str, request: Value, response: Value) {
        self.full(source, name, REGION, request, response, None, None);
    }

    fn global(&mut self, name: &str, request: Value, response: Value) {
        self.full(
            "iam.amazonaws.com",
            name,
            "us-east-1",
            request,
            response,
            None,
            None,
        );
    }

    fn failed(&mut self, source: &str, name: &str, request: Value, error: (&str, &str)) {
        self.full(
            source,
            name,
            REGION,
            request,
            Value::Null,
            Some(error),
            None,
        );
    }

    /// KMS records the key (and alias) a call used in the event's `resources` array.
    fn kms_resources(&mut self, alias: bool) -> &mut Self {
        let key = format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{}", self.ids.key);
        let mut resources =
            vec![json!({"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": key})];
        if alias {
            let alias = format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/psoxy-key");
            resources.push(json!({"accountId": ACCOUNT, "type": "AWS::KMS::Alias", "ARN": alias}));
        }
        self.resources = Some(Value::Array(resources));
        self
    }

    fn via(&mut self, service: &str, source: &str, name: &str, request: Value) {
        self.full(
            source,
            name,
            REGION,
            request,
            Value::Null,
            None,
            Some(service),
        );
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one CloudTrail record's worth of fields"
    )]
    fn full(
        &mut self,
        source: &str,
        name: &str,
        region: &str,
        request: Value,
        response: Value,
        error: Option<(&str, &str)>,
        via: Option<&str>,
    ) {
        let resources = self.resources.take();
        let step = 1 + i64::try_from(self.trail.dice().below(3)).unwrap_or(0);
        let at = self.clock.tick(step);
        let read_only = ["Get", "List", "Describe", "Head"]
            .iter()
            .any(|p| name.starts_with(p));
        self.trail.call(
            at,
            CallSpec {
                who: &self.who,
                source,
                name,
                region,
                request,
                response,
                error,
                agent: self.agent,
                read_only,
                via,
                resources,
            },
        );
    }
}

fn s3(bucket: &str) -> Value {
    json!({"bucketName": bucket, "Host": format!("{bucket}.s3.{REGION}.amazonaws.com")})
}

/// A request on one of a bucket's subresources (`?encryption`), as CloudTrail records it.
fn subresource(bucket: &str, sub: &str) -> Value {
    with(s3(bucket), &json!({ sub: "" }))
}

fn with(mut base: Value, extra: &Value) -> Value {
    if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            base.insert(k.clone(), v.clone());
        }
    }
    base
}

fn provisioner<'t>(
    trail: &'t mut Trail,
    start: &str,
    ids: &Ids,
    extra_tags: &[(&str, &str)],
) -> Actor<'t> {
    Actor {
        ids: ids.clone(),
        tags: MODULE_TAGS
            .iter()
            .chain(extra_tags)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        trail,
        who: Who::Role {
            account: ACCOUNT.into(),
            role: ROLE.into(),
            session: "terraform-run-42".into(),
        },
        agent: TERRAFORM,
        clock: Clock::at(start),
        resources: None,
    }
}

/// Builds the whole sample trail.
#[must_use]
pub fn sample() -> Trail {
    sample_with(&Ids::sample(), 42)
}

/// The same deployment with other generated ids (and other request ids, delivery times and
/// file names, from `seed`): what the next `terraform apply` and `destroy` look like.
#[must_use]
pub fn sample_with(ids: &Ids, seed: u64) -> Trail {
    sample_tagged(ids, seed, &[])
}

/// [`sample_with`], the deployer adding its own tags to every resource the module creates
/// (Terraform's `default_tags`), after the module's `managed-by` and `app`.
#[must_use]
pub fn sample_tagged(ids: &Ids, seed: u64, extra_tags: &[(&str, &str)]) -> Trail {
    let mut trail = Trail::new(ACCOUNT, seed);
    earlier_runs(&mut trail, ids);
    apply(&mut provisioner(
        &mut trail,
        "2026-11-20T10:02:00Z",
        ids,
        extra_tags,
    ));
    destroy(&mut provisioner(
        &mut trail,
        "2026-11-20T10:24:30Z",
        ids,
        extra_tags,
    ));
    bystanders(&mut trail, ids);
    trail
}

fn apply(tf: &mut Actor<'_>) {
    tf.call(
        "sts.amazonaws.com",
        "GetCallerIdentity",
        Value::Null,
        Value::Null,
    );
    key(tf);
    buckets(tf);
    parameters(tf);
    queue(tf);
    functions(tf);
    secret(tf);
    security_group(tf);
    alerts(tf);
    api(tf);
    policy_version(tf);
}

fn secret_arn(tf: &Actor<'_>) -> String {
    format!(
        "arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:psoxy-dev-SALT-{}",
        tf.ids.secret_suffix
    )
}

/// A Secrets Manager secret, encrypted with the deploy's key and tagged on create.
fn secret(tf: &mut Actor<'_>) {
    let arn = secret_arn(tf);
    tf.call("secretsmanager.amazonaws.com", "CreateSecret", json!({
        "name": "psoxy-dev-SALT", "clientRequestToken": "b3c6e0f2-1a4d-4b7e-9c2f-5d8a0e3b6c91",
        "kmsKeyId": "alias/psoxy-key", "tags": tf.tags_kv(), "forceOverwriteReplicaSecret": false
    }), json!({"arn": arn, "name": "psoxy-dev-SALT", "versionId": "b3c6e0f2-1a4d-4b7e-9c2f-5d8a0e3b6c91"}));
    tf.call(
        "secretsmanager.amazonaws.com",
        "DescribeSecret",
        json!({"secretId": arn}),
        Value::Null,
    );
    tf.call(
        "secretsmanager.amazonaws.com",
        "GetResourcePolicy",
        json!({"secretId": arn}),
        Value::Null,
    );
    tf.call(
        "secretsmanager.amazonaws.com",
        "PutSecretValue",
        json!({"secretId": arn, "clientRequestToken": "7d1e4a9b-2c5f-4e8a-b1d3-6f9c2e5a8b04"}),
        json!({"arn": arn, "name": "psoxy-dev-SALT", "versionId": "7d1e4a9b-2c5f-4e8a-b1d3-6f9c2e5a8b04"}),
    );
}

/// A security group in a VPC that existed before the deploy.
fn security_group(tf: &mut Actor<'_>) {
    let group = tf.ids.security_group.clone();
    tf.call("ec2.amazonaws.com", "CreateSecurityGroup", json!({
        "groupName": "psoxy-lambda", "groupDescription": "psoxy functions", "vpcId": EXISTING_VPC,
        "tagSpecificationSet": {"items": [{"resourceType": "security-group", "tags": tf.tags_kv()}]}
    }), json!({"requestId": "0c3d6f2a-8b1e-4d7a-9f3c-2e5b8a1d4c70", "_return": true, "groupId": group}));
    tf.call(
        "ec2.amazonaws.com",
        "DescribeSecurityGroups",
        json!({
            "securityGroupIdSet": {"items": [{"groupId": group}]}, "filterSet": {}
        }),
        Value::Null,
    );
    tf.call("ec2.amazonaws.com", "AuthorizeSecurityGroupEgress", json!({
        "groupId": group, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
            "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}
    }), json!({"requestId": "4e7a0c3d-6b9f-4a2e-8d1c-5f8b2e4a7c93", "_return": true}));
}

/// An SNS topic with the queue subscribed to it.
fn alerts(tf: &mut Actor<'_>) {
    let topic = format!("arn:aws:sns:{REGION}:{ACCOUNT}:psoxy-alerts");
    tf.call(
        "sns.amazonaws.com",
        "CreateTopic",
        json!({"name": "psoxy-alerts", "tags": tf.tags_kv()}),
        json!({"topicArn": topic}),
    );
    tf.call(
        "sns.amazonaws.com",
        "GetTopicAttributes",
        json!({"topicArn": topic}),
        Value::Null,
    );
    tf.call("sns.amazonaws.com", "Subscribe", json!({
        "topicArn": topic, "protocol": "sqs", "endpoint": format!("arn:aws:sqs:{REGION}:{ACCOUNT}:psoxy-batch"),
        "returnSubscriptionArn": true
    }), json!({"subscriptionArn": format!("{topic}:{}", tf.ids.subscription)}));
}

/// An HTTP API with its default stage.
fn api(tf: &mut Actor<'_>) {
    let id = tf.ids.api.clone();
    tf.call(
        "apigateway.amazonaws.com",
        "CreateApi",
        json!({
            "name": "psoxy-api", "protocolType": "HTTP", "tags": tf.tags_map()
        }),
        json!({"apiId": id, "name": "psoxy-api", "protocolType": "HTTP",
        "apiEndpoint": format!("https://{id}.execute-api.{REGION}.amazonaws.com")}),
    );
    tf.call(
        "apigateway.amazonaws.com",
        "CreateStage",
        json!({"apiId": id, "stageName": "$default", "autoDeploy": true}),
        json!({"stageName": "$default", "autoDeploy": true}),
    );
    tf.call(
        "apigateway.amazonaws.com",
        "GetStage",
        json!({"apiId": id, "stageName": "$default"}),
        Value::Null,
    );
}

/// A second version of a function's policy, made the default.
fn policy_version(tf: &mut Actor<'_>) {
    let policy_arn = format!("arn:aws:iam::{ACCOUNT}:policy/psoxy-gcal-ssm");
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"ssm:GetParameter*","Resource":"arn:aws:ssm:*:{ACCOUNT}:parameter/PSOXY_*"}}]}}"#
    );
    tf.global(
        "CreatePolicyVersion",
        json!({"policyArn": policy_arn, "policyDocument": document, "setAsDefault": true}),
        json!({"policyVersion": {"versionId": "v2", "isDefaultVersion": true, "createDate": "Nov 20, 2026, 10:21:40 AM"}}),
    );
}

/// A KMS key and its alias.
fn key(tf: &mut Actor<'_>) {
    let key_id = tf.ids.key.clone();
    let key_arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}");
    tf.call("kms.amazonaws.com", "CreateKey", json!({
        "description": "psoxy secrets", "keyUsage": "ENCRYPT_DECRYPT", "keySpec": "SYMMETRIC_DEFAULT",
        "bypassPolicyLockoutSafetyCheck": false, "multiRegion": false,
        "tags": tf.tags_list("tagKey", "tagValue")
    }), json!({"keyMetadata": {"aWSAccountId": ACCOUNT, "keyId": key_id, "arn": key_arn, "keyState": "Enabled", "keyManager": "CUSTOMER"}}));
    for name in [
        "DescribeKey",
        "GetKeyPolicy",
        "GetKeyRotationStatus",
        "ListResourceTags",
        "EnableKeyRotation",
    ] {
        let mut request = json!({"keyId": key_id});
        if name == "GetKeyPolicy" {
            request = with(request, &json!({"policyName": "default"}));
        }
        tf.kms_resources(false)
            .call("kms.amazonaws.com", name, request, Value::Null);
    }
    tf.kms_resources(true).call(
        "kms.amazonaws.com",
        "CreateAlias",
        json!({"aliasName": "alias/psoxy-key", "targetKeyId": key_id}),
        Value::Null,
    );
    tf.call(
        "kms.amazonaws.com",
        "ListAliases",
        json!({"limit": 100}),
        Value::Null,
    );
}

fn buckets(tf: &mut Actor<'_>) {
    for bucket in ["psoxy-sanitized-7f3a", "psoxy-import-7f3a"] {
        tf.call("s3.amazonaws.com", "CreateBucket", with(s3(bucket), &json!({
            "CreateBucketConfiguration": {"LocationConstraint": REGION, "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}
        })), Value::Null);
        tf.call("s3.amazonaws.com", "HeadBucket", s3(bucket), Value::Null);
        tf.call(
            "s3.amazonaws.com",
            "PutBucketTagging",
            subresource(bucket, "tagging"),
            Value::Null,
        );
        tf.failed(
            "s3.amazonaws.com",
            "GetBucketPolicy",
            subresource(bucket, "policy"),
            ("NoSuchBucketPolicy", "The bucket policy does not exist"),
        );
        for name in [
            "GetBucketAcl",
            "GetBucketCors",
            "GetBucketVersioning",
            "GetBucketRequestPayment",
            "GetBucketLogging",
            "GetBucketLifecycle",
            "GetBucketEncryption",
            "GetBucketTagging",
        ] {
            tf.call("s3.amazonaws.com", name, s3(bucket), Value::Null);
        }
        tf.failed(
            "s3.amazonaws.com",
            "GetBucketWebsite",
            s3(bucket),
            (
                "NoSuchWebsiteConfiguration",
                "The specified bucket does not have a website configuration",
            ),
        );
        tf.failed(
            "s3.amazonaws.com",
            "GetBucketReplication",
            s3(bucket),
            (
                "ReplicationConfigurationNotFoundError",
                "The replication configuration was not found",
            ),
        );
        tf.failed(
            "s3.amazonaws.com",
            "GetObjectLockConfiguration",
            s3(bucket),
            (
                "ObjectLockConfigurationNotFoundError",
                "Object Lock configuration does not exist for this bucket",
            ),
        );
        tf.failed(
            "s3.amazonaws.com",
            "GetBucketAccelerateConfiguration",
            s3(bucket),
            ("AccessDenied", "Access Denied"),
        );
        tf.call("s3.amazonaws.com", "PutBucketPublicAccessBlock", with(s3(bucket), &json!({
            "publicAccessBlock": "",
            "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}
        })), Value::Null);
        for (name, sub) in [
            ("GetBucketPublicAccessBlock", "publicAccessBlock"),
            ("PutBucketEncryption", "encryption"),
            ("PutBucketLifecycle", "lifecycle"),
        ] {
            tf.call(
                "s3.amazonaws.com",
                name,
                subresource(bucket, sub),
                Value::Null,
            );
        }
    }
}

/// SSM parameters, encrypted with the key: SSM calls KMS with the role's credentials.
fn parameters(tf: &mut Actor<'_>) {
    for name in [
        "PSOXY_GCAL_CLIENT_ID",
        "PSOXY_GCAL_CLIENT_SECRET",
        "PSOXY_SLACK_TOKEN",
    ] {
        tf.call("ssm.amazonaws.com", "PutParameter", json!({
            "name": name, "description": "psoxy secret", "type": "SecureString", "keyId": "alias/psoxy-key",
            "overwrite": false, "tier": "Standard", "dataType": "text", "tags": tf.tags_kv(), "value": "HIDDEN_DUE_TO_SECURITY_REASONS"
        }), json!({"version": 1, "tier": "Standard"}));
        tf.kms_resources(false).via("ssm.amazonaws.com", "kms.amazonaws.com", "Encrypt", json!({
            "keyId": "alias/psoxy-key", "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "encryptionContext": {"PARAMETER_ARN": format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name}")}
        }));
        tf.call(
            "ssm.amazonaws.com",
            "GetParameter",
            json!({"name": name, "withDecryption": true}),
            Value::Null,
        );
        tf.kms_resources(false).via("ssm.amazonaws.com", "kms.amazonaws.com", "Decrypt", json!({
            "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
            "encryptionContext": {"PARAMETER_ARN": format!("arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/{name}")}
        }));
        tf.call(
            "ssm.amazonaws.com",
            "DescribeParameters",
            json!({"parameterFilters": [{"key": "Name", "option": "Equals", "values": [name]}]}),
            Value::Null,
        );
        tf.call(
            "ssm.amazonaws.com",
            "ListTagsForResource",
            json!({"resourceType": "Parameter", "resourceId": name}),
            Value::Null,
        );
    }
}

fn queue(tf: &mut Actor<'_>) {
    tf.call("sqs.amazonaws.com", "CreateQueue", json!({
        "queueName": "psoxy-batch", "attribute": {"MessageRetentionPeriod": "345600", "VisibilityTimeout": "60"}, "tags": tf.tags_map()
    }), json!({"queueUrl": QUEUE_URL}));
    tf.call(
        "sqs.amazonaws.com",
        "GetQueueAttributes",
        json!({"queueUrl": QUEUE_URL, "attributeNames": ["All"]}),
        Value::Null,
    );
    tf.call(
        "sqs.amazonaws.com",
        "ListQueueTags",
        json!({"queueUrl": QUEUE_URL}),
        Value::Null,
    );
}

/// Per function: execution role, policy, attachment, log group, function.
/// A function's execution role, with a policy attached.
fn execution_role(tf: &mut Actor<'_>, function: &str) -> String {
    let role = format!("{function}-exec");
    let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/{role}");
    let policy = format!("{function}-ssm");
    let policy_arn = format!("arn:aws:iam::{ACCOUNT}:policy/{policy}");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    tf.global("CreateRole", json!({"roleName": role, "assumeRolePolicyDocument": trust, "tags": tf.tags_kv()}), json!({
        "role": {"path": "/", "roleName": role, "roleId": "AROAEXAMPLEEXECROLE", "arn": role_arn, "createDate": "Nov 20, 2026, 10:05:11 AM", "assumeRolePolicyDocument": trust}
    }));
    tf.global("GetRole", json!({"roleName": role}), Value::Null);
    tf.global("ListRoleTags", json!({"roleName": role}), Value::Null);
    tf.global("ListRolePolicies", json!({"roleName": role}), Value::Null);
    tf.global(
        "ListAttachedRolePolicies",
        json!({"roleName": role}),
        Value::Null,
    );
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"ssm:GetParameter","Resource":"arn:aws:ssm:*:{ACCOUNT}:parameter/PSOXY_*"}}]}}"#
    );
    tf.global("CreatePolicy", json!({"policyName": policy, "policyDocument": document, "description": "read psoxy parameters", "tags": tf.tags_kv()}), json!({
        "policy": {"policyName": policy, "policyId": "ANPAEXAMPLEPOLICY", "arn": policy_arn, "path": "/", "defaultVersionId": "v1", "attachmentCount": 0, "isAttachable": true}
    }));
    tf.global("GetPolicy", json!({"policyArn": policy_arn}), Value::Null);
    tf.global(
        "GetPolicyVersion",
        json!({"policyArn": policy_arn, "versionId": "v1"}),
        Value::Null,
    );
    tf.global(
        "ListPolicyTags",
        json!({"policyArn": policy_arn}),
        Value::Null,
    );
    tf.global(
        "AttachRolePolicy",
        json!({"roleName": role, "policyArn": policy_arn}),
        Value::Null,
    );
    role_arn
}

fn functions(tf: &mut Actor<'_>) {
    for (function, versioned) in [("psoxy-gcal", true), ("psoxy-slack", false)] {
        let role_arn = execution_role(tf, function);
        let group = format!("/aws/lambda/{function}");
        tf.call(
            "logs.amazonaws.com",
            "CreateLogGroup",
            json!({"logGroupName": group, "tags": tf.tags_map()}),
            Value::Null,
        );
        tf.call(
            "logs.amazonaws.com",
            "PutRetentionPolicy",
            json!({"logGroupName": group, "retentionInDays": 7}),
            Value::Null,
        );
        tf.call(
            "logs.amazonaws.com",
            "DescribeLogGroups",
            json!({"logGroupNamePrefix": group}),
            Value::Null,
        );
        tf.call(
            "logs.amazonaws.com",
            "ListTagsForResource",
            json!({"resourceArn": format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}")}),
            Value::Null,
        );

        let suffix = |name: &str, version: &str| {
            if versioned {
                format!("{name}{version}")
            } else {
                name.to_owned()
            }
        };
        let function_arn = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}");
        tf.call("lambda.amazonaws.com", &suffix("CreateFunction", "20150331"), json!({
            "functionName": function, "runtime": "java21", "role": role_arn, "handler": "co.worklytics.psoxy.Handler",
            "code": {}, "description": "psoxy instance", "timeout": 55, "memorySize": 512, "publish": false,
            "environment": {}, "tags": tf.tags_map(), "architectures": ["arm64"], "packageType": "Zip"
        }), json!({"functionName": function, "functionArn": function_arn, "runtime": "java21", "role": role_arn, "state": "Pending"}));
        for name in [
            suffix("GetFunction", "20150331v2"),
            suffix("ListVersionsByFunction", "20150331"),
            "GetFunctionCodeSigningConfig".to_owned(),
        ] {
            let request = json!({"functionName": function});
            tf.call("lambda.amazonaws.com", &name, request, Value::Null);
        }
        tf.call(
            "lambda.amazonaws.com",
            &suffix("ListTags", "20170331"),
            json!({"resource": function_arn}),
            Value::Null,
        );
        tf.call(
            "lambda.amazonaws.com",
            &suffix("UpdateFunctionConfiguration", "20150331v2"),
            json!({
                "functionName": function, "environment": {}, "timeout": 55
            }),
            json!({"functionName": function, "functionArn": function_arn}),
        );
    }
}

fn destroy(tf: &mut Actor<'_>) {
    tf.call(
        "sts.amazonaws.com",
        "GetCallerIdentity",
        Value::Null,
        Value::Null,
    );
    destroy_added(tf);
    destroy_functions(tf);
    destroy_storage(tf);
}

/// Tears down the secret, security group, subscription, topic, API and policy version.
fn destroy_added(tf: &mut Actor<'_>) {
    let policy_arn = format!("arn:aws:iam::{ACCOUNT}:policy/psoxy-gcal-ssm");
    tf.global(
        "DeletePolicyVersion",
        json!({"policyArn": policy_arn, "versionId": "v1"}),
        Value::Null,
    );
    tf.call(
        "apigateway.amazonaws.com",
        "DeleteApi",
        json!({"apiId": tf.ids.api.clone()}),
        Value::Null,
    );
    let topic = format!("arn:aws:sns:{REGION}:{ACCOUNT}:psoxy-alerts");
    tf.call(
        "sns.amazonaws.com",
        "Unsubscribe",
        json!({"subscriptionArn": format!("{topic}:{}", tf.ids.subscription)}),
        Value::Null,
    );
    tf.call(
        "sns.amazonaws.com",
        "DeleteTopic",
        json!({"topicArn": topic}),
        Value::Null,
    );
    tf.call(
        "ec2.amazonaws.com",
        "DeleteSecurityGroup",
        json!({"groupId": tf.ids.security_group.clone()}),
        json!({"requestId": "9a2d5f8c-1e4b-4c7a-a3d6-0f9c2b5e8a17", "_return": true}),
    );
    let arn = secret_arn(tf);
    tf.call(
        "secretsmanager.amazonaws.com",
        "DeleteSecret",
        json!({"secretId": arn, "forceDeleteWithoutRecovery": true}),
        json!({"arn": arn, "name": "psoxy-dev-SALT", "deletionDate": "Nov 20, 2026, 10:25:02 AM"}),
    );
}

fn destroy_functions(tf: &mut Actor<'_>) {
    for (function, versioned) in [("psoxy-gcal", true), ("psoxy-slack", false)] {
        let role = format!("{function}-exec");
        let policy_arn = format!("arn:aws:iam::{ACCOUNT}:policy/{function}-ssm");
        let name = if versioned {
            "DeleteFunction20150331"
        } else {
            "DeleteFunction"
        };
        tf.call(
            "lambda.amazonaws.com",
            name,
            json!({"functionName": function}),
            Value::Null,
        );
        tf.call(
            "logs.amazonaws.com",
            "DeleteLogGroup",
            json!({"logGroupName": format!("/aws/lambda/{function}")}),
            Value::Null,
        );
        tf.global(
            "DetachRolePolicy",
            json!({"roleName": role, "policyArn": policy_arn}),
            Value::Null,
        );
        tf.global(
            "ListPolicyVersions",
            json!({"policyArn": policy_arn}),
            Value::Null,
        );
        tf.global(
            "DeletePolicy",
            json!({"policyArn": policy_arn}),
            Value::Null,
        );
        tf.global(
            "ListInstanceProfilesForRole",
            json!({"roleName": role}),
            Value::Null,
        );
        tf.global("DeleteRole", json!({"roleName": role}), Value::Null);
    }
}

fn destroy_storage(tf: &mut Actor<'_>) {
    tf.call(
        "sqs.amazonaws.com",
        "DeleteQueue",
        json!({"queueUrl": QUEUE_URL}),
        Value::Null,
    );
    for name in [
        "PSOXY_GCAL_CLIENT_ID",
        "PSOXY_GCAL_CLIENT_SECRET",
        "PSOXY_SLACK_TOKEN",
    ] {
        tf.call(
            "ssm.amazonaws.com",
            "DeleteParameter",
            json!({"name": name}),
            Value::Null,
        );
    }
    for bucket in ["psoxy-sanitized-7f3a", "psoxy-import-7f3a"] {
        for (name, sub) in [
            ("ListObjectVersions", "versions"),
            ("DeleteBucketLifecycle", "lifecycle"),
            ("DeleteBucketEncryption", "encryption"),
            ("DeleteBucketPublicAccessBlock", "publicAccessBlock"),
        ] {
            tf.call(
                "s3.amazonaws.com",
                name,
                subresource(bucket, sub),
                Value::Null,
            );
        }
        tf.call("s3.amazonaws.com", "DeleteBucket", s3(bucket), Value::Null);
    }
    tf.kms_resources(true).call(
        "kms.amazonaws.com",
        "DeleteAlias",
        json!({"aliasName": "alias/psoxy-key"}),
        Value::Null,
    );
    let key = tf.ids.key.clone();
    tf.kms_resources(false).call(
        "kms.amazonaws.com",
        "ScheduleKeyDeletion",
        json!({"keyId": key, "pendingWindowInDays": 7}),
        Value::Null,
    );
}

/// Calls by the same role before the window: they must not reach the policy.
fn earlier_runs(trail: &mut Trail, ids: &Ids) {
    let mut yesterday = provisioner(trail, "2026-11-19T16:10:00Z", ids, &[]);
    yesterday.call(
        "ec2.amazonaws.com",
        "DescribeVpcs",
        json!({"vpcSet": {}, "filterSet": {}}),
        Value::Null,
    );
    yesterday.call(
        "ec2.amazonaws.com",
        "DescribeSubnets",
        json!({"subnetSet": {}, "filterSet": {}}),
        Value::Null,
    );
    let mut plan = provisioner(trail, "2026-11-20T09:31:00Z", ids, &[]);
    plan.call(
        "sts.amazonaws.com",
        "GetCallerIdentity",
        Value::Null,
        Value::Null,
    );
    plan.call(
        "dynamodb.amazonaws.com",
        "DescribeTable",
        json!({"tableName": "terraform-locks"}),
        Value::Null,
    );
}

/// Other principals and AWS services active in the same window.
fn bystanders(trail: &mut Trail, ids: &Ids) {
    let mut alice = Actor {
        trail: &mut *trail,
        who: Who::Role {
            account: ACCOUNT.into(),
            role: "developer".into(),
            session: "alice@example.com".into(),
        },
        agent: CONSOLE,
        clock: Clock::at("2026-11-20T10:06:00Z"),
        resources: None,
        ids: ids.clone(),
        tags: Vec::new(),
    };
    alice.call(
        "ec2.amazonaws.com",
        "DescribeInstances",
        json!({"instancesSet": {}, "filterSet": {}}),
        Value::Null,
    );
    alice.call(
        "s3.amazonaws.com",
        "ListBuckets",
        json!({"Host": "s3.eu-west-1.amazonaws.com"}),
        Value::Null,
    );
    alice.call(
        "monitoring.amazonaws.com",
        "GetMetricData",
        json!({"startTime": "Nov 20, 2026, 9:00:00 AM", "endTime": "Nov 20, 2026, 10:00:00 AM"}),
        Value::Null,
    );

    let mut exec = Actor {
        trail: &mut *trail,
        who: Who::Role {
            account: ACCOUNT.into(),
            role: "psoxy-gcal-exec".into(),
            session: "psoxy-gcal".into(),
        },
        agent: "aws-sdk-java/2.29.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/21 exec-env/AWS_Lambda_java21",
        clock: Clock::at("2026-11-20T10:16:00Z"),
        resources: None,
        ids: ids.clone(),
        tags: Vec::new(),
    };
    exec.call(
        "ssm.amazonaws.com",
        "GetParameter",
        json!({"name": "PSOXY_GCAL_CLIENT_SECRET", "withDecryption": true}),
        Value::Null,
    );

    let mut lambda = Actor {
        trail: &mut *trail,
        who: Who::Service("lambda.amazonaws.com".into()),
        agent: "lambda.amazonaws.com",
        clock: Clock::at("2026-11-20T10:15:50Z"),
        resources: None,
        ids: ids.clone(),
        tags: Vec::new(),
    };
    lambda.call("sts.amazonaws.com", "AssumeRole", json!({
        "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/psoxy-gcal-exec"), "roleSessionName": "psoxy-gcal"
    }), Value::Null);

    let signin: Timestamp = "2026-11-20T10:05:12Z"
        .parse()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    trail.raw("us-east-1", signin, json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLEERIK", "arn": format!("arn:aws:iam::{ACCOUNT}:user/erik"), "accountId": ACCOUNT, "userName": "erik"},
        "eventTime": "2026-11-20T10:05:12Z", "eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin",
        "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "userAgent": CONSOLE,
        "requestParameters": null, "responseElements": {"ConsoleLogin": "Success"},
        "additionalEventData": {"MobileVersion": "No", "MFAUsed": "Yes"},
        "eventID": "3f1c2b6e-0d6a-4c1e-9a55-7b0a1d2e3f40", "readOnly": false, "eventType": "AwsConsoleSignIn",
        "managementEvent": true, "recipientAccountId": ACCOUNT, "eventCategory": "Management"
    }));
    let rotated: Timestamp = "2026-11-20T10:20:00Z"
        .parse()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    trail.raw(REGION, rotated, json!({
        "eventVersion": "1.09", "userIdentity": {"accountId": ACCOUNT, "invokedBy": "kms.amazonaws.com"},
        "eventTime": "2026-11-20T10:20:00Z", "eventSource": "kms.amazonaws.com", "eventName": "RotateKey",
        "awsRegion": REGION, "sourceIPAddress": "kms.amazonaws.com", "userAgent": "kms.amazonaws.com",
        "requestParameters": null, "responseElements": null, "eventID": "7a9e0c41-2f3b-4d5e-8f60-1a2b3c4d5e6f",
        "readOnly": false, "resources": [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{}", ids.key)}],
        "eventType": "AwsServiceEvent", "managementEvent": true, "recipientAccountId": ACCOUNT, "eventCategory": "Management"
    }));
}
