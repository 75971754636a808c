//! Sprig's certificate functions (`genCA`, `genSelfSignedCert`, `genSignedCert`, their
//! `WithKey` forms, `buildCustomCert`) and `genPrivateKey`, on rcgen with ring.
//!
//! Certificates carry what Sprig's do: the common name as the only subject attribute, a
//! random 128-bit serial, validity from now for the given days, key usages `keyEncipherment`
//! and `digitalSignature` (plus `keyCertSign` for a CA), extended key usages server and client
//! auth, and the IP and DNS subject alternative names. Keys are Sprig's: RSA 2048 for the
//! generated certificates (see [`super::keys`]) and RSA 4096 for `genPrivateKey "rsa"` (our own
//! prime search, signed by ring), written as `RSA PRIVATE KEY` (PKCS#1), ECDSA P-256 as
//! `EC PRIVATE KEY`, Ed25519 as `PRIVATE KEY` (PKCS#8) and DSA (only from `genPrivateKey`) as `DSA PRIVATE KEY`.

use std::any::Any;
use std::net::IpAddr;
use std::rc::Rc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};

use super::super::cast::{int_param, str_param, to_list};
use super::super::encoding::b64_decode;
use super::super::{arity, FuncError, Registry};
use super::{dsa, keys};
use gotmpl::value::{Dict, Object, Value};

