//! The TLS crypto provider of the knowledge bases' HTTP clients (remote
//! content and the embedder).

/// Makes rustls on `ring` the process's TLS crypto provider, unless one is
/// installed already (by the application or another library: theirs wins).
///
/// `reqwest` is built without a provider of its own (`rustls-no-provider`:
/// `ring` builds in a fraction of the time `aws-lc-rs` takes), so a client
/// needs one in place before it is built.
pub(crate) fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another installer is fine: a provider is in place.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
