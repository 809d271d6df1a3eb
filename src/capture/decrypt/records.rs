//! Records out of each direction's TCP stream (RFC 5246 6.2.1), opened with the connection's
//! keys once its ChangeCipherSpec has switched them on.

use super::{Conn, Decryptor, Event, side};
use crate::record::{ContentType, HEADER_LEN, MAX_CIPHERTEXT, RecordHeader};
use crate::wire::alert::{AlertDescription, AlertLevel};
use crate::wire::messages::hex;

impl Decryptor<'_> {
    /// New contiguous bytes of one side's stream: cut them into records.
    pub(super) fn stream_bytes(&mut self, conn: &mut Conn, from: usize, bytes: &[u8]) {
        conn.dirs[from].buf.extend_from_slice(bytes);
        let mut at = 0;
        loop {
            let buf = &conn.dirs[from].buf[at..];
            if buf.len() < HEADER_LEN {
                break;
            }
            let version = [buf[1], buf[2]];
            let len = usize::from(u16::from_be_bytes([buf[3], buf[4]]));
            let typ = ContentType::from_code(buf[0]);
            let Some(typ) = typ.filter(|_| version[0] == 3 && len <= MAX_CIPHERTEXT) else {
                let first = conn.client_random.is_none() && conn.dirs[from].seq == 0;
                let msg = if first {
                    format!(
                        "not TLS: the {}'s first bytes are not a TLS record ({})",
                        side(from).name(),
                        hex(&buf[..HEADER_LEN])
                    )
                } else {
                    format!(
                        "the {}'s stream stops being TLS records (header {})",
                        side(from).name(),
                        hex(&buf[..HEADER_LEN])
                    )
                };
                self.problem(conn, msg);
                return;
            };
            if buf.len() < HEADER_LEN + len {
                break;
            }
            let mut fragment = buf[HEADER_LEN..HEADER_LEN + len].to_vec();
            at += HEADER_LEN + len;
            self.record(conn, from, typ, version, &mut fragment);
            if conn.dead {
                return;
            }
        }
        conn.dirs[from].buf.drain(..at);
    }

    pub(super) fn record(
        &mut self,
        conn: &mut Conn,
        from: usize,
        typ: ContentType,
        version: [u8; 2],
        fragment: &mut [u8],
    ) {
        let id = conn.id;
        let dir = &mut conn.dirs[from];
        let plain = match &mut dir.protection {
            Some(p) => {
                let seq = dir.seq;
                dir.seq += 1;
                let header = RecordHeader::new(seq, typ.code(), version);
                match p.open(&header, fragment) {
                    Ok(range) => fragment[range].to_vec(),
                    Err(_) => {
                        let why = if conn.verified == 0 {
                            "the key or master secret is wrong"
                        } else {
                            "it was changed on the wire, or the capture is damaged"
                        };
                        let msg = format!(
                            "record {seq} from the {} does not open under the recovered keys: {why}",
                            side(from).name()
                        );
                        self.problem(conn, msg);
                        return;
                    }
                }
            }
            None => fragment.to_vec(),
        };
        match typ {
            ContentType::ChangeCipherSpec => {
                if plain != [1] {
                    self.problem(
                        conn,
                        format!(
                            "a malformed ChangeCipherSpec from the {}",
                            side(from).name()
                        ),
                    );
                    return;
                }
                match conn.dirs[from].pending.take() {
                    Some(p) => {
                        conn.dirs[from].protection = Some(p);
                        conn.dirs[from].seq = 0;
                    }
                    None => {
                        let why = conn.no_keys.clone().unwrap_or_else(|| {
                            "the keys are unknown (no ClientKeyExchange or resumed session in this capture)".into()
                        });
                        self.problem(
                            conn,
                            format!(
                                "the {} switched to encryption, but {why}",
                                side(from).name()
                            ),
                        );
                    }
                }
            }
            ContentType::Alert => {
                if plain.len() != 2 {
                    // Several alerts in one record, or a fragment: rare, and only reported.
                    self.problem(
                        conn,
                        format!(
                            "an alert record of {} bytes from the {}",
                            plain.len(),
                            side(from).name()
                        ),
                    );
                    return;
                }
                let Some(level) = AlertLevel::from_u8(plain[0]) else {
                    self.problem(
                        conn,
                        format!(
                            "an alert of unknown level {} from the {}",
                            plain[0],
                            side(from).name()
                        ),
                    );
                    return;
                };
                (self.sink)(Event::Alert {
                    id,
                    from: side(from),
                    level,
                    description: AlertDescription::from_u8(plain[1]),
                });
            }
            ContentType::Handshake => {
                conn.dirs[from].handshake.extend_from_slice(&plain);
                self.handshake_messages(conn, from);
            }
            ContentType::ApplicationData => {
                if conn.dirs[from].protection.is_none() {
                    self.problem(
                        conn,
                        format!(
                            "application data from the {} before any keys",
                            side(from).name()
                        ),
                    );
                    return;
                }
                conn.dirs[from].data_bytes += plain.len() as u64;
                (self.sink)(Event::Data {
                    id,
                    from: side(from),
                    bytes: plain,
                });
            }
        }
    }
}