/// Sprig's `certificate` struct: PEM text of the certificate and of its private key.
#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    cert: String,
    key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> &str {
        "sprig.certificate"
    }

    fn member(&self, name: &str, _args: &[Value]) -> Option<Result<Value, String>> {
        match name {
            "Cert" => Some(Ok(Value::from(self.cert.clone()))),
            "Key" => Some(Ok(Value::from(self.key.clone()))),
            _ => None,
        }
    }

    fn format(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }

    fn to_data(&self) -> Value {
        let d = Dict::new();
        d.insert("Cert", Value::from(self.cert.clone()));
        d.insert("Key", Value::from(self.key.clone()));
        Value::Map(d)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

// DER object identifiers (encoded contents) used when converting key formats.
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// One DER element: (tag, contents, the bytes after it).
fn read_der(data: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = data.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// All elements of a DER sequence's contents.
fn der_children(mut data: &[u8]) -> Option<Vec<(u8, &[u8])>> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let (tag, content, rest) = read_der(data)?;
        out.push((tag, content));
        data = rest;
    }
    Some(out)
}

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn pem_block(label: &str, der_bytes: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der_bytes);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The first PEM block of `text`: (label, DER bytes), as Go's `pem.Decode` finds it.
fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    use base64::Engine as _;
    let start = text.find("-----BEGIN ")?;
    let after = &text[start + 11..];
    let label_end = after.find("-----")?;
    let label = &after[..label_end];
    let body_start = &after[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let body_end = body_start.find(&end_marker)?;
    let b64: String = body_start[..body_end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    Some((label.to_string(), bytes))
}

/// A private key in the PEM form Sprig writes: `RSA PRIVATE KEY` (PKCS#1) for RSA,
/// `EC PRIVATE KEY` (SEC1, with the curve named) for ECDSA and `PRIVATE KEY` (PKCS#8) for the
/// rest.
fn key_pem(key: &KeyPair) -> String {
    let pkcs8 = key.serialize_der();
    if key.algorithm() == &rcgen::PKCS_RSA_SHA256 {
        if let Some(pkcs1) = pkcs8_private_key(&pkcs8) {
            return pem_block("RSA PRIVATE KEY", pkcs1);
        }
    }
    if key.algorithm() == &rcgen::PKCS_ECDSA_P256_SHA256 {
        if let Some(sec1) = pkcs8_to_sec1(&pkcs8) {
            return pem_block("EC PRIVATE KEY", &sec1);
        }
    }
    pem_block("PRIVATE KEY", &pkcs8)
}

/// The algorithm-specific key inside a PKCS#8 document (PKCS#1 for RSA, SEC1 for EC).
fn pkcs8_private_key(pkcs8: &[u8]) -> Option<&[u8]> {
    let (_, outer, _) = read_der(pkcs8)?;
    let (tag, key) = *der_children(outer)?.get(2)?;
    (tag == 0x04).then_some(key)
}

/// An RSA key from PKCS#1 DER, loaded for signing with SHA256WithRSA (what Go's `x509` uses
/// for RSA keys).
fn rsa_key_pair(pkcs1: &[u8]) -> Result<KeyPair, String> {
    let pkcs8 = wrap_pkcs8(OID_RSA, &der(0x05, &[]), pkcs1);
    KeyPair::try_from(pkcs8.as_slice()).map_err(|e| e.to_string())
}

/// Takes ring's ECPrivateKey out of a PKCS#8 document and names the P-256 curve in it, as
/// Go's `x509.MarshalECPrivateKey` does.
fn pkcs8_to_sec1(pkcs8: &[u8]) -> Option<Vec<u8>> {
    let (_, outer, _) = read_der(pkcs8)?;
    let items = der_children(outer)?;
    let (_, ec_private_key) = items.get(2)?;
    let (_, inner, _) = read_der(ec_private_key)?;
    let mut fields = Vec::new();
    for (tag, content) in der_children(inner)? {
        if tag == 0xa1 {
            fields.extend(der(0xa0, &der(0x06, OID_P256)));
        }
        if tag != 0xa0 {
            fields.extend(der(tag, content));
        }
    }
    Some(der(0x30, &fields))
}

/// A PKCS#8 document around a SEC1 EC key or a PKCS#1 RSA key, so ring can load it.
fn wrap_pkcs8(algorithm: &[u8], params: &[u8], key: &[u8]) -> Vec<u8> {
    let mut alg = der(0x06, algorithm);
    alg.extend_from_slice(params);
    let mut body = der(0x02, &[0]);
    body.extend(der(0x30, &alg));
    body.extend(der(0x04, key));
    der(0x30, &body)
}

/// Sprig's `parsePrivateKeyPEM`: PKCS#8, `RSA PRIVATE KEY` or `EC PRIVATE KEY`.
fn parse_private_key_pem(text: &str) -> Result<KeyPair, String> {
    let (label, bytes) = pem_decode(text).ok_or("no PEM data in input")?;
    let pkcs8 = match label.as_str() {
        "PRIVATE KEY" => bytes,
        "RSA PRIVATE KEY" => wrap_pkcs8(OID_RSA, &der(0x05, &[]), &bytes),
        "EC PRIVATE KEY" => {
            let curve = read_der(&bytes)
                .and_then(|(_, inner, _)| der_children(inner))
                .and_then(|items| {
                    items
                        .into_iter()
                        .find(|(tag, _)| *tag == 0xa0)
                        .map(|(_, c)| c.to_vec())
                })
                .unwrap_or_else(|| der(0x06, OID_P256));
            wrap_pkcs8(OID_EC_PUBLIC_KEY, &curve, &bytes)
        }
        other if other.ends_with(" PRIVATE KEY") => {
            return Err(format!("invalid private key type {other}"))
        }
        other => return Err(format!("no private key data in PEM block of type {other}")),
    };
    KeyPair::try_from(pkcs8.as_slice()).map_err(|e| format!("decoding PEM as PKCS#8: {e}"))
}

/// The subject of a DER certificate as rcgen's distinguished name (the attributes Sprig and
/// common CAs use).
fn certificate_subject(cert_der: &[u8]) -> Option<DistinguishedName> {
    let (_, cert, _) = read_der(cert_der)?;
    let (_, tbs, _) = read_der(cert)?;
    let fields = der_children(tbs)?;
    // tbsCertificate: [0] version (optional), serial, signature, issuer, validity, subject.
    let skip = usize::from(fields.first()?.0 == 0xa0);
    let (_, subject) = fields.get(skip + 4)?;
    let mut dn = DistinguishedName::new();
    for (_, set) in der_children(subject)? {
        for (_, atv) in der_children(set)? {
            let parts = der_children(atv)?;
            let (oid, value) = (parts.first()?.1, parts.get(1)?.1);
            let ty = match oid {
                [0x55, 0x04, 0x03] => DnType::CommonName,
                [0x55, 0x04, 0x06] => DnType::CountryName,
                [0x55, 0x04, 0x07] => DnType::LocalityName,
                [0x55, 0x04, 0x08] => DnType::StateOrProvinceName,
                [0x55, 0x04, 0x0a] => DnType::OrganizationName,
                [0x55, 0x04, 0x0b] => DnType::OrganizationalUnitName,
                _ => continue,
            };
            dn.push(ty, String::from_utf8_lossy(value).into_owned());
        }
    }
    Some(dn)
}

/// Sprig's `getBaseCertTemplate`.
fn base_params(
    cn: &str,
    ips: &Value,
    dns_names: &Value,
    days: i64,
) -> Result<CertificateParams, FuncError> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    // Checked in Sprig's order (addresses, then names) but written in Go's: crypto/x509 puts
    // DNS names before IP addresses in the subjectAltName extension.
    let mut ip_sans = Vec::new();
    for ip in to_list(ips).unwrap_or_default() {
        let Value::String(s) = &ip else {
            return Err(FuncError::new(format!(
                "error parsing ip: {} is not a string",
                ip.to_go_string()
            )));
        };
        let addr: IpAddr = s
            .parse()
            .map_err(|_| FuncError::new(format!("error parsing ip: {s}")))?;
        ip_sans.push(SanType::IpAddress(addr));
    }
    for name in to_list(dns_names).unwrap_or_default() {
        let Value::String(s) = &name else {
            return Err(FuncError::new(format!(
                "error processing alternate dns name: {} is not a string",
                name.to_go_string()
            )));
        };
        let ia5 = s
            .to_string()
            .try_into()
            .map_err(|e| FuncError::new(format!("error processing alternate dns name: {e}")))?;
        params.subject_alt_names.push(SanType::DnsName(ia5));
    }
    params.subject_alt_names.extend(ip_sans);
    let mut serial = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut serial);
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + now;
    // Keep the end within the years X.509 times can hold.
    let days = days.clamp(-3_650, 2_900_000);
    let validity = std::time::Duration::from_secs(days.unsigned_abs() * 86_400);
    params.not_after = if days >= 0 {
        params.not_before + validity
    } else {
        params.not_before - validity
    };
    params.key_usages = vec![
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.is_ca = IsCa::ExplicitNoCa;
    Ok(params)
}

