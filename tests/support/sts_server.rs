//! An STS stand-in for `--decode-denials`, on loopback, in this process: it speaks STS's
//! query protocol (AWS STS API reference, "DecodeAuthorizationMessage"; "Common
//! parameters"): a signed `POST /` whose form-encoded body carries
//! `Action=DecodeAuthorizationMessage`, `Version=2011-06-15` and `EncodedMessage`, answered
//! with the `DecodeAuthorizationMessageResponse` XML, or 400 with STS's `ErrorResponse`
//! (`InvalidAuthorizationMessageException`) for a message it does not know.

#![allow(dead_code, reason = "each user takes what it needs")]
#![allow(clippy::unwrap_used, reason = "test support fails loudly")]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;

/// One request as received: its method, path, `Authorization` header and form fields.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub content_type: String,
    pub authorization: String,
    pub form: BTreeMap<String, String>,
}

/// A running STS stand-in that decodes the messages it was given.
pub struct Server {
    pub endpoint: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Server {
    /// Serves `decoded`: encoded message → the decoded JSON STS returns for it.
    pub fn start(decoded: BTreeMap<String, String>) -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let (log, decoded) = (received.clone(), Arc::new(decoded));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let Ok((socket, _)) = listener.accept().await else {
                        continue;
                    };
                    let _ = socket.set_nodelay(true);
                    let (log, decoded) = (log.clone(), decoded.clone());
                    tokio::spawn(async move {
                        let handler = service_fn(move |request| {
                            let (log, decoded) = (log.clone(), decoded.clone());
                            async move { answer(request, &log, &decoded).await }
                        });
                        let _ = Builder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(socket), handler)
                            .await;
                    });
                }
            });
        });
        Self { endpoint, received }
    }

    /// Every request received, in order.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn answer(
    request: hyper::Request<hyper::body::Incoming>,
    log: &Mutex<Vec<Received>>,
    decoded: &BTreeMap<String, String>,
) -> Result<hyper::Response<String>, std::convert::Infallible> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut received = Received {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
        content_type: header("content-type"),
        authorization: header("authorization"),
        form: BTreeMap::new(),
    };
    let body = collect(request.into_body()).await;
    received.form = form(&String::from_utf8_lossy(&body));
    log.lock().unwrap().push(received.clone());
    let field = |name: &str| received.form.get(name).map(String::as_str);
    let (status, xml) = match (
        field("Action"),
        field("Version"),
        field("EncodedMessage").and_then(|m| decoded.get(m)),
    ) {
        (Some("DecodeAuthorizationMessage"), Some("2011-06-15"), Some(json)) => (
            200,
            format!(
                "<DecodeAuthorizationMessageResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
                 <DecodeAuthorizationMessageResult><DecodedMessage>{}</DecodedMessage></DecodeAuthorizationMessageResult>\
                 <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>\
                 </DecodeAuthorizationMessageResponse>",
                escape(json)
            ),
        ),
        (Some("DecodeAuthorizationMessage"), Some("2011-06-15"), None) => (
            400,
            error(
                "InvalidAuthorizationMessageException",
                "The error returned if the message passed to decodeAuthorizationMessage was invalid.",
            ),
        ),
        _ => (400, error("InvalidAction", "Could not find operation")),
    };
    Ok(hyper::Response::builder()
        .status(status)
        .header("content-type", "text/xml")
        .body(xml)
        .unwrap())
}

/// STS's error body.
fn error(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
         <Code>{code}</Code><Message>{message}</Message></Error>\
         <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>"
    )
}

/// The whole body of a request.
async fn collect(mut body: hyper::body::Incoming) -> Vec<u8> {
    use hyper::body::Body as _;
    let mut bytes = Vec::new();
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        if let Ok(data) = frame.unwrap().into_data() {
            bytes.extend_from_slice(&data);
        }
    }
    bytes
}

/// `application/x-www-form-urlencoded` fields.
fn form(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (unescape(name), unescape(value))
        })
        .collect()
}

/// Percent-decoding, `+` as a space.
fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'+' => out.push(b' '),
            b'%' if at + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[at + 1..at + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                at += 2;
            }
            byte => out.push(byte),
        }
        at += 1;
    }
    String::from_utf8(out).unwrap()
}

/// XML text.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
