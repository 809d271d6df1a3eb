//! The object identifiers toytls knows, as their DER value bytes (X.690 8.19), each with its dotted
//! form and where it is defined. A unit test checks every constant against its dotted form.

use super::der::Oid;

macro_rules! oids {
    ($( $(#[$doc:meta])* $name:ident = [$($b:expr),+], $dotted:expr, $label:expr; )*) => {
        $( $(#[$doc])* pub const $name: Oid<'static> = Oid::from_static(&[$($b),+]); )*

        /// Every known OID with its dotted form and a short human name.
        pub const KNOWN: &[(Oid<'static>, &str, &str)] = &[ $( ($name, $dotted, $label), )* ];
    };
}

oids! {
    /// RFC 8017 A.1: the RSA public key algorithm (with a NULL parameter).
    RSA_ENCRYPTION = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01], "1.2.840.113549.1.1.1", "rsaEncryption";
    /// RFC 8017 A.2.4: RSASSA-PKCS1-v1_5 with MD5 (listed so it can be named when refused).
    MD5_WITH_RSA = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04], "1.2.840.113549.1.1.4", "md5WithRSAEncryption";
    /// RFC 8017 A.2.4: RSASSA-PKCS1-v1_5 with SHA-1 (refused).
    SHA1_WITH_RSA = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05], "1.2.840.113549.1.1.5", "sha1WithRSAEncryption";
    /// RFC 8017 A.2.3: RSASSA-PSS (refused).
    RSASSA_PSS = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a], "1.2.840.113549.1.1.10", "rsassaPss";
    /// RFC 8017 A.2.4: RSASSA-PKCS1-v1_5 with SHA-256: the one signature algorithm toytls uses.
    SHA256_WITH_RSA = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b], "1.2.840.113549.1.1.11", "sha256WithRSAEncryption";
    /// RFC 8017 A.2.4: RSASSA-PKCS1-v1_5 with SHA-384 (refused).
    SHA384_WITH_RSA = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c], "1.2.840.113549.1.1.12", "sha384WithRSAEncryption";
    /// RFC 8017 A.2.4: RSASSA-PKCS1-v1_5 with SHA-512 (refused).
    SHA512_WITH_RSA = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d], "1.2.840.113549.1.1.13", "sha512WithRSAEncryption";
    /// RFC 5480 2.1.1: elliptic-curve public keys (refused: toytls is RSA only).
    EC_PUBLIC_KEY = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01], "1.2.840.10045.2.1", "id-ecPublicKey";
    /// RFC 5758 3.2: ECDSA with SHA-256 (refused).
    ECDSA_WITH_SHA256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02], "1.2.840.10045.4.3.2", "ecdsa-with-SHA256";
    /// RFC 5480 2.1.1.1: the NIST P-256 curve.
    PRIME256V1 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07], "1.2.840.10045.3.1.7", "prime256v1";
    /// RFC 8410 3: Ed25519 (refused).
    ED25519 = [0x2b, 0x65, 0x70], "1.3.101.112", "Ed25519";

    /// X.520 commonName (RFC 5280 A.1).
    COMMON_NAME = [0x55, 0x04, 0x03], "2.5.4.3", "CN";
    /// X.520 serialNumber.
    SERIAL_NUMBER = [0x55, 0x04, 0x05], "2.5.4.5", "serialNumber";
    /// X.520 countryName.
    COUNTRY = [0x55, 0x04, 0x06], "2.5.4.6", "C";
    /// X.520 localityName.
    LOCALITY = [0x55, 0x04, 0x07], "2.5.4.7", "L";
    /// X.520 stateOrProvinceName.
    STATE = [0x55, 0x04, 0x08], "2.5.4.8", "ST";
    /// X.520 organizationName.
    ORGANIZATION = [0x55, 0x04, 0x0a], "2.5.4.10", "O";
    /// X.520 organizationalUnitName.
    ORGANIZATIONAL_UNIT = [0x55, 0x04, 0x0b], "2.5.4.11", "OU";
    /// RFC 4519 domainComponent.
    DOMAIN_COMPONENT = [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19], "0.9.2342.19200300.100.1.25", "DC";
    /// PKCS #9 emailAddress (legacy, RFC 5280 4.1.2.6).
    EMAIL_ADDRESS = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01], "1.2.840.113549.1.9.1", "emailAddress";

    /// RFC 5280 4.2.1.2.
    SUBJECT_KEY_IDENTIFIER = [0x55, 0x1d, 0x0e], "2.5.29.14", "subjectKeyIdentifier";
    /// RFC 5280 4.2.1.3.
    KEY_USAGE = [0x55, 0x1d, 0x0f], "2.5.29.15", "keyUsage";
    /// RFC 5280 4.2.1.6.
    SUBJECT_ALT_NAME = [0x55, 0x1d, 0x11], "2.5.29.17", "subjectAltName";
    /// RFC 5280 4.2.1.9.
    BASIC_CONSTRAINTS = [0x55, 0x1d, 0x13], "2.5.29.19", "basicConstraints";
    /// RFC 5280 4.2.1.10 (DNS, IP and directory subtrees enforced, see `name_constraints`).
    NAME_CONSTRAINTS = [0x55, 0x1d, 0x1e], "2.5.29.30", "nameConstraints";
    /// RFC 5280 4.2.1.1.
    AUTHORITY_KEY_IDENTIFIER = [0x55, 0x1d, 0x23], "2.5.29.35", "authorityKeyIdentifier";
    /// RFC 5280 4.2.1.12.
    EXT_KEY_USAGE = [0x55, 0x1d, 0x25], "2.5.29.37", "extendedKeyUsage";
    /// RFC 5280 4.2.1.12: any purpose.
    ANY_EXTENDED_KEY_USAGE = [0x55, 0x1d, 0x25, 0x00], "2.5.29.37.0", "anyExtendedKeyUsage";
    /// RFC 5280 4.2.1.12: TLS server authentication.
    KP_SERVER_AUTH = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01], "1.3.6.1.5.5.7.3.1", "serverAuth";
    /// RFC 5280 4.2.1.12: TLS client authentication.
    KP_CLIENT_AUTH = [0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02], "1.3.6.1.5.5.7.3.2", "clientAuth";
}

/// A short name for an OID if toytls knows it, else its dotted form.
pub fn describe(oid: Oid<'_>) -> String {
    KNOWN
        .iter()
        .find(|(known, _, _)| *known == oid)
        .map(|(_, _, label)| label.to_string())
        .unwrap_or_else(|| oid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_constant_matches_its_dotted_form() {
        for (oid, dotted, label) in KNOWN {
            assert_eq!(oid.to_string(), *dotted, "{label}");
            // And the bytes are well formed.
            assert!(Oid::from_value(oid.as_bytes()).is_ok(), "{label}");
        }
    }

    #[test]
    fn describe_names_known_and_prints_unknown() {
        assert_eq!(describe(SHA256_WITH_RSA), "sha256WithRSAEncryption");
        let unknown = Oid::from_value(&[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37]).unwrap();
        assert_eq!(describe(unknown), "1.3.6.1.4.1.311");
    }
}
