//! TCP reassembly: from the segments of one direction of a connection, in whatever order the
//! capture holds them, back to the byte stream the sender wrote (RFC 9293 3.4, 3.10.7.4).
//!
//! Every byte has a sequence number; the SYN takes the one before the first data byte. A segment
//! that starts where the stream stands is delivered at once, along with any stored segments it
//! makes contiguous. One that starts further on (an earlier segment is late or lost) is stored,
//! up to [`MAX_OUT_OF_ORDER`] bytes per direction; bytes we already have (a retransmission, or an
//! overlap) are dropped. Sequence numbers wrap at 2^32, so every comparison is made on the signed
//! distance from where the stream stands, and positions are kept as 64-bit stream offsets.
//!
//! What the decryptor cannot repair it is told plainly: a [`Gap`] (bytes that never came: the
//! capture lost a segment, or began after the connection did) ends that direction's stream.

use std::collections::BTreeMap;

/// The most out-of-order data held for one direction. A capture reorders a few segments at most;
/// more than this means data is missing, and holding it would only cost memory.
pub const MAX_OUT_OF_ORDER: usize = 1 << 20;

/// Bytes that never arrived: the stream cannot go on past `at` (its offset from the first byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    pub at: u64,
}

/// One direction of one TCP connection.
#[derive(Default)]
pub struct Stream {
    /// The sequence number of the next byte we expect, once the stream has started.
    next_seq: Option<u32>,
    /// That byte's offset in the stream.
    next_offset: u64,
    /// True if the stream started at the SYN (so its first byte is the connection's first byte).
    pub saw_syn: bool,
    pub saw_fin: bool,
    /// Segments past `next_offset`, by stream offset.
    later: BTreeMap<u64, Vec<u8>>,
    later_bytes: usize,
    /// Segments that brought nothing new (retransmissions).
    pub retransmitted: u64,
    /// Set once bytes are known to be missing; nothing more is delivered.
    pub gap: Option<Gap>,
}

impl Stream {
    /// Bytes delivered so far.
    pub fn offset(&self) -> u64 {
        self.next_offset
    }

    /// Takes one segment of this direction; appends what becomes contiguous to `out`.
    pub fn segment(&mut self, seq: u32, syn: bool, fin: bool, payload: &[u8], out: &mut Vec<u8>) {
        if self.gap.is_some() {
            return;
        }
        // The SYN's number is the one before the first data byte.
        let data_seq = if syn { seq.wrapping_add(1) } else { seq };
        let next = match self.next_seq {
            Some(n) => n,
            None if syn => {
                self.saw_syn = true;
                self.next_seq = Some(data_seq);
                data_seq
            }
            None => {
                // No SYN seen (the capture began after the connection did): the stream starts
                // here, and whatever came before is unknown to us.
                self.next_seq = Some(data_seq);
                data_seq
            }
        };
        if fin {
            self.saw_fin = true;
        }
        if payload.is_empty() {
            return;
        }
        let distance = data_seq.wrapping_sub(next) as i32 as i64;
        let start = self.next_offset as i64 + distance;
        let end = start + payload.len() as i64;
        if end <= self.next_offset as i64 {
            self.retransmitted += 1;
            return;
        }
        if start < 0 {
            // A segment reaching back before the stream's first byte: not ours to deliver.
            self.retransmitted += 1;
            return;
        }
        let start = start as u64;
        if start > self.next_offset {
            self.store(start, payload);
            return;
        }
        // Starts at or before where we stand: deliver its new part, then whatever it joins.
        let skip = (self.next_offset - start) as usize;
        self.deliver(&payload[skip..], out);
        self.drain(out);
    }

    fn deliver(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(bytes);
        self.next_offset += bytes.len() as u64;
        if let Some(n) = &mut self.next_seq {
            *n = n.wrapping_add(bytes.len() as u32);
        }
    }

    fn store(&mut self, start: u64, payload: &[u8]) {
        // Keep the longest of two segments at the same offset (a retransmission may carry more).
        let old = self.later.get(&start).map_or(0, Vec::len);
        if old >= payload.len() {
            self.retransmitted += 1;
            return;
        }
        if self.later_bytes - old + payload.len() > MAX_OUT_OF_ORDER {
            // Too much is waiting for bytes that do not come: give up at the hole.
            self.gap = Some(Gap {
                at: self.next_offset,
            });
            self.later.clear();
            self.later_bytes = 0;
            return;
        }
        self.later_bytes = self.later_bytes - old + payload.len();
        self.later.insert(start, payload.to_vec());
    }

