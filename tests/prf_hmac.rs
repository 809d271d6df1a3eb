//! HMAC-SHA256 and the TLS 1.2 PRF against published vectors.
//!
//! - RFC 4231 sections 4.2-4.8, HMAC-SHA-256 rows (`published/hmac_sha256_rfc4231.json`); test
//!   case 5 is published truncated to 128 bits.
//! - Project Wycheproof `hmac_sha256_test.json` (all 174 cases, including tags truncated to 128
//!   bits and deliberately modified tags that must be rejected).
//! - The TLS 1.2 PRF vector from the IETF TLS WG list (`published/tls12_prf_sha256.json`).

use toytls::crypto::hmac::{HmacSha256, hmac_sha256};
use toytls::crypto::prf::prf_sha256;

#[path = "common/vectors.rs"]
mod vectors;

use vectors::{hex, load};

fn mac_verifies(key: &[u8], msg: &[u8], tag: &[u8]) -> bool {
    let mut mac = HmacSha256::new(key);
    mac.update(msg);
    mac.verify(tag)
}

#[test]
fn hmac_rfc4231_all_cases() {
    let doc = load("published/hmac_sha256_rfc4231.json");
    let cases = doc["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    for case in cases {
        let n = &case["test_case"];
        let key = hex(&case["key"]);
        let data = hex(&case["data"]);
        let expected = hex(&case["hmac_sha256"]);
        let bits = case["truncated_to_bits"].as_u64().unwrap() as usize;
        assert_eq!(expected.len() * 8, bits, "case {n}: tag length");

        let tag = hmac_sha256(&key, &data);
        assert_eq!(&tag[..expected.len()], &expected[..], "case {n}");
        assert!(mac_verifies(&key, &data, &expected), "case {n}: verify");

        // Flip one bit of the published tag: must no longer verify.
        let mut bad = expected.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(
            !mac_verifies(&key, &data, &bad),
            "case {n}: modified tag accepted"
        );
    }
}

#[test]
fn hmac_wycheproof_all_cases() {
    let doc = load("wycheproof/hmac_sha256_test.json");
    let mut seen = 0;
    let (mut valid, mut invalid) = (0, 0);
    for group in doc["testGroups"].as_array().unwrap() {
        let tag_bytes = group["tagSize"].as_u64().unwrap() as usize / 8;
        for t in group["tests"].as_array().unwrap() {
            seen += 1;
            let id = &t["tcId"];
            let key = hex(&t["key"]);
            let msg = hex(&t["msg"]);
            let tag = hex(&t["tag"]);
            assert_eq!(
                tag.len(),
                tag_bytes,
                "tcId {id}: tag length vs group tagSize"
            );
            let computed = hmac_sha256(&key, &msg);
            let matches = computed[..tag_bytes] == tag[..];
            match t["result"].as_str().unwrap() {
                "valid" => {
                    valid += 1;
                    assert!(matches, "tcId {id}: valid tag does not match");
                    assert!(mac_verifies(&key, &msg, &tag), "tcId {id}: verify rejected");
                }
                "invalid" => {
                    invalid += 1;
                    assert!(!matches, "tcId {id}: invalid tag matches");
                    assert!(
                        !mac_verifies(&key, &msg, &tag),
                        "tcId {id}: verify accepted"
                    );
                }
                other => panic!("tcId {id}: unexpected result {other}"),
            }
        }
    }
    assert_eq!(seen, doc["numberOfTests"].as_u64().unwrap());
    assert!(valid > 0 && invalid > 0);
}

#[test]
fn prf_published_vector() {
    let doc = load("published/tls12_prf_sha256.json");
    for case in doc["cases"].as_array().unwrap() {
        let secret = hex(&case["secret"]);
        let label = hex(&case["label_hex"]);
        assert_eq!(label, case["label_ascii"].as_str().unwrap().as_bytes());
        let seed = hex(&case["seed"]);
        let expected = hex(&case["output"]);
        assert_eq!(
            expected.len() as u64,
            case["output_length"].as_u64().unwrap()
        );

        let mut out = vec![0u8; expected.len()];
        prf_sha256(&secret, &label, &seed, &mut out);
        assert_eq!(out, expected);
    }
}

#[test]
fn prf_lengths_that_are_not_multiples_of_32_are_prefixes_of_the_vector() {
    // The published output is 100 bytes (3 full HMAC blocks + 4 bytes). Every shorter request,
    // including ones that end inside a block, must give exactly the leading bytes.
    let doc = load("published/tls12_prf_sha256.json");
    let case = &doc["cases"][0];
    let secret = hex(&case["secret"]);
    let label = hex(&case["label_hex"]);
    let seed = hex(&case["seed"]);
    let expected = hex(&case["output"]);
    for len in [0usize, 1, 12, 31, 33, 48, 63, 65, 99, 100] {
        let mut out = vec![0u8; len];
        prf_sha256(&secret, &label, &seed, &mut out);
        assert_eq!(out[..], expected[..len], "length {len}");
    }
}
