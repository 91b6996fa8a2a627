//! `ticktock::http::Client` (feature `http-client`): hyper-util's pooled client on
//! ticktock's connector, executor and timer, against local hyper servers on
//! ticktock. Checks the keep-alive pool (connections counted on the server side),
//! HTTP/2 multiplexing, and that the timeouts run on ticktock's timers (a paused
//! ticktock clock drives them).

#![cfg(feature = "http-client")]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use ticktock::http::{Client, Error};
use ticktock::hyper::{Executor, Io, Timer};
use ticktock::net::TcpListener;

/// Which protocol the test server speaks.
#[derive(Clone, Copy)]
enum Protocol {
    Http1,
    Http2,
}

/// Starts a hyper server on the current ticktock runtime that answers every
/// request with its path; returns its address and the count of connections it
/// accepted.
async fn start_server(protocol: Protocol) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    ticktock::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let echo_path = hyper::service::service_fn(|request: Request<Incoming>| async move {
                let path = request.uri().path().to_string();
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(path))))
            });
            ticktock::spawn(async move {
                let _ = match protocol {
                    // No server timer: hyper's header-read timeout would close idle
                    // keep-alive connections on the paused clock of the pool test.
                    Protocol::Http1 => {
                        hyper::server::conn::http1::Builder::new()
                            .serve_connection(Io::new(stream), echo_path)
                            .await
                    }
                    Protocol::Http2 => {
                        hyper::server::conn::http2::Builder::new(Executor)
                            .timer(Timer)
                            .serve_connection(Io::new(stream), echo_path)
                            .await
                    }
                };
            });
        }
    });
    (addr, accepted)
}

/// GETs `path` and returns the body.
async fn get(client: &Client<Empty<Bytes>>, addr: SocketAddr, path: &str) -> String {
    let uri = format!("http://{addr}{path}").parse().unwrap();
    let response = client.get(uri).await.unwrap();
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

fn runtime() -> ticktock::Runtime {
    ticktock::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

#[test]
fn http1_requests_in_turn_reuse_one_pooled_connection() {
    // Current-thread: while the requesting task sleeps between requests, the
    // runtime runs the connection task, which puts the connection back in the
    // pool (it goes back asynchronously once the response body is read).
    let rt = ticktock::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let (addr, accepted) = start_server(Protocol::Http1).await;
        let client = Client::new();
        for i in 0..20 {
            assert_eq!(get(&client, addr, &format!("/{i}")).await, format!("/{i}"));
            ticktock::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "keep-alive pool not reused"
        );
    });
}

