//! RSA keys for Sprig's functions, and the 2048-bit ones that `genCA`, `genSelfSignedCert` and
//! `genSignedCert` make, with their primes searched on two cores.
//!
//! A key takes tens of milliseconds of prime search, more than the rest of a whole chart's
//! render. The render announces how many of these functions its templates call
//! ([`prefetch_rsa_keys`]: call sites, many of them behind conditions the values leave false).
//! Nothing runs until the render first asks for a key ([`take_rsa_2048`]): then a background
//! thread searches primes beside the render's own thread, and any two found primes make the key,
//! so the first key comes in about half the time of one thread's search and the next ones from
//! primes the thread found meanwhile. Searching from the start of the render instead took a core
//! from it in every render whose conditions call no key function.
//!
//! The background thread keeps at most two keys' primes ready or in progress, never for more
//! keys than announced, runs at the least priority, and stops (abandoning a search midway) when
//! the render ends. A prime found ahead is as random as one found on the spot, and is used once.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::BigUint;

use super::primes::{bit_len, random_prime, sub, SearchStopped};

/// RSA's public exponent, as Go and every common tool use.
const PUBLIC_EXPONENT: u32 = 65_537;

/// `p mod e ≠ 1` for both primes, so that `gcd(e, p − 1) = 1` as RSA needs.
const AVOID: Option<(u32, u32)> = Some((PUBLIC_EXPONENT, 1));

/// Background prime threads at most: the render's own thread searches too.
const MAX_WORKERS: usize = 2;

/// Keys announced at most, whatever the templates say: a render needing more makes the rest
/// itself.
const MAX_WANTED: usize = 8;

/// Keys whose primes the background threads keep ready or in progress at most.
const KEYS_AHEAD: usize = 2;

/// A PKCS#1 DER RSA private key (what Sprig writes as `RSA PRIVATE KEY`).
pub(super) type Pkcs1Der = Vec<u8>;

/// A 1024-bit prime, half of an RSA 2048 key.
type Prime1024 = [u64; 16];

/// A new RSA key of `bits` bits (2048 or 4096) as PKCS#1 DER, or why not.
pub(super) fn generate_rsa_key(bits: usize) -> Result<Pkcs1Der, String> {
    match bits {
        2048 => rsa_key::<16>(),
        4096 => rsa_key::<32>(),
        other => Err(format!("unsupported RSA key size {other}")),
    }
}

/// An RSA key whose primes have `N` limbs each, searched on this thread.
fn rsa_key<const N: usize>() -> Result<Pkcs1Der, String> {
    let mut rng = rand::rng();
    let always = || true;
    loop {
        let mut prime = || {
            random_prime::<N>(&mut rng, AVOID, &always)
                .map_err(|SearchStopped::Cancelled| "key generation was cancelled".to_string())
        };
        let (p, q) = (prime()?, prime()?);
        if let Some(key) = key_from_primes(p, q)? {
            return Ok(key);
        }
    }
}

/// The key of two primes, or `None` if they are too close: FIPS 186-4 wants
/// |p − q| > 2^(bits/2 − 100), which random primes nearly always are.
fn key_from_primes<const N: usize>(p: [u64; N], q: [u64; N]) -> Result<Option<Pkcs1Der>, String> {
    let (diff, q_above) = sub(&p, &q);
    let diff = if q_above { sub(&q, &p).0 } else { diff };
    if bit_len(&diff) <= 64 * N - 100 {
        return Ok(None);
    }
    // The larger prime first, as Go orders them.
    let (p, q) = if q_above { (q, p) } else { (p, q) };
    let to_big = |x: &[u64; N]| {
        let bytes: Vec<u8> = x.iter().flat_map(|l| l.to_le_bytes()).collect();
        BigUint::from_bytes_le(&bytes)
    };
    let key = rsa::RsaPrivateKey::from_p_q(to_big(&p), to_big(&q), PUBLIC_EXPONENT.into())
        .map_err(|e| e.to_string())?;
    let der = key.to_pkcs1_der().map_err(|e| e.to_string())?;
    Ok(Some(der.as_bytes().to_vec()))
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
    /// Keys handed to the renders.
    taken: usize,
    /// Prime searches under way on the background threads.
    searching: usize,
    /// Primes found and not yet used.
    ready: Vec<Prime1024>,
    workers: usize,
    /// Renders in progress that announced keys.
    renders: usize,
}

impl Pool {
    /// Primes the background threads should have ready or in progress now.
    fn primes_wanted(&self) -> usize {
        2 * self.wanted.saturating_sub(self.taken).min(KEYS_AHEAD)
    }

    fn set_ready(&mut self, ready: Vec<Prime1024>) {
        READY.store(ready.len(), Ordering::SeqCst);
        self.ready = ready;
    }

    fn push_ready(&mut self, prime: Prime1024) {
        self.ready.push(prime);
        READY.store(self.ready.len(), Ordering::SeqCst);
    }

    fn pop_ready(&mut self) -> Option<Prime1024> {
        let prime = self.ready.pop();
        READY.store(self.ready.len(), Ordering::SeqCst);
        prime
    }
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    wanted: 0,
    taken: 0,
    searching: 0,
    ready: Vec::new(),
    workers: 0,
    renders: 0,
});
static POOL_CHANGED: Condvar = Condvar::new();
/// Bumped when the last render ends: searches started before stop.
static EPOCH: AtomicU64 = AtomicU64::new(0);
/// `POOL.ready.len()`, readable without the lock by a search deciding whether to go on.
static READY: AtomicUsize = AtomicUsize::new(0);

