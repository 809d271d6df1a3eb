use super::*;

fn covers(fields: &[Field], len: usize) {
    let mut at = 0;
    for f in fields {
        assert_eq!(f.range.start, at, "gap or overlap before {}", f.name);
        assert!(f.range.end > f.range.start);
        at = f.range.end;
    }
    assert_eq!(at, len, "not every byte is named");
}

#[test]
fn a_plaintext_alert_is_named_byte_by_byte() {
    let wire = [21, 3, 3, 0, 2, 1, 0];
    let p = Parts {
        wire: &wire,
        header: 0..5,
        explicit_nonce: 5..5,
        body: 5..7,
        tag: 7..7,
    };
    let f = record(&p, 21, None, &mut Carry::default());
    covers(&f, 7);
    assert_eq!(f[3].value, "warning (1)");
    assert_eq!(f[4].value, "close_notify (0)");
}

#[test]
fn any_bytes_are_covered_without_panic() {
    // Cut-off and lying lengths everywhere: every prefix of a ClientHello-ish record.
    let mut wire = vec![22, 3, 3, 0, 60, 1, 0, 0, 200, 3, 3];
    wire.extend([7u8; 32]);
    wire.extend([40, 1, 2, 0, 9, 0, 0x2f, 1, 0, 0, 30, 0, 0, 0, 40]);
    for end in 0..=wire.len() {
        for t in [20u8, 21, 22, 23, 99] {
            let p = Parts {
                wire: &wire[..end],
                header: 0..5.min(end),
                explicit_nonce: 5.min(end)..5.min(end),
                body: 5.min(end)..end,
                tag: end..end,
            };
            covers(&record(&p, t, None, &mut Carry::default()), end);
        }
    }
}

#[test]
fn a_message_spanning_two_records_is_carried_over() {
    let mut carry = Carry::default();
    // A Finished header announcing 12 bytes, only 4 of them in this fragment.
    let f = plaintext(&[20, 0, 0, 12, 1, 2, 3, 4], 0, 22, &mut carry);
    covers(&f, 8);
    let f = plaintext(&[5, 6, 7, 8, 9, 10, 11, 12, 14, 0, 0, 0], 0, 22, &mut carry);
    covers(&f, 12);
    assert_eq!(f[0].name, "Finished (continued)");
    assert_eq!(f[0].range, 0..8);
    assert_eq!(f[1].value, "ServerHelloDone (14)");
}
