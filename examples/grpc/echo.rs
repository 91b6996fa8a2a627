//! A gRPC service written by hand the way tonic's code generator writes one, so that
//! nothing needs `protoc` or a build script: prost messages by derive, a tower
//! service that routes the method's path through tonic's `server::Grpc` and prost
//! codec, and a client call through tonic's `client::Grpc`. Shared by
//! `examples/grpc_service.rs`, `tests/tokio_compat.rs` and `benches/tokio_compat.rs`
//! (`#[path]` modules).
//!
//! The service is one method, `ticktock.test.Echo/Say`: it answers the request's
//! message and the number of calls the server answered so far.

#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

/// The request message of `ticktock.test.Echo/Say`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoRequest {
    #[prost(string, tag = "1")]
    pub message: String,
}

/// The reply message of `ticktock.test.Echo/Say`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct EchoReply {
    #[prost(string, tag = "1")]
    pub message: String,
    /// Calls the server answered so far, this one included.
    #[prost(uint64, tag = "2")]
    pub calls: u64,
}

/// The gRPC path of the one method.
pub const SAY_PATH: &str = "/ticktock.test.Echo/Say";

/// The server side, as tonic's code generator would write it: routes the method's
/// path to a unary handler through tonic's `server::Grpc` and prost codec.
#[derive(Clone, Default)]
pub struct EchoServer {
    calls: Arc<AtomicU64>,
}

impl tonic::server::NamedService for EchoServer {
    const NAME: &'static str = "ticktock.test.Echo";
}

/// The unary handler of `Say`.
struct Say(Arc<AtomicU64>);

impl tonic::server::UnaryService<EchoRequest> for Say {
    type Response = EchoReply;
    type Future =
        Pin<Box<dyn Future<Output = Result<tonic::Response<EchoReply>, tonic::Status>> + Send>>;

    fn call(&mut self, request: tonic::Request<EchoRequest>) -> Self::Future {
        let calls = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        let reply = EchoReply {
            message: request.into_inner().message,
            calls,
        };
        Box::pin(async move { Ok(tonic::Response::new(reply)) })
    }
}

impl tower_service::Service<http::Request<tonic::body::Body>> for EchoServer {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        if request.uri().path() == SAY_PATH {
            let handler = Say(self.calls.clone());
            Box::pin(async move {
                let codec = tonic_prost::ProstCodec::<EchoReply, EchoRequest>::default();
                Ok(tonic::server::Grpc::new(codec)
                    .unary(handler, request)
                    .await)
            })
        } else {
            let status = tonic::Status::unimplemented(request.uri().path().to_string());
            Box::pin(async move { Ok(status.into_http()) })
        }
    }
}

/// One `Say` call on a tonic client channel.
pub async fn say(
    channel: tonic::transport::Channel,
    message: &str,
) -> Result<EchoReply, tonic::Status> {
    let mut client = tonic::client::Grpc::new(channel);
    client
        .ready()
        .await
        .map_err(|error| tonic::Status::unavailable(error.to_string()))?;
    let codec = tonic_prost::ProstCodec::<EchoRequest, EchoReply>::default();
    let path = http::uri::PathAndQuery::from_static(SAY_PATH);
    let request = tonic::Request::new(EchoRequest {
        message: message.to_string(),
    });
    Ok(client.unary(request, path, codec).await?.into_inner())
}
