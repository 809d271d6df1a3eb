//! Reading the published test vectors in `shared/vectors/` (beside the crate, as in CI): JSON
//! files, with byte strings written as hex. Included with
//! `#[path = "common/vectors.rs"] mod vectors;` by the tests that need it.

use serde_json::Value;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/vectors/");

/// The JSON document at `path`, relative to `shared/vectors/` (e.g. `wycheproof/x.json`).
pub fn load(path: &str) -> Value {
    let full = format!("{VECTORS}{path}");
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full} is not JSON: {e}"))
}

/// The bytes of a hex string value.
pub fn hex(v: &Value) -> Vec<u8> {
    let s = v.as_str().expect("hex string");
    assert!(s.len().is_multiple_of(2), "odd-length hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}
