//! Distinguished names: the `issuer` and `subject` of a certificate (RFC 5280 4.1.2.4).
//!
//! ```text
//! Name ::= SEQUENCE OF RelativeDistinguishedName          -- most general first: C, O, ..., CN
//! RelativeDistinguishedName ::= SET OF AttributeTypeAndValue
//! AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY }
//! ```
//!
//! A name is printed the RFC 4514 way, most specific first (`CN=localhost, O=Example, C=US`), which
//! is how people say it.
//!
//! Chains are linked by comparing one certificate's issuer with the next one's subject
//! ([`Name::matches`]), the RFC 5280 7.1 way rather than byte for byte: the same RDNs in the same
//! order, each with the same attributes in any order, and string values compared after
//! "insignificant space handling" (leading and trailing white space dropped, inner runs folded to
//! one space) and ignoring ASCII case, whatever string type (PrintableString, UTF8String, ...)
//! encodes them. So a CA re-issued with `CN=Test Root` as UTF8String still issues certificates
//! whose issuer says PrintableString `CN=Test  Root`. That is what OpenSSL does
//! (`X509_NAME_cmp` on its canonical encoding); RFC 4518's full Unicode case folding and
//! normalisation are not done (non-ASCII letters compare exactly, as in OpenSSL). Values that are
//! not strings compare by their encoding. The comparison only says which certificate to try: the
//! issuer's signature still decides.

use super::der::{DerError, Oid, Reader, tag};
use super::der_write::Writer;
use super::oid;
use std::fmt;

/// One `type=value` pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attribute {
    /// The attribute type's OID, encoded (see [`super::oid`]).
    pub oid: Vec<u8>,
    /// The value as text, or `None` for a value that is not one of the string types.
    pub text: Option<String>,
    /// The value's encoded TLV, as found.
    pub raw_value: Vec<u8>,
}

/// A distinguished name: its RDNs in encoded order, its exact DER encoding, and the canonical
/// form names are compared by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    rdns: Vec<Vec<Attribute>>,
    der: Vec<u8>,
    /// Each RDN's canonical form, in order.
    canonical: Vec<Vec<u8>>,
}

impl Name {
    /// Reads a Name (a whole SEQUENCE TLV) from `r`.
    pub fn read(r: &mut Reader<'_>) -> Result<Name, DerError> {
        let (mut seq, encoded) = r.nested_tlv(tag::SEQUENCE)?;
        let der = encoded.to_vec();
        let mut rdns = Vec::new();
        while !seq.is_empty() {
            let mut set = seq.nested(tag::SET)?;
            let mut rdn = Vec::new();
            while !set.is_empty() {
                let mut atv = set.sequence()?;
                let oid = atv.oid()?;
                let value = atv.read_any()?;
                atv.finish()?;
                rdn.push(Attribute {
                    oid: oid.as_bytes().to_vec(),
                    text: decode_string(value.tag, value.value)?,
                    raw_value: value.encoded.to_vec(),
                });
            }
            if rdn.is_empty() {
                // RFC 5280: SET SIZE (1..MAX).
                return Err(DerError::Truncated);
            }
            rdns.push(rdn);
        }
        let canonical = rdns.iter().map(|rdn| canonical_rdn(rdn)).collect();
        Ok(Name {
            rdns,
            der,
            canonical,
        })
    }

    /// A Name from exactly the bytes `der` (one SEQUENCE TLV, nothing after it), as a TLS
    /// CertificateRequest lists them (RFC 5246 7.4.4).
    pub fn from_der(der: &[u8]) -> Result<Name, DerError> {
        let mut r = Reader::new(der);
        let name = Name::read(&mut r)?;
        r.finish()?;
        Ok(name)
    }

    /// Is this the same name as `other` by RFC 5280 7.1 (see the module documentation): what an
    /// issuer field must be to name a subject.
    pub fn matches(&self, other: &Name) -> bool {
        self.canonical == other.canonical
    }

    /// Is this name in the directory subtree `base` (RFC 5280 4.2.1.10): do its first RDNs match,
    /// by [`Name::matches`]' rules, all those of `base`? (`O=Corp, CN=www` is within `O=Corp`.)
    pub fn is_within(&self, base: &Name) -> bool {
        self.canonical.starts_with(&base.canonical)
    }

    /// A name with a single common name, e.g. `CN=localhost`.
    pub fn common_name(cn: &str) -> Name {
        Name::from_attributes(&[(oid::COMMON_NAME, cn)])
    }

