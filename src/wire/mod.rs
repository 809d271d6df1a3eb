//! The bytes on the wire (RFC 5246 4, 7.2, 7.4): the codec every message goes through, the alert
//! codes, and every TLS message as a plain struct with `encode`/`decode`.
//!
//! - [`codec`]: the bounds-checked [`codec::Reader`] and the length-prefixing [`codec::Writer`].
//! - [`alert`]: alert levels and descriptions (RFC 5246 7.2), the codes every error maps to.
//! - [`messages`]: the handshake messages, their 4-byte header, and the small protocols beside
//!   them (Alert and ChangeCipherSpec).
//!
//! Each code space of the protocol (content types, handshake types, extension types, cipher
//! suites, alerts) is declared once, each value beside its name as the RFC spells it, with
//! `code_space!`; errors, traces and the demo take their names from there.

pub mod alert;
pub mod codec;
pub mod messages;

/// Declares one code space of the protocol, each value once with its name.
///
/// Two forms:
///
/// - `enum`: a closed set that the code matches on (content types, handshake types). Makes the
///   enum, `from_code` (the value on the wire, if it is one of ours), `code` and `name`.
/// - `const`: an open set whose values travel as plain numbers and may be anything (extension
///   types, cipher suites). Makes one constant per value, and a function naming any value it
///   knows.
macro_rules! code_space {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident: $repr:ty {
            $( $(#[$doc:meta])* $variant:ident = $code:literal, $text:literal; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$doc])* $variant = $code, )*
        }

        impl $name {
            /// The value with this code on the wire, if it is one of this space's.
            pub fn from_code(code: $repr) -> Option<Self> {
                match code {
                    $( $code => Some($name::$variant), )*
                    _ => None,
                }
            }

            /// The code on the wire.
            pub fn code(self) -> $repr {
                self as $repr
            }

            /// The name as the RFC spells it.
            pub fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )*
                }
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis const $names:ident: $ty:ty {
            $( $(#[$doc:meta])* $konst:ident = $code:literal, $text:literal; )*
        }
    ) => {
        $crate::wire::code_space! {
            $(#[$meta])*
            $vis const $names: $ty = std::convert::identity {
                $( $(#[$doc])* $konst = $code, $text; )*
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis const $names:ident: $ty:ty = $make:path {
            $( $(#[$doc:meta])* $konst:ident = $code:literal, $text:literal; )*
        }
    ) => {
        $( $(#[$doc])* $vis const $konst: $ty = $make($code); )*

        $(#[$meta])*
        $vis fn $names(value: $ty) -> Option<&'static str> {
            $( if value == $konst { return Some($text); } )*
            None
        }
    };
}
pub(crate) use code_space;
