//! STS `DecodeAuthorizationMessage` for `--decode-denials`: each distinct encoded message of
//! the run is sent once, a few at a time, with the standard credential chain (STS API
//! reference, "DecodeAuthorizationMessage": the caller needs
//! `sts:DecodeAuthorizationMessage`; `minpriv self-policy --decode-denials` adds it).
//!
//! Endpoint: what aws-config resolves from `AWS_ENDPOINT_URL_STS` or `AWS_ENDPOINT_URL` (the
//! SDK's standard endpoint settings), else AWS's; the region is the chain's, else
//! `us-east-1` (STS answers in every region). `--endpoint-url` is the trail's and is not used.

use aws_sdk_sts::Client;
use futures_util::StreamExt as _;

use super::s3::SourceError;

/// How many messages are decoded at once.
pub const CONCURRENCY: usize = 4;

/// Where to decode.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub profile: Option<String>,
    pub region: Option<String>,
}

/// Decodes every message, in order: each its decoded text, or why STS did not decode it.
///
/// # Errors
/// The runtime cannot start.
pub fn decode(
    messages: &[String],
    options: &Options,
) -> Result<Vec<Result<String, String>>, SourceError> {
    let runtime = super::runtime().map_err(SourceError::Runtime)?;
    Ok(runtime.block_on(async {
        let client = client(options).await;
        futures_util::stream::iter(messages)
            .map(|message| decode_one(&client, message))
            .buffered(CONCURRENCY)
            .collect()
            .await
    }))
}

async fn decode_one(client: &Client, message: &str) -> Result<String, String> {
    let output = client
        .decode_authorization_message()
        .encoded_message(message)
        .send()
        .await
        .map_err(|e| format!("STS DecodeAuthorizationMessage: {}", super::describe(&e)))?;
    output
        .decoded_message()
        .map(str::to_owned)
        .ok_or_else(|| "STS DecodeAuthorizationMessage: the response has no DecodedMessage".into())
}

async fn client(options: &Options) -> Client {
    let shared =
        super::engine::shared_config(options.profile.as_deref(), options.region.as_deref()).await;
    let mut config = aws_sdk_sts::config::Builder::from(&shared);
    if shared.region().is_none() {
        config = config.region(aws_config::Region::new("us-east-1"));
    }
    Client::from_conf(config.build())
}
