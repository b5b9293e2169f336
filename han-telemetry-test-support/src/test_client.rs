//! A minimal HTTP/1.1 client (hyper's) for the support crate's own tests.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;

/// What came back: the status and the body, or `None` when the connection closed first.
pub(crate) type Answer = Option<(u16, Vec<u8>)>;

/// POSTs `body` to `http://127.0.0.1:port{path}` with `headers`.
pub(crate) fn post(port: u16, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Answer {
    post_for_content_type(port, path, headers, body).map(|(status, _, body)| (status, body))
}

/// [`post`], with the answer's `content-type` (empty when it has none) between status and body.
pub(crate) fn post_for_content_type(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Option<(u16, String, Vec<u8>)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for the test client");
    runtime.block_on(async {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect to the test server");
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("an HTTP/1.1 handshake");
        tokio::spawn(connection);
        let mut request = hyper::Request::post(path).header("host", format!("127.0.0.1:{port}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .expect("a request");
        let response = sender.send_request(request).await.ok()?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        let body = response
            .into_body()
            .collect()
            .await
            .ok()?
            .to_bytes()
            .to_vec();
        Some((status, content_type, body))
    })
}