/// Sprig's key for generated certificates: RSA 2048 (made ahead when the render announced it).
fn new_key() -> Result<KeyPair, FuncError> {
    keys::take_rsa_2048()
        .and_then(|der| rsa_key_pair(&der))
        .map_err(|e| FuncError::new(format!("error generating rsa key: {e}")))
}

fn creation_error(e: rcgen::Error) -> FuncError {
    FuncError::new(format!("error creating certificate: {e}"))
}

fn cert_value(cert: &rcgen::Certificate, key: &KeyPair) -> Value {
    Value::Object(Rc::new(Certificate {
        cert: cert.pem(),
        key: key_pem(key),
    }))
}

fn make_ca(cn: &str, days: i64, key: KeyPair) -> Result<Value, FuncError> {
    let mut params = base_params(cn, &Value::Nil, &Value::Nil, days)?;
    params.key_usages.push(KeyUsagePurpose::KeyCertSign);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).map_err(creation_error)?;
    Ok(cert_value(&cert, &key))
}

/// `genCA CN DAYS`.
fn gen_ca(args: &[Value]) -> Result<Value, FuncError> {
    arity("genCA", args, 2)?;
    make_ca(&str_param(&args[0]), int_param(&args[1]), new_key()?)
}

/// `genCAWithKey CN DAYS KEY_PEM`.
fn gen_ca_with_key(args: &[Value]) -> Result<Value, FuncError> {
    arity("genCAWithKey", args, 3)?;
    let key = parse_private_key_pem(&str_param(&args[2]))
        .map_err(|e| FuncError::new(format!("parsing private key: {e}")))?;
    make_ca(&str_param(&args[0]), int_param(&args[1]), key)
}

