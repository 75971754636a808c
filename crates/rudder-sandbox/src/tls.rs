//! `--tls`: a certificate authority and a serving certificate made at start, so that clients
//! verify the sandbox exactly as they verify a real API server (through the kubeconfig's
//! `certificate-authority-data`), without any files to manage.

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

/// The sandbox's TLS identity: a fresh CA (its PEM goes into the kubeconfig) and a server
/// configuration presenting a certificate it signed.
pub struct Identity {
    /// The CA certificate, PEM; clients trust the sandbox through it.
    pub ca_pem: String,
    /// Accepts TLS connections (ALPN `h2` and `http/1.1`).
    pub acceptor: TlsAcceptor,
}

/// Why the TLS identity could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate the sandbox's certificates: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("cannot configure TLS: {0}")]
    Config(#[from] rustls::Error),
}

/// Makes a CA and a serving certificate valid for `localhost`, `127.0.0.1`, `::1` and `extra`
/// (the address the sandbox listens on, when it is a specific one).
pub fn generate(extra: Option<IpAddr>) -> Result<Identity, TlsError> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name = name("rudder-sandbox-ca");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let server_key = KeyPair::generate()?;
    let mut server = CertificateParams::new(vec!["localhost".to_string()])?;
    server.distinguished_name = name("rudder-sandbox");
    let mut ips: Vec<IpAddr> = vec![[127, 0, 0, 1].into(), std::net::Ipv6Addr::LOCALHOST.into()];
    if let Some(ip) = extra.filter(|ip| !ip.is_unspecified() && !ips.contains(ip)) {
        ips.push(ip);
    }
    server
        .subject_alt_names
        .extend(ips.into_iter().map(SanType::IpAddress));
    server.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_cert = server.signed_by(&server_key, &issuer)?;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(vec![server_cert.der().clone(), ca_cert.der().clone()], key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Identity {
        ca_pem: ca_cert.pem(),
        acceptor: TlsAcceptor::from(Arc::new(config)),
    })
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "rudder");
    dn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_start_makes_a_new_ca() {
        let a = generate(None).expect("identity");
        let b = generate(Some([10, 1, 2, 3].into())).expect("identity");
        assert!(a.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_ne!(a.ca_pem, b.ca_pem);
    }
}
