//! RSA keys for Sprig's functions, and the 2048-bit ones that `genCA`, `genSelfSignedCert` and
//! `genSignedCert` make, generated ahead of need.
//!
//! A key takes tens of milliseconds of prime search, more than the rest of a whole chart's
//! render. The render announces how many of these functions its templates call
//! ([`prefetch_rsa_keys`]) before it parses them, and up to two background threads search while
//! it parses and executes; the functions then take a finished key ([`take_rsa_2048`]). The
//! threads never make more keys than announced, keep at most one speculative key in progress
//! once the render has taken its first, and stop (abandoning a search midway) when the render
//! ends. A key made ahead is as random as one made on the spot, and is handed out once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::BigUint;

use super::primes::{bit_len, random_prime, sub, SearchStopped};

/// RSA's public exponent, as Go and every common tool use.
const PUBLIC_EXPONENT: u32 = 65_537;

/// Background key threads at most: the render's own thread is the third runnable one.
const MAX_WORKERS: usize = 2;

/// Keys announced at most, whatever the templates say: a render needing more makes the rest
/// itself.
const MAX_WANTED: usize = 8;

/// A PKCS#1 DER RSA private key (what Sprig writes as `RSA PRIVATE KEY`).
pub(super) type Pkcs1Der = Vec<u8>;

/// A new RSA key of `bits` bits (2048 or 4096) as PKCS#1 DER, or why not.
pub(super) fn generate_rsa_key(bits: usize) -> Result<Pkcs1Der, String> {
    let always = || true;
    match bits {
        2048 => rsa_key::<16>(&always),
        4096 => rsa_key::<32>(&always),
        other => Err(Some(format!("unsupported RSA key size {other}"))),
    }
    .map_err(|e| e.unwrap_or_else(|| "key generation was cancelled".into()))
}

/// An RSA key whose primes have `N` limbs each. `Err(None)` means `keep_going` stopped it.
fn rsa_key<const N: usize>(keep_going: &dyn Fn() -> bool) -> Result<Pkcs1Der, Option<String>> {
    let mut rng = rand::rng();
    let avoid = Some((PUBLIC_EXPONENT, 1));
    let cancelled = |_: SearchStopped| None;
    let (p, q) = loop {
        let p: [u64; N] = random_prime(&mut rng, avoid, keep_going).map_err(cancelled)?;
        let q: [u64; N] = random_prime(&mut rng, avoid, keep_going).map_err(cancelled)?;
        // FIPS 186-4 wants |p − q| > 2^(bits/2 − 100); random primes nearly always are.
        let (diff, q_above) = sub(&p, &q);
        let (p, q, diff) = if q_above {
            (q, p, sub(&q, &p).0)
        } else {
            (p, q, diff)
        };
        if bit_len(&diff) > 64 * N - 100 {
            break (p, q);
        }
    };
    let to_big = |x: &[u64; N]| {
        let bytes: Vec<u8> = x.iter().flat_map(|l| l.to_le_bytes()).collect();
        BigUint::from_bytes_le(&bytes)
    };
    let key = rsa::RsaPrivateKey::from_p_q(to_big(&p), to_big(&q), PUBLIC_EXPONENT.into())
        .map_err(|e| Some(e.to_string()))?;
    let der = key.to_pkcs1_der().map_err(|e| Some(e.to_string()))?;
    Ok(der.as_bytes().to_vec())
}

/// How many keys the functions in a template's source may generate: each call site of
/// `genCA`, `genSelfSignedCert` or `genSignedCert` (not their `WithKey` forms).
pub fn keys_generated_by(src: &str) -> usize {
    // Every template's source is scanned before rendering: a vectorised search for `gen` keeps
    // that a small fraction of the render.
    memchr::memmem::find_iter(src.as_bytes(), b"gen")
        .filter(|&at| {
            let rest = &src.as_bytes()[at + 3..];
            ["CA", "SelfSignedCert", "SignedCert"].iter().any(|name| {
                rest.starts_with(name.as_bytes()) && !rest[name.len()..].starts_with(b"WithKey")
            })
        })
        .count()
}

#[derive(Default)]
struct Pool {
    /// Keys announced by the renders in progress.
    wanted: usize,
    /// Keys the workers started for them.
    started: usize,
    /// Keys the renders took.
    taken: usize,
    in_flight: usize,
    ready: Vec<Pkcs1Der>,
    workers: usize,
    /// Renders in progress that announced keys.
    renders: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    wanted: 0,
    started: 0,
    taken: 0,
    in_flight: 0,
    ready: Vec::new(),
    workers: 0,
    renders: 0,
});
static POOL_CHANGED: Condvar = Condvar::new();
/// Bumped when the last render ends: searches started before stop.
static EPOCH: AtomicU64 = AtomicU64::new(0);

