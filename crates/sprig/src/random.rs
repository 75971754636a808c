//! Sprig's random values: `uuidv4` and `randBytes` (the random strings live with the other
//! string functions).

use super::cast::int_param;
use super::encoding::b64_encode;
use super::{arity, FuncError, Registry};
use gotmpl::value::Value;

fn uuidv4(args: &[Value]) -> Result<Value, FuncError> {
    arity("uuidv4", args, 0)?;
    Ok(Value::from(uuid::Uuid::new_v4().to_string()))
}

/// `randBytes N`: N random bytes, base64-encoded.
fn rand_bytes(args: &[Value]) -> Result<Value, FuncError> {
    use rand::RngCore;
    arity("randBytes", args, 1)?;
    let n = usize::try_from(int_param(&args[0]))
        .map_err(|_| FuncError::new("runtime error: makeslice: len out of range"))?;
    let mut buf = vec![0u8; n];
    rand::rng().fill_bytes(&mut buf);
    Ok(Value::from(b64_encode(&buf)))
}

pub(super) fn register(r: &mut Registry) {
    r.add("uuidv4", uuidv4);
    r.add("randBytes", rand_bytes);
}

#[cfg(test)]
mod tests {
    use super::super::encoding::b64_decode;
    use super::super::testing::{i, show};

    #[test]
    fn uuidv4_is_a_random_version_4_uuid() {
        let a = show("uuidv4", &[]);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_ne!(a, show("uuidv4", &[]));
    }

    #[test]
    fn rand_bytes_is_base64_of_n_bytes() {
        // Helm: {{ len (randBytes 12) }} is 16 and {{ randBytes 0 }} is "".
        let v = show("randBytes", &[i(12)]);
        assert_eq!(v.len(), 16);
        assert_eq!(b64_decode(v.as_bytes()).map(|b| b.len()), Ok(12));
        assert_eq!(show("randBytes", &[i(0)]), "");
    }
}
