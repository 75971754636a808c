//! Random probable primes for RSA and DSA keys, on fixed-width integers with Montgomery
//! multiplication.
//!
//! General-purpose big integers (the `rsa` crate's `num-bigint-dig`) allocate per operation and
//! took 150–250 ms for one RSA 2048 key; a template making a CA and a certificate waited twice
//! that. Here a 1024-bit modular exponentiation is a loop over `[u64; 16]` with no allocation,
//! and most candidates never reach one: a sieve over a window of odd numbers rules out those
//! with a factor below [`SIEVE_LIMIT`] first, as Go's `crypto/rand.Prime` does.
//!
//! Each survivor must pass a strong probable-prime test to base 2 and then
//! [`RANDOM_BASE_ROUNDS`] Miller–Rabin rounds with random bases (FIPS 186-4, table C.2, asks
//! for 5 with random bases for the 1024-bit primes of an RSA 2048 key).

use std::sync::OnceLock;

use rand::RngCore;

/// Small primes below this bound are sieved out before any exponentiation: 1899 primes, which
/// leave about 12% of odd candidates for the base-2 test.
const SIEVE_LIMIT: u32 = 1 << 14;

/// Odd candidates per sieve window: 8192 numbers, more than ten times the average gap between
/// 1024-bit primes, so one window almost always holds a prime.
const WINDOW: usize = 4096;

/// Miller–Rabin rounds with random bases after the base-2 test.
pub(super) const RANDOM_BASE_ROUNDS: usize = 5;

/// The odd primes below [`SIEVE_LIMIT`], by Eratosthenes' sieve (computed once).
fn small_primes() -> &'static [u32] {
    static PRIMES: OnceLock<Vec<u32>> = OnceLock::new();
    PRIMES.get_or_init(|| {
        let limit = SIEVE_LIMIT as usize;
        let mut composite = vec![false; limit];
        let mut primes = Vec::new();
        for n in 3..limit {
            if composite[n] || n % 2 == 0 {
                continue;
            }
            primes.push(n as u32);
            let mut k = n * n;
            while k < limit {
                composite[k] = true;
                k += n;
            }
        }
        primes
    })
}

/// `x mod d` for a divisor below 2³².
pub(super) fn rem_small<const N: usize>(x: &[u64; N], d: u32) -> u32 {
    let d = u64::from(d);
    let mut r = 0u64;
    for &limb in x.iter().rev() {
        // r < d < 2³², so each step's dividend fits in 64 bits.
        r = ((r << 32) | (limb >> 32)) % d;
        r = ((r << 32) | (limb & 0xffff_ffff)) % d;
    }
    r as u32
}

/// `a + b` and the carry out.
fn add<const N: usize>(a: &[u64; N], b: &[u64; N]) -> ([u64; N], bool) {
    let mut out = [0u64; N];
    let mut carry = false;
    for i in 0..N {
        let (s, c1) = a[i].overflowing_add(b[i]);
        let (s, c2) = s.overflowing_add(u64::from(carry));
        out[i] = s;
        carry = c1 | c2;
    }
    (out, carry)
}

/// `a - b` and the borrow out.
pub(super) fn sub<const N: usize>(a: &[u64; N], b: &[u64; N]) -> ([u64; N], bool) {
    let mut out = [0u64; N];
    let mut borrow = false;
    for i in 0..N {
        let (s, b1) = a[i].overflowing_sub(b[i]);
        let (s, b2) = s.overflowing_sub(u64::from(borrow));
        out[i] = s;
        borrow = b1 | b2;
    }
    (out, borrow)
}

/// `x + small`, and whether it overflowed `N` limbs.
pub(super) fn add_small<const N: usize>(x: &[u64; N], small: u64) -> ([u64; N], bool) {
    let mut out = *x;
    let mut carry = small;
    for limb in out.iter_mut() {
        if carry == 0 {
            break;
        }
        let (s, c) = limb.overflowing_add(carry);
        *limb = s;
        carry = u64::from(c);
    }
    (out, carry != 0)
}

