//! Unit tests of the chain walk over digests made and signed in memory.

use aws_lc_rs::signature::KeyPair as _;

use super::*;

/// Everything: no window, nothing unlisted.
static EVERYTHING: std::sync::LazyLock<crate::source::Scope> =
    std::sync::LazyLock::new(crate::source::Scope::default);

fn all() -> Scanned<'static> {
    Scanned {
        scope: &EVERYTHING,
        unlisted: &[],
    }
}

const BASE: &str = "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/11/20/";
const LOGS: &str = "AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/20/";

struct Made {
    files: Vec<DigestFile>,
    keys: PublicKeys,
}

impl Made {
    /// The digests of a bucket verified with their own keys over the whole scope.
    fn verify_all(&self, logs: &[(String, LogState)]) -> Verification {
        verify(
            Origin::Bucket,
            &self.files,
            all(),
            logs,
            &Keys::Given(self.keys.clone()),
        )
    }
}

fn log_name(minute: u32) -> String {
    format!("s3://b/{LOGS}111122223333_CloudTrail_eu-west-1_20261120T10{minute:02}Z_X.json.gz")
}

/// `hours` signed digests ending 11:00, 12:00, …, the first listing log files of 10:05 and
/// 10:10 whose content is their own name.
fn made(hours: u32, edit: impl Fn(usize, &mut serde_json::Value)) -> Made {
    let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let mut keys = PublicKeys::default();
    keys.insert("fp".to_owned(), key.public_key().as_ref());
    let mut files = Vec::new();
    let mut previous: Option<(String, String, String)> = None;
    for hour in 0..hours {
        let end = 11 + hour;
        let object = format!(
            "{BASE}111122223333_CloudTrail-Digest_eu-west-1_t_eu-west-1_20261120T{end}0000Z.json.gz"
        );
        let logs: Vec<serde_json::Value> = if hour == 0 {
            [5, 10]
                .iter()
                .map(|m| {
                    let name = log_name(*m);
                    serde_json::json!({"s3Bucket": "b", "s3Object": tail(&name), "hashValue": digest::sha256_hex(name.as_bytes())})
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut value = serde_json::json!({
            "awsAccountId": "111122223333",
            "digestStartTime": format!("2026-11-20T{}:00:00Z", end - 1),
            "digestEndTime": format!("2026-11-20T{end}:00:00Z"),
            "digestS3Bucket": "b",
            "digestS3Object": object,
            "digestPublicKeyFingerprint": "fp",
            "digestSignatureAlgorithm": "SHA256withRSA",
            "previousDigestS3Bucket": previous.as_ref().map(|_| "b"),
            "previousDigestS3Object": previous.as_ref().map(|p| p.0.clone()),
            "previousDigestHashValue": previous.as_ref().map(|p| p.1.clone()),
            "previousDigestSignature": previous.as_ref().map(|p| p.2.clone()),
            "logFiles": logs,
        });
        edit(files.len(), &mut value);
        let bytes = serde_json::to_vec(&value).unwrap();
        let decoded = Digest::decode(&bytes).unwrap();
        let mut signature = vec![0; key.public_modulus_len()];
        key.sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            decoded.signing_string().as_bytes(),
            &mut signature,
        )
        .unwrap();
        let signature = hex::encode(signature);
        previous = Some((object.clone(), decoded.hash.clone(), signature.clone()));
        files.push(DigestFile {
            name: format!("s3://b/{object}"),
            bucket: Some("b".to_owned()),
            key: object,
            bytes: Ok(bytes),
            signature: Some(signature),
            signature_algorithm: Some("SHA256withRSA".to_owned()),
        });
    }
    Made { files, keys }
}

fn logs(minutes: &[u32]) -> Vec<(String, LogState)> {
    minutes
        .iter()
        .map(|m| {
            let name = log_name(*m);
            let hash = digest::sha256_hex(name.as_bytes()).to_ascii_uppercase();
            (name, LogState::Hashed(hash))
        })
        .collect()
}

#[test]
fn a_valid_chain_verifies_its_log_files_and_every_signature() {
    let made = made(2, |_, _| {});
    let result = made.verify_all(&logs(&[5, 10]));
    assert_eq!(result.verified(), 2, "{}", result.summary());
    assert_eq!(result.signatures_checked, 2);
    assert!(!result.tampered());
    assert_eq!(result.unverified(), 0);
}

#[test]
fn a_local_chain_checks_signatures_its_successors_record_and_says_which_it_could_not() {
    let mut made = made(3, |_, _| {});
    for file in &mut made.files {
        file.bucket = None;
        file.signature = None;
        file.signature_algorithm = None;
    }
    let result = verify(
        Origin::Local,
        &made.files,
        all(),
        &logs(&[5, 10]),
        &Keys::Given(made.keys),
    );
    assert_eq!(
        (result.signatures_checked, result.signatures_unchecked),
        (2, 1)
    );
    assert_eq!(
        result.unverified(),
        0,
        "a local copy is expected to lack one"
    );
    assert!(!result.tampered(), "{}", result.summary());
}

#[test]
fn files_no_digest_lists_say_why() {
    let made = made(1, |_, _| {});
    let mut read = logs(&[5, 10, 20]);
    read.push((
        log_name(5).replace("T1005Z", "T1105Z"),
        LogState::Hashed(String::new()),
    ));
    read.push((
        log_name(5).replace("eu-west-1", "us-east-1"),
        LogState::NotRead,
    ));
    read.push((
        log_name(5).replace("eu-west-1", "ap-south-1"),
        LogState::Hashed(String::new()),
    ));
    let result = made.verify_all(&read);
    let not_covered = result.not_covered();
    assert_eq!(not_covered.get(&Uncovered::NotListed), Some(&1));
    assert_eq!(not_covered.get(&Uncovered::AfterLastDigest), Some(&1));
    assert_eq!(not_covered.get(&Uncovered::NotRead), Some(&1));
    assert_eq!(not_covered.get(&Uncovered::NoDigest), Some(&1));
    assert_eq!(result.unverified(), 4);
    assert!(!result.tampered());
}

#[test]
fn a_moved_digest_and_a_broken_hash_link_are_invalid() {
    let made_moved = made(1, |_, value| {
        value["digestS3Object"] = serde_json::json!(format!("{BASE}elsewhere.json.gz"));
    });
    let result = made_moved.verify_all(&logs(&[5]));
    assert!(
        result
            .invalid()
            .iter()
            .any(|(_, why)| why.contains("not where it says it is"))
    );
    let made_broken = made(2, |at, value| {
        if at == 1 {
            value["previousDigestHashValue"] = serde_json::json!("00");
        }
    });
    let result = verify(
        Origin::Bucket,
        &made_broken.files,
        all(),
        &logs(&[5]),
        &Keys::Unavailable("none".to_owned()),
    );
    assert!(
        result
            .invalid()
            .iter()
            .any(|(_, why)| why.contains("previousDigestHashValue")),
        "{}",
        result.summary()
    );
    assert_eq!(
        result.unverified(),
        2,
        "from a bucket, unchecked signatures count"
    );
}

proptest::proptest! {
    #[test]
    fn arbitrary_digest_bytes_and_names_never_panic(
        bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
        key in ".{0,80}",
    ) {
        let file = DigestFile {
            name: key.clone(),
            bucket: Some("b".to_owned()),
            key: key.clone(),
            bytes: Ok(bytes.clone()),
            signature: Some(key.clone()),
            signature_algorithm: None,
        };
        let mut gzipped = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gzipped, &bytes).unwrap();
        let other = DigestFile {
            bytes: Ok(gzipped.finish().unwrap()),
            ..file.clone()
        };
        let result = verify(Origin::Local, &[file, other], all(),
            &[(key.clone(), LogState::Hashed(key.clone()))],
            &Keys::Given(PublicKeys::default()),
        );
        proptest::prop_assert_eq!(result.files.len(), 1);
        let _ = crate::source::layout::digest_time(&key);
    }
}

#[test]
fn a_bucket_digest_without_signature_metadata_is_invalid_even_without_keys() {
    let mut made = made(1, |_, _| {});
    made.files[0].signature = None;
    let result = verify(
        Origin::Bucket,
        &made.files,
        all(),
        &logs(&[5]),
        &Keys::Unavailable("none".to_owned()),
    );
    assert!(
        result
            .invalid()
            .iter()
            .any(|(_, why)| why.contains("no signature in its S3 metadata")),
        "{}",
        result.summary()
    );
}

#[test]
fn a_file_a_valid_digest_lists_that_was_not_found_is_missing_and_invalid() {
    let made = made(1, |_, _| {});
    let result = made.verify_all(&logs(&[5]));
    assert!(result.tampered());
    assert_eq!(result.missing(), 1);
    let why = format!(
        "listed by {}, not in the bucket: deleted after delivery?",
        made.files[0].name
    );
    assert_eq!(
        result.files.get(&log_name(10)),
        Some(&Status::Missing(why.clone()))
    );
    assert_eq!(result.invalid(), [(log_name(10).as_str(), why.as_str())]);
    assert!(
        result
            .summary()
            .contains("1 log files verified, 0 not covered by any digest, 1 INVALID (1 missing);"),
        "{}",
        result.summary()
    );
    assert_eq!(result.statuses()[&log_name(10)], format!("INVALID: {why}"));
}

#[test]
fn files_listed_outside_the_scanned_range_or_below_an_unlisted_prefix_are_not_missing() {
    let made = made(1, |_, _| {});
    // The listing covered deliveries up to 10:07: 10:10 was not looked for.
    let scope = crate::source::Scope::new(
        None,
        Some("2026-11-20T10:07:00Z".parse().unwrap()),
        jiff::SignedDuration::ZERO,
        &std::collections::BTreeSet::new(),
        &std::collections::BTreeSet::new(),
        "us-east-1",
    );
    let within = Scanned {
        scope: &scope,
        unlisted: &[],
    };
    let keys = || Keys::Given(made.keys.clone());
    let result = verify(Origin::Bucket, &made.files, within, &logs(&[5]), &keys());
    assert_eq!(result.missing(), 0, "{}", result.summary());
    assert!(!result.tampered());
    // Another region or account is outside the scope too.
    let region = crate::source::Scope::new(
        None,
        None,
        jiff::SignedDuration::ZERO,
        &std::collections::BTreeSet::new(),
        &std::collections::BTreeSet::from(["ap-south-1".to_owned()]),
        "us-east-1",
    );
    let result = verify(
        Origin::Bucket,
        &made.files,
        Scanned {
            scope: &region,
            unlisted: &[],
        },
        &[],
        &keys(),
    );
    assert_eq!(result.missing(), 0, "{}", result.summary());
    // The day's prefix could not be listed: a failed read, already counted as one.
    let unlisted = [format!("s3://b/{LOGS}")];
    let result = verify(
        Origin::Bucket,
        &made.files,
        Scanned {
            scope: &EVERYTHING,
            unlisted: &unlisted,
        },
        &logs(&[5]),
        &keys(),
    );
    assert_eq!(result.missing(), 0, "{}", result.summary());
    // A local folder that could not be read, named without its trailing `/`.
    assert!(below("/copy/AWSLogs/x/y.json.gz", "/copy/AWSLogs/x"));
    assert!(!below("/copy/AWSLogs/xy/y.json.gz", "/copy/AWSLogs/x"));
}

#[test]
fn an_invalid_digest_s_files_are_not_also_missing() {
    let mut made = made(1, |_, _| {});
    made.files[0].signature = Some("00".to_owned());
    let result = made.verify_all(&logs(&[5]));
    assert!(result.tampered());
    assert_eq!(result.missing(), 0, "{}", result.summary());
}
