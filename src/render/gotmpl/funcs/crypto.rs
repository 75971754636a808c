//! Sprig's crypto functions: digests (`sha1sum sha256sum sha512sum adler32sum`).

use sha1::Digest as _;

use super::super::value::Value;
use super::cast::str_param;
use super::{arity, FuncError, Registry};

fn one_str(name: &str, args: &[Value]) -> Result<String, FuncError> {
    arity(name, args, 1)?;
    Ok(str_param(&args[0]))
}

fn sha1sum(args: &[Value]) -> Result<Value, FuncError> {
    let s = one_str("sha1sum", args)?;
    Ok(Value::from(hex::encode(sha1::Sha1::digest(s.as_bytes()))))
}

fn sha256sum(args: &[Value]) -> Result<Value, FuncError> {
    let s = one_str("sha256sum", args)?;
    Ok(Value::from(hex::encode(sha2::Sha256::digest(s.as_bytes()))))
}

fn sha512sum(args: &[Value]) -> Result<Value, FuncError> {
    let s = one_str("sha512sum", args)?;
    Ok(Value::from(hex::encode(sha2::Sha512::digest(s.as_bytes()))))
}

/// Adler-32 (RFC 1950), printed in decimal.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that can be summed before b may overflow a u32.
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

fn adler32sum(args: &[Value]) -> Result<Value, FuncError> {
    let s = one_str("adler32sum", args)?;
    Ok(Value::from(adler32(s.as_bytes()).to_string()))
}

pub(super) fn register(r: &mut Registry) {
    r.add("sha1sum", sha1sum);
    r.add("sha256sum", sha256sum);
    r.add("sha512sum", sha512sum);
    r.add("adler32sum", adler32sum);
}

#[cfg(test)]
mod tests {
    //! Expected values are Helm 4's output for the same calls (rendered with helm_python).
    use super::super::testing::{s, show};

    #[test]
    fn digests() {
        assert_eq!(
            show("sha1sum", &[s("abc")]),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            show("sha256sum", &[s("abc")]),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            show("sha512sum", &[s("abc")]),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        assert_eq!(show("adler32sum", &[s("Wikipedia")]), "300286872");
        assert_eq!(show("adler32sum", &[s("")]), "1");
    }
}
