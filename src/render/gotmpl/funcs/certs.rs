//! Sprig's certificate functions: `genCA`, `genSelfSignedCert`, `genSignedCert`,
//! `genPrivateKey`. They return Sprig's `certificate` (`.Cert` and `.Key`, PEM). Keys are ECDSA
//! P-256 (Sprig makes RSA 2048): the output is random in Helm too, so only its shape matters.

use std::any::Any;
use std::rc::Rc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};

use super::super::value::{Object, Value};
use super::{arity, cast, FuncError, Registry};

/// Sprig's `certificate` struct.
#[derive(Debug)]
struct Certificate {
    cert: String,
    key: String,
    /// For a CA: the subject, to sign other certificates with it.
    ca_cn: Option<String>,
}

impl Object for Certificate {
    fn type_name(&self) -> &str {
        "sprig.certificate"
    }

    fn member(&self, name: &str, _args: &[Value]) -> Option<Result<Value, String>> {
        Some(Ok(match name {
            "Cert" => Value::str(&self.cert),
            "Key" => Value::str(&self.key),
            _ => return None,
        }))
    }

    fn format(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }

    fn to_data(&self) -> Value {
        Value::from(&serde_json::json!({"Cert": self.cert, "Key": self.key}))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn fail(e: impl std::fmt::Display) -> FuncError {
    FuncError::new(format!("error generating certificate: {e}"))
}

fn params(cn: &str, ips: &Value, names: &Value, ca: bool) -> Result<CertificateParams, FuncError> {
    let mut p = CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
    p.distinguished_name.push(DnType::CommonName, cn);
    for ip in cast::to_list(ips).unwrap_or_default() {
        let text = cast::str_param(&ip);
        let addr = text
            .parse()
            .map_err(|_| FuncError::new(format!("error parsing ip: {text}")))?;
        p.subject_alt_names.push(SanType::IpAddress(addr));
    }
    for name in cast::to_list(names).unwrap_or_default() {
        let dns = cast::str_param(&name).try_into().map_err(fail)?;
        p.subject_alt_names.push(SanType::DnsName(dns));
    }
    if ca {
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
    }
    Ok(p)
}

fn certificate(cert: String, key: &KeyPair, ca_cn: Option<String>) -> Value {
    Value::Object(Rc::new(Certificate {
        cert,
        key: key.serialize_pem(),
        ca_cn,
    }))
}

/// `genCA CN DAYS`.
fn gen_ca(args: &[Value]) -> Result<Value, FuncError> {
    arity("genCA", args, 2)?;
    let cn = cast::str_param(&args[0]);
    let key = KeyPair::generate().map_err(fail)?;
    let p = params(&cn, &Value::Nil, &Value::Nil, true)?;
    let cert = p.self_signed(&key).map_err(fail)?;
    Ok(certificate(cert.pem(), &key, Some(cn)))
}

/// `genSelfSignedCert CN IPS DNSNAMES DAYS`.
fn gen_self_signed_cert(args: &[Value]) -> Result<Value, FuncError> {
    arity("genSelfSignedCert", args, 4)?;
    let key = KeyPair::generate().map_err(fail)?;
    let p = params(&cast::str_param(&args[0]), &args[1], &args[2], false)?;
    let cert = p.self_signed(&key).map_err(fail)?;
    Ok(certificate(cert.pem(), &key, None))
}

/// `genSignedCert CN IPS DNSNAMES DAYS CA`.
fn gen_signed_cert(args: &[Value]) -> Result<Value, FuncError> {
    arity("genSignedCert", args, 5)?;
    let ca = match &args[4] {
        Value::Object(o) => o.as_any().downcast_ref::<Certificate>(),
        _ => None,
    }
    .ok_or_else(|| FuncError::new("genSignedCert needs a CA made by genCA"))?;
    let ca_key = KeyPair::from_pem(&ca.key).map_err(fail)?;
    let ca_params = params(
        ca.ca_cn.as_deref().unwrap_or_default(),
        &Value::Nil,
        &Value::Nil,
        true,
    )?;
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().map_err(fail)?;
    let p = params(&cast::str_param(&args[0]), &args[1], &args[2], false)?;
    let cert = p.signed_by(&key, &issuer).map_err(fail)?;
    Ok(certificate(cert.pem(), &key, None))
}

/// `genPrivateKey TYPE`: a PEM private key.
fn gen_private_key(args: &[Value]) -> Result<Value, FuncError> {
    arity("genPrivateKey", args, 1)?;
    let key = KeyPair::generate().map_err(fail)?;
    Ok(Value::from(key.serialize_pem()))
}

pub(super) fn register(r: &mut Registry) {
    r.add("genCA", gen_ca);
    r.add("genSelfSignedCert", gen_self_signed_cert);
    r.add("genSignedCert", gen_signed_cert);
    r.add("genPrivateKey", gen_private_key);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_certificates_come_from_a_ca() {
        let ca = gen_ca(&[Value::str("my-ca"), Value::Int(365)]).unwrap();
        let ips = Value::list(vec![Value::str("10.0.0.1")]);
        let names = Value::list(vec![Value::str("svc.ns.svc")]);
        let cert = gen_signed_cert(&[Value::str("svc"), ips, names, Value::Int(365), ca]).unwrap();
        let Value::Object(o) = cert else {
            panic!("not an object")
        };
        let pem = o.member("Cert", &[]).unwrap().unwrap();
        assert!(pem
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----"));
        let key = o.member("Key", &[]).unwrap().unwrap();
        assert!(key.as_str().unwrap().contains("PRIVATE KEY"));
    }
}