    /// A name of one attribute per RDN, in the given (encoded, most general first) order. Values
    /// are written as UTF8String, as RFC 5280 4.1.2.4 asks of new certificates.
    pub fn from_attributes(attrs: &[(Oid<'static>, &str)]) -> Name {
        let der = Writer::build(|w| {
            w.sequence(|w| {
                for (oid, value) in attrs {
                    w.set(|w| {
                        w.sequence(|w| {
                            w.oid(*oid);
                            w.utf8_string(value);
                        })
                    })
                }
            })
        });
        Name::read(&mut Reader::new(&der)).expect("a name we just encoded parses")
    }

    /// The exact DER encoding (what chains are linked by).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The relative distinguished names in encoded order.
    pub fn rdns(&self) -> &[Vec<Attribute>] {
        &self.rdns
    }

    /// The last (most specific) common name, if any.
    pub fn common_name_value(&self) -> Option<&str> {
        self.rdns
            .iter()
            .flatten()
            .rev()
            .find(|a| a.oid == oid::COMMON_NAME.as_bytes())
            .and_then(|a| a.text.as_deref())
    }
}

/// The white space of RFC 4518 2.2 (mapped to SPACE before insignificant space handling).
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r')
}

/// A string value as it is compared: white space trimmed and folded, ASCII letters lower-cased.
fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split(is_space).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
    }
    out
}

