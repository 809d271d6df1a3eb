//! AES-128-GCM and GHASH: every 128-bit-key, 96-bit-nonce, 128-bit-tag case of Wycheproof
//! `aes_gcm_test.json` on every backend combination, and property tests against GCM assembled
//! from independent parts (the `aes` + `ctr` crates and GHASH written the slow textbook way).

use aes::cipher::{BlockCipherEncrypt, KeyInit, KeyIvInit, StreamCipher};
use proptest::prelude::*;
use toytls::crypto::aes::Backend as AesBackend;
use toytls::crypto::gcm::{Aes128Gcm, AuthenticationFailed};
use toytls::crypto::ghash::{Backend as GhashBackend, GhashKey};

#[path = "common/vectors.rs"]
mod vectors;

use vectors::hex;

/// Every (AES backend, GHASH backend) pair this CPU can run.
fn backend_pairs() -> Vec<(AesBackend, GhashBackend)> {
    let mut pairs = Vec::new();
    for a in AesBackend::available() {
        for g in GhashBackend::available() {
            pairs.push((a, g));
        }
    }
    pairs
}

#[test]
fn wycheproof_aes128_gcm_96bit_nonce_128bit_tag() {
    let json = vectors::load("wycheproof/aes_gcm_test.json");
    let mut valid = 0;
    let mut invalid = 0;
    for group in json["testGroups"].as_array().unwrap() {
        // The other groups (192/256-bit keys, other nonce sizes) cannot be expressed with this
        // API: the key is `[u8; 16]` and the nonce `[u8; 12]`, as TLS 1.2 GCM uses them.
        if group["keySize"] != 128 || group["ivSize"] != 96 || group["tagSize"] != 128 {
            continue;
        }
        for case in group["tests"].as_array().unwrap() {
            let id = &case["tcId"];
            let key: [u8; 16] = hex(&case["key"]).try_into().unwrap();
            let nonce: [u8; 12] = hex(&case["iv"]).try_into().unwrap();
            let aad = hex(&case["aad"]);
            let msg = hex(&case["msg"]);
            let ct = hex(&case["ct"]);
            let tag: [u8; 16] = hex(&case["tag"]).try_into().unwrap();
            let is_valid = match case["result"].as_str().unwrap() {
                "valid" => true,
                "invalid" => false,
                other => panic!("tcId {id}: unexpected result {other}"),
            };
            for (a, g) in backend_pairs() {
                let gcm = Aes128Gcm::with_backends(&key, a, g).unwrap();
                let mut data = ct.clone();
                let opened = gcm.open(&nonce, &aad, &mut data, &tag);
                if is_valid {
                    assert_eq!(opened, Ok(()), "tcId {id} on {a:?}/{g:?}");
                    assert_eq!(data, msg, "tcId {id} plaintext on {a:?}/{g:?}");
                    let mut sealed = msg.clone();
                    let our_tag = gcm.seal(&nonce, &aad, &mut sealed);
                    assert_eq!(sealed, ct, "tcId {id} ciphertext on {a:?}/{g:?}");
                    assert_eq!(our_tag, tag, "tcId {id} tag on {a:?}/{g:?}");
                } else {
                    assert_eq!(
                        opened,
                        Err(AuthenticationFailed),
                        "tcId {id} on {a:?}/{g:?}"
                    );
                    assert_eq!(data, ct, "tcId {id}: a failed open must not touch the data");
                }
            }
            if is_valid {
                valid += 1;
            } else {
                invalid += 1;
            }
        }
    }
    // The vectors README lists the counts; a parse or filter mistake must not pass silently.
    assert_eq!((valid, invalid), (40, 27));
}

// ---------------------------------------------------------------------------------------------
// The textbook versions, written from SP 800-38D with no attempt at speed or constant time.

/// Bit i of a block in GCM's order: bit 0 is the most significant bit of byte 0 (SP 800-38D 6.3).
fn bit(block: &[u8; 16], i: usize) -> bool {
    block[i / 8] & (0x80 >> (i % 8)) != 0
}