pub(super) fn bit<const N: usize>(x: &[u64; N], i: usize) -> bool {
    (x[i / 64] >> (i % 64)) & 1 == 1
}

/// The number of significant bits of `x`.
pub(super) fn bit_len<const N: usize>(x: &[u64; N]) -> usize {
    for i in (0..N).rev() {
        if x[i] != 0 {
            return 64 * i + 64 - x[i].leading_zeros() as usize;
        }
    }
    0
}

/// An odd modulus `m` of `N` limbs with its top bit set, and what Montgomery arithmetic
/// (R = 2^(64·N)) needs of it.
pub(super) struct Modulus<const N: usize> {
    m: [u64; N],
    /// −m⁻¹ mod 2⁶⁴.
    m_inv: u64,
    /// R mod m: one in Montgomery form.
    one: [u64; N],
    /// m − (R mod m): minus one in Montgomery form.
    minus_one: [u64; N],
}

impl<const N: usize> Modulus<N> {
    /// `m` must be odd with its top bit (bit 64·N − 1) set.
    pub(super) fn new(m: [u64; N]) -> Self {
        debug_assert!(m[0] & 1 == 1 && m[N - 1] >> 63 == 1);
        // Newton's iteration doubles the number of correct low bits of the inverse each time.
        let mut inv: u64 = 1;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(m[0].wrapping_mul(inv)));
        }
        // The top bit is set, so m < R < 2m and R mod m = R − m.
        let (one, _) = sub(&[0u64; N], &m);
        let (minus_one, _) = sub(&m, &one);
        Modulus {
            m,
            m_inv: inv.wrapping_neg(),
            one,
            minus_one,
        }
    }

    /// `a·b·R⁻¹ mod m` for `a, b < m` (Montgomery multiplication, operand and reduction
    /// interleaved in one pass per limb of `b`).
    pub(super) fn mul(&self, a: &[u64; N], b: &[u64; N]) -> [u64; N] {
        #[cfg(target_arch = "x86_64")]
        if let (Ok(a16), Ok(b16), Ok(m16)) = (
            <&[u64; 16]>::try_from(a.as_slice()),
            <&[u64; 16]>::try_from(b.as_slice()),
            <&[u64; 16]>::try_from(self.m.as_slice()),
        ) {
            if super::adx::available() {
                let (t16, over) = super::adx::mont_mul_16(a16, b16, m16, self.m_inv);
                let mut t = [0u64; N];
                t.copy_from_slice(&t16);
                return self.reduce_once(t, over);
            }
        }
        self.mul_portable(a, b)
    }

    /// [`Self::mul`] in plain Rust, for any width and CPU.
    fn mul_portable(&self, a: &[u64; N], b: &[u64; N]) -> [u64; N] {
        let m = &self.m;
        let mut t = [0u64; N];
        // t < 2m < 2R: one bit above the N limbs.
        let mut t_hi = 0u64;
        for &bi in b.iter() {
            let s = u128::from(t[0]) + u128::from(a[0]) * u128::from(bi);
            let mut c1 = (s >> 64) as u64;
            let lo = s as u64;
            let u = lo.wrapping_mul(self.m_inv);
            let s2 = u128::from(lo) + u128::from(u) * u128::from(m[0]);
            let mut c2 = (s2 >> 64) as u64;
            for j in 1..N {
                let s = u128::from(t[j]) + u128::from(a[j]) * u128::from(bi) + u128::from(c1);
                c1 = (s >> 64) as u64;
                let s2 = u128::from(s as u64) + u128::from(u) * u128::from(m[j]) + u128::from(c2);
                c2 = (s2 >> 64) as u64;
                t[j - 1] = s2 as u64;
            }
            let s = u128::from(t_hi) + u128::from(c1) + u128::from(c2);
            t[N - 1] = s as u64;
            t_hi = (s >> 64) as u64;
        }
        self.reduce_once(t, t_hi != 0)
    }

    /// `t mod m` for `t < 2m`, with `over` the bit above the N limbs.
    fn reduce_once(&self, t: [u64; N], over: bool) -> [u64; N] {
        let (d, borrow) = sub(&t, &self.m);
        if over || !borrow {
            d
        } else {
            t
        }
    }

    /// `2x mod m`.
    fn double(&self, x: &[u64; N]) -> [u64; N] {
        let (t, carry) = add(x, x);
        self.reduce_once(t, carry)
    }

    /// Whether `m` is a strong probable prime to base 2: the test most composites fail, and the
    /// cheapest, as multiplying by the base is a doubling.
    pub(super) fn is_sprp_base_2(&self) -> bool {
        let s = self.twos_in_m_minus_1();
        // 2^d with d = (m − 1) / 2^s, left to right over the bits of d.
        let mut x = self.one;
        for i in (s..64 * N).rev() {
            x = self.mul(&x, &x);
            if bit(&self.m, i) {
                x = self.double(&x);
            }
        }
        self.finish_miller_rabin(x, s)
    }

    /// One Miller–Rabin round with a base taken from `rng`. A random residue in Montgomery
    /// form stands for an equally random base, so no conversion is needed.
    pub(super) fn passes_random_round(&self, rng: &mut impl RngCore) -> bool {
        let base = loop {
            let mut x = [0u64; N];
            for limb in x.iter_mut() {
                *limb = rng.next_u64();
            }
            // Below m and not 0, 1 or −1.
            x[N - 1] &= u64::MAX >> 1;
            let (_, below) = sub(&x, &self.m);
            if below && x != [0u64; N] && x != self.one && x != self.minus_one {
                break x;
            }
        };
        let s = self.twos_in_m_minus_1();
        let x = self.pow_odd_part(&base, s);
        self.finish_miller_rabin(x, s)
    }

    /// `base^d` for d = (m − 1) / 2^s, with a fixed 4-bit window.
    fn pow_odd_part(&self, base: &[u64; N], s: usize) -> [u64; N] {
        let mut table = [self.one; 16];
        for i in 1..16 {
            table[i] = self.mul(&table[i - 1], base);
        }
        // The exponent's bits s.. of m, taken in windows from the top.
        let top = 64 * N;
        let mut x = self.one;
        let mut i = top;
        while i > s {
            let width = (i - s).min(4);
            let mut window = 0usize;
            for k in 0..width {
                x = self.mul(&x, &x);
                window = (window << 1) | usize::from(bit(&self.m, i - 1 - k));
            }
            if window != 0 {
                x = self.mul(&x, &table[window]);
            }
            i -= width;
        }
        x
    }

    /// The rest of a Miller–Rabin round once `x = a^d`: `m` passes if `x` is ±1 or squares to
    /// −1 within `s − 1` squarings.
    fn finish_miller_rabin(&self, mut x: [u64; N], s: usize) -> bool {
        if x == self.one || x == self.minus_one {
            return true;
        }
        for _ in 1..s {
            x = self.mul(&x, &x);
            if x == self.minus_one {
                return true;
            }
            if x == self.one {
                return false;
            }
        }
        false
    }

    /// s, the number of factors 2 in m − 1.
    fn twos_in_m_minus_1(&self) -> usize {
        let mut s = 1;
        while s < 64 * N && !bit(&self.m, s) {
            s += 1;
        }
        s
    }
}