/// The form one RDN is compared by: its attributes sorted, each as its OID and its folded text
/// (or, for a value that is not a string, its encoding), every part length-prefixed so that no
/// two different RDNs share a form.
fn canonical_rdn(rdn: &[Attribute]) -> Vec<u8> {
    fn put(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    let mut attrs: Vec<(&[u8], u8, Vec<u8>)> = rdn
        .iter()
        .map(|a| match &a.text {
            Some(text) => (a.oid.as_slice(), 0, fold(text).into_bytes()),
            None => (a.oid.as_slice(), 1, a.raw_value.clone()),
        })
        .collect();
    attrs.sort();
    let mut out = Vec::new();
    for (oid, kind, value) in attrs {
        put(&mut out, oid);
        out.push(kind);
        put(&mut out, &value);
    }
    out
}

/// Decodes the string types allowed in names (RFC 5280 4.1.2.4 DirectoryString, plus IA5String
/// used by emailAddress and domainComponent). Other types give `None` and are printed in hex.
fn decode_string(t: u8, v: &[u8]) -> Result<Option<String>, DerError> {
    let s = match t {
        tag::UTF8_STRING => String::from_utf8(v.to_vec()).map_err(|_| DerError::BadString)?,
        tag::PRINTABLE_STRING | tag::IA5_STRING => {
            if !v.is_ascii() {
                return Err(DerError::BadString);
            }
            v.iter().map(|&b| b as char).collect()
        }
        // T.61 is treated as Latin-1, as most software does.
        tag::TELETEX_STRING => v.iter().map(|&b| b as char).collect(),
        tag::BMP_STRING => {
            if !v.len().is_multiple_of(2) {
                return Err(DerError::BadString);
            }
            let units = v.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .map_err(|_| DerError::BadString)?
        }
        tag::UNIVERSAL_STRING => {
            if !v.len().is_multiple_of(4) {
                return Err(DerError::BadString);
            }
            v.chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect::<Option<String>>()
                .ok_or(DerError::BadString)?
        }
        _ => return Ok(None),
    };
    Ok(Some(s))
}

/// Writes a value with RFC 4514 2.4 escaping: `\` before `, + " \ < > ;`, before a leading `#` or
/// space and a trailing space, and control characters as `\XX`.
fn write_escaped(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    let n = s.chars().count();
    for (i, c) in s.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i + 1 == n && c == ' ');
        if special {
            write!(f, "\\{c}")?;
        } else if c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                write!(f, "\\{b:02X}")?;
            }
        } else {
            write!(f, "{c}")?;
        }
    }
    Ok(())
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, rdn) in self.rdns.iter().rev().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            for (j, attr) in rdn.iter().enumerate() {
                if j > 0 {
                    f.write_str(" + ")?;
                }
                // The OID was validated when the name was read.
                match Oid::from_value(&attr.oid) {
                    Ok(o) => f.write_str(&oid::describe(o))?,
                    Err(_) => f.write_str("?")?,
                }
                f.write_str("=")?;
                match &attr.text {
                    Some(text) => write_escaped(f, text)?,
                    None => {
                        f.write_str("#")?;
                        for b in &attr.raw_value {
                            write!(f, "{b:02x}")?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_most_specific_first() {
        let name = Name::from_attributes(&[
            (oid::COUNTRY, "US"),
            (oid::ORGANIZATION, "Example, Inc."),
            (oid::COMMON_NAME, "localhost"),
        ]);
        assert_eq!(name.to_string(), "CN=localhost, O=Example\\, Inc., C=US");
        assert_eq!(name.common_name_value(), Some("localhost"));
        // Re-reading the encoding gives the same name.
        let again = Name::read(&mut Reader::new(name.der())).unwrap();
        assert_eq!(again, name);
    }

    #[test]
    fn empty_name_and_unknown_value_types() {
        let empty = Name::read(&mut Reader::new(&[0x30, 0x00])).unwrap();
        assert_eq!(empty.to_string(), "");
        assert_eq!(empty.common_name_value(), None);
        // CN as an OCTET STRING: printed as hex.
        let der = [
            0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x04, 0x01, 0x41,
        ];
        let name = Name::read(&mut Reader::new(&der)).unwrap();
        assert_eq!(name.to_string(), "CN=#040141");
    }

    #[test]
    fn rejects_bad_strings_and_empty_rdns() {
        // PrintableString with a non-ASCII byte.
        let der = [
            0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x01, 0xe9,
        ];
        assert_eq!(
            Name::read(&mut Reader::new(&der)).unwrap_err(),
            DerError::BadString
        );
        // An empty SET.
        assert!(Name::read(&mut Reader::new(&[0x30, 0x02, 0x31, 0x00])).is_err());
    }

    /// A name of one RDN per (type, tag, value), in this order.
    fn encoded(rdns: &[&[(Oid<'static>, u8, &str)]]) -> Name {
        let der = Writer::build(|w| {
            w.sequence(|w| {
                for rdn in rdns {
                    w.set(|w| {
                        for (oid, t, value) in *rdn {
                            w.sequence(|w| {
                                w.oid(*oid);
                                w.primitive(*t, value.as_bytes());
                            })
                        }
                    })
                }
            })
        });
        Name::read(&mut Reader::new(&der)).unwrap()
    }

    #[test]
    fn names_match_the_rfc_5280_way() {
        let cn = |t, v| encoded(&[&[(oid::COMMON_NAME, t, v)]]);
        let utf8 = tag::UTF8_STRING;
        let printable = tag::PRINTABLE_STRING;
        let base = cn(printable, "Test Root");
        // String type, ASCII case, and insignificant white space do not matter.
        for same in [
            cn(utf8, "Test Root"),
            cn(utf8, "test root"),
            cn(printable, "TEST ROOT"),
            cn(utf8, "  Test \t  Root\n"),
            cn(tag::IA5_STRING, "test  root"),
            cn(tag::BMP_STRING, "\0T\0e\0s\0t\0 \0R\0o\0o\0t"),
        ] {
            assert!(base.matches(&same), "{same}");
            assert!(same.matches(&base), "{same}");
        }
        // The words themselves do.
        for other in [
            cn(utf8, "TestRoot"),
            cn(utf8, "Test Roots"),
            cn(utf8, "Test-Root"),
            encoded(&[&[(oid::ORGANIZATION, utf8, "Test Root")]]),
            encoded(&[&[
                (oid::COMMON_NAME, utf8, "Test"),
                (oid::ORGANIZATION, utf8, "Root"),
            ]]),
        ] {
            assert!(!base.matches(&other), "{other}");
        }
        // Non-ASCII letters compare exactly (no Unicode case folding, as OpenSSL).
        assert!(!cn(utf8, "École").matches(&cn(utf8, "école")));
        assert!(cn(utf8, "École").matches(&cn(utf8, " École ")));
        // Within an RDN the order of attributes does not matter; the order of RDNs does.
        let (c, o) = (
            (oid::COMMON_NAME, utf8, "a"),
            (oid::ORGANIZATION, utf8, "b"),
        );
        assert!(encoded(&[&[c, o]]).matches(&encoded(&[&[o, c]])));
        assert!(!encoded(&[&[c], &[o]]).matches(&encoded(&[&[o], &[c]])));
        assert!(!encoded(&[&[c], &[o]]).matches(&encoded(&[&[c, o]])));
        // A value that is not a string compares by its encoding.
        let octets = |v| encoded(&[&[(oid::COMMON_NAME, tag::OCTET_STRING, v)]]);
        assert!(octets("A").matches(&octets("A")));
        assert!(!octets("A").matches(&octets("a")));
        assert!(!octets("A").matches(&cn(utf8, "A")));
        // Subtrees: the first RDNs.
        let (co, cn_) = (
            (oid::ORGANIZATION, utf8, "Corp"),
            (oid::COMMON_NAME, utf8, "www"),
        );
        let corp = encoded(&[&[co]]);
        assert!(encoded(&[&[co], &[cn_]]).is_within(&corp));
        assert!(encoded(&[&[(oid::ORGANIZATION, printable, "CORP ")], &[cn_]]).is_within(&corp));
        assert!(corp.is_within(&corp));
        assert!(!encoded(&[&[cn_], &[co]]).is_within(&corp));
        assert!(!encoded(&[&[(oid::ORGANIZATION, utf8, "Corporate")]]).is_within(&corp));
        assert!(!corp.is_within(&encoded(&[&[co], &[cn_]])));
        // The empty name matches only itself.
        let empty = Name::read(&mut Reader::new(&[0x30, 0x00])).unwrap();
        assert!(empty.matches(&empty.clone()));
        assert!(!empty.matches(&base));
    }

    #[test]
    fn bmp_string() {
        // CN as BMPString "é".
        let der = [
            0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x1e, 0x02, 0x00,
            0xe9,
        ];
        let name = Name::read(&mut Reader::new(&der)).unwrap();
        assert_eq!(name.to_string(), "CN=é");
    }
}