/// SP 800-38D 6.3 Algorithm 1, with plain `if`s, on byte arrays.
fn textbook_mul(x: &[u8; 16], y: &[u8; 16]) -> [u8; 16] {
    let mut z = [0u8; 16];
    let mut v = *y;
    for i in 0..128 {
        if bit(x, i) {
            for k in 0..16 {
                z[k] ^= v[k];
            }
        }
        let lsb = bit(&v, 127);
        // v >> 1 across the whole block
        for k in (0..16).rev() {
            v[k] >>= 1;
            if k > 0 && v[k - 1] & 1 == 1 {
                v[k] |= 0x80;
            }
        }
        if lsb {
            v[0] ^= 0xe1; // R = 11100001 || 0^120
        }
    }
    z
}

/// SP 800-38D 6.4: GHASH over the zero-padded `parts`, each padded separately.
fn textbook_ghash(h: &[u8; 16], parts: &[&[u8]]) -> [u8; 16] {
    let mut y = [0u8; 16];
    for part in parts {
        for chunk in part.chunks(16) {
            let mut x = [0u8; 16];
            x[..chunk.len()].copy_from_slice(chunk);
            for k in 0..16 {
                y[k] ^= x[k];
            }
            y = textbook_mul(&y, h);
        }
    }
    y
}

/// GCM from independent parts: `aes` for the blocks, `ctr::Ctr32BE` for the keystream (GCM's
/// inc32), and the textbook GHASH.
fn reference_seal(key: &[u8; 16], nonce: &[u8; 12], aad: &[u8], data: &mut [u8]) -> [u8; 16] {
    let aes = aes::Aes128::new(&(*key).into());
    let mut h = [0u8; 16].into();
    aes.encrypt_block(&mut h);
    let h: [u8; 16] = h.into();
    let mut j0 = [0u8; 16];
    j0[..12].copy_from_slice(nonce);
    j0[15] = 1;
    let mut icb = j0;
    icb[15] = 2;
    ctr::Ctr32BE::<aes::Aes128>::new(&(*key).into(), &icb.into()).apply_keystream(data);
    let mut lengths = [0u8; 16];
    lengths[..8].copy_from_slice(&(aad.len() as u64 * 8).to_be_bytes());
    lengths[8..].copy_from_slice(&(data.len() as u64 * 8).to_be_bytes());
    let s = textbook_ghash(&h, &[aad, data, &lengths]);
    let mut tag = j0.into();
    aes.encrypt_block(&mut tag);
    let mut tag: [u8; 16] = tag.into();
    for k in 0..16 {
        tag[k] ^= s[k];
    }
    tag
}

fn fill(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 56) as u8
        })
        .collect()
}

/// A known product: SP 800-38D's own example is GCM; this one is checked against McGrew and
/// Viega's GCM test case 2, whose H is 66e94bd4ef8a2c3b884cfa59ca342b2e and whose GHASH of the
/// ciphertext 0388dace60b6a392f328c2b971b2fe78 with 128-bit length is f38cbb1ad69223dcc3457ae5b6b0f885.
#[test]
fn ghash_matches_mcgrew_viega_test_case_2_on_every_backend() {
    let h: [u8; 16] = 0x66e94bd4ef8a2c3b884cfa59ca342b2eu128.to_be_bytes();
    let c = 0x0388dace60b6a392f328c2b971b2fe78u128.to_be_bytes();
    let mut lengths = [0u8; 16];
    lengths[15] = 0x80;
    let expected = 0xf38cbb1ad69223dcc3457ae5b6b0f885u128.to_be_bytes();
    assert_eq!(textbook_ghash(&h, &[&c, &lengths]), expected);
    for backend in GhashBackend::available() {
        let key = GhashKey::with_backend(&h, backend).unwrap();
        let mut g = key.start();
        g.update_padded(&c);
        g.update_padded(&lengths);
        assert_eq!(g.finalize(), expected, "{backend:?}");
    }
}