/// Whether an odd `n` with its top bit set passes the base-2 test and
/// [`RANDOM_BASE_ROUNDS`] random bases.
fn passes_miller_rabin<const N: usize>(n: &[u64; N], rng: &mut impl RngCore) -> bool {
    passes_rounds(n, RANDOM_BASE_ROUNDS, rng)
}

fn passes_rounds<const N: usize>(n: &[u64; N], rounds: usize, rng: &mut impl RngCore) -> bool {
    let modulus = Modulus::new(*n);
    modulus.is_sprp_base_2() && (0..rounds).all(|_| modulus.passes_random_round(&mut *rng))
}

/// Whether an odd `n` with its top bit set is a probable prime: no factor below
/// [`SIEVE_LIMIT`], then the base-2 test and `rounds` random bases.
pub(super) fn is_probable_prime<const N: usize>(
    n: &[u64; N],
    rounds: usize,
    rng: &mut impl RngCore,
) -> bool {
    small_primes().iter().all(|&p| rem_small(n, p) != 0) && passes_rounds(n, rounds, rng)
}

/// The odd primes below [`SIEVE_LIMIT`].
pub(super) fn sieving_primes() -> &'static [u32] {
    small_primes()
}

/// Why a prime search stopped without a prime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SearchStopped {
    /// The caller's `keep_going` said to stop.
    Cancelled,
}

