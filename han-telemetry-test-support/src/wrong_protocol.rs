//! Loopback servers that speak the other OTLP transport, the way the usual
//! mistake meets one (gRPC sent to an OTLP/HTTP port, OTLP/HTTP sent to a gRPC port).
//!
//! * [`Server::http1`]: an HTTP/1.1-only server, as many OTLP/HTTP receivers and proxies are.
//!   It answers whatever it reads with `400 Bad Request` and closes, which is also what it
//!   does to gRPC's HTTP/2 connection preface (Go's and Python's servers answer 505 and close).
//! * [`Server::http1_keeping_the_connection`]: the same answer, but the connection stays open,
//!   so an HTTP/2 client reads the answer as a frame.
//! * [`Server::http2_only`]: a gRPC server meeting an HTTP/1.1 request, as grpc-go does: it
//!   sends its HTTP/2 SETTINGS frame first, reads the request, finds no preface and closes.
//!
//! Std only; each server runs until dropped (the listener thread ends with the test process).

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

/// An HTTP/2 SETTINGS frame without settings: 24-bit length 0, type 4, flags 0, stream 0.
pub const HTTP2_SETTINGS: [u8; 9] = [0, 0, 0, 4, 0, 0, 0, 0, 0];
const BAD_REQUEST: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

/// A server on an ephemeral loopback port, answering every connection the same way.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
}

impl Server {
    pub fn http1() -> Self {
        Self::start(|mut stream| {
            read_some(&mut stream);
            let _ = stream.write_all(BAD_REQUEST);
        })
    }

    pub fn http1_keeping_the_connection() -> Self {
        Self::start(|mut stream| {
            read_some(&mut stream);
            let _ = stream.write_all(BAD_REQUEST);
            // Holds the connection until the client gives up on it.
            let mut rest = [0u8; 1024];
            while matches!(stream.read(&mut rest), Ok(n) if n > 0) {}
        })
    }

    pub fn http2_only() -> Self {
        Self::start(|mut stream| {
            let _ = stream.write_all(&HTTP2_SETTINGS);
            read_some(&mut stream);
        })
    }

    fn start(serve: fn(TcpStream)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("its address");
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    serve(stream);
                });
            }
        });
        Server { addr }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Reads what the client sent first (a request head or a connection preface).
fn read_some(stream: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = stream.read(&mut buf);
}
