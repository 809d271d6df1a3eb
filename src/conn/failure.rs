//! Failing a connection: every failure sends its alert once, fatal, and marks the connection
//! failed (RFC 5246 7.2.2); and a write the peer's hang-up refused reports the alert the peer sent
//! before it hung up, not "broken pipe".

use super::{Conn, State};
use crate::error::Error;
use crate::record::ContentType;
use crate::wire::alert::{AlertDescription, AlertLevel};
use crate::wire::codec::Reader;
use crate::wire::messages::alert::AlertMessage;
use std::io::{Read, Write};

/// How many records [`Conn::fail`] reads, after a write the closed transport refused, looking
/// for the peer's fatal alert.
const MAX_RECORDS_BEHIND_A_FAILED_WRITE: usize = 16;

impl<T: Read + Write> Conn<T> {
    /// Ends the connection because of `e`: sends its alert (once, fatal) unless it sends none or
    /// the connection already failed, and marks the connection failed. Returns `e`, or the
    /// peer's fatal alert if `e` is a write the peer's hang-up refused and that alert is waiting
    /// to be read (see [`peer_alert_behind`](Self::peer_alert_behind)).
    pub fn fail(&mut self, e: Error) -> Error {
        if self.state != State::Failed {
            if let Some(d) = self.peer_alert_behind(&e) {
                // RFC 5246 7.2.2: after a fatal alert both sides close; we send nothing back.
                self.state = State::Failed;
                self.fatal_alert = true;
                return Error::PeerAlert(d);
            }
            self.state = State::Failed;
            if let Some(d) = e.alert() {
                self.fatal_alert = true;
                // Best effort: the transport may already be gone.
                let _ = self.send_alert(AlertMessage::fatal(d));
            }
        }
        e
    }

    /// Why a write failed, if the peer said so first. A peer that refuses us (GnuTLS when our
    /// Certificate is empty and it requires one, any server whose check fails while our flight
    /// is still going out) sends its fatal alert and closes at once; our next write then meets
    /// the closed socket (EPIPE, ECONNRESET), and "broken pipe" is all the write knows. The
    /// alert itself is still in the socket's receive queue, and a TCP read hands out queued data
    /// before it reports the reset: so we read what is pending, passing over records that are
    /// not alerts and warnings (RFC 5246 7.2.2), and return the first fatal alert's description.
    /// Nothing to read, or anything that does not decode, leaves the transport error as it was.
    /// Only for a closed or reset transport, whose reads do not block.
    fn peer_alert_behind(&mut self, e: &Error) -> Option<AlertDescription> {
        let Error::Io(io) = e else {
            return None;
        };
        use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
        if !matches!(io.kind(), BrokenPipe | ConnectionReset | ConnectionAborted) {
            return None;
        }
        // A bound, so that a peer that keeps sending records cannot keep us here.
        for _ in 0..MAX_RECORDS_BEHIND_A_FAILED_WRITE {
            let (typ, range) = self.rec.read_record(&mut self.io).ok()?;
            if typ != ContentType::Alert {
                continue;
            }
            let a =
                AlertMessage::decode(&mut Reader::new(self.rec.plaintext(range.clone()))).ok()?;
            self.receive_alert(range).ok()?;
            if a.level == AlertLevel::Fatal {
                return Some(a.description);
            }
        }
        None
    }
}
