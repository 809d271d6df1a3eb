//! Hello extensions (RFC 5246 7.4.1.4): their type code points, and the meaning of the ones
//! toytls reads (server_name, renegotiation_info, extended_master_secret, session_ticket,
//! application_layer_protocol_negotiation).
//!
//! An extension is kept as its type and its raw bytes, so that a message decodes and re-encodes to
//! exactly the bytes received, and an extension toytls does not know is carried and ignored (RFC
//! 5246 7.4.1.4: a server "MUST ignore" extension types it does not recognise). Meaning is given
//! by small functions that read or build one extension's bytes, as renegotiation_info (RFC 5746),
//! extended_master_secret (RFC 7627), session_ticket (RFC 5077) and ALPN (RFC 7301) below.

use crate::error::{Error, Result};
use crate::wire::code_space;
use crate::wire::codec::{Reader, Writer};

code_space! {
    /// The name of an extension type toytls knows (RFC 5246 7.4.1.4; IANA "TLS ExtensionType
    /// Values"). toytls reads and writes all but supported_groups, ec_point_formats and
    /// supported_versions, which are named in traces, where real clients send them.
    pub const extension_type_name: u16 {
        /// `server_name`, RFC 6066 3.
        SERVER_NAME = 0, "server_name";
        /// `signature_algorithms`, RFC 5246 7.4.1.4.1.
        SIGNATURE_ALGORITHMS = 13, "signature_algorithms";
        /// `extended_master_secret`, RFC 7627.
        EXTENDED_MASTER_SECRET = 23, "extended_master_secret";
        /// `renegotiation_info`, RFC 5746 3.2.
        RENEGOTIATION_INFO = 0xff01, "renegotiation_info";
        /// `supported_groups`, RFC 8422 5.1.1 (ECDHE; ignored by RSA key transport).
        SUPPORTED_GROUPS = 10, "supported_groups";
        /// `ec_point_formats`, RFC 8422 5.1.2 (ignored).
        EC_POINT_FORMATS = 11, "ec_point_formats";
        /// `application_layer_protocol_negotiation`, RFC 7301 3.1.
        APPLICATION_LAYER_PROTOCOL_NEGOTIATION = 16, "application_layer_protocol_negotiation";
        /// `session_ticket`, RFC 5077 3.2.
        SESSION_TICKET = 35, "session_ticket";
        /// `supported_versions`, RFC 8446 4.2.1 (TLS 1.3; ignored).
        SUPPORTED_VERSIONS = 43, "supported_versions";
    }
}

/// A readable name for an extension type, e.g. `server_name(0)`.
pub fn extension_name(typ: u16) -> String {
    format!("{}({typ})", extension_type_name(typ).unwrap_or("unknown"))
}

/// One extension: `ExtensionType extension_type; opaque extension_data<0..2^16-1>;`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    /// The extension type code point.
    pub typ: u16,
    /// Its contents, uninterpreted.
    pub data: Vec<u8>,
}

impl Extension {
    /// A server_name extension naming one DNS host (RFC 6066 3):
    /// `ServerNameList { NameType name_type = host_name(0); opaque HostName<1..2^16-1>; }<1..2^16-1>`.
    pub fn server_name(host: &str) -> Extension {
        let mut w = Writer::new();
        w.u16_prefixed(|w| {
            w.u8(0);
            w.u16_prefixed(|w| w.bytes(host.as_bytes()));
        });
        Extension {
            typ: SERVER_NAME,
            // A host name longer than 65535 bytes is already refused by the config; keep whatever
            // was written so a bad name fails at the server rather than here.
            data: w.as_slice().to_vec(),
        }
    }

    /// The renegotiation_info extension of an initial handshake (RFC 5746 3.4, 3.6): its
    /// `renegotiated_connection<0..255>` is empty, so the data is the single byte 00. toytls never
    /// renegotiates, so it never sends anything else.
    pub fn empty_renegotiation_info() -> Extension {
        Extension {
            typ: RENEGOTIATION_INFO,
            data: vec![0],
        }
    }

