//! `--tls`: the sandbox over HTTPS, with a certificate made at start.
//!
//! [`SandboxTls::generate`] makes a fresh CA (its key never leaves this
//! process) and a server certificate it signs for `localhost`, `127.0.0.1`
//! and `::1`. Clients trust the CA's PEM ([`SandboxTls::ca_pem`]: the BFF's
//! `--upstream-ca`, nginx's `proxy_ssl_trusted_certificate`, curl's
//! `--cacert`) and verify the sandbox as they would the real API: chain,
//! name and all. Nothing is written to disk but what a caller asks for.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// The names the server certificate is valid for.
pub const NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// A generated CA and the server side of TLS.
#[derive(Clone)]
pub struct SandboxTls {
    ca_pem: String,
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for SandboxTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxTls").finish_non_exhaustive()
    }
}

impl SandboxTls {
    /// A fresh CA, a server certificate it signs for [`NAMES`], and the
    /// rustls server configuration (HTTP/1.1 by ALPN, as the sandbox serves).
    pub fn generate() -> Result<Self, String> {
        let fail = |what: &str, err: &dyn std::fmt::Display| format!("TLS {what}: {err}");
        let ca_key = KeyPair::generate().map_err(|e| fail("CA key", &e))?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(|e| fail("CA", &e))?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.distinguished_name
            .push(DnType::CommonName, "conferbot-sandbox test CA");
        let ca = ca.self_signed(&ca_key).map_err(|e| fail("CA", &e))?;

        let key = KeyPair::generate().map_err(|e| fail("key", &e))?;
        let names: Vec<String> = NAMES.iter().map(|n| (*n).to_owned()).collect();
        let mut leaf = CertificateParams::new(names).map_err(|e| fail("certificate", &e))?;
        leaf.distinguished_name
            .push(DnType::CommonName, "conferbot-sandbox");
        let leaf = leaf
            .signed_by(&key, &ca, &ca_key)
            .map_err(|e| fail("certificate", &e))?;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| fail("versions", &e))?
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone(), ca.der().clone()], private)
            .map_err(|e| fail("server", &e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            ca_pem: ca.pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The CA certificate (PEM) a client must trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The server side, for the accept loop.
    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_start_makes_its_own_ca() {
        let (a, b) = (
            SandboxTls::generate().unwrap(),
            SandboxTls::generate().unwrap(),
        );
        assert!(a.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        assert_ne!(a.ca_pem(), b.ca_pem());
    }
}