fn lock_pool() -> MutexGuard<'static, Pool> {
    // A worker cannot leave the pool inconsistent (it only panics outside the lock), so a
    // poisoned lock is still usable.
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Keeps the background prime search available for one render; dropping it ends that
/// render's claim.
#[must_use = "the keys are only searched ahead while the guard lives"]
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
            pool.taken = 0;
            pool.set_ready(Vec::new());
        }
        POOL_CHANGED.notify_all();
    }
}

/// Announces that a render about to start may call `genCA`/`genSelfSignedCert`/
/// `genSignedCert` up to `count` times, so that its first call starts a background search.
/// Hold the guard for the render; nothing is announced when `count` is 0.
pub fn prefetch_rsa_keys(count: usize) -> KeyPrefetch {
    if count == 0 {
        return KeyPrefetch(false);
    }
    let mut pool = lock_pool();
    pool.renders += 1;
    pool.wanted = (pool.wanted + count).min(MAX_WANTED);
    KeyPrefetch(true)
}

/// Starts background prime threads, one fewer than the cores (the render's thread searches
/// too), up to [`MAX_WORKERS`].
fn start_workers(pool: &mut Pool) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let target = cores.saturating_sub(1).clamp(1, MAX_WORKERS);
    while pool.workers < target {
        let spawned = std::thread::Builder::new()
            .name("rsa-primes".into())
            .spawn(run_worker);
        if spawned.is_err() {
            break;
        }
        pool.workers += 1;
    }
}

fn run_worker() {
    yield_to_the_render();
    let mut rng = rand::rng();
    loop {
        let mut pool = lock_pool();
        let epoch = loop {
            if pool.renders == 0 {
                pool.workers -= 1;
                return;
            }
            if pool.ready.len() + pool.searching < pool.primes_wanted() {
                break EPOCH.load(Ordering::SeqCst);
            }
            pool = POOL_CHANGED.wait(pool).unwrap_or_else(|e| e.into_inner());
        };
        pool.searching += 1;
        drop(pool);
        let prime = random_prime::<16>(&mut rng, AVOID, &|| EPOCH.load(Ordering::Relaxed) == epoch);
        let mut pool = lock_pool();
        pool.searching -= 1;
        if let Ok(prime) = prime {
            if EPOCH.load(Ordering::SeqCst) == epoch {
                pool.push_ready(prime);
            }
        }
        POOL_CHANGED.notify_all();
    }
}

/// Lowers the calling prime thread's priority to the least (nice 19).
///
/// The keys announced are call sites, often never called, so the thread's work past the
/// render's last key is usually wasted; at full priority it would take a core from the rest of
/// the render. At the least priority it runs on cores nobody else wants.
fn yield_to_the_render() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority with `who = 0` changes only the calling thread's nice value on Linux
    // (each thread has its own); a failure leaves the priority as it was, which is harmless.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
    }
}

/// An RSA 2048 key for a render that announced its keys: from two primes found by this thread
/// or the background one, whichever come first. Without an announcement, a key made here.
pub(super) fn take_rsa_2048() -> Result<Pkcs1Der, String> {
    let mut pool = lock_pool();
    if pool.renders == 0 {
        drop(pool);
        return generate_rsa_key(2048);
    }
    start_workers(&mut pool);
    POOL_CHANGED.notify_all();
    let mut rng = rand::rng();
    loop {
        let pair = if pool.ready.len() >= 2 {
            pool.pop_ready().zip(pool.pop_ready())
        } else {
            None
        };
        if let Some((p, q)) = pair {
            drop(pool);
            let key = key_from_primes(p, q)?;
            pool = lock_pool();
            match key {
                Some(key) => {
                    pool.taken += 1;
                    POOL_CHANGED.notify_all();
                    return Ok(key);
                }
                // Too close to each other: keep one, find another.
                None => pool.push_ready(p),
            }
        }
        drop(pool);
        // Search beside the background thread until two primes are there.
        if let Ok(prime) =
            random_prime::<16>(&mut rng, AVOID, &|| READY.load(Ordering::Relaxed) < 2)
        {
            pool = lock_pool();
            pool.push_ready(prime);
        } else {
            pool = lock_pool();
        }
    }
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
        // Made of primes from two threads, they are still whole, valid keys.
        for der in [&a, &b] {
            let key = rsa::RsaPrivateKey::from_pkcs1_der(der).unwrap();
            key.validate().unwrap();
            assert_eq!(key.n().bits(), 2048);
        }
        let primes = |der: &Pkcs1Der| {
            rsa::RsaPrivateKey::from_pkcs1_der(der)
                .unwrap()
                .primes()
                .to_vec()
        };
        let (pa, pb) = (primes(&a), primes(&b));
        assert!(pa.iter().all(|p| !pb.contains(p)), "a prime was used twice");
        drop(guard);
        // Without a render announcing keys, a key is made on the spot.
        assert!(take_rsa_2048().is_ok());
    }
}