    /// The extended_master_secret extension (RFC 7627 5.1): its presence is the whole message, the
    /// data is empty. Sent by the client to offer the extended master secret and echoed by the
    /// server to accept it.
    pub fn extended_master_secret() -> Extension {
        Extension {
            typ: EXTENDED_MASTER_SECRET,
            data: Vec::new(),
        }
    }

    /// signature_algorithms with the one pair toytls verifies in certificates: {sha256, rsa}
    /// (RFC 5246 7.4.1.4.1: `04 01`). RSA key transport signs nothing in the handshake, but a
    /// client that omits the extension implies {sha1, rsa}, and OpenSSL 3 servers then find no
    /// acceptable algorithm for their certificate and refuse the handshake.
    pub fn signature_algorithms() -> Extension {
        Extension {
            typ: SIGNATURE_ALGORITHMS,
            data: vec![0, 2, 4, 1],
        }
    }

    /// The session_ticket extension (RFC 5077 3.2): in a ClientHello, the ticket the client
    /// presents, or nothing ("I support tickets and have none for you"); in a ServerHello always
    /// empty ("a NewSessionTicket follows").
    pub fn session_ticket(ticket: &[u8]) -> Extension {
        Extension {
            typ: SESSION_TICKET,
            data: ticket.to_vec(),
        }
    }

    /// The application_layer_protocol_negotiation extension (RFC 7301 3.1) listing `protocols`:
    /// `ProtocolName protocol_name_list<2..2^16-1>`, each `opaque ProtocolName<1..2^8-1>`. The
    /// client lists what it speaks, most preferred first; the server answers with the one it
    /// chose. Names must be 1 to 255 bytes ([`check_alpn_protocols`] checks a configured list).
    pub fn alpn(protocols: &[Vec<u8>]) -> Extension {
        let mut w = Writer::new();
        w.u16_prefixed(|w| {
            for p in protocols {
                w.u8_prefixed(|w| w.bytes(p));
            }
        });
        Extension {
            typ: APPLICATION_LAYER_PROTOCOL_NEGOTIATION,
            data: w.as_slice().to_vec(),
        }
    }

    /// Reads a ProtocolNameList (RFC 7301 3.1). An empty list, an empty name, or a length that
    /// disagrees with the bytes is `decode_error` (3.1: "Empty strings MUST NOT be included and
    /// byte strings MUST NOT be truncated"). The names are borrowed from `data`.
    pub fn parse_alpn(data: &[u8]) -> Result<Vec<&[u8]>> {
        let bad = |why: &str| Error::decode("application_layer_protocol_negotiation", why);
        let mut r = Reader::new(data);
        let mut list = r.u16_prefixed().map_err(|e| bad(&e.to_string()))?;
        r.expect_empty().map_err(|e| bad(&e.to_string()))?;
        if list.is_empty() {
            return Err(bad("empty protocol_name_list (RFC 7301 3.1: <2..2^16-1>)"));
        }
        let mut names = Vec::new();
        while !list.is_empty() {
            let name = list.u8_prefixed().map_err(|e| bad(&e.to_string()))?.rest();
            if name.is_empty() {
                return Err(bad("empty protocol name (RFC 7301 3.1)"));
            }
            names.push(name);
        }
        Ok(names)
    }

    /// Reads a server's ALPN answer: a ProtocolNameList holding exactly one name (RFC 7301 3.1:
    /// the server's extension "MUST contain exactly one protocol name"); else `decode_error`.
    pub fn parse_alpn_selection(data: &[u8]) -> Result<&[u8]> {
        match Extension::parse_alpn(data)?.as_slice() {
            [one] => Ok(one),
            more => Err(Error::decode(
                "application_layer_protocol_negotiation",
                format!(
                    "the server's answer names {} protocols, not exactly one (RFC 7301 3.1)",
                    more.len()
                ),
            )),
        }
    }

