//! Postgres over TLS (rustls): `sslmode` read from the URL (offline), a
//! `require` connection to the test server, and `verify-ca` / `verify-full`
//! through a loopback TLS proxy in front of it that presents a certificate
//! of a test CA (`tests/fixtures/tls`). The live checks need
//! `AGENT_TEST_POSTGRES_URL`.

#![allow(clippy::unwrap_used)]

mod postgres_env;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agent_core::StoreError;
use agent_memory::sqlx::postgres::{PgConnectOptions, PgSslMode};
use agent_memory::{PostgresOptions, PostgresStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls").join(name)
}

/// The database URL, or `None` (the test says it was skipped).
fn database_url() -> Option<String> {
    postgres_env::url()
}

#[test]
fn ssl_modes_and_root_certificates_come_from_the_url() {
    let mode = |url: &str| PostgresOptions::new(url).unwrap().connect_options().get_ssl_mode();
    assert!(matches!(mode("postgres://u:p@db.example.com/app?sslmode=require"), PgSslMode::Require));
    assert!(matches!(
        mode("postgres://u:p@db.example.com/app?sslmode=verify-full&sslrootcert=/ca.pem"),
        PgSslMode::VerifyFull
    ));
    assert!(matches!(mode("postgres://u:p@db.example.com/app?sslmode=verify-ca"), PgSslMode::VerifyCa));
    assert!(matches!(mode("postgres://u:p@db.example.com/app?sslmode=disable"), PgSslMode::Disable));
    assert!(matches!(mode("postgres://u:p@db.example.com/app"), PgSslMode::Prefer), "libpq's default");
    let overridden = PostgresOptions::new("postgres://u:p@db.example.com/app?sslmode=disable")
        .unwrap()
        .ssl_mode(PgSslMode::VerifyFull)
        .ssl_root_cert(fixture("ca.pem"));
    assert!(matches!(overridden.connect_options().get_ssl_mode(), PgSslMode::VerifyFull));
    let err = PostgresOptions::new("postgres://u:p@db.example.com/app?sslmode=sometimes").unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
}

/// Options for the test database with its host and port replaced.
fn options_via(url: &str, host: &str, port: u16) -> PostgresOptions {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (credentials, rest) = rest.rsplit_once('@').map_or(("", rest), |(credentials, rest)| (credentials, rest));
    let path = rest.find('/').map_or("", |slash| &rest[slash..]);
    let at = if credentials.is_empty() { String::new() } else { format!("{credentials}@") };
    PostgresOptions::new(&format!("{scheme}://{at}{host}:{port}{path}"))
        .unwrap()
        .migrate(false)
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
}

#[tokio::test]
async fn require_encrypts_the_connection() {
    let Some(url) = database_url() else { return };
    let plain = sqlx::PgPool::connect(&url).await.unwrap();
    let ssl: String = sqlx::query_scalar("SHOW ssl").fetch_one(&plain).await.unwrap();
    plain.close().await;
    if ssl != "on" {
        println!("the test server has ssl = {ssl}; `sslmode=require` is checked through the proxy only");
        return;
    }
    let connect = PgConnectOptions::from_str(&url).unwrap();
    let options = options_via(&url, connect.get_host(), connect.get_port()).ssl_mode(PgSslMode::Require);
    let store = PostgresStore::connect_with(options).await.unwrap();
    let encrypted: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(encrypted, "the server sees a TLS connection");
    store.close().await;
}

/// A TLS-terminating proxy in front of the test server: it answers the
/// client's `SSLRequest`, completes the handshake with the fixture
/// certificate and relays the decrypted bytes. Counts finished handshakes.
async fn start_proxy(upstream: (String, u16)) -> (u16, Arc<AtomicUsize>) {
    let certs = CertificateDer::pem_file_iter(fixture("server.pem")).unwrap().map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&handshakes);
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (acceptor, upstream, counted) = (acceptor.clone(), upstream.clone(), Arc::clone(&counted));
            tokio::spawn(async move { relay(client, acceptor, upstream, &counted).await });
        }
    });
    (port, handshakes)
}

async fn relay(mut client: TcpStream, acceptor: TlsAcceptor, upstream: (String, u16), handshakes: &AtomicUsize) {
    // SSLRequest: length 8, code 80877103.
    let mut request = [0u8; 8];
    if client.read_exact(&mut request).await.is_err() || request != [0, 0, 0, 8, 4, 210, 22, 47] {
        return;
    }
    if client.write_all(b"S").await.is_err() {
        return;
    }
    // A client that rejects the certificate ends the handshake here.
    let Ok(mut tls) = acceptor.accept(client).await else { return };
    handshakes.fetch_add(1, Ordering::SeqCst);
    let Ok(mut server) = TcpStream::connect(upstream).await else { return };
    tokio::io::copy_bidirectional(&mut tls, &mut server).await.ok();
}

#[tokio::test]
async fn verify_modes_check_the_certificate_and_the_host_name() {
    let Some(url) = database_url() else { return };
    let connect = PgConnectOptions::from_str(&url).unwrap();
    let (port, handshakes) = start_proxy((connect.get_host().to_owned(), connect.get_port())).await;
    let ca = fixture("ca.pem");

    // The certificate names `localhost` and chains to the test CA.
    let trusted = options_via(&url, "localhost", port).ssl_mode(PgSslMode::VerifyFull).ssl_root_cert(&ca);
    let store = PostgresStore::connect_with(trusted).await.unwrap();
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(store.pool()).await.unwrap();
    assert_eq!(one, 1);
    store.close().await;
    assert_eq!(handshakes.load(Ordering::SeqCst), 1, "the connection went through TLS");

    let cases = [
        (
            "a host the certificate does not name",
            options_via(&url, "127.0.0.1", port).ssl_mode(PgSslMode::VerifyFull).ssl_root_cert(&ca),
        ),
        ("a CA that is not trusted", options_via(&url, "localhost", port).ssl_mode(PgSslMode::VerifyFull)),
        ("verify-ca, a CA that is not trusted", options_via(&url, "127.0.0.1", port).ssl_mode(PgSslMode::VerifyCa)),
    ];
    for (case, options) in cases {
        let err = PostgresStore::connect_with(options).await.unwrap_err();
        assert!(matches!(err, StoreError::Backend(_)), "{case}: {err}");
        assert!(err.to_string().to_lowercase().contains("certificate"), "{case}: {err}");
    }
    assert_eq!(handshakes.load(Ordering::SeqCst), 1, "no refused handshake completed");

    // verify-ca checks the chain, not the name; require checks neither.
    for options in [
        options_via(&url, "127.0.0.1", port).ssl_mode(PgSslMode::VerifyCa).ssl_root_cert(&ca),
        options_via(&url, "127.0.0.1", port).ssl_mode(PgSslMode::Require),
    ] {
        let store = PostgresStore::connect_with(options).await.unwrap();
        store.close().await;
    }
    assert_eq!(handshakes.load(Ordering::SeqCst), 3);
}
