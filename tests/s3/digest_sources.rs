//! `--verify-digests` beyond the loopback bucket: a local copy (no S3 metadata), moto's
//! server, what `self-policy` and the arguments say.

use super::digests::{fixture, window_names};
use super::signed::{self, Signer};
use super::{BUCKET, DAY, KEY, SECRET, WINDOW, bucket_with_sample, from_dir, minpriv};

#[test]
fn digests_of_a_local_copy_check_hashes_and_say_signatures_were_not_checked() {
    let f = fixture();
    signed::write(&f.bucket_dir(), &f.objects);
    let run = |extra: &[&str]| {
        let output = minpriv()
            .arg("discover")
            .arg("--trail-dir")
            .arg(f.bucket_dir())
            .arg("--verify-digests")
            .args(WINDOW)
            .args(extra)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let markdown = f.scratch.path().join("report.md");
    let (code, stderr) = run(&["--report", markdown.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    let markdown = std::fs::read_to_string(markdown).unwrap();
    assert!(markdown.contains("## Log file verification (`--verify-digests`)"));
    assert_eq!(markdown.matches("| verified |").count(), 25, "{markdown}");
    assert!(
        stderr.contains("digests: 25 log files verified, 0 not covered by any digest, 0 INVALID (0 missing); 6 digest files (0 INVALID), 0 signatures checked"),
        "{stderr}"
    );
    assert!(
        stderr.contains("signatures NOT checked on 6 digests: a local copy has no S3 metadata"),
        "{stderr}"
    );
    // With the keys, every digest but the last of each chain is checked by the signature
    // its successor records.
    let keys = f.keys();
    let (code, stderr) = run(&["--public-keys", &keys]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("4 signatures checked"), "{stderr}");
    assert!(
        stderr.contains("signatures NOT checked on 2 digests: the last digest of a local chain"),
        "{stderr}"
    );
    let names = window_names(f.root.path());
    signed::edit_log(&f.bucket_dir().join(DAY).join(&names[1]));
    let cut = f.bucket_dir().join(DAY).join(&names[2]);
    let bytes = std::fs::read(&cut).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let (code, stderr) = run(&[]);
    assert_eq!(code, Some(6), "{stderr}");
    assert!(
        stderr.contains(&format!("{}: SHA-256 of its content differs", names[1])),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{}: listed by {}",
            names[2],
            f.bucket_dir()
                .join(f.objects[f.digest("eu-west-1", "T110000Z")].key.as_str())
                .display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("but cannot be read (corrupt or truncated gzip data"),
        "{stderr}"
    );
}

/// The signed chain served by an independent S3 implementation (moto's server, started by
/// `.ci/run`): metadata given on PutObject comes back on GetObject, and a forged signature
/// is caught there too.
#[test]
#[ignore = "needs moto's server: run by .ci/run with MINPRIV_MOTO_ENDPOINT"]
fn moto_serves_signed_digests_with_their_metadata() {
    let endpoint = std::env::var("MINPRIV_MOTO_ENDPOINT")
        .expect("MINPRIV_MOTO_ENDPOINT must name moto's server");
    for (bucket, forge) in [
        ("acme-cloudtrail-signed", false),
        ("acme-cloudtrail-forged", true),
    ] {
        let root = bucket_with_sample("", None);
        let dir = root.path().join(BUCKET);
        let signer = Signer::new();
        let mut objects = signed::make(&dir, bucket, &signer, "2026-11-20T10:00:00Z", 3);
        if forge {
            objects[1].signature = Signer::new().sign(b"forged");
        }
        let client = signed::client(&endpoint, KEY, SECRET);
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            signed::upload_tree(&client, bucket, &dir).await;
            signed::upload(&client, bucket, &objects).await;
        });
        let scratch = tempfile::tempdir().unwrap();
        let keys = signer.key_file(scratch.path(), true, &signer.fingerprint);
        let output = minpriv()
            .args([
                "discover",
                "--trail-bucket",
                bucket,
                "--endpoint-url",
                &endpoint,
            ])
            .arg("--verify-digests")
            .arg("--public-keys")
            .arg(&keys)
            .args(WINDOW)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        if forge {
            assert_eq!(output.status.code(), Some(6), "{stderr}");
            assert!(stderr.contains("bad signature"), "{stderr}");
        } else {
            assert_eq!(output.status.code(), Some(0), "{stderr}");
            assert!(
                stderr.contains("25 log files verified, 0 not covered by any digest, 0 INVALID (0 missing); 6 digest files (0 INVALID), 6 signatures checked"),
                "{stderr}"
            );
            assert_eq!(output.stdout, from_dir());
        }
    }
}

#[test]
fn digests_self_policy_adds_list_public_keys_only_with_the_flag() {
    let policy = |extra: &[&str]| -> serde_json::Value {
        let output = minpriv()
            .args(["self-policy", "--trail-bucket", BUCKET])
            .args(extra)
            .output()
            .unwrap();
        assert!(output.status.success());
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let actions = |policy: &serde_json::Value| -> Vec<String> {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Action"].as_str().unwrap().to_owned())
            .collect()
    };
    let with = policy(&["--verify-digests"]);
    assert!(actions(&with).contains(&"cloudtrail:ListPublicKeys".to_owned()));
    // The digest prefix is readable only with the flag.
    let digests = "arn:aws:s3:::acme-cloudtrail/AWSLogs/*/CloudTrail-Digest/*";
    assert!(with.to_string().contains(digests));
    let without = policy(&[]);
    assert!(!actions(&without).contains(&"cloudtrail:ListPublicKeys".to_owned()));
    assert!(!without.to_string().contains(digests));
    assert!(
        without
            .to_string()
            .contains("arn:aws:s3:::acme-cloudtrail/AWSLogs/*/CloudTrail/*")
    );
}

#[test]
fn digests_are_read_only_beside_a_trail() {
    let output = minpriv()
        .args(["discover", "--events", "-", "--verify-digests"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("--verify-digests \"\": digest files are read beside the logs"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