    /// Reads the host name out of a server_name extension's data. Entries of other name types are
    /// skipped; more than one host_name is illegal (RFC 6066 3).
    pub fn parse_server_name(data: &[u8]) -> Result<Option<String>> {
        let bad = |why: &str| Error::decode("server_name extension", why);
        let mut r = Reader::new(data);
        let mut list = r.u16_prefixed()?;
        r.expect_empty()?;
        if list.is_empty() {
            return Err(bad("empty server name list"));
        }
        let mut host = None;
        while !list.is_empty() {
            let name_type = list.u8()?;
            let name = list.u16_prefixed()?.rest();
            if name_type != 0 {
                continue;
            }
            if host.is_some() {
                return Err(Error::IllegalParameter(
                    "more than one host_name in server_name (RFC 6066 3)".into(),
                ));
            }
            if name.is_empty() || !name.iter().all(|b| b.is_ascii_graphic()) {
                return Err(bad("host name is empty or not printable ASCII"));
            }
            // All bytes are ASCII, so this conversion cannot fail.
            host = Some(String::from_utf8_lossy(name).into_owned());
        }
        Ok(host)
    }
}

/// True if `exts` (of the hello named `what`) carries extended_master_secret. Its data must be
/// empty (RFC 7627 5.1: "The extension_data field of this extension is empty"); anything else is
/// a malformed message: `decode_error`.
pub fn has_extended_master_secret(
    exts: &Option<Vec<Extension>>,
    what: &'static str,
) -> Result<bool> {
    match find(exts, EXTENDED_MASTER_SECRET) {
        None => Ok(false),
        Some(e) if e.data.is_empty() => Ok(true),
        Some(_) => Err(Error::decode(
            what,
            "extended_master_secret extension must be empty (RFC 7627 5.1)",
        )),
    }
}

/// Checks a list of protocols to offer or accept with ALPN (RFC 7301 3.1): at least one, each
/// 1 to 255 bytes, all of them fitting the extension's 2-byte length. The error says which name
/// is wrong, for configuration messages.
pub fn check_alpn_protocols(protocols: &[Vec<u8>]) -> std::result::Result<(), String> {
    if protocols.is_empty() {
        return Err("the ALPN protocol list is empty".into());
    }
    for p in protocols {
        if p.is_empty() || p.len() > 255 {
            return Err(format!(
                "ALPN protocol name {:?} is {} bytes long; RFC 7301 3.1 allows 1 to 255",
                String::from_utf8_lossy(p),
                p.len()
            ));
        }
    }
    let total: usize = protocols.iter().map(|p| 1 + p.len()).sum();
    if total > usize::from(u16::MAX) {
        return Err(format!(
            "the ALPN protocol list takes {total} bytes, more than its 2-byte length allows"
        ));
    }
    Ok(())
}

/// Reads the optional extensions block that may end a hello (RFC 5246 7.4.1.2: present only if
/// bytes remain after compression_methods). Repeated types are refused (RFC 5246 7.4.1.4: "There
/// MUST NOT be more than one extension of the same type").
///
/// The repeat check costs one bit test per extension, so a block of 16,383 empty extensions (the
/// most 64 KiB holds) is read in time linear in its size: comparing each with every earlier one
/// made such a hello cost about 50 RSA decryptions, before any authentication.
pub fn decode_extensions(r: &mut Reader) -> Result<Option<Vec<Extension>>> {
    if r.is_empty() {
        return Ok(None);
    }
    let mut list = r.u16_prefixed()?;
    let mut out: Vec<Extension> = Vec::new();
    let mut seen = TypeSet::new();
    while !list.is_empty() {
        let typ = list.u16()?;
        let data = list.u16_prefixed()?.rest().to_vec();
        if !seen.insert(typ) {
            return Err(Error::IllegalParameter(format!(
                "extension {typ} appears twice (RFC 5246 7.4.1.4)"
            )));
        }
        out.push(Extension { typ, data });
    }
    Ok(Some(out))
}

/// A set of extension types: one bit for each of the 2^16 code points (8 KiB on the stack).
struct TypeSet([u64; 1 << 10]);

impl TypeSet {
    fn new() -> Self {
        TypeSet([0; 1 << 10])
    }

    /// Adds `typ`; false if it was already there.
    fn insert(&mut self, typ: u16) -> bool {
        let (word, bit) = (usize::from(typ >> 6), 1u64 << (typ & 63));
        let fresh = self.0[word] & bit == 0;
        self.0[word] |= bit;
        fresh
    }
}

