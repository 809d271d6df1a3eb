//! AES-128 and AES-128-CTR against the published vectors (FIPS-197, NIST SP 800-38A F.5.1/F.5.2)
//! and against the RustCrypto `aes` + `ctr` crates as an independent oracle, on every backend this
//! CPU can run (the portable one always, AES-NI and VAES where present).

use aes::cipher::{BlockCipherEncrypt, KeyInit, KeyIvInit, StreamCipher};
use proptest::prelude::*;
use toytls::crypto::aes::{Aes128, Backend};
use toytls::crypto::ctr::{Aes128Ctr, Increment};

#[path = "common/vectors.rs"]
mod vectors;

use vectors::hex;

fn aes_vectors() -> serde_json::Value {
    vectors::load("published/aes128_fips197_sp800_38a.json")
}

fn block(s: &serde_json::Value) -> [u8; 16] {
    hex(s).try_into().expect("16 bytes")
}

/// The reference: `ctr::Ctr128BE<aes::Aes128>` over the whole buffer in one call.
fn reference_ctr128(key: &[u8; 16], counter: &[u8; 16], data: &mut [u8]) {
    let mut cipher = ctr::Ctr128BE::<aes::Aes128>::new(&(*key).into(), &(*counter).into());
    cipher.apply_keystream(data);
}

/// A cheap deterministic filler (SplitMix64), so property tests can make large inputs from a
/// seed instead of shrinking 70,000-byte vectors.
fn fill(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out.truncate(len);
    out
}