fn make_self_signed(args: &[Value], key: KeyPair) -> Result<Value, FuncError> {
    let params = base_params(
        &str_param(&args[0]),
        &args[1],
        &args[2],
        int_param(&args[3]),
    )?;
    let cert = params.self_signed(&key).map_err(creation_error)?;
    Ok(cert_value(&cert, &key))
}

/// `genSelfSignedCert CN IPS DNS_NAMES DAYS`.
fn gen_self_signed_cert(args: &[Value]) -> Result<Value, FuncError> {
    arity("genSelfSignedCert", args, 4)?;
    make_self_signed(args, new_key()?)
}

/// `genSelfSignedCertWithKey CN IPS DNS_NAMES DAYS KEY_PEM`.
fn gen_self_signed_cert_with_key(args: &[Value]) -> Result<Value, FuncError> {
    arity("genSelfSignedCertWithKey", args, 5)?;
    let key = parse_private_key_pem(&str_param(&args[4]))
        .map_err(|e| FuncError::new(format!("parsing private key: {e}")))?;
    make_self_signed(args, key)
}

fn as_certificate(v: &Value) -> Result<Certificate, FuncError> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<Certificate>().cloned(),
        _ => None,
    }
    .ok_or_else(|| {
        FuncError::new(format!(
            "wrong type for value; expected sprig.certificate; got {}",
            v.type_name()
        ))
    })
}

fn make_signed(args: &[Value], key: KeyPair) -> Result<Value, FuncError> {
    let ca = as_certificate(&args[4])?;
    let (_, ca_der) =
        pem_decode(&ca.cert).ok_or_else(|| FuncError::new("unable to decode certificate"))?;
    let subject = certificate_subject(&ca_der).ok_or_else(|| {
        FuncError::new("error parsing certificate: decodedSignerCert.Bytes: malformed certificate")
    })?;
    let ca_key = parse_private_key_pem(&ca.key)
        .map_err(|e| FuncError::new(format!("error parsing private key: {e}")))?;
    let mut issuer_params = CertificateParams::default();
    issuer_params.distinguished_name = subject;
    let issuer = Issuer::new(issuer_params, ca_key);
    let mut params = base_params(
        &str_param(&args[0]),
        &args[1],
        &args[2],
        int_param(&args[3]),
    )?;
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, &issuer).map_err(creation_error)?;
    Ok(cert_value(&cert, &key))
}

/// `genSignedCert CN IPS DNS_NAMES DAYS CA`.
fn gen_signed_cert(args: &[Value]) -> Result<Value, FuncError> {
    arity("genSignedCert", args, 5)?;
    make_signed(args, new_key()?)
}

/// `genSignedCertWithKey CN IPS DNS_NAMES DAYS CA KEY_PEM`.
fn gen_signed_cert_with_key(args: &[Value]) -> Result<Value, FuncError> {
    arity("genSignedCertWithKey", args, 6)?;
    let key = parse_private_key_pem(&str_param(&args[5]))
        .map_err(|e| FuncError::new(format!("parsing private key: {e}")))?;
    make_signed(args, key)
}

/// `buildCustomCert B64_CERT B64_KEY`: a certificate object from existing PEM (base64ed).
fn build_custom_cert(args: &[Value]) -> Result<Value, FuncError> {
    arity("buildCustomCert", args, 2)?;
    let cert = b64_decode(str_param(&args[0]).as_bytes())
        .map_err(|_| FuncError::new("unable to decode base64 certificate"))?;
    let key = b64_decode(str_param(&args[1]).as_bytes())
        .map_err(|_| FuncError::new("unable to decode base64 private key"))?;
    let cert = String::from_utf8_lossy(&cert).into_owned();
    let key = String::from_utf8_lossy(&key).into_owned();
    let (_, der_bytes) =
        pem_decode(&cert).ok_or_else(|| FuncError::new("unable to decode certificate"))?;
    if certificate_subject(&der_bytes).is_none() {
        return Err(FuncError::new(
            "error parsing certificate: decodedCert.Bytes: malformed certificate",
        ));
    }
    parse_private_key_pem(&key)
        .map_err(|e| FuncError::new(format!("error parsing private key: {e}")))?;
    Ok(Value::Object(Rc::new(Certificate { cert, key })))
}