#[test]
fn http1_concurrent_requests_from_many_tasks() {
    runtime().block_on(async {
        let (addr, accepted) = start_server(Protocol::Http1).await;
        let client = Client::new();
        let tasks: Vec<_> = (0..50)
            .map(|task| {
                let client = client.clone();
                ticktock::spawn(async move {
                    for call in 0..10 {
                        let path = format!("/{task}/{call}");
                        assert_eq!(get(&client, addr, &path).await, path);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        // HTTP/1.1 carries one request at a time per connection, so up to about one
        // connection per task (hyper-util's pool may finish a few extra connects it
        // started while a connection was coming back); far fewer than the 500
        // requests: the pool reuses them.
        let connections = accepted.load(Ordering::SeqCst);
        assert!(
            (1..=100).contains(&connections),
            "{connections} connections"
        );
    });
}

#[test]
fn http2_multiplexes_concurrent_requests_on_one_connection() {
    runtime().block_on(async {
        let (addr, accepted) = start_server(Protocol::Http2).await;
        let client = Client::builder().http2_only(true).build();
        // One request first, so the connection exists before the concurrent ones.
        assert_eq!(get(&client, addr, "/first").await, "/first");
        let tasks: Vec<_> = (0..50)
            .map(|task| {
                let client = client.clone();
                ticktock::spawn(async move {
                    let path = format!("/{task}");
                    assert_eq!(get(&client, addr, &path).await, path);
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn request_timeout_runs_on_ticktocks_paused_clock() {
    // A server that accepts and never answers; a one-hour timeout. With ticktock's
    // clock paused, the idle runtime jumps to the deadline at once: the timeout is
    // ticktock's timer (tokio's would wait the hour, or panic without a runtime).
    let rt = ticktock::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _silent = ticktock::spawn(async move {
            let (_stream, _) = listener.accept().await.unwrap();
            std::future::pending::<()>().await
        });
        let client: Client<Empty<Bytes>> =
            Client::builder().timeout(Duration::from_secs(3600)).build();
        let error = client
            .get(format!("http://{addr}/").parse().unwrap())
            .await
            .unwrap_err();
        assert!(error.is_timeout(), "{error}");
        assert!(matches!(error, Error::TimedOut(limit) if limit == Duration::from_secs(3600)));
    });
    assert!(started.elapsed() < Duration::from_secs(600));
}

#[test]
fn idle_pooled_connections_expire_on_ticktocks_clock() {
    let rt = ticktock::Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let (addr, accepted) = start_server(Protocol::Http1).await;
        let client = Client::builder()
            .pool_idle_timeout(Duration::from_secs(30))
            .build();
        get(&client, addr, "/a").await;
        ticktock::time::sleep(Duration::from_secs(10)).await;
        get(&client, addr, "/b").await;
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            1,
            "reused within the idle timeout"
        );
        ticktock::time::sleep(Duration::from_secs(60)).await;
        get(&client, addr, "/c").await;
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            2,
            "expired after the idle timeout"
        );
    });
}

#[test]
fn errors_say_what_went_wrong() {
    runtime().block_on(async {
        let client: Client<Empty<Bytes>> = Client::new();
        // Nothing listens on a port just released.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let refused = client
            .get(format!("http://127.0.0.1:{port}/").parse().unwrap())
            .await
            .unwrap_err();
        assert!(refused.is_connect(), "{refused}");
        let tls = client
            .get("https://127.0.0.1/".parse().unwrap())
            .await
            .unwrap_err();
        // Without `ClientBuilder::tls` (or the feature), https is refused, saying why.
        assert!(tls.to_string().contains("https needs"), "{tls}");
    });
}

/// HTTPS through rustls (feature `http-client-rustls`): a self-signed `localhost`
/// certificate made now, a futures-rustls server offering only `h2` over ALPN.
#[cfg(feature = "http-client-rustls")]
mod tls {
    use super::*;
    use futures_rustls::rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};
    use futures_rustls::rustls::{crypto, ClientConfig, RootCertStore, ServerConfig};

    /// The server's configuration, and a client configuration that trusts it.
    fn configs() -> (Arc<ServerConfig>, Arc<ClientConfig>) {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let cert: CertificateDer<'static> = certified.cert.der().clone();
        let key = PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der());
        let provider = Arc::new(crypto::ring::default_provider());
        let mut server = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key.into())
            .unwrap();
        server.alpn_protocols = vec![b"h2".to_vec()];
        let mut roots = RootCertStore::empty();
        roots.add(cert).unwrap();
        let mut client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        client.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        (Arc::new(server), Arc::new(client))
    }

    /// An HTTP/2-over-TLS server answering each request with its path; returns its
    /// port and the count of TLS connections it accepted.
    async fn start_tls_server(config: Arc<ServerConfig>) -> (u16, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        ticktock::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = futures_rustls::TlsAcceptor::from(config.clone());
                let counter = counter.clone();
                ticktock::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    counter.fetch_add(1, Ordering::SeqCst);
                    let echo_path =
                        hyper::service::service_fn(|request: Request<Incoming>| async move {
                            let path = request.uri().path().to_string();
                            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(path))))
                        });
                    let _ = hyper::server::conn::http2::Builder::new(Executor)
                        .timer(Timer)
                        .serve_connection(Io::new(tls), echo_path)
                        .await;
                });
            }
        });
        (port, accepted)
    }

    #[test]
    fn https_with_alpn_h2_shares_one_tls_connection() {
        let (server_config, client_config) = configs();
        runtime().block_on(async move {
            let (port, accepted) = start_tls_server(server_config).await;
            let client: Client<Empty<Bytes>> = Client::builder().tls(client_config).build();
            let first = client
                .get(format!("https://localhost:{port}/first").parse().unwrap())
                .await
                .unwrap();
            assert_eq!(first.version(), hyper::Version::HTTP_2);
            let tasks: Vec<_> = (0..20)
                .map(|task| {
                    let client = client.clone();
                    ticktock::spawn(async move {
                        let uri = format!("https://localhost:{port}/{task}").parse().unwrap();
                        let response = client.get(uri).await.unwrap();
                        let body = response.into_body().collect().await.unwrap().to_bytes();
                        assert_eq!(body, format!("/{task}"));
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(accepted.load(Ordering::SeqCst), 1);
        });
    }

    #[test]
    fn https_to_an_untrusted_certificate_fails_to_connect() {
        let (server_config, _) = configs();
        // Trusts a different certificate than the server's.
        let (_, other_client_config) = configs();
        runtime().block_on(async move {
            let (port, accepted) = start_tls_server(server_config).await;
            let client: Client<Empty<Bytes>> = Client::builder().tls(other_client_config).build();
            let error = client
                .get(format!("https://localhost:{port}/").parse().unwrap())
                .await
                .unwrap_err();
            assert!(error.is_connect(), "{error}");
            assert_eq!(accepted.load(Ordering::SeqCst), 0);
        });
    }
}