/// A random prime of exactly 64·N bits with its two top bits set (so the product of two has
/// exactly 128·N bits) and with `p mod avoid_modulus != avoid_residue`, as RSA needs
/// `gcd(e, p − 1) = 1` for a prime `e`. `keep_going` is asked between candidates.
pub(super) fn random_prime<const N: usize>(
    rng: &mut impl RngCore,
    avoid: Option<(u32, u32)>,
    keep_going: &dyn Fn() -> bool,
) -> Result<[u64; N], SearchStopped> {
    let primes = small_primes();
    let mut composite = vec![false; WINDOW];
    loop {
        let mut base = [0u64; N];
        for limb in base.iter_mut() {
            *limb = rng.next_u64();
        }
        base[N - 1] |= 0b11 << 62;
        base[0] |= 1;
        // composite[i] says whether base + 2i has a small factor.
        composite.iter_mut().for_each(|c| *c = false);
        for &p in primes {
            let r = rem_small(&base, p);
            // base + 2i ≡ 0 (mod p) when i ≡ −r·2⁻¹, and 2⁻¹ = (p + 1) / 2.
            let first = u64::from((p - r) % p) * u64::from(p.div_ceil(2)) % u64::from(p);
            let mut i = first as usize;
            while i < WINDOW {
                composite[i] = true;
                i += p as usize;
            }
        }
        if let Some((modulus, residue)) = avoid {
            let r = u64::from(rem_small(&base, modulus));
            let (modulus, residue) = (u64::from(modulus), u64::from(residue));
            let mut i =
                ((residue + modulus - r) % modulus * modulus.div_ceil(2) % modulus) as usize;
            while i < WINDOW {
                composite[i] = true;
                i += modulus as usize;
            }
        }
        for (i, _) in composite.iter().enumerate().filter(|(_, c)| !**c) {
            if !keep_going() {
                return Err(SearchStopped::Cancelled);
            }
            let (candidate, overflow) = add_small(&base, 2 * i as u64);
            if overflow {
                break;
            }
            if passes_miller_rabin(&candidate, rng) {
                return Ok(candidate);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::BigUint;

    fn big<const N: usize>(x: &[u64; N]) -> BigUint {
        let bytes: Vec<u8> = x.iter().flat_map(|l| l.to_le_bytes()).collect();
        BigUint::from_bytes_le(&bytes)
    }

    fn random<const N: usize>(rng: &mut impl RngCore) -> [u64; N] {
        let mut x = [0u64; N];
        x.iter_mut().for_each(|l| *l = rng.next_u64());
        x
    }

    fn random_odd_top<const N: usize>(rng: &mut impl RngCore) -> [u64; N] {
        let mut x: [u64; N] = random(rng);
        x[N - 1] |= 1 << 63;
        x[0] |= 1;
        x
    }

    /// Deterministic Miller–Rabin for 64-bit numbers (these bases decide every n < 2^64).
    fn reference_is_prime(n: u64) -> bool {
        let mul = |a: u64, b: u64| (u128::from(a) * u128::from(b) % u128::from(n)) as u64;
        let pow = |mut b: u64, mut e: u64| {
            let mut r = 1u64;
            while e > 0 {
                if e & 1 == 1 {
                    r = mul(r, b);
                }
                b = mul(b, b);
                e >>= 1;
            }
            r
        };
        let s = (n - 1).trailing_zeros();
        let d = (n - 1) >> s;
        [2u64, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37]
            .iter()
            .all(|&a| {
                let mut x = pow(a, d);
                if x == 1 || x == n - 1 {
                    return true;
                }
                for _ in 1..s {
                    x = mul(x, x);
                    if x == n - 1 {
                        return true;
                    }
                }
                false
            })
    }

    #[test]
    fn montgomery_multiplication_matches_big_integers() {
        let mut rng = rand::rng();
        let r = BigUint::from(1u8) << 1024;
        for _ in 0..50 {
            let m: [u64; 16] = random_odd_top(&mut rng);
            let modulus = Modulus::new(m);
            let (mut a, mut b): ([u64; 16], [u64; 16]) = (random(&mut rng), random(&mut rng));
            a[15] >>= 1;
            b[15] >>= 1;
            // a·b·R⁻¹·R ≡ a·b (mod m).
            let product = big(&modulus.mul(&a, &b));
            assert!(product < big(&m));
            // The same on both routes (the BMI2/ADX one is taken where the CPU has it).
            assert_eq!(modulus.mul_portable(&a, &b), modulus.mul(&a, &b));
            assert_eq!(product * &r % big(&m), big(&a) * big(&b) % big(&m));
            assert_eq!(big(&modulus.one), &r % big(&m));
        }
    }

    #[test]
    fn small_remainders_match_big_integers() {
        let mut rng = rand::rng();
        let x: [u64; 16] = random_odd_top(&mut rng);
        for p in [3u32, 65537, 16381, u32::MAX] {
            assert_eq!(BigUint::from(rem_small(&x, p)), big(&x) % BigUint::from(p));
        }
    }

    #[test]
    fn miller_rabin_agrees_with_a_reference_on_64_bit_numbers() {
        let mut rng = rand::rng();
        // 2^64 − 59 is the largest 64-bit prime; (2^32 − 5)(2^32 − 17) a product of two primes.
        assert!(passes_miller_rabin(&[u64::MAX - 58], &mut rng));
        assert!(!passes_miller_rabin(
            &[(4_294_967_291u64 * 4_294_967_279)],
            &mut rng
        ));
        let mut primes = 0;
        for _ in 0..3000 {
            let n: [u64; 1] = random_odd_top(&mut rng);
            let expected = reference_is_prime(n[0]);
            assert_eq!(passes_miller_rabin(&n, &mut rng), expected, "{}", n[0]);
            primes += usize::from(expected);
        }
        assert!(primes > 0, "some random 64-bit numbers are prime");
    }

    #[test]
    fn random_primes_have_the_asked_shape_and_pass_fermat_tests() {
        let mut rng = rand::rng();
        let p: [u64; 16] = random_prime(&mut rng, Some((65537, 1)), &|| true).unwrap();
        assert_eq!(p[15] >> 62, 0b11);
        assert_ne!(rem_small(&p, 65537), 1);
        let (p, p_minus_1) = (big(&p), big(&p) - 1u8);
        for base in [2u32, 3, 5, 7, 65537] {
            assert_eq!(
                BigUint::from(base).modpow(&p_minus_1, &p),
                BigUint::from(1u8)
            );
        }
    }

    #[test]
    fn a_cancelled_search_stops() {
        let mut rng = rand::rng();
        let r: Result<[u64; 16], _> = random_prime(&mut rng, None, &|| false);
        assert_eq!(r, Err(SearchStopped::Cancelled));
    }
}
