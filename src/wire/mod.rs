//! The bytes on the wire (RFC 5246 4, 7.2, 7.4): the codec every message goes through, the alert
//! codes, and every TLS message as a plain struct with `encode`/`decode`.

pub mod alert;
pub mod codec;
pub mod messages;
