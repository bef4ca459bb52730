//! Which certificates the upstream client trusts: the public web roots
//! (Mozilla's, compiled in from `webpki-roots`, so a scratch container with no
//! `/etc/ssl` verifies the real API), or exactly the certificates of an
//! `--upstream-ca` file (a private upstream, or the sandbox's `--tls`).
//!
//! Verification is never off: there is no "insecure" switch. A file replaces
//! the public roots instead of adding to them, so a BFF pointed at a private
//! CA trusts nothing else.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use conferbot_policy::ConfigError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

/// The certificates of an `--upstream-ca` PEM file, parsed and checked at start.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamCa {
    certs: Arc<Vec<CertificateDer<'static>>>,
}

impl UpstreamCa {
    /// Every `CERTIFICATE` block of `pem`; an error when there is none or one
    /// does not parse.
    pub fn from_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| ConfigError(format!("not a PEM certificate: {err}")))?;
        if certs.is_empty() {
            return Err(ConfigError("no PEM CERTIFICATE block found".to_owned()));
        }
        let ca = Self {
            certs: Arc::new(certs),
        };
        // The same check the client makes when it is built, made now so
        // that a bad file is refused with its name, before anything serves.
        ca.root_store()?;
        Ok(ca)
    }

    /// [`UpstreamCa::from_pem`] of the file at `path`.
    pub fn from_pem_file(path: &Path) -> Result<Self, ConfigError> {
        let pem = std::fs::read(path)
            .map_err(|err| ConfigError(format!("--upstream-ca {}: {err}", path.display())))?;
        Self::from_pem(&pem).map_err(|ConfigError(why)| {
            ConfigError(format!("--upstream-ca {}: {why}", path.display()))
        })
    }

    fn root_store(&self) -> Result<RootCertStore, ConfigError> {
        let mut store = RootCertStore::empty();
        for cert in self.certs.iter() {
            store
                .add(cert.clone())
                .map_err(|err| ConfigError(format!("not a usable CA certificate: {err}")))?;
        }
        Ok(store)
    }
}

impl fmt::Debug for UpstreamCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UpstreamCa({} certificate(s))", self.certs.len())
    }
}

/// The trust anchors of the upstream client: `ca`'s, or the public roots.
pub(crate) fn trust_anchors(ca: Option<&UpstreamCa>) -> Result<RootCertStore, ConfigError> {
    match ca {
        Some(ca) => ca.root_store(),
        None => Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_refused_with_its_name() {
        let err = UpstreamCa::from_pem(b"hello").unwrap_err();
        assert!(err.0.contains("no PEM CERTIFICATE"), "{err}");
        let err = UpstreamCa::from_pem_file(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(
            err.0.starts_with("--upstream-ca /nonexistent/ca.pem"),
            "{err}"
        );
        let garbage = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(UpstreamCa::from_pem(garbage).is_err());
    }

    #[test]
    fn the_default_is_the_public_roots() {
        let store = trust_anchors(None).unwrap();
        assert!(store.len() > 100, "{} roots", store.len());
    }
}
