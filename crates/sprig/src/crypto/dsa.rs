//! DSA keys for Sprig's `genPrivateKey "dsa"`: fresh domain parameters of Go's `L2048N256` size
//! (a 2048-bit `p`, a 256-bit `q` dividing `p − 1`, a generator `g` of the order-`q` subgroup)
//! and a key pair in them, as Go's `dsa.GenerateParameters` and `dsa.GenerateKey` make.
//!
//! Primality rounds follow FIPS 186-4, table C.1, for these sizes: 64 Miller–Rabin rounds for
//! `q` and 56 for `p` (the first of each to base 2, the rest random).

use rand::RngCore;
use rsa::BigUint;

use super::primes::{is_probable_prime, rem_small, sieving_primes};

/// Limbs of `p` (2048 bits) and `q` (256 bits).
const P_LIMBS: usize = 32;
const Q_LIMBS: usize = 4;

/// Random Miller–Rabin rounds after the base-2 round.
const Q_ROUNDS: usize = 63;
const P_ROUNDS: usize = 55;

/// Multiples of 2q searched from one random start: about six primes are expected among them.
const WINDOW: usize = 4096;

/// A DSA private key with its domain parameters.
pub(super) struct DsaKey {
    pub p: BigUint,
    pub q: BigUint,
    pub g: BigUint,
    pub y: BigUint,
    pub x: BigUint,
}

fn big<const N: usize>(x: &[u64; N]) -> BigUint {
    let bytes: Vec<u8> = x.iter().flat_map(|l| l.to_le_bytes()).collect();
    BigUint::from_bytes_le(&bytes)
}

fn limbs<const N: usize>(x: &BigUint) -> [u64; N] {
    let mut bytes = x.to_bytes_le();
    bytes.resize(8 * N, 0);
    let mut out = [0u64; N];
    for (limb, chunk) in out.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(b);
    }
    out
}

fn random_bits<const N: usize>(rng: &mut impl RngCore) -> [u64; N] {
    let mut x = [0u64; N];
    x.iter_mut().for_each(|l| *l = rng.next_u64());
    x
}

/// `b⁻¹ mod r` for a prime `r` not dividing `b` (Fermat: b^(r−2)).
fn inverse_mod_small_prime(b: u64, r: u64) -> u64 {
    let (mut base, mut exp, mut acc) = (b % r, r - 2, 1u64);
    while exp > 0 {
        if exp & 1 == 1 {
            acc = acc * base % r;
        }
        base = base * base % r;
        exp >>= 1;
    }
    acc
}

/// A new DSA key in new L2048N256 parameters.
pub(super) fn generate_dsa_key() -> DsaKey {
    let mut rng = rand::rng();
    let (p, q) = loop {
        let q = loop {
            let mut q: [u64; Q_LIMBS] = random_bits(&mut rng);
            q[Q_LIMBS - 1] |= 1 << 63;
            q[0] |= 1;
            if is_probable_prime(&q, Q_ROUNDS, &mut rng) {
                break q;
            }
        };
        if let Some(p) = prime_one_mod_2q(&q, &mut rng) {
            break (big(&p), big(&q));
        }
    };
    let one = BigUint::from(1u8);
    let e = (&p - &one) / &q;
    let mut h = BigUint::from(2u8);
    let g = loop {
        let g = h.modpow(&e, &p);
        if g != one {
            break g;
        }
        h += &one;
    };
    let x = loop {
        let x = big(&random_bits::<Q_LIMBS>(&mut rng));
        if x != BigUint::from(0u8) && x < q {
            break x;
        }
    };
    let y = g.modpow(&x, &p);
    DsaKey { p, q, g, y, x }
}

/// A 2048-bit prime `p ≡ 1 (mod 2q)`, searched in [`WINDOW`] steps of 2q from a random start
/// after sieving out candidates with small factors; `None` if the window held none.
fn prime_one_mod_2q(q: &[u64; Q_LIMBS], rng: &mut impl RngCore) -> Option<[u64; P_LIMBS]> {
    let step = big(q) * 2u8;
    let mut start: [u64; P_LIMBS] = random_bits(rng);
    start[P_LIMBS - 1] |= 1 << 63;
    let start = big(&start);
    let mut first = &start - &start % &step + 1u8;
    if first < start {
        first += &step;
    }
    let first_limbs: [u64; P_LIMBS] = limbs(&first);
    let mut composite = vec![false; WINDOW];
    for &r in sieving_primes() {
        let (a, b) = (u64::from(rem_small(&first_limbs, r)), {
            2 * u64::from(rem_small(q, r)) % u64::from(r)
        });
        if b == 0 {
            continue;
        }
        let r = u64::from(r);
        // first + i·step ≡ 0 (mod r) when i ≡ −a·step⁻¹.
        let mut i = ((r - a) % r * inverse_mod_small_prime(b, r) % r) as usize;
        while i < WINDOW {
            composite[i] = true;
            i += r as usize;
        }
    }
    for (i, _) in composite.iter().enumerate().filter(|(_, c)| !**c) {
        let candidate = &first + &step * BigUint::from(i);
        if candidate.bits() != 64 * P_LIMBS {
            return None;
        }
        let candidate = limbs(&candidate);
        if is_probable_prime(&candidate, P_ROUNDS, rng) {
            return Some(candidate);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_go_sizes_and_consistent_parameters() {
        let key = generate_dsa_key();
        let one = BigUint::from(1u8);
        assert_eq!(key.p.bits(), 2048);
        assert_eq!(key.q.bits(), 256);
        assert_eq!((&key.p - &one) % &key.q, BigUint::from(0u8));
        assert_ne!(key.g, one);
        assert_eq!(key.g.modpow(&key.q, &key.p), one);
        assert!(key.x < key.q);
        assert_eq!(key.g.modpow(&key.x, &key.p), key.y);
    }

    #[test]
    fn small_inverses() {
        for r in [3u64, 5, 16381] {
            for b in 1..r.min(50) {
                assert_eq!(b * inverse_mod_small_prime(b, r) % r, 1);
            }
        }
    }
}
