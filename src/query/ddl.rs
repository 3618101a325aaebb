//! `minpriv athena ddl`: the `CREATE EXTERNAL TABLE` for a trail bucket with partition
//! projection, with the columns of AWS's documented table (Athena user guide, "Create the
//! table for CloudTrail logs in Athena using partition projection"), so queries written for
//! that table and minpriv's run on it alike.

use std::fmt::Write as _;

use super::spec::literal;

/// The documented columns, in the documented order.
const COLUMNS: &str = "    eventversion STRING,
    useridentity STRUCT<
        type: STRING,
        principalid: STRING,
        arn: STRING,
        accountid: STRING,
        invokedby: STRING,
        accesskeyid: STRING,
        username: STRING,
        onbehalfof: STRUCT<
            userid: STRING,
            identitystorearn: STRING>,
        sessioncontext: STRUCT<
            attributes: STRUCT<
                mfaauthenticated: STRING,
                creationdate: STRING>,
            sessionissuer: STRUCT<
                type: STRING,
                principalid: STRING,
                arn: STRING,
                accountid: STRING,
                username: STRING>,
            ec2roledelivery: STRING,
            webidfederationdata: STRUCT<
                federatedprovider: STRING,
                attributes: MAP<STRING,STRING>>
        >
    >,
    eventtime STRING,
    eventsource STRING,
    eventname STRING,
    awsregion STRING,
    sourceipaddress STRING,
    useragent STRING,
    errorcode STRING,
    errormessage STRING,
    requestparameters STRING,
    responseelements STRING,
    additionaleventdata STRING,
    requestid STRING,
    eventid STRING,
    readonly STRING,
    resources ARRAY<STRUCT<
        arn: STRING,
        accountid: STRING,
        type: STRING>>,
    eventtype STRING,
    apiversion STRING,
    recipientaccountid STRING,
    serviceeventdetails STRING,
    sharedeventid STRING,
    vpcendpointid STRING,
    vpcendpointaccountid STRING,
    eventcategory STRING,
    addendum STRUCT<
        reason: STRING,
        updatedfields: STRING,
        originalrequestid: STRING,
        originaleventid: STRING>,
    sessioncredentialfromconsole STRING,
    edgedevicedetails STRING,
    tlsdetails STRUCT<
        tlsversion: STRING,
        ciphersuite: STRING,
        clientprovidedhostheader: STRING>";

/// Where the trail is and what to project.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub table: String,
    pub bucket: String,
    pub prefix: String,
    pub org_id: Option<String>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// First day of `projection.timestamp.range` (`yyyy/MM/dd`).
    pub start: String,
}

/// The statement, with a comment line naming the `--athena-partitions` to query it with.
///
/// # Errors
/// No account or no region: the key layout has both, and projection must enumerate them.
pub fn render(options: &Options) -> Result<String, String> {
    if options.accounts.is_empty() || options.regions.is_empty() {
        return Err(
            "give the trail's accounts (--account, repeatable) and regions (--region, repeatable): they are folders of the key layout".to_owned(),
        );
    }
    let prefix = match options.prefix.trim_matches('/') {
        "" => String::new(),
        p => format!("{p}/"),
    };
    let root = match &options.org_id {
        Some(org) => format!("s3://{}/{prefix}AWSLogs/{org}/", options.bucket),
        None => format!("s3://{}/{prefix}AWSLogs/", options.bucket),
    };
    // The documented table: one account's one region, partitioned by day only.
    let single = options.org_id.is_none()
        && matches!(
            (options.accounts.as_slice(), options.regions.as_slice()),
            ([_], [_])
        );
    let mut out = String::new();
    let (partitions, location, template, projected) = if let ([account], [region], true) = (
        options.accounts.as_slice(),
        options.regions.as_slice(),
        single,
    ) {
        let location = format!("{root}{account}/CloudTrail/{region}/");
        (
            "timestamp",
            location.clone(),
            format!("{location}${{timestamp}}"),
            String::new(),
        )
    } else {
        (
            "account,region,timestamp",
            root.clone(),
            format!("{root}${{account}}/CloudTrail/${{region}}/${{timestamp}}"),
            format!(
                "    'projection.account.type'='enum',\n    'projection.account.values'={},\n    'projection.region.type'='enum',\n    'projection.region.values'={},\n",
                literal(&options.accounts.join(",")),
                literal(&options.regions.join(","))
            ),
        )
    };
    let _ = writeln!(
        out,
        "-- CloudTrail logs with partition projection; query it with\n-- minpriv discover --athena-table {} --athena-partitions {partitions} …",
        options.table
    );
    let _ = writeln!(
        out,
        "CREATE EXTERNAL TABLE {} (\n{COLUMNS}\n)",
        options.table
    );
    let columns = if single {
        "`timestamp` STRING"
    } else {
        "`account` STRING, `region` STRING, `timestamp` STRING"
    };
    let _ = writeln!(out, "PARTITIONED BY ({columns})");
    out.push_str(
        "ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'\n\
         STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'\n\
         OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n",
    );
    let _ = writeln!(out, "LOCATION {}", literal(&location));
    let _ = write!(
        out,
        "TBLPROPERTIES (\n    'projection.enabled'='true',\n{projected}    'projection.timestamp.type'='date',\n    'projection.timestamp.format'='yyyy/MM/dd',\n    'projection.timestamp.range'={},\n    'projection.timestamp.interval'='1',\n    'projection.timestamp.interval.unit'='DAYS',\n    'storage.location.template'={}\n);\n",
        literal(&format!("{},NOW", options.start)),
        literal(&template)
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> Options {
        Options {
            table: "cloudtrail_logs_pp".to_owned(),
            bucket: "acme-cloudtrail".to_owned(),
            accounts: vec!["111122223333".to_owned()],
            regions: vec!["eu-west-1".to_owned()],
            start: "2020/01/01".to_owned(),
            ..Options::default()
        }
    }

    #[test]
    fn one_account_and_region_is_the_documented_table() {
        let ddl = render(&options()).unwrap();
        assert!(ddl.contains("PARTITIONED BY (`timestamp` STRING)"), "{ddl}");
        assert!(
            ddl.contains("'storage.location.template'='s3://acme-cloudtrail/AWSLogs/111122223333/CloudTrail/eu-west-1/${timestamp}'"),
            "{ddl}"
        );
        assert!(ddl.contains("--athena-partitions timestamp "), "{ddl}");
        assert!(ddl.contains("resources ARRAY<STRUCT<"), "{ddl}");
    }

    #[test]
    fn an_organization_trail_projects_account_and_region() {
        let ddl = render(&Options {
            org_id: Some("o-abc123".to_owned()),
            prefix: "/trails/".to_owned(),
            regions: vec!["eu-west-1".to_owned(), "us-east-1".to_owned()],
            ..options()
        })
        .unwrap();
        assert!(
            ddl.contains("s3://acme-cloudtrail/trails/AWSLogs/o-abc123/${account}/CloudTrail/${region}/${timestamp}"),
            "{ddl}"
        );
        assert!(
            ddl.contains("'projection.region.values'='eu-west-1,us-east-1'"),
            "{ddl}"
        );
        assert!(
            ddl.contains("--athena-partitions account,region,timestamp"),
            "{ddl}"
        );
        assert!(
            render(&Options {
                regions: Vec::new(),
                ..options()
            })
            .is_err()
        );
    }
}
