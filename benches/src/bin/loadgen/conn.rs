//! One HTTP/1.1 keep-alive connection to the server, and the requests sent on it.

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::Error;
use crate::args::Target;

/// A connection: the handle requests are sent on and the task driving the socket.
pub(crate) struct Connection {
    pub(crate) sender: SendRequest<Full<Bytes>>,
    driver: JoinHandle<()>,
}

impl Connection {
    /// Connects to `target` and does the HTTP/1.1 handshake.
    pub(crate) async fn open(target: &Target) -> Result<Self, Error> {
        let stream = TcpStream::connect(&target.authority).await.map_err(Error::Connect)?;
        stream.set_nodelay(true).map_err(Error::Connect)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.map_err(Error::Http)?;
        let driver = tokio::spawn(async move {
            // A connection error surfaces on the request that was using it.
            let _ = connection.await;
        });
        Ok(Connection { sender, driver })
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        // Closes the socket now, even with a response body still streaming.
        self.driver.abort();
    }
}

/// The request `GET target.path`, or `POST target.path` with `form` when a form is given.
pub(crate) fn request(target: &Target, form: Option<&str>) -> Result<Request<Full<Bytes>>, Error> {
    let builder = Request::builder().uri(target.path.as_str()).header(HOST, target.authority.as_str());
    let request = match form {
        None => builder.method(Method::GET).body(Full::new(Bytes::new())),
        Some(form) => builder
            .method(Method::POST)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::copy_from_slice(form.as_bytes()))),
    };
    request.map_err(|error| Error::Usage(format!("bad request: {error}")))
}