    /// Delivers stored segments that are now contiguous.
    fn drain(&mut self, out: &mut Vec<u8>) {
        while let Some(entry) = self.later.first_entry() {
            let start = *entry.key();
            if start > self.next_offset {
                return;
            }
            let seg = entry.remove();
            self.later_bytes -= seg.len();
            let end = start + seg.len() as u64;
            if end > self.next_offset {
                let skip = (self.next_offset - start) as usize;
                self.deliver(&seg[skip..], out);
            } else {
                self.retransmitted += 1;
            }
        }
    }

    /// At the end of the capture: a hole before stored data means bytes are missing.
    pub fn finish(&mut self) {
        if self.gap.is_none() && !self.later.is_empty() {
            self.gap = Some(Gap {
                at: self.next_offset,
            });
        }
        self.later.clear();
        self.later_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn feed(s: &mut Stream, segs: &[(u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (seq, p) in segs {
            s.segment(*seq, false, false, p, &mut out);
        }
        out
    }

    #[test]
    fn in_order_out_of_order_and_retransmitted_segments_give_the_stream() {
        let mut s = Stream::default();
        let mut out = Vec::new();
        s.segment(99, true, false, &[], &mut out);
        let got = feed(
            &mut s,
            &[
                (100, b"abc"),
                (106, b"ghi"),
                (100, b"abc"),
                (103, b"def"),
                (104, b"efgh"),
                (109, b"j"),
            ],
        );
        assert_eq!(got, b"abcdefghij");
        assert_eq!(s.retransmitted, 2);
        assert!(s.saw_syn && s.gap.is_none());
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut s = Stream::default();
        let mut out = Vec::new();
        s.segment(u32::MAX - 2, true, false, &[], &mut out);
        let got = feed(&mut s, &[(u32::MAX - 1, b"ab"), (0, b"cd"), (2, b"e")]);
        assert_eq!(got, b"abcde");
    }

    #[test]
    fn a_hole_that_never_fills_is_a_gap() {
        let mut s = Stream::default();
        let got = feed(&mut s, &[(10, b"ab"), (20, b"zz")]);
        assert_eq!(got, b"ab");
        s.finish();
        assert_eq!(s.gap, Some(Gap { at: 2 }));
    }

    #[test]
    fn out_of_order_data_is_bounded() {
        let mut s = Stream::default();
        feed(&mut s, &[(0, b"a")]);
        let chunk = vec![0u8; 64 * 1024];
        for i in 0..20u32 {
            feed(&mut s, &[(10 + i * chunk.len() as u32, &chunk)]);
        }
        assert_eq!(s.gap, Some(Gap { at: 1 }));
        assert!(s.later_bytes <= MAX_OUT_OF_ORDER);
    }

    proptest! {
        /// Any split of a stream into segments, delivered in any order with duplicates, gives the
        /// stream back.
        #[test]
        fn any_order_reassembles(
            data in proptest::collection::vec(any::<u8>(), 1..2000),
            cuts in proptest::collection::vec(any::<u16>(), 0..20),
            order in proptest::collection::vec(any::<u16>(), 0..40),
            isn in any::<u32>(),
        ) {
            let mut points: Vec<usize> = cuts.iter().map(|&c| c as usize % data.len()).collect();
            points.extend([0, data.len()]);
            points.sort();
            points.dedup();
            let segs: Vec<(usize, usize)> = points.windows(2).map(|w| (w[0], w[1])).collect();
            // A shuffled sequence of segments with repeats, then every segment once more.
            let mut sched: Vec<usize> = order.iter().map(|&o| o as usize % segs.len()).collect();
            sched.extend(0..segs.len());
            let mut s = Stream::default();
            let mut out = Vec::new();
            s.segment(isn, true, false, &[], &mut out);
            for i in sched {
                let (a, b) = segs[i];
                s.segment(isn.wrapping_add(1 + a as u32), false, false, &data[a..b], &mut out);
            }
            prop_assert_eq!(out, data);
        }
    }
}