#[test]
fn tampering_anywhere_fails_and_leaves_the_data_alone() {
    let key = [3u8; 16];
    let nonce = [4u8; 12];
    let aad = b"record header".to_vec();
    let plaintext = fill(9, 100);
    for (a, g) in backend_pairs() {
        let gcm = Aes128Gcm::with_backends(&key, a, g).unwrap();
        let mut ct = plaintext.clone();
        let tag = gcm.seal(&nonce, &aad, &mut ct);

        let mut bad = ct.clone();
        bad[50] ^= 1;
        assert!(gcm.open(&nonce, &aad, &mut bad.clone(), &tag).is_err());
        let before = bad.clone();
        let _ = gcm.open(&nonce, &aad, &mut bad, &tag);
        assert_eq!(bad, before, "ciphertext must not be decrypted on failure");

        let mut bad_tag = tag;
        bad_tag[15] ^= 0x80;
        assert!(gcm.open(&nonce, &aad, &mut ct.clone(), &bad_tag).is_err());
        let mut bad_aad = aad.clone();
        bad_aad[0] ^= 1;
        assert!(gcm.open(&nonce, &bad_aad, &mut ct.clone(), &tag).is_err());
        let mut bad_nonce = nonce;
        bad_nonce[11] ^= 1;
        assert!(gcm.open(&bad_nonce, &aad, &mut ct.clone(), &tag).is_err());
        let other_key = Aes128Gcm::with_backends(&[5u8; 16], a, g).unwrap();
        assert!(other_key.open(&nonce, &aad, &mut ct.clone(), &tag).is_err());
        // Truncation is a change too.
        assert!(
            gcm.open(&nonce, &aad, &mut ct[..99].to_vec(), &tag)
                .is_err()
        );

        let mut good = ct.clone();
        assert_eq!(gcm.open(&nonce, &aad, &mut good, &tag), Ok(()));
        assert_eq!(good, plaintext);
    }
}

fn length_strategy() -> impl Strategy<Value = usize> {
    prop_oneof![0usize..=64, 0usize..=1024, 0usize..=20_000]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Every GHASH backend equals the textbook GHASH, for any H and any length (so any mix of
    /// 16-block, 8-block and single-block steps and a padded tail).
    #[test]
    fn ghash_backends_match_textbook(h in any::<[u8; 16]>(), len in 0usize..=1200, seed in any::<u64>()) {
        let data = fill(seed, len);
        let expected = textbook_ghash(&h, &[&data]);
        for backend in GhashBackend::available() {
            let key = GhashKey::with_backend(&h, backend).unwrap();
            let mut g = key.start();
            g.update_padded(&data);
            prop_assert_eq!(g.finalize(), expected, "{:?}", backend);
        }
    }

    /// Seal equals GCM assembled from independent parts; open gives the plaintext back.
    #[test]
    fn seal_matches_reference_and_open_round_trips(
        key in any::<[u8; 16]>(),
        nonce in any::<[u8; 12]>(),
        aad_len in 0usize..=100,
        len in length_strategy(),
        seed in any::<u64>(),
    ) {
        let aad = fill(seed ^ 1, aad_len);
        let plaintext = fill(seed, len);
        let mut expected = plaintext.clone();
        let expected_tag = reference_seal(&key, &nonce, &aad, &mut expected);
        for (a, g) in backend_pairs() {
            let gcm = Aes128Gcm::with_backends(&key, a, g).unwrap();
            let mut data = plaintext.clone();
            let tag = gcm.seal(&nonce, &aad, &mut data);
            prop_assert!(data == expected, "{:?}/{:?} len {}", a, g, len);
            prop_assert_eq!(tag, expected_tag, "{:?}/{:?}", a, g);
            prop_assert_eq!(gcm.open(&nonce, &aad, &mut data, &tag), Ok(()));
            prop_assert!(data == plaintext);
        }
    }

    /// Any single-bit change to the ciphertext is rejected, and the buffer is left as it was.
    #[test]
    fn flipping_any_ciphertext_bit_is_detected(
        len in 1usize..=300,
        position in any::<proptest::sample::Index>(),
        bit_index in 0u8..8,
    ) {
        let gcm = Aes128Gcm::new(&[0x77; 16]);
        let mut data = fill(len as u64, len);
        let tag = gcm.seal(&[1; 12], b"", &mut data);
        let i = position.index(len);
        data[i] ^= 1 << bit_index;
        let before = data.clone();
        prop_assert_eq!(gcm.open(&[1; 12], b"", &mut data, &tag), Err(AuthenticationFailed));
        prop_assert!(data == before);
    }
}
