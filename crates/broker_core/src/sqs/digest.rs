//! The digests SQS computes: MD5 (RFC 1321) of a message body and of its message attributes as the SQS
//! Developer Guide's "Calculating the MD5 message digest for message attributes" describes, and SHA-256
//! (FIPS 180-4) of a body for content-based deduplication.
//!
//! The hash functions are RustCrypto's `md-5` and `sha2` crates (pure Rust, built without `std` features,
//! so they compile for wasm32-unknown-unknown); the tests below keep the standards' own vectors (RFC 1321,
//! FIPS 180-4) and the published message-attribute digests. Neither digest is used for security, only
//! to reproduce what SQS returns.

use std::collections::BTreeMap;

use super::types::AttributeValue;

/// MD5 of `data` as lowercase hex (32 characters).
pub fn md5_hex(data: &[u8]) -> String {
    hex(&md5(data))
}

/// SHA-256 of `data` as lowercase hex (64 characters).
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&sha256(data))
}

fn md5(data: &[u8]) -> [u8; 16] {
    use md5::Digest as _;
    md5::Md5::digest(data).into()
}

fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).into()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

/// The MD5 of message attributes as SQS computes it: names in ascending order; for each, the name, the
/// data type (both as a 4-byte big-endian length and UTF-8 bytes), one transport byte (1 for `String` and
/// `Number` types, 2 for `Binary` ones, custom suffixes included) and the value, again length-prefixed.
/// `None` for no attributes (SQS then omits `MD5OfMessageAttributes`).
pub fn md5_of_attributes(attributes: &BTreeMap<String, AttributeValue>) -> Option<String> {
    if attributes.is_empty() {
        return None;
    }
    let mut buf = Vec::new();
    let push = |buf: &mut Vec<u8>, bytes: &[u8]| {
        // Lengths are bounded by the message size (≤ 1 MiB), so they fit in 4 bytes.
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(bytes);
    };
    for (name, value) in attributes {
        push(&mut buf, name.as_bytes());
        push(&mut buf, value.data_type.as_bytes());
        match &value.value {
            super::types::AttributeData::String(s) => {
                buf.push(1);
                push(&mut buf, s.as_bytes());
            }
            super::types::AttributeData::Binary(b) => {
                buf.push(2);
                push(&mut buf, b);
            }
        }
    }
    Some(md5_hex(&buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqs::types::{AttributeData, AttributeValue};

    #[test]
    fn md5_rfc1321_test_suite() {
        // RFC 1321, appendix A.5.
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"a"), "0cc175b9c0f1b6a831c399e269772661");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(md5_hex(b"message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
        assert_eq!(md5_hex(b"abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
        assert_eq!(
            md5_hex(b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }

    #[test]
    fn sha256_fips_180_examples() {
        // FIPS 180-4's examples (NIST CSRC "SHA256.pdf"): one block, two blocks, and the empty string.
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(
            sha256_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    fn string(data_type: &str, value: &str) -> AttributeValue {
        AttributeValue { data_type: data_type.into(), value: AttributeData::String(value.into()) }
    }

    #[test]
    fn md5_of_message_attributes_matches_published_values() {
        // Values published with the npm package `aws-md5-of-message-attributes` (checked against SQS replies).
        let mut one = BTreeMap::new();
        one.insert("attribName1".to_string(), string("String", "attribValue 1"));
        assert_eq!(md5_of_attributes(&one).as_deref(), Some("19e27d4e946b072f3f58da80d94fd778"));
        let mut custom = BTreeMap::new();
        custom.insert(
            "customNumberTypeAttrib".to_string(),
            string("Number.float", "4563442423554324324264524243.32543234"),
        );
        assert_eq!(md5_of_attributes(&custom).as_deref(), Some("9fe1b90bbd9965bdf77bac517c7d2495"));
        let mut binary = BTreeMap::new();
        binary.insert(
            "binaryAttribute".to_string(),
            AttributeValue {
                data_type: "Binary".into(),
                value: AttributeData::Binary(b"Hello binary world!".to_vec()),
            },
        );
        assert_eq!(md5_of_attributes(&binary).as_deref(), Some("31a92b15d92f8db860eda32aceb656c3"));
        let mut all = one.clone();
        all.extend(custom);
        all.extend(binary);
        assert_eq!(md5_of_attributes(&all).as_deref(), Some("c932db14a896c663f83c260297d594ff"));
        assert_eq!(md5_of_attributes(&BTreeMap::new()), None);
    }
}
