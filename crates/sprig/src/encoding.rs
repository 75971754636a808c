//! Sprig's encodings: `b64enc b64dec b32enc b32dec` with Go's standard (padded) alphabets. A bad
//! input to the decoders is not an error: Sprig returns Go's error text as the result
//! (`illegal base64 data at input byte 4`), and charts may print it.

use base64::Engine as _;

use super::cast::str_param;
use super::{arity, FuncError, Registry};
use gotmpl::value::Value;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Go's `base64.StdEncoding.EncodeToString`.
pub(super) fn b64_encode(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Go's `base64.StdEncoding.DecodeString`: `\r` and `\n` are skipped anywhere; padding is
/// required; the error is the byte offset Go reports.
pub(super) fn b64_decode(src: &[u8]) -> Result<Vec<u8>, usize> {
    decode_quanta(src, 4, |c| {
        B64.iter().position(|&b| b == c).map(|p| p as u64)
    })
}

/// Go's `base32.StdEncoding.DecodeString`, with the same conventions.
fn b32_decode(src: &[u8]) -> Result<Vec<u8>, usize> {
    decode_quanta(src, 8, |c| {
        B32.iter().position(|&b| b == c).map(|p| p as u64)
    })
}

/// Decodes `src` in quanta of `width` symbols (4 for base64, 8 for base32), following Go's
/// `decodeQuantum` for where padding may appear and which offset an error names.
fn decode_quanta(
    src: &[u8],
    width: usize,
    symbol: impl Fn(u8) -> Option<u64>,
) -> Result<Vec<u8>, usize> {
    let bits = if width == 4 { 6 } else { 5 };
    let mut out = Vec::with_capacity(src.len() * 3 / 4);
    let mut si = 0;
    loop {
        let mut buf = [0u64; 8];
        let mut j = 0;
        let mut len = width;
        let mut finished = false;
        while j < width {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                return Err(si - j);
            }
            let c = src[si];
            si += 1;
            if let Some(v) = symbol(c) {
                buf[j] = v;
                j += 1;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                continue;
            }
            if c != b'=' {
                return Err(si - 1);
            }
            // Padding: how many symbols a quantum may end with before it.
            let valid_lengths: &[usize] = if width == 4 { &[2, 3] } else { &[2, 4, 5, 7] };
            if !valid_lengths.contains(&j) {
                return Err(si - 1);
            }
            let mut pads = 1;
            while pads < width - j {
                while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                    si += 1;
                }
                if si == src.len() {
                    return Err(src.len());
                }
                if src[si] != b'=' {
                    return Err(si - 1);
                }
                si += 1;
                pads += 1;
            }
            while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                si += 1;
            }
            if si < src.len() {
                return Err(si);
            }
            len = j;
            finished = true;
            break;
        }
        let value = buf[..width].iter().fold(0u64, |acc, &v| (acc << bits) | v);
        let total_bytes = width * bits / 8;
        let bytes: Vec<u8> = (0..total_bytes)
            .map(|k| (value >> (8 * (total_bytes - 1 - k))) as u8)
            .collect();
        out.extend_from_slice(&bytes[..len * bits / 8]);
        if finished {
            return Ok(out);
        }
    }
}

fn b32_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let value = buf.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        let symbols = (chunk.len() * 8).div_ceil(5);
        for k in 0..8 {
            if k < symbols {
                out.push(char::from(B32[((value >> (35 - 5 * k)) & 31) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn one_str(name: &str, args: &[Value]) -> Result<String, FuncError> {
    arity(name, args, 1)?;
    Ok(str_param(&args[0]))
}

fn b64enc(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(b64_encode(one_str("b64enc", args)?.as_bytes())))
}

fn b64dec(args: &[Value]) -> Result<Value, FuncError> {
    let s = one_str("b64dec", args)?;
    Ok(Value::from(match b64_decode(s.as_bytes()) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(at) => format!("illegal base64 data at input byte {at}"),
    }))
}

fn b32enc(args: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::from(b32_encode(one_str("b32enc", args)?.as_bytes())))
}

fn b32dec(args: &[Value]) -> Result<Value, FuncError> {
    let s = one_str("b32dec", args)?;
    Ok(Value::from(match b32_decode(s.as_bytes()) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(at) => format!("illegal base32 data at input byte {at}"),
    }))
}

pub(super) fn register(r: &mut Registry) {
    r.add("b64enc", b64enc);
    r.add("b64dec", b64dec);
    r.add("b32enc", b32enc);
    r.add("b32dec", b32dec);
}

#[cfg(test)]
mod tests {
    //! Expected values are Helm 4's output for the same calls (rendered with helm_python).
    use super::super::testing::{s, show};

    #[test]
    fn base64_round_trips_and_reports_go_offsets() {
        assert_eq!(show("b64enc", &[s("hello world")]), "aGVsbG8gd29ybGQ=");
        assert_eq!(show("b64enc", &[s("")]), "");
        let cases = [
            ("aGVsbG8gd29ybGQ=", "hello world"),
            ("aGVs\nbG8=", "hello"),
            ("aGVsbG8", "illegal base64 data at input byte 4"),
            ("a", "illegal base64 data at input byte 0"),
            ("aG!s", "illegal base64 data at input byte 2"),
            ("aGVsbG8=x", "illegal base64 data at input byte 8"),
            ("aGV=", "he"),
            ("aG=x", "illegal base64 data at input byte 2"),
            ("a===", "illegal base64 data at input byte 1"),
            ("aGVsbA==", "hell"),
            ("aG==", "h"),
        ];
        for (input, want) in cases {
            assert_eq!(show("b64dec", &[s(input)]), want, "{input:?}");
        }
    }

    #[test]
    fn base32_round_trips_and_reports_go_offsets() {
        assert_eq!(show("b32enc", &[s("hello")]), "NBSWY3DP");
        assert_eq!(show("b32enc", &[s("hi")]), "NBUQ====");
        assert_eq!(show("b32enc", &[s("")]), "");
        let cases = [
            ("NBSWY3DP", "hello"),
            ("NBUQ====", "hi"),
            ("NBUQ", "illegal base32 data at input byte 0"),
            ("nbswy3dp", "illegal base32 data at input byte 0"),
            ("NBSWY3D=", "hell"),
            ("NBUQ===x", "illegal base32 data at input byte 6"),
        ];
        for (input, want) in cases {
            assert_eq!(show("b32dec", &[s(input)]), want, "{input:?}");
        }
    }
}
