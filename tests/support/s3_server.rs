//! An S3 server for tests and benchmarks: s3s over a folder (s3s-fs), on loopback, in
//! this process, wrapped to record every request and to inject faults.

#![allow(dead_code, reason = "each user takes what it needs")]
#![allow(clippy::unwrap_used, reason = "test support fails loudly")]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;

/// The credentials the server accepts.
pub const KEY: &str = "minpriv-test";
pub const SECRET: &str = "minpriv-test-secret";

/// What the server does to requests for a key whose path ends with the given text.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Answer 503 SlowDown this many times, then serve.
    SlowDown(u32),
    /// Drop the connection this many times, then serve.
    Drop(u32),
    /// Answer 403 AccessDenied to every listing whose query contains the text.
    DenyList,
    /// Serve a body cut short (fewer bytes than its Content-Length) every time.
    CutShort,
}

#[derive(Default)]
struct State {
    /// "GET /bucket/key?query" of every request, in order.
    requests: Vec<String>,
    faults: HashMap<String, Fault>,
    /// After this many requests, every connection is dropped (the server went away).
    dies_after: Option<usize>,
    /// Each listing is held this long before it is answered.
    hold_listings: Option<std::time::Duration>,
    /// Listings being answered now, and the most there ever were at once.
    listings_now: usize,
    listings_peak: usize,
}

/// A running S3 server over `root` (each folder a bucket).
pub struct Server {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
}

impl Server {
    pub fn start(root: &Path) -> Self {
        let fs = s3s_fs::FileSystem::new(root).unwrap();
        let mut builder = s3s::service::S3ServiceBuilder::new(fs);
        builder.set_auth(s3s::auth::SimpleAuth::from_single(KEY, SECRET));
        let service = builder.build();
        let state = Arc::new(Mutex::new(State::default()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        let shared = state.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    let Ok((socket, _)) = listener.accept().await else { continue };
                    // Small responses on loopback otherwise wait out delayed ACKs.
                    let _ = socket.set_nodelay(true);
                    let service = service.clone();
                    let state = shared.clone();
                    tokio::spawn(async move {
                        let handler = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            let service = service.clone();
                            let state = state.clone();
                            async move {
                                let line = format!("{} {}", request.method(), request.uri());
                                let fault = {
                                    let mut state = state.lock().unwrap();
                                    state.requests.push(line.clone());
                                    let path = request.uri().path().to_owned();
                                    let query = request.uri().query().unwrap_or_default().to_owned();
                                    let dead = state.dies_after.is_some_and(|n| state.requests.len() > n);
                                    let denied = query.contains("list-type=2") && state.faults.iter().any(|(k, f)| matches!(f, Fault::DenyList) && query.contains(k.as_str()));
                                    let hit = state.faults.iter_mut().find(|(k, _)| path.ends_with(k.as_str())).map(|(_, f)| f);
                                    match hit {
                                        _ if dead => Some(Fault::Drop(0)),
                                        _ if denied => Some(Fault::DenyList),
                                        Some(Fault::CutShort) if request.method() == hyper::Method::GET => Some(Fault::CutShort),
                                        Some(Fault::SlowDown(n)) if *n > 0 && request.method() == hyper::Method::GET => {
                                            *n -= 1;
                                            Some(Fault::SlowDown(0))
                                        }
                                        Some(Fault::Drop(n)) if *n > 0 && request.method() == hyper::Method::GET => {
                                            *n -= 1;
                                            Some(Fault::Drop(0))
                                        }
                                        _ => None,
                                    }
                                };
                                match fault {
                                    Some(Fault::SlowDown(_)) => {
                                        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
                                        Ok(hyper::Response::builder().status(503).header("content-type", "application/xml").body(s3s::Body::from(body.to_owned())).unwrap())
                                    }
                                    Some(Fault::Drop(_)) => Err::<hyper::Response<s3s::Body>, String>("dropped".to_owned()),
                                    Some(Fault::DenyList) => {
                                        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
                                        Ok(hyper::Response::builder().status(403).header("content-type", "application/xml").body(s3s::Body::from(body.to_owned())).unwrap())
                                    }
                                    Some(Fault::CutShort) => Ok(hyper::Response::builder().status(200).header("content-length", "100000").body(s3s::Body::from("\u{1f}\u{8b}".to_owned())).unwrap()),
                                    None if request.uri().query().unwrap_or_default().contains("list-type=2") => {
                                        let hold = {
                                            let mut state = state.lock().unwrap();
                                            state.listings_now += 1;
                                            state.listings_peak = state.listings_peak.max(state.listings_now);
                                            state.hold_listings
                                        };
                                        if let Some(hold) = hold {
                                            tokio::time::sleep(hold).await;
                                        }
                                        let answer = hyper::service::Service::call(&service, request).await.map_err(|e| format!("{e:?}"));
                                        state.lock().unwrap().listings_now -= 1;
                                        answer
                                    }
                                    None => hyper::service::Service::call(&service, request).await.map_err(|e| format!("{e:?}")),
                                }
                            }
                        });
                        let _ = Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(socket), handler).await;
                    });
                }
            });
        });
        Self { endpoint, state }
    }

    pub fn fault(&self, key_suffix: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .insert(key_suffix.to_owned(), fault);
    }

    /// Every request after the next `n` is dropped, as if the server had gone away.
    pub fn die_after(&self, n: usize) {
        let mut state = self.state.lock().unwrap();
        let seen = state.requests.len();
        state.dies_after = Some(seen + n);
    }

    /// Holds every listing this long before answering it (to see how many run at once).
    pub fn hold_listings(&self, hold: std::time::Duration) {
        self.state.lock().unwrap().hold_listings = Some(hold);
    }

    /// The most listings that were ever being answered at once.
    pub fn listings_peak(&self) -> usize {
        self.state.lock().unwrap().listings_peak
    }

    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn clear(&self) {
        self.state.lock().unwrap().requests.clear();
    }
}