/// A DSA key as Sprig writes it: `DSA PRIVATE KEY`, the DER sequence (version 0, p, q, g, y, x)
/// that OpenSSL also reads.
fn dsa_key_pem(key: &dsa::DsaKey) -> String {
    let mut fields = der(0x02, &[0]);
    for n in [&key.p, &key.q, &key.g, &key.y, &key.x] {
        let mut bytes = n.to_bytes_be();
        // DER integers are signed: a leading one bit needs a zero byte before it.
        if bytes.first().is_none_or(|&b| b & 0x80 != 0) {
            bytes.insert(0, 0);
        }
        fields.extend(der(0x02, &bytes));
    }
    pem_block("DSA PRIVATE KEY", &der(0x30, &fields))
}

/// `genPrivateKey TYPE`: a PEM private key of type `rsa` (the default, 4096 bits), `dsa`
/// (L2048N256 parameters), `ecdsa` (P-256) or `ed25519`.
fn gen_private_key(args: &[Value]) -> Result<Value, FuncError> {
    arity("genPrivateKey", args, 1)?;
    let kind = str_param(&args[0]);
    let key = match kind.as_str() {
        "" | "rsa" => keys::generate_rsa_key(4096).and_then(|der| rsa_key_pair(&der)),
        "ecdsa" => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(|e| e.to_string()),
        "ed25519" => KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(|e| e.to_string()),
        "dsa" => return Ok(Value::from(dsa_key_pem(&dsa::generate_dsa_key()))),
        other => return Ok(Value::from(format!("Unknown type {other}"))),
    };
    match key {
        Ok(key) => Ok(Value::from(key_pem(&key))),
        Err(e) => Ok(Value::from(format!("failed to generate private key: {e}"))),
    }
}

pub(super) fn register(r: &mut Registry) {
    r.add("genCA", gen_ca);
    r.add("genCAWithKey", gen_ca_with_key);
    r.add("genSelfSignedCert", gen_self_signed_cert);
    r.add("genSelfSignedCertWithKey", gen_self_signed_cert_with_key);
    r.add("genSignedCert", gen_signed_cert);
    r.add("genSignedCertWithKey", gen_signed_cert_with_key);
    r.add("buildCustomCert", build_custom_cert);
    r.add("genPrivateKey", gen_private_key);
}

#[cfg(test)]
mod tests {
    use super::super::super::testing::{call, i, l, s, show};
    use super::*;

    fn parts(v: &Value) -> Certificate {
        as_certificate(v).unwrap()
    }

    fn cn_of(cert_pem: &str) -> String {
        let (label, der_bytes) = pem_decode(cert_pem).unwrap();
        assert_eq!(label, "CERTIFICATE");
        let dn = certificate_subject(&der_bytes).unwrap();
        match dn.get(&DnType::CommonName) {
            Some(rcgen::DnValue::Utf8String(s)) => s.clone(),
            other => panic!("unexpected common name {other:?}"),
        }
    }

