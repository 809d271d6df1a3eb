//! Distinguished names: the `issuer` and `subject` of a certificate (RFC 5280 4.1.2.4).
//!
//! ```text
//! Name ::= SEQUENCE OF RelativeDistinguishedName          -- most general first: C, O, ..., CN
//! RelativeDistinguishedName ::= SET OF AttributeTypeAndValue
//! AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY }
//! ```
//!
//! A name is printed the RFC 4514 way, most specific first (`CN=localhost, O=Example, C=US`), which
//! is how people say it. Chains are linked by comparing the encoded bytes of one certificate's
//! issuer with the next one's subject: toytls' own certificates and OpenSSL's copy the issuer name
//! byte for byte, and exact comparison leaves no room for two names that print alike to match.

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

/// A distinguished name: its RDNs in encoded order, and its exact DER encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    rdns: Vec<Vec<Attribute>>,
    der: Vec<u8>,
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
        Ok(Name { rdns, der })
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