fn lock_pool() -> MutexGuard<'static, Pool> {
    // A worker cannot leave the pool inconsistent (it only panics outside the lock), so a
    // poisoned lock is still usable.
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Keeps the background key search going for one render; dropping it ends that render's claim.
#[must_use = "the keys are only made while the guard lives"]
pub struct KeyPrefetch(bool);

impl Drop for KeyPrefetch {
    fn drop(&mut self) {
        if !self.0 {
            return;
        }
        let mut pool = lock_pool();
        pool.renders -= 1;
        if pool.renders == 0 {
            EPOCH.fetch_add(1, Ordering::SeqCst);
            pool.wanted = 0;
            pool.started = 0;
            pool.taken = 0;
            pool.ready.clear();
        }
        POOL_CHANGED.notify_all();
    }
}

/// Starts generating `count` RSA 2048 keys in the background for a render about to call
/// `genCA`/`genSelfSignedCert`/`genSignedCert` that many times (at most). Hold the guard for
/// the render; nothing runs when `count` is 0.
pub fn prefetch_rsa_keys(count: usize) -> KeyPrefetch {
    if count == 0 {
        return KeyPrefetch(false);
    }
    let mut pool = lock_pool();
    pool.renders += 1;
    pool.wanted = (pool.wanted + count).min(MAX_WANTED);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let target = count.min(MAX_WORKERS).min(cores);
    while pool.workers < target {
        let spawned = std::thread::Builder::new()
            .name("rsa-keygen".into())
            .spawn(run_worker);
        if spawned.is_err() {
            break;
        }
        pool.workers += 1;
    }
    KeyPrefetch(true)
}

fn run_worker() {
    loop {
        let mut pool = lock_pool();
        let epoch = loop {
            if pool.started >= pool.wanted {
                pool.workers -= 1;
                return;
            }
            // Two searches while the render waits for its first key, one after.
            let lookahead = if pool.taken == 0 { 2 } else { 1 };
            if pool.ready.len() + pool.in_flight < lookahead {
                break EPOCH.load(Ordering::SeqCst);
            }
            pool = POOL_CHANGED.wait(pool).unwrap_or_else(|e| e.into_inner());
        };
        pool.started += 1;
        pool.in_flight += 1;
        drop(pool);
        let key = rsa_key::<16>(&|| EPOCH.load(Ordering::Relaxed) == epoch);
        let mut pool = lock_pool();
        pool.in_flight -= 1;
        if let Ok(key) = key {
            if EPOCH.load(Ordering::SeqCst) == epoch {
                pool.ready.push(key);
            }
        }
        POOL_CHANGED.notify_all();
    }
}

/// An RSA 2048 key: one made ahead if any, else the one in progress, else a new one.
pub(super) fn take_rsa_2048() -> Result<Pkcs1Der, String> {
    let mut pool = lock_pool();
    loop {
        if let Some(key) = pool.ready.pop() {
            pool.taken += 1;
            POOL_CHANGED.notify_all();
            return Ok(key);
        }
        if pool.in_flight == 0 {
            break;
        }
        pool = POOL_CHANGED.wait(pool).unwrap_or_else(|e| e.into_inner());
    }
    if pool.renders > 0 {
        pool.taken += 1;
        POOL_CHANGED.notify_all();
    }
    drop(pool);
    generate_rsa_key(2048)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    use rsa::traits::{PrivateKeyParts as _, PublicKeyParts as _};

    #[test]
    fn call_sites_are_counted_without_the_with_key_forms() {
        let src = r#"{{ $ca := genCA "x" 365 }}{{ genSignedCert "a" nil nil 1 $ca }}
            {{ genSelfSignedCert "s" nil nil 1 }}{{ genCAWithKey "c" 1 $k }}
            {{ genSignedCertWithKey "a" nil nil 1 $ca $k }}{{ genPrivateKey "rsa" }}"#;
        assert_eq!(keys_generated_by(src), 3);
        assert_eq!(keys_generated_by("no keys: general gen"), 0);
    }

    #[test]
    fn generated_keys_are_consistent_rsa_keys() {
        let der = generate_rsa_key(2048).unwrap();
        let key = rsa::RsaPrivateKey::from_pkcs1_der(&der).unwrap();
        key.validate().unwrap();
        assert_eq!(key.n().bits(), 2048);
        assert_eq!(key.e(), &BigUint::from(PUBLIC_EXPONENT));
        assert_eq!(key.primes().len(), 2);
    }

    #[test]
    fn prefetched_keys_are_handed_out_once() {
        let guard = prefetch_rsa_keys(2);
        let (a, b) = (take_rsa_2048().unwrap(), take_rsa_2048().unwrap());
        assert_ne!(a, b);
        drop(guard);
        // Without a render announcing keys, a key is made on the spot.
        assert!(take_rsa_2048().is_ok());
    }
}