    #[test]
    fn ca_signs_certificates_with_sans() {
        let ca = call("genCA", &[s("my-ca"), i(365)]).unwrap();
        let ca_parts = parts(&ca);
        assert_eq!(cn_of(&ca_parts.cert), "my-ca");
        // Sprig's CA key: RSA 2048 in PKCS#1.
        assert!(ca_parts
            .key
            .starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        let (_, pkcs1) = pem_decode(&ca_parts.key).unwrap();
        let rsa_key =
            <rsa::RsaPrivateKey as rsa::pkcs1::DecodeRsaPrivateKey>::from_pkcs1_der(&pkcs1)
                .expect("a PKCS#1 RSA key");
        assert_eq!(rsa::traits::PublicKeyParts::size(&rsa_key), 256);
        let ips = l(&[s("10.0.0.1")]);
        let names = l(&[s("svc.ns.svc"), s("svc")]);
        let leaf = call("genSignedCert", &[s("svc"), ips, names, i(30), ca]).unwrap();
        let leaf = parts(&leaf);
        assert_eq!(cn_of(&leaf.cert), "svc");
        let (_, der_bytes) = pem_decode(&leaf.cert).unwrap();
        let text = String::from_utf8_lossy(&der_bytes);
        assert!(
            text.contains("svc.ns.svc"),
            "the DNS SAN is in the certificate"
        );
        assert!(text.contains("my-ca"), "the issuer is the CA");
        // The key we wrote loads back, as Sprig's parsePrivateKeyPEM would read it.
        assert!(parse_private_key_pem(&leaf.key).is_ok());
    }

    #[test]
    fn template_fields_and_errors() {
        let cert = call("genSelfSignedCert", &[s("x"), Value::Nil, Value::Nil, i(1)]).unwrap();
        assert_eq!(
            show("typeOf", std::slice::from_ref(&cert)),
            "sprig.certificate"
        );
        let Value::Object(o) = &cert else { panic!() };
        let pem = o.member("Cert", &[]).unwrap().unwrap();
        assert!(pem
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----\n"));
        assert_eq!(
            show(
                "genSelfSignedCert",
                &[s("x"), l(&[s("nope")]), Value::Nil, i(1)]
            ),
            "error: error parsing ip: nope"
        );
        assert_eq!(
            show("genSelfSignedCert", &[s("x"), Value::Nil, l(&[i(1)]), i(1)]),
            "error: error processing alternate dns name: 1 is not a string"
        );
    }

    #[test]
    fn with_key_variants_reuse_the_given_key() {
        let key = show("genPrivateKey", &[s("ecdsa")]);
        assert!(key.starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
        let ca = call("genCAWithKey", &[s("ca"), i(10), s(&key)]).unwrap();
        assert_eq!(parts(&ca).key, key);
        let ed = show("genPrivateKey", &[s("ed25519")]);
        assert!(ed.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let cert = call(
            "genSelfSignedCertWithKey",
            &[s("e"), Value::Nil, Value::Nil, i(1), s(&ed)],
        )
        .unwrap();
        assert_eq!(parts(&cert).key, ed);
        assert_eq!(show("genPrivateKey", &[s("foo")]), "Unknown type foo");
        assert_eq!(
            show("genCAWithKey", &[s("ca"), i(1), s("junk")]),
            "error: parsing private key: no PEM data in input"
        );
    }

    #[test]
    fn build_custom_cert_round_trips() {
        let ca = parts(&call("genCA", &[s("custom"), i(5)]).unwrap());
        let b64 = |t: &str| super::super::super::encoding::b64_encode(t.as_bytes());
        let built = call("buildCustomCert", &[s(&b64(&ca.cert)), s(&b64(&ca.key))]).unwrap();
        assert_eq!(parts(&built), ca);
        let leaf = call(
            "genSignedCert",
            &[s("leaf"), Value::Nil, Value::Nil, i(1), built],
        );
        assert!(leaf.is_ok());
        assert_eq!(
            show("buildCustomCert", &[s("!!"), s("")]),
            "error: unable to decode base64 certificate"
        );
    }

    /// openssl, the judge of our keys and certificates; the test fails without it.
    fn openssl(args: &[&str], dir: &std::path::Path) -> String {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run openssl ({e}): install it (`make test-deps` or apt-get install openssl)")
            });
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "openssl {args:?} failed:\n{text}");
        text
    }

    #[test]
    fn openssl_accepts_generated_keys_and_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let ca = parts(&call("genCA", &[s("judge-ca"), i(365)]).unwrap());
        let ips = l(&[s("10.1.2.3")]);
        let names = l(&[s("svc.ns.svc")]);
        let leaf_value = call(
            "genSignedCert",
            &[s("svc"), ips, names, i(30), ca_value(&ca)],
        );
        let leaf = parts(&leaf_value.unwrap());
        let own = parts(
            &call(
                "genSelfSignedCert",
                &[s("own"), Value::Nil, Value::Nil, i(1)],
            )
            .unwrap(),
        );
        let rsa4096 = show("genPrivateKey", &[s("rsa")]);
        for (name, text) in [
            ("ca.pem", &ca.cert),
            ("ca.key", &ca.key),
            ("leaf.pem", &leaf.cert),
            ("leaf.key", &leaf.key),
            ("own.pem", &own.cert),
            ("own.key", &own.key),
            ("rsa4096.key", &rsa4096),
        ] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        for key in ["ca.key", "leaf.key", "own.key", "rsa4096.key"] {
            let text = openssl(&["rsa", "-check", "-noout", "-in", key], dir.path());
            assert!(text.contains("RSA key ok"), "{key}: {text}");
        }
        let bits = openssl(
            &["rsa", "-noout", "-text", "-in", "rsa4096.key"],
            dir.path(),
        );
        assert!(bits.contains("Private-Key: (4096 bit, 2 primes)"), "{bits}");
        let ca_text = openssl(&["x509", "-noout", "-text", "-in", "ca.pem"], dir.path());
        assert!(ca_text.contains("Public-Key: (2048 bit)"), "{ca_text}");
        assert!(ca_text.contains("CA:TRUE"), "{ca_text}");
        assert!(ca_text.contains("Certificate Sign"), "{ca_text}");
        let leaf_text = openssl(&["x509", "-noout", "-text", "-in", "leaf.pem"], dir.path());
        assert!(leaf_text.contains("Issuer: CN = judge-ca"), "{leaf_text}");
        assert!(leaf_text.contains("DNS:svc.ns.svc"), "{leaf_text}");
        // Go's crypto/x509 writes DNS names before IP addresses.
        assert!(
            leaf_text.contains("DNS:svc.ns.svc, IP Address:10.1.2.3"),
            "{leaf_text}"
        );
        assert!(leaf_text.contains("TLS Web Server Authentication, TLS Web Client Authentication"));
        let dsa = show("genPrivateKey", &[s("dsa")]);
        assert!(
            dsa.starts_with("-----BEGIN DSA PRIVATE KEY-----\n"),
            "{dsa}"
        );
        std::fs::write(dir.path().join("dsa.key"), &dsa).unwrap();
        let dsa_text = openssl(&["dsa", "-noout", "-text", "-in", "dsa.key"], dir.path());
        assert!(dsa_text.contains("Private-Key: (2048 bit)"), "{dsa_text}");
        let params = openssl(&["pkey", "-in", "dsa.key", "-check", "-noout"], dir.path());
        assert!(params.contains("Key is valid"), "{params}");
        let verified = openssl(&["verify", "-CAfile", "ca.pem", "leaf.pem"], dir.path());
        assert!(verified.contains("leaf.pem: OK"), "{verified}");
        // Each certificate holds the public half of the key beside it.
        for (cert, key) in [
            ("ca.pem", "ca.key"),
            ("leaf.pem", "leaf.key"),
            ("own.pem", "own.key"),
        ] {
            let from_cert = openssl(&["x509", "-noout", "-pubkey", "-in", cert], dir.path());
            let from_key = openssl(&["rsa", "-pubout", "-in", key], dir.path());
            let strip = |t: &str| {
                t.lines()
                    .filter(|l| !l.starts_with("writing"))
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            assert_eq!(strip(&from_cert), strip(&from_key), "{cert} and {key}");
        }
    }

    fn ca_value(ca: &Certificate) -> Value {
        Value::Object(Rc::new(ca.clone()))
    }
}
