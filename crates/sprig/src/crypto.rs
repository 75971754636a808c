//! Sprig's crypto functions: digests (`sha1sum sha256sum sha512sum adler32sum`), bcrypt
//! (`bcrypt`, `htpasswd`), Master Password's `derivePassword`, AES-CBC (`encryptAES`,
//! `decryptAES`) and, in [`certificates`], keys and X.509 certificates.

use sha1::Digest as _;

#[cfg(target_arch = "x86_64")]
mod adx;
mod certificates;
mod dsa;
mod keys;
mod primes;

pub use keys::{keys_generated_by, prefetch_rsa_keys, KeyPrefetch};

use super::cast::str_param;
use super::{arity, FuncError, Registry};
use gotmpl::value::Value;

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

/// Go's bcrypt with `DefaultCost` (10) and the `$2a$` prefix.
fn bcrypt_hash(input: &str) -> String {
    if input.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes"
            .into();
    }
    match bcrypt::hash_with_result(input, 10) {
        Ok(parts) => parts.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

/// `bcrypt S`.
fn bcrypt_fn(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(bcrypt_hash(&one_str("bcrypt", args)?)))
}

/// `htpasswd USER PASSWORD`: an Apache `user:bcrypt-hash` line.
fn htpasswd(args: &[Value]) -> Result<Value, FuncError> {
    arity("htpasswd", args, 2)?;
    let (user, password) = (str_param(&args[0]), str_param(&args[1]));
    if user.contains(':') {
        return Ok(Value::from(format!("invalid username: {user}")));
    }
    Ok(Value::from(format!("{user}:{}", bcrypt_hash(&password))))
}

/// Master Password's templates per password type, as Sprig lists them.
fn password_templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_characters(class: u8) -> &'static [u8] {
    match class {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// `derivePassword COUNTER TYPE PASSWORD USER SITE`: the Master Password algorithm (scrypt
/// key from the password and user, HMAC-SHA256 seed from the site and counter).
fn derive_password(args: &[Value]) -> Result<Value, FuncError> {
    use hmac::Mac as _;
    arity("derivePassword", args, 5)?;
    let counter = super::cast::to_int64(&args[0]) as u32;
    let kind = str_param(&args[1]);
    let (password, user, site) = (
        str_param(&args[2]),
        str_param(&args[3]),
        str_param(&args[4]),
    );
    let Some(templates) = password_templates(&kind) else {
        return Ok(Value::from(format!("cannot find password template {kind}")));
    };
    const SEED: &[u8] = b"com.lyndir.masterpassword";
    let mut salt = SEED.to_vec();
    salt.extend((user.len() as u32).to_be_bytes());
    salt.extend(user.as_bytes());
    let mut key = [0u8; 64];
    let params = scrypt::Params::new(15, 8, 2, 64)
        .map_err(|e| FuncError::new(format!("failed to derive password: {e}")))?;
    if let Err(e) = scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key) {
        return Ok(Value::from(format!("failed to derive password: {e}")));
    }
    let mut message = SEED.to_vec();
    message.extend((site.len() as u32).to_be_bytes());
    message.extend(site.as_bytes());
    message.extend(counter.to_be_bytes());
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key)
        .map_err(|e| FuncError::new(format!("failed to derive password: {e}")))?;
    mac.update(&message);
    let seed = mac.finalize().into_bytes();
    let template = templates[usize::from(seed[0]) % templates.len()];
    let out: String = template
        .bytes()
        .enumerate()
        .map(|(i, class)| {
            let chars = template_characters(class);
            char::from(chars[usize::from(seed[i + 1]) % chars.len()])
        })
        .collect();
    Ok(Value::from(out))
}

/// The AES-256 key Sprig derives from a password: its bytes, cut or zero-padded to 32.
fn aes_key(password: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    let n = password.len().min(32);
    key[..n].copy_from_slice(&password.as_bytes()[..n]);
    key
}

/// `encryptAES PASSWORD TEXT`: base64 of a random IV and the AES-256-CBC ciphertext
/// (PKCS#7 padding).
fn encrypt_aes(args: &[Value]) -> Result<Value, FuncError> {
    use aes::cipher::{BlockEncryptMut, KeyIvInit};
    arity("encryptAES", args, 2)?;
    let (password, text) = (str_param(&args[0]), str_param(&args[1]));
    if text.is_empty() {
        return Ok(Value::from(""));
    }
    let mut iv = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut iv);
    let cipher = cbc::Encryptor::<aes::Aes256>::new(&aes_key(&password).into(), &iv.into());
    let sealed =
        cipher.encrypt_padded_vec_mut::<aes::cipher::block_padding::Pkcs7>(text.as_bytes());
    let mut out = iv.to_vec();
    out.extend(sealed);
    Ok(Value::from(super::encoding::b64_encode(&out)))
}