/// Writes an extensions block if there is one.
pub fn encode_extensions(w: &mut Writer, exts: &Option<Vec<Extension>>) {
    if let Some(exts) = exts {
        w.u16_prefixed(|w| {
            for e in exts {
                w.u16(e.typ);
                w.u16_prefixed(|w| w.bytes(&e.data));
            }
        });
    }
}

/// The extension of type `typ`, if present.
pub fn find(exts: &Option<Vec<Extension>>, typ: u16) -> Option<&Extension> {
    exts.as_ref()?.iter().find(|e| e.typ == typ)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_name_round_trips() {
        let e = Extension::server_name("example.com");
        assert_eq!(e.data, [&[0, 14, 0, 0, 11][..], b"example.com"].concat());
        assert_eq!(
            Extension::parse_server_name(&e.data).unwrap().as_deref(),
            Some("example.com")
        );
    }

    #[test]
    fn malformed_server_names_are_rejected() {
        assert!(Extension::parse_server_name(&[]).is_err());
        assert!(Extension::parse_server_name(&[0, 0]).is_err());
        // Empty host name.
        assert!(Extension::parse_server_name(&[0, 3, 0, 0, 0]).is_err());
        // Two host names.
        let two = [0, 8, 0, 0, 1, b'a', 0, 0, 1, b'b'];
        assert!(matches!(
            Extension::parse_server_name(&two),
            Err(Error::IllegalParameter(_))
        ));
        // Trailing bytes after the list.
        assert!(Extension::parse_server_name(&[0, 4, 0, 0, 1, b'a', 9]).is_err());
        // Non-ASCII.
        assert!(Extension::parse_server_name(&[0, 4, 0, 0, 1, 0xff]).is_err());
        // An unknown name type alone gives no host.
        assert_eq!(
            Extension::parse_server_name(&[0, 4, 7, 0, 1, b'a']).unwrap(),
            None
        );
    }

    #[test]
    fn empty_renegotiation_info_is_one_zero_byte() {
        let e = Extension::empty_renegotiation_info();
        let mut w = Writer::new();
        encode_extensions(&mut w, &Some(vec![e]));
        // RFC 5746 3.2 / 3.4: ff 01 | 00 01 | 00
        assert_eq!(w.as_slice(), [0, 5, 0xff, 0x01, 0, 1, 0]);
    }

    #[test]
    fn extended_master_secret_is_empty_and_only_empty_is_accepted() {
        let mut w = Writer::new();
        encode_extensions(&mut w, &Some(vec![Extension::extended_master_secret()]));
        // RFC 7627 5.1: 00 17 | 00 00
        assert_eq!(w.as_slice(), [0, 4, 0, 23, 0, 0]);
        let exts = Some(vec![Extension::extended_master_secret()]);
        assert!(has_extended_master_secret(&exts, "ClientHello").unwrap());
        assert!(!has_extended_master_secret(&None, "ClientHello").unwrap());
        let other = Some(vec![Extension::empty_renegotiation_info()]);
        assert!(!has_extended_master_secret(&other, "ClientHello").unwrap());
        let bad = Some(vec![Extension {
            typ: EXTENDED_MASTER_SECRET,
            data: vec![0],
        }]);
        assert!(matches!(
            has_extended_master_secret(&bad, "ServerHello"),
            Err(Error::Decode {
                what: "ServerHello",
                ..
            })
        ));
    }

    #[test]
    fn session_ticket_carries_the_ticket_as_is() {
        let mut w = Writer::new();
        encode_extensions(&mut w, &Some(vec![Extension::session_ticket(&[])]));
        // RFC 5077 3.2: 00 23 | 00 00 for "no ticket yet".
        assert_eq!(w.as_slice(), [0, 4, 0, 35, 0, 0]);
        let e = Extension::session_ticket(&[1, 2, 3]);
        assert_eq!((e.typ, &e.data[..]), (SESSION_TICKET, &[1, 2, 3][..]));
    }

    #[test]
    fn alpn_bytes_are_as_rfc_7301_lays_them_out() {
        let e = Extension::alpn(&[b"h2".to_vec(), b"http/1.1".to_vec()]);
        assert_eq!(e.typ, 16);
        assert_eq!(e.data, [&[0, 12, 2][..], b"h2", &[8], b"http/1.1"].concat());
        let names = Extension::parse_alpn(&e.data).unwrap();
        assert_eq!(names, [&b"h2"[..], &b"http/1.1"[..]]);
        assert!(Extension::parse_alpn_selection(&e.data).is_err());
        let one = Extension::alpn(&[b"http/1.1".to_vec()]);
        assert_eq!(
            Extension::parse_alpn_selection(&one.data).unwrap(),
            b"http/1.1"
        );
    }

    #[test]
    fn malformed_alpn_lists_are_decode_errors() {
        for bad in [
            &[][..],                   // no list length at all
            &[0, 0],                   // empty list
            &[0, 1, 0],                // an empty name
            &[0, 3, 1, b'a', 0],       // a good name then an empty one
            &[0, 2, 2, b'h', b'2'],    // list length one short
            &[0, 5, 2, b'h', b'2'],    // list length two long
            &[0, 3, 3, b'h', b'2'],    // name length runs past the list
            &[0, 3, 2, b'h', b'2', 9], // a byte after the list
        ] {
            let e = Extension::parse_alpn(bad).unwrap_err();
            assert!(matches!(e, Error::Decode { .. }), "{bad:?} gave {e}");
            assert!(Extension::parse_alpn_selection(bad).is_err());
        }
        assert!(Extension::parse_alpn_selection(&[0, 0]).is_err());
    }

    #[test]
    fn configured_alpn_lists_are_checked() {
        assert!(check_alpn_protocols(&[b"h2".to_vec()]).is_ok());
        assert!(check_alpn_protocols(&[]).is_err());
        assert!(check_alpn_protocols(&[Vec::new()]).is_err());
        assert!(check_alpn_protocols(&[vec![b'a'; 255]]).is_ok());
        assert!(check_alpn_protocols(&[vec![b'a'; 256]]).is_err());
        // 257 names of 255 bytes: each fits, the list does not.
        assert!(check_alpn_protocols(&vec![vec![b'a'; 255]; 257]).is_err());
    }

    #[test]
    fn the_type_set_tells_every_code_point_apart() {
        let mut set = TypeSet::new();
        for typ in (0..=u16::MAX).step_by(7) {
            assert!(set.insert(typ), "{typ}");
        }
        for typ in 0..=u16::MAX {
            assert_eq!(set.insert(typ), typ % 7 != 0, "{typ}");
        }
    }

    #[test]
    fn a_repeat_is_found_among_the_most_extensions_a_block_holds() {
        // 16,383 empty extensions of distinct types fill a block; the same with the last type
        // repeated far from its first occurrence, and with the first and second equal.
        let block = |types: &mut dyn Iterator<Item = u16>| {
            let mut w = Writer::new();
            w.u16_prefixed(|w| {
                for t in types {
                    w.u16(t);
                    w.u16(0);
                }
            });
            w.as_slice().to_vec()
        };
        let distinct = block(&mut (0..16_383));
        let exts = decode_extensions(&mut Reader::new(&distinct))
            .unwrap()
            .unwrap();
        assert_eq!(exts.len(), 16_383);
        for repeated in [
            block(&mut (0..16_382).chain([0])),
            block(&mut [9, 9].into_iter().chain(100..16_481)),
        ] {
            assert!(matches!(
                decode_extensions(&mut Reader::new(&repeated)),
                Err(Error::IllegalParameter(_))
            ));
        }
    }

    #[test]
    fn duplicate_extensions_are_rejected() {
        let b = [0, 8, 0, 5, 0, 0, 0, 5, 0, 0];
        assert!(decode_extensions(&mut Reader::new(&b)).is_err());
        let b = [0, 8, 0, 5, 0, 0, 0, 6, 0, 0];
        assert_eq!(
            decode_extensions(&mut Reader::new(&b))
                .unwrap()
                .unwrap()
                .len(),
            2
        );
    }
}
