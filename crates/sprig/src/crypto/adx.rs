//! Montgomery multiplication of 1024-bit numbers (the primes of an RSA 2048 key) with x86-64's
//! BMI2 and ADX instructions.
//!
//! The portable loop in [`super::primes`] spends about six instructions per 64×64-bit product,
//! because the compiler keeps a single carry chain and reloads the running sum; `mulx` leaves
//! the flags alone and `adcx`/`adox` carry through two independent flags, so the low and high
//! halves of the products are summed in two chains at once, about three instructions per
//! product. The prime search of one RSA 2048 key is nearly all such multiplications and runs
//! about 1.8 times as fast this way. Used only where the CPU has both extensions (every x86-64
//! server CPU since 2014); elsewhere the portable loop runs.

use std::arch::asm;

/// Whether this CPU has `mulx` (BMI2) and `adcx`/`adox` (ADX).
pub(super) fn available() -> bool {
    // std caches the CPUID answer: this is one atomic load.
    std::arch::is_x86_feature_detected!("bmi2") && std::arch::is_x86_feature_detected!("adx")
}

/// `a·b·2⁻¹⁰²⁴ mod m` as 16 limbs below 2m, and whether the bit above them is set (the caller
/// subtracts m once, as the portable version does), for `a, b < m`, odd `m` and
/// `m_inv = −m⁻¹ mod 2⁶⁴`. Only call when [`available`] says so.
pub(super) fn mont_mul_16(
    a: &[u64; 16],
    b: &[u64; 16],
    m: &[u64; 16],
    m_inv: u64,
) -> ([u64; 16], bool) {
    // Operand scanning with the reduction interleaved: round i adds a·b[i], then u·m with u
    // chosen to zero limb i, so the running sum slides up one limb per round instead of being
    // shifted. Limb i + 17 is untouched before round i and takes both rows' carries.
    let mut t = [0u64; 34];
    for (i, &bi) in b.iter().enumerate() {
        t[i + 17] = add_row(&mut t, i, a, bi);
        let u = t[i].wrapping_mul(m_inv);
        t[i + 17] += add_row(&mut t, i, m, u);
    }
    let mut r = [0u64; 16];
    r.copy_from_slice(&t[16..32]);
    (r, t[32] != 0)
}

/// One limb of a row: `t[off] += lo(a[off]·d) + hi(previous product)`, low halves carried in CF
/// and high halves in OF. `hi` receives this product's high half, `prev` holds the previous
/// one's.
macro_rules! limb {
    ($off:literal, $hi:literal, $prev:literal) => {
        concat!(
            "mulx ",
            $hi,
            ", r8, qword ptr [{a} + ",
            $off,
            "]\n",
            "adcx r8, qword ptr [{t} + ",
            $off,
            "]\n",
            "adox r8, ",
            $prev,
            "\n",
            "mov qword ptr [{t} + ",
            $off,
            "], r8\n",
        )
    };
}

/// `t[at..=at + 16] += a·d`; returns the carry out of limb `at + 16` (0, 1 or 2).
fn add_row(t: &mut [u64; 34], at: usize, a: &[u64; 16], d: u64) -> u64 {
    // The asm reads and writes the 17 limbs t[at..=at + 16]: keep that inside the array.
    assert!(at + 17 <= t.len());
    let window = t[at..].as_mut_ptr();
    let carry: u64;
    // SAFETY: the caller checked `available()`, so the instructions exist. The asm reads the 16
    // limbs of `a` and reads and writes the 17 limbs at `window`, all inside their arrays (the
    // assert above); it uses no stack and restores no state but the registers it declares.
    unsafe {
        asm!(
            // Clearing a register clears CF and OF: both chains start empty.
            "xor {z:e}, {z:e}",
            "xor r10d, r10d",
            limb!("0", "r9", "r10"),
            limb!("8", "r10", "r9"),
            limb!("16", "r9", "r10"),
            limb!("24", "r10", "r9"),
            limb!("32", "r9", "r10"),
            limb!("40", "r10", "r9"),
            limb!("48", "r9", "r10"),
            limb!("56", "r10", "r9"),
            limb!("64", "r9", "r10"),
            limb!("72", "r10", "r9"),
            limb!("80", "r9", "r10"),
            limb!("88", "r10", "r9"),
            limb!("96", "r9", "r10"),
            limb!("104", "r10", "r9"),
            limb!("112", "r9", "r10"),
            limb!("120", "r10", "r9"),
            // Limb 16 takes the last high half and both chains' carries...
            "mov r8, qword ptr [{t} + 128]",
            "adcx r8, {z}",
            "adox r8, r10",
            "mov qword ptr [{t} + 128], r8",
            // ...and what overflows limb 16 is returned.
            "mov {c}, {z}",
            "adcx {c}, {z}",
            "adox {c}, {z}",
            t = in(reg) window,
            a = in(reg) a.as_ptr(),
            z = out(reg) _,
            c = out(reg) carry,
            in("rdx") d,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            options(nostack),
        );
    }
    carry
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::BigUint;

    fn big(x: &[u64]) -> BigUint {
        let bytes: Vec<u8> = x.iter().flat_map(|l| l.to_le_bytes()).collect();
        BigUint::from_bytes_le(&bytes)
    }

    /// −m⁻¹ mod 2⁶⁴ by Newton's iteration.
    fn neg_inv(m0: u64) -> u64 {
        let mut inv: u64 = 1;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(m0.wrapping_mul(inv)));
        }
        inv.wrapping_neg()
    }

    #[test]
    fn matches_the_definition_on_random_and_extreme_operands() {
        if !available() {
            eprintln!("no BMI2/ADX on this CPU: the portable multiplication is used instead");
            return;
        }
        let mut rng = rand::rng();
        let r_inv_check = |m: &[u64; 16], a: &[u64; 16], b: &[u64; 16]| {
            let (lo, over) = mont_mul_16(a, b, m, neg_inv(m[0]));
            let mut got = big(&lo);
            if over {
                got += BigUint::from(1u8) << 1024;
            }
            let (bm, r) = (big(m), BigUint::from(1u8) << 1024);
            // got·R ≡ a·b (mod m), and got < 2m as the caller's single subtraction needs.
            assert_eq!((&got * &r) % &bm, (big(a) * big(b)) % &bm);
            assert!(got < &bm + &bm);
        };
        for round in 0..300 {
            let mut m = [0u64; 16];
            m.iter_mut()
                .for_each(|l| *l = rand::RngCore::next_u64(&mut rng));
            m[15] |= 1 << 63;
            m[0] |= 1;
            if round % 3 == 0 {
                // All-ones limbs carry through every position.
                m[1..].iter_mut().for_each(|l| *l = u64::MAX);
            }
            let mut a = [0u64; 16];
            a.iter_mut()
                .for_each(|l| *l = rand::RngCore::next_u64(&mut rng));
            a[15] &= u64::MAX >> 1;
            // m − 1, the largest operand allowed.
            let mut top = m;
            top[0] -= 1;
            r_inv_check(&m, &a, &a);
            r_inv_check(&m, &top, &top);
            r_inv_check(&m, &a, &top);
            r_inv_check(&m, &[0u64; 16], &top);
        }
    }
}
