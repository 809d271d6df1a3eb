//! The unit tests of `montgomery.rs`, kept apart so that file reads as the code it tests.

use super::*;
use crate::crypto::rsa::limbs::{from_biguint, to_biguint};

fn big(hex: &str) -> BigUint {
    BigUint::parse_bytes(hex.as_bytes(), 16).unwrap()
}

#[test]
fn newton_inverse() {
    for m0 in [1u64, 3, 0xffff_ffff_ffff_ffff, 0x1234_5678_9abc_def1] {
        assert_eq!(
            m0.wrapping_mul(neg_inverse_mod_2_64(m0)),
            u64::MAX,
            "m0 = {m0:#x}"
        );
    }
}

#[test]
fn rejects_even_and_trivial_moduli() {
    assert!(MontModulus::new(&BigUint::from(10u8)).is_none());
    assert!(MontModulus::new(&BigUint::ONE).is_none());
    assert!(MontModulus::new(&BigUint::from(11u8)).is_some());
}

#[test]
fn mul_add_sub_and_wide_reduction_match_biguint() {
    // A 3-limb modulus with its top limb nearly full, and operands close to it, so that the
    // final subtractions are exercised.
    let m = big("fffffffffffffffffffffffffffffffffffffffffffffffb");
    let mm = MontModulus::new(&m).unwrap();
    let k = mm.limbs();
    let r = BigUint::ONE << (64 * k);
    let rinv = r.modinv(&m).unwrap();
    let values = [
        BigUint::ZERO,
        BigUint::ONE,
        &m - 1u32,
        &m - 2u32,
        big("123456789abcdef0fedcba9876543210aaaaaaaaaaaaaaaa"),
    ];
    for a in &values {
        for b in &values {
            let al = from_biguint(a, k).unwrap();
            let bl = from_biguint(b, k).unwrap();
            let mut out = vec![0u64; k];
            mm.mul(&al, &bl, &mut out);
            assert_eq!(to_biguint(&out), (a * b * &rinv) % &m, "mul {a:x} {b:x}");
            mm.add(&al, &bl, &mut out);
            assert_eq!(to_biguint(&out), (a + b) % &m, "add");
            mm.sub(&al, &bl, &mut out);
            assert_eq!(to_biguint(&out), (a + &m - b) % &m, "sub");
        }
    }
    // A 7-limb number reduced mod the 3-limb modulus (two full chunks and a partial one).
    let wide = (BigUint::ONE << 440u32) - 12345u32;
    let wl = from_biguint(&wide, 7).unwrap();
    let got = mm.leave_mont(&mm.enter_mont_wide(&wl));
    assert_eq!(to_biguint(&got), &wide % &m);
}

#[test]
fn pow_matches_modpow_including_zero_and_full_width_exponents() {
    let m = big("c7f1a3b5d9e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8e0f2a5");
    let mm = MontModulus::new(&m).unwrap();
    let k = mm.limbs();
    let base = big("1234567890abcdef1234567890abcdef1234567890abcdef");
    for exp in [
        BigUint::ZERO,
        BigUint::ONE,
        BigUint::from(16u8),
        big("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
        big("8000000000000000000000000000000000000000000000000000000000000001"),
    ] {
        let b_mont = mm.enter_mont_wide(&from_biguint(&base, k).unwrap());
        let e = from_biguint(&exp, k).unwrap();
        let got = mm.leave_mont(&mm.pow(&b_mont, &e));
        assert_eq!(to_biguint(&got), base.modpow(&exp, &m), "exp {exp:x}");
    }
}

#[test]
fn every_specialised_width_matches_biguint() {
    // A simple deterministic generator is enough to fill limbs.
    let mut state = 0x243f_6a88_85a3_08d3u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state
    };
    for k in [8usize, 16, 24, 32, 48, 64, 5] {
        let mut m_limbs: Vec<u64> = (0..k).map(|_| next()).collect();
        m_limbs[0] |= 1;
        m_limbs[k - 1] |= 1 << 63;
        let m = to_biguint(&m_limbs);
        let mm = MontModulus::new(&m).unwrap();
        assert_eq!(mm.limbs(), k);
        let r = BigUint::ONE << (64 * k);
        let rinv = r.modinv(&m).unwrap();
        let a = to_biguint(&(0..k).map(|_| next()).collect::<Vec<_>>()) % &m;
        let b = &m - 1u32;
        let (al, bl) = (from_biguint(&a, k).unwrap(), from_biguint(&b, k).unwrap());
        let mut out = vec![0u64; k];
        mm.mul(&al, &bl, &mut out);
        assert_eq!(to_biguint(&out), (&a * &b * &rinv) % &m, "mul, {k} limbs");
        mm.sqr(&al, &mut out);
        assert_eq!(to_biguint(&out), (&a * &a * &rinv) % &m, "sqr, {k} limbs");
        mm.sqr(&bl, &mut out);
        assert_eq!(
            to_biguint(&out),
            (&b * &b * &rinv) % &m,
            "sqr of m-1, {k} limbs"
        );
        let e = [next(), next()];
        let got = mm.leave_mont(&mm.pow(&mm.enter_mont(&al), &e));
        assert_eq!(
            to_biguint(&got),
            a.modpow(&to_biguint(&e), &m),
            "pow, {k} limbs"
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(200))]

    /// The constant-time exponentiation agrees with `num-bigint`'s `modpow` for random odd
    /// moduli of 1 to 17 limbs, random bases below them and random full-width exponents.
    #[test]
    fn pow_equals_biguint_modpow(
        m_limbs in proptest::collection::vec(proptest::num::u64::ANY, 1..=17),
        base_limbs in proptest::collection::vec(proptest::num::u64::ANY, 1..=34),
        exp_limbs in proptest::collection::vec(proptest::num::u64::ANY, 1..=17),
    ) {
        let mut m_limbs = m_limbs;
        m_limbs[0] |= 1;
        let m = to_biguint(&m_limbs);
        proptest::prop_assume!(m > BigUint::ONE);
        let mm = MontModulus::new(&m).unwrap();
        let k = mm.limbs();
        // The base may be wider than the modulus: enter_mont_wide reduces it.
        let base = to_biguint(&base_limbs);
        let base_mont = mm.enter_mont_wide(&base_limbs);
        let exp = to_biguint(&exp_limbs);
        let got = mm.leave_mont(&mm.pow(&base_mont, &exp_limbs));
        proptest::prop_assert_eq!(got.len(), k);
        proptest::prop_assert_eq!(to_biguint(&got), base.modpow(&exp, &m));
    }
}