/// `decryptAES PASSWORD B64`: the reverse of `encryptAES`.
fn decrypt_aes(args: &[Value]) -> Result<Value, FuncError> {
    use aes::cipher::{BlockDecryptMut, KeyIvInit};
    arity("decryptAES", args, 2)?;
    let (password, b64) = (str_param(&args[0]), str_param(&args[1]));
    if b64.is_empty() {
        return Ok(Value::from(""));
    }
    let data = super::encoding::b64_decode(b64.as_bytes())
        .map_err(|at| FuncError::new(format!("illegal base64 data at input byte {at}")))?;
    if data.len() < 16 {
        return Err(FuncError::new(format!(
            "runtime error: slice bounds out of range [:16] with capacity {}",
            data.len()
        )));
    }
    let (iv, body) = data.split_at(16);
    if body.len() % 16 != 0 {
        return Err(FuncError::new("crypto/cipher: input not full blocks"));
    }
    let mut buf = body.to_vec();
    let cipher = cbc::Decryptor::<aes::Aes256>::new(&aes_key(&password).into(), iv.into());
    let plain = cipher
        .decrypt_padded_mut::<aes::cipher::block_padding::NoPadding>(&mut buf)
        .map_err(|e| FuncError::new(e.to_string()))?;
    // Sprig strips as many bytes as the last byte says, without checking the padding.
    let n = plain.last().map_or(0, |&b| usize::from(b));
    if n > plain.len() {
        return Err(FuncError::new(format!(
            "runtime error: slice bounds out of range [:{}]",
            plain.len() as i64 - n as i64
        )));
    }
    Ok(Value::from(
        String::from_utf8_lossy(&plain[..plain.len() - n]).into_owned(),
    ))
}

pub(super) fn register(r: &mut Registry) {
    r.add("sha1sum", sha1sum);
    r.add("sha256sum", sha256sum);
    r.add("sha512sum", sha512sum);
    r.add("adler32sum", adler32sum);
    r.add("bcrypt", bcrypt_fn);
    r.add("htpasswd", htpasswd);
    r.add("derivePassword", derive_password);
    r.add("encryptAES", encrypt_aes);
    r.add("decryptAES", decrypt_aes);
    certificates::register(r);
}

#[cfg(test)]
mod tests {
    //! Expected values are Helm 4's output for the same calls (rendered with helm_python).
    use super::super::testing::{i, s, show};

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

    #[test]
    fn bcrypt_and_htpasswd() {
        assert_eq!(
            show("htpasswd", &[s("a:b"), s("x")]),
            "invalid username: a:b"
        );
        let line = show("htpasswd", &[s("user"), s("secret")]);
        let hash = line.strip_prefix("user:").unwrap();
        assert!(hash.starts_with("$2a$10$"), "{hash}");
        assert_eq!(hash.len(), 60);
        assert!(bcrypt::verify("secret", hash).unwrap());
        assert_eq!(show("bcrypt", &[s("x")]).len(), 60);
    }

    #[test]
    fn derive_password_matches_sprig() {
        let args = |counter: i64, kind: &str, pw: &str, user: &str, site: &str| {
            [i(counter), s(kind), s(pw), s(user), s(site)]
        };
        assert_eq!(
            show(
                "derivePassword",
                &args(1, "long", "password", "user", "example.com")
            ),
            "ZedaFaxcZaso9*"
        );
        assert_eq!(
            show(
                "derivePassword",
                &args(1, "maximum", "password", "user", "example.com")
            ),
            "pf4zS1LjCg&LjhsZ7T2~"
        );
        assert_eq!(
            show("derivePassword", &args(3, "pin", "pw", "u", "s")),
            "7979"
        );
        assert_eq!(
            show("derivePassword", &args(1, "nope", "pw", "u", "s")),
            "cannot find password template nope"
        );
    }

    #[test]
    fn aes_decrypts_what_sprig_encrypted() {
        // Ciphertexts made by Helm's encryptAES.
        assert_eq!(
            show(
                "decryptAES",
                &[
                    s("secretkey"),
                    s("GNNcMPzR6NkytUlA+91VXpBZak3vD1hHSD/Zi7128D8=")
                ]
            ),
            "plaintext"
        );
        let long_key = "a-very-long-password-that-exceeds-32-bytes!!";
        assert_eq!(
            show(
                "decryptAES",
                &[
                    s(long_key),
                    s("8dK36n4bxWKTJft/iReMz1cG3474a/Od2YSMxw1HnAc=")
                ]
            ),
            "x<y & z"
        );
        let sealed = show("encryptAES", &[s("k"), s("round trip")]);
        assert_eq!(show("decryptAES", &[s("k"), s(&sealed)]), "round trip");
        assert_eq!(show("encryptAES", &[s("k"), s("")]), "");
        assert_eq!(show("decryptAES", &[s("k"), s("")]), "");
    }
}