#[test]
fn fips197_single_blocks_on_every_backend() {
    let v = aes_vectors();
    let cases = v["aes128_block"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for backend in Backend::available() {
        for case in cases {
            let aes = Aes128::with_backend(&block(&case["key"]), backend).unwrap();
            let mut b = block(&case["plaintext"]);
            aes.encrypt_block(&mut b);
            assert_eq!(
                b,
                block(&case["ciphertext"]),
                "{} on {backend:?}",
                case["name"]
            );
        }
    }
}

/// SP 800-38A F.5.1 (encrypt), in one call and block by block, checking the keystream too.
#[test]
fn sp800_38a_f51_ctr_encrypt_on_every_backend() {
    let v = aes_vectors();
    let ctr = &v["aes128_ctr"];
    let key = block(&ctr["key"]);
    let icb = block(&ctr["initial_counter_block"]);
    let blocks = ctr["blocks"].as_array().unwrap();
    let plaintext: Vec<u8> = blocks.iter().flat_map(|b| hex(&b["plaintext"])).collect();
    let ciphertext: Vec<u8> = blocks.iter().flat_map(|b| hex(&b["ciphertext"])).collect();
    assert_eq!(plaintext.len(), 64);

    for backend in Backend::available() {
        let mut data = plaintext.clone();
        Aes128Ctr::with_backend(&key, &icb, backend)
            .unwrap()
            .apply_keystream(&mut data);
        assert_eq!(data, ciphertext, "one call on {backend:?}");

        let mut ctr = Aes128Ctr::with_backend(&key, &icb, backend).unwrap();
        let aes = Aes128::with_backend(&key, backend).unwrap();
        for b in blocks {
            // The counter block of the vector, encrypted, is the keystream of the vector.
            let mut keystream = block(&b["counter_block"]);
            aes.encrypt_block(&mut keystream);
            assert_eq!(keystream, block(&b["keystream"]), "{backend:?}");
            let mut data = block(&b["plaintext"]);
            ctr.apply_keystream(&mut data);
            assert_eq!(
                data,
                block(&b["ciphertext"]),
                "block by block on {backend:?}"
            );
        }
    }
}

/// SP 800-38A F.5.2 (decrypt) is the same key, counter and texts in the other direction.
#[test]
fn sp800_38a_f52_ctr_decrypt_on_every_backend() {
    let v = aes_vectors();
    let ctr = &v["aes128_ctr"];
    let key = block(&ctr["key"]);
    let icb = block(&ctr["initial_counter_block"]);
    let blocks = ctr["blocks"].as_array().unwrap();
    let plaintext: Vec<u8> = blocks.iter().flat_map(|b| hex(&b["plaintext"])).collect();
    let ciphertext: Vec<u8> = blocks.iter().flat_map(|b| hex(&b["ciphertext"])).collect();
    for backend in Backend::available() {
        let mut data = ciphertext.clone();
        // Odd split sizes, to cross block boundaries in the middle of calls.
        let mut ctr = Aes128Ctr::with_backend(&key, &icb, backend).unwrap();
        for piece in data.chunks_mut(7) {
            ctr.apply_keystream(piece);
        }
        assert_eq!(data, plaintext, "{backend:?}");
    }
}

#[test]
fn a_wrong_key_or_counter_gives_different_output() {
    let v = aes_vectors();
    let ctr = &v["aes128_ctr"];
    let key = block(&ctr["key"]);
    let icb = block(&ctr["initial_counter_block"]);
    let plaintext = hex(&ctr["blocks"][0]["plaintext"]);
    let ciphertext = hex(&ctr["blocks"][0]["ciphertext"]);
    for backend in Backend::available() {
        let mut wrong_key = key;
        wrong_key[15] ^= 1;
        let mut data = plaintext.clone();
        Aes128Ctr::with_backend(&wrong_key, &icb, backend)
            .unwrap()
            .apply_keystream(&mut data);
        assert_ne!(data, ciphertext, "{backend:?}");

        let mut wrong_counter = icb;
        wrong_counter[0] ^= 0x80;
        let mut data = plaintext.clone();
        Aes128Ctr::with_backend(&key, &wrong_counter, backend)
            .unwrap()
            .apply_keystream(&mut data);
        assert_ne!(data, ciphertext, "{backend:?}");
    }
}

#[test]
fn backend_list_is_consistent() {
    let available = Backend::available();
    assert_eq!(available[..2], [Backend::Reference, Backend::Fixsliced]);
    for backend in Backend::ALL {
        assert_eq!(available.contains(&backend), backend.is_available());
        assert_eq!(
            Aes128::with_backend(&[0; 16], backend).is_some(),
            backend.is_available()
        );
        assert_eq!(
            Aes128Ctr::with_backend(&[0; 16], &[0; 16], backend).map(|c| c.backend()),
            backend.is_available().then_some(backend)
        );
    }
    assert!(available.contains(&Backend::best()));
    assert_eq!(
        Aes128Ctr::new(&[0; 16], &[0; 16]).backend(),
        Backend::best()
    );
}

/// The 128-bit increment carries through all 16 bytes and wraps at 2^128 (SP 800-38A B.1).
#[test]
fn counter_wraps_at_2_pow_128_like_the_reference() {
    let key = [7u8; 16];
    for counter in [[0xff; 16], {
        let mut c = [0xff; 16];
        c[7] = 0x12; // low 64 bits all ones: the carry goes into the high half
        c
    }] {
        let data = fill(1, 16 * 40);
        let mut expected = data.clone();
        reference_ctr128(&key, &counter, &mut expected);
        for backend in Backend::available() {
            let mut d = data.clone();
            Aes128Ctr::with_backend(&key, &counter, backend)
                .unwrap()
                .apply_keystream(&mut d);
            assert_eq!(d, expected, "{backend:?}");
        }
    }
}

/// set_counter must restart exactly where a fresh instance would start, mid-block or not.
#[test]
fn set_counter_matches_a_fresh_instance() {
    let key = [9u8; 16];
    for backend in Backend::available() {
        let mut ctr = Aes128Ctr::with_backend(&key, &[1; 16], backend).unwrap();
        let mut junk = [0u8; 37];
        ctr.apply_keystream(&mut junk);
        ctr.set_counter(&[2; 16]);
        let mut data = fill(5, 1000);
        let mut expected = data.clone();
        ctr.apply_keystream(&mut data);
        reference_ctr128(&key, &[2; 16], &mut expected);
        assert_eq!(data, expected, "{backend:?}");
    }
}

fn counter_strategy() -> impl Strategy<Value = [u8; 16]> {
    prop_oneof![
        any::<[u8; 16]>(),
        // Within a few thousand blocks of 2^128: the whole block wraps to zero.
        (0u128..5000).prop_map(|d| (u128::MAX - d).to_be_bytes()),
        // Low 64 bits near all-ones: a carry into the high half inside the bulk loop.
        (any::<u64>(), 0u64..5000).prop_map(|(high, d)| ((u128::from(high) << 64)
            | u128::from(u64::MAX - d))
        .to_be_bytes()),
    ]
}

fn length_strategy() -> impl Strategy<Value = usize> {
    prop_oneof![0usize..=48, 0usize..=2048, 0usize..=70_000]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Every backend, any split of the data into calls, equals one call of `Ctr128BE<Aes128>`.
    #[test]
    fn every_backend_matches_ctr128be_for_any_split(
        key in any::<[u8; 16]>(),
        counter in counter_strategy(),
        len in length_strategy(),
        seed in any::<u64>(),
        cuts in proptest::collection::vec(any::<proptest::sample::Index>(), 0..6),
    ) {
        let plaintext = fill(seed, len);
        let mut expected = plaintext.clone();
        reference_ctr128(&key, &counter, &mut expected);

        let mut cut_points: Vec<usize> = cuts.iter().map(|i| i.index(len + 1)).collect();
        cut_points.sort_unstable();
        for backend in Backend::available() {
            let mut ctr = Aes128Ctr::with_backend(&key, &counter, backend).unwrap();
            let mut data = plaintext.clone();
            let mut start = 0;
            for &cut in cut_points.iter().chain(std::iter::once(&len)) {
                ctr.apply_keystream(&mut data[start..cut]);
                start = cut;
            }
            prop_assert!(data == expected, "{:?} len {} cuts {:?}", backend, len, cut_points);
        }
    }

    /// GCM's 32-bit increment (wrapping inside the block) equals `Ctr32BE<Aes128>`.
    #[test]
    fn be32_increment_matches_ctr32be(
        key in any::<[u8; 16]>(),
        prefix in any::<[u8; 12]>(),
        low in prop_oneof![any::<u32>(), (0u32..3000).prop_map(|d| u32::MAX - d)],
        len in length_strategy(),
        seed in any::<u64>(),
        cut in any::<proptest::sample::Index>(),
    ) {
        let mut counter = [0u8; 16];
        counter[..12].copy_from_slice(&prefix);
        counter[12..].copy_from_slice(&low.to_be_bytes());
        let plaintext = fill(seed, len);
        let mut expected = plaintext.clone();
        ctr::Ctr32BE::<aes::Aes128>::new(&key.into(), &counter.into()).apply_keystream(&mut expected);

        let cut = cut.index(len + 1);
        for backend in Backend::available() {
            let cipher = Aes128::with_backend(&key, backend).unwrap();
            let mut ctr = Aes128Ctr::from_cipher(cipher, &counter, Increment::Be32);
            let mut data = plaintext.clone();
            let (a, b) = data.split_at_mut(cut);
            ctr.apply_keystream(a);
            ctr.apply_keystream(b);
            prop_assert!(data == expected, "{:?} len {} cut {}", backend, len, cut);
        }
    }

    /// Single blocks agree with `aes::Aes128` on every backend.
    #[test]
    fn encrypt_block_matches_aes_crate(key in any::<[u8; 16]>(), input in any::<[u8; 16]>()) {
        let mut expected = input.into();
        aes::Aes128::new(&key.into()).encrypt_block(&mut expected);
        for backend in Backend::available() {
            let mut b = input;
            Aes128::with_backend(&key, backend).unwrap().encrypt_block(&mut b);
            prop_assert_eq!(&b[..], &expected[..], "{:?}", backend);
        }
    }
}

/// `toytls cpu` names the backends that `Backend::best()` picks in this process too.
#[test]
fn cpu_subcommand_reports_the_selected_backends() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_toytls"))
        .arg("cpu")
        .output()
        .expect("run toytls cpu");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("AES-128 backend: {}", Backend::best())),
        "{text}"
    );
    let ghash = toytls::crypto::ghash::Backend::best();
    assert!(
        text.contains(&format!("GHASH backend:   {ghash}")),
        "{text}"
    );
}

/// `TOYTLS_PORTABLE=1` makes the process pick the portable backends (fixsliced AES, integer
/// multiply GHASH) whatever the CPU has, and `TOYTLS_PORTABLE=0` does not force anything.
#[test]
fn toytls_portable_forces_the_portable_backend() {
    let cpu = |value: &str| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_toytls"))
            .arg("cpu")
            .env("TOYTLS_PORTABLE", value)
            .output()
            .expect("run toytls cpu");
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let forced = cpu("1");
    assert!(
        forced.contains(&format!("AES-128 backend: {}", Backend::Fixsliced)),
        "{forced}"
    );
    let ghash = toytls::crypto::ghash::Backend::IntMul;
    assert!(
        forced.contains(&format!("GHASH backend:   {ghash}")),
        "{forced}"
    );
    let fastest = Backend::available().into_iter().last().unwrap();
    let free = cpu("0");
    assert!(
        free.contains(&format!("AES-128 backend: {fastest}")),
        "{free}"
    );
}
