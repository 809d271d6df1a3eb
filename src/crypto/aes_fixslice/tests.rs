//! The unit tests of `aes_fixslice.rs`, kept apart so that file reads as the code it tests.

use super::*;

fn sample_blocks(seed: u8) -> [[u8; 16]; BLOCKS] {
    core::array::from_fn(|b| core::array::from_fn(|i| (seed as usize * 31 + b * 16 + i * 7) as u8))
}

#[test]
fn pack_then_unpack_is_the_identity_and_puts_bytes_where_the_doc_says() {
    let blocks = sample_blocks(3);
    assert_eq!(unpack(pack(&blocks)), blocks);
    // A single set bit: bit i of byte (r, c) of block b lands at plane i, 16r + 4c + b.
    for (b, r, c, i) in [(0, 0, 0, 0), (3, 2, 1, 5), (1, 3, 3, 7), (2, 1, 2, 3)] {
        let mut blocks = [[0u8; 16]; BLOCKS];
        blocks[b][4 * c + r] = 1 << i;
        let q = pack(&blocks);
        for (plane, word) in q.iter().enumerate() {
            let expected = if plane == i {
                1u64 << (16 * r + 4 * c + b)
            } else {
                0
            };
            assert_eq!(
                *word, expected,
                "block {b} row {r} col {c} bit {i} plane {plane}"
            );
        }
    }
}

/// The circuit is checked on all 256 inputs against the computed S-box of `aes_soft.rs`.
#[test]
fn bitsliced_sbox_matches_fips197_on_every_byte() {
    for quarter in 0..4u8 {
        let blocks: [[u8; 16]; BLOCKS] =
            core::array::from_fn(|b| core::array::from_fn(|i| quarter * 64 + (b * 16 + i) as u8));
        let mut q = pack(&blocks);
        sub_bytes(&mut q);
        let out = unpack(q);
        for b in 0..BLOCKS {
            for i in 0..16 {
                let x = blocks[b][i];
                assert_eq!(out[b][i] ^ 0x63, aes_soft::sub_byte(x), "S({x:#04x})");
            }
        }
    }
}

/// [`rotate`] moves bytes exactly as its doc says, for every row and column offset used.
#[test]
fn rotate_moves_whole_bytes_by_rows_and_columns() {
    for (rows, cols) in [
        (1, 0),
        (1, 1),
        (1, 2),
        (1, 3),
        (2, 0),
        (2, 2),
        (2, 4),
        (2, 6),
    ] {
        let blocks = sample_blocks(9);
        let mut q = pack(&blocks);
        q = q.map(|x| rotate(x, rows, cols));
        let out = unpack(q);
        for b in 0..BLOCKS {
            for r in 0..4 {
                for c in 0..4 {
                    let (r2, c2) = ((r + rows as usize) % 4, (c + cols as usize) % 4);
                    assert_eq!(out[b][4 * c + r], blocks[b][4 * c2 + r2], "{rows} {cols}");
                }
            }
        }
    }
}

#[test]
fn four_blocks_match_the_fips197_reference() {
    let key = *b"fixslice test ke";
    let round_keys = aes_soft::expand_key(&key);
    let schedule = Schedule::new(&round_keys);
    let mut blocks = sample_blocks(1);
    let mut expected = blocks;
    for block in expected.iter_mut() {
        aes_soft::encrypt_block(&round_keys, block);
    }
    encrypt_blocks(&schedule, &mut blocks);
    assert_eq!(blocks, expected);
}

/// A word that computes like a `u64` and records which operation ran, with which constant,
/// but never the values. Two runs with different keys and data must record the same trace:
/// the round functions take the same path through the same operations whatever the secret.
#[derive(Clone, Copy)]
struct Traced(u64);

thread_local! {
    static TRACE: core::cell::RefCell<Vec<(u8, u64)>> = const { core::cell::RefCell::new(Vec::new()) };
}

fn record(op: u8, constant: u64) {
    TRACE.with(|t| t.borrow_mut().push((op, constant)));
}

impl BitXor for Traced {
    type Output = Traced;
    fn bitxor(self, o: Traced) -> Traced {
        record(0, 0);
        Traced(self.0 ^ o.0)
    }
}
impl BitAnd for Traced {
    type Output = Traced;
    fn bitand(self, o: Traced) -> Traced {
        record(1, 0);
        Traced(self.0 & o.0)
    }
}
impl BitOr for Traced {
    type Output = Traced;
    fn bitor(self, o: Traced) -> Traced {
        record(2, 0);
        Traced(self.0 | o.0)
    }
}
impl Not for Traced {
    type Output = Traced;
    fn not(self) -> Traced {
        record(3, 0);
        Traced(!self.0)
    }
}
impl Word for Traced {
    fn ror(self, n: u32) -> Traced {
        record(4, n as u64);
        Traced(self.0.rotate_right(n))
    }
    fn mask(self, m: u64) -> Traced {
        record(5, m);
        Traced(self.0 & m)
    }
}

fn traced_encryption(key: [u8; 16], seed: u8) -> (Vec<(u8, u64)>, [[u8; 16]; BLOCKS]) {
    let schedule = Schedule::new(&aes_soft::expand_key(&key));
    let keys = schedule.planes.map(|k| k.map(Traced));
    let mut q = pack(&sample_blocks(seed)).map(Traced);
    TRACE.with(|t| t.borrow_mut().clear());
    encrypt_planes(&mut q, &keys);
    let trace = TRACE.with(|t| t.take());
    (trace, unpack(q.map(|w| w.0)))
}

#[test]
fn trace_is_independent_of_key_and_data() {
    let (trace_a, out_a) = traced_encryption([0; 16], 0);
    let (trace_b, out_b) = traced_encryption(*b"another key here", 200);
    // The traced words really computed AES (so the trace is of the real computation) ...
    let round_keys = aes_soft::expand_key(&[0; 16]);
    let mut expected = sample_blocks(0);
    for block in expected.iter_mut() {
        aes_soft::encrypt_block(&round_keys, block);
    }
    assert_eq!(out_a, expected);
    assert_ne!(out_a, out_b);
    // ... and the sequence of operations and constants is the same for both secrets.
    assert!(trace_a.len() > 2000, "{}", trace_a.len());
    assert!(trace_a == trace_b);
}
