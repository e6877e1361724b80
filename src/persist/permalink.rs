//! Permalinks: a scenario document deflated and base64url-encoded into the URL fragment
//! (`#scenario=…`), so sharing needs no server. Opening one is hostile input: the fragment and the
//! inflated text are bounded (a decompression bomb stops at the limit), the text must be UTF-8 and a
//! scenario the engine accepts; every failure is a sentence for the user and nothing is run.

use miniz_oxide::deflate::compress_to_vec;
use miniz_oxide::inflate::{decompress_to_vec_with_limit, DecompressError, TINFLStatus};

/// The fragment key of a scenario link.
pub const PREFIX: &str = "scenario=";
/// The fragment key of a workspace link: the whole workspace document (a scenario and its moment, or a
/// hand-built broker's durable state), as the Share button makes it.
pub const WORKSPACE_PREFIX: &str = "workspace=";

/// What a link carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Link {
    /// A scenario document (JSON text).
    Scenario(String),
    /// A workspace document (JSON text, read with `WorkspaceDoc::from_json`).
    Workspace(String),
}

/// The fragment (without `#`) for a workspace document; a workspace too large for a link is refused
/// with what to do instead.
pub fn encode_workspace(workspace_json: &str) -> Result<String, String> {
    let payload = base64url_encode(&compress_to_vec(workspace_json.as_bytes(), 9));
    if payload.len() > MAX_FRAGMENT_CHARS || workspace_json.len() > MAX_DOCUMENT_BYTES {
        return Err(format!(
            "This workspace is too large for a link ({} characters compressed; at most {MAX_FRAGMENT_CHARS}): \
             export it as a file instead",
            payload.len()
        ));
    }
    Ok(format!("{WORKSPACE_PREFIX}{payload}"))
}

/// The scenario or workspace a fragment carries (with or without `#`). `Ok(None)`: not a link.
pub fn decode_link(fragment: &str) -> Result<Option<Link>, String> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    if let Some(payload) = fragment.strip_prefix(WORKSPACE_PREFIX) {
        // The same bounds and messages as a scenario link: only the key differs.
        return decode(&format!("{PREFIX}{payload}")).map(|text| text.map(Link::Workspace));
    }
    decode(fragment).map(|text| text.map(Link::Scenario))
}
/// The longest fragment accepted (characters); browsers keep far longer URLs, but no scenario needs more.
pub const MAX_FRAGMENT_CHARS: usize = 256 * 1024;
/// The largest inflated document accepted (bytes).
pub const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// The fragment (without `#`) for a scenario document.
pub fn encode(document: &str) -> String {
    format!("{PREFIX}{}", base64url_encode(&compress_to_vec(document.as_bytes(), 9)))
}

/// The scenario document carried by a fragment (with or without `#`). `Ok(None)`: not a permalink.
pub fn decode(fragment: &str) -> Result<Option<String>, String> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    let Some(payload) = fragment.strip_prefix(PREFIX) else { return Ok(None) };
    if payload.len() > MAX_FRAGMENT_CHARS {
        return Err(format!(
            "This link is too long ({} characters; at most {MAX_FRAGMENT_CHARS} are accepted). Nothing was loaded.",
            payload.len()
        ));
    }
    let bytes = base64url_decode(payload)
        .ok_or("This link is malformed (its scenario is not valid base64url). Nothing was loaded.")?;
    let text = decompress_to_vec_with_limit(&bytes, MAX_DOCUMENT_BYTES).map_err(|e: DecompressError| {
        match e.status {
            TINFLStatus::HasMoreOutput => format!(
                "This link's scenario inflates to more than {MAX_DOCUMENT_BYTES} bytes (a decompression bomb?). \
                 Nothing was loaded."
            ),
            TINFLStatus::FailedCannotMakeProgress => {
                "This link is truncated (its compressed scenario ends early). Nothing was loaded.".to_string()
            }
            _ => "This link is malformed (its scenario is not valid compressed data). Nothing was loaded.".to_string(),
        }
    })?;
    let text =
        String::from_utf8(text).map_err(|_| "This link's scenario is not UTF-8 text. Nothing was loaded.")?;
    Ok(Some(text))
}

fn base64url_encode(bytes: &[u8]) -> String {
    broker_core::amqp::durable::base64_encode(bytes)
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect()
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    if text.bytes().any(|b| b == b'+' || b == b'/' || b == b'=') {
        return None;
    }
    // A link cut at any character: a lone last character carries no whole byte, so it goes, and the
    // inflater then reports the truncation.
    let text = if text.len() % 4 == 1 { &text[..text.len() - 1] } else { text };
    let mut standard: String = text
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while standard.len() % 4 != 0 {
        standard.push('=');
    }
    broker_core::amqp::durable::base64_decode(&standard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workspace_link_round_trips_and_a_scenario_link_still_opens() {
        let json = r#"{"format":1,"name":"Demo","virtual_millis":1500}"#;
        let fragment = encode_workspace(json).unwrap();
        assert!(fragment.starts_with("workspace="));
        assert_eq!(decode_link(&format!("#{fragment}")), Ok(Some(Link::Workspace(json.to_string()))));
        let scenario = encode("{\"brokerlab\": 2}");
        assert_eq!(decode_link(&scenario), Ok(Some(Link::Scenario("{\"brokerlab\": 2}".to_string()))));
        assert_eq!(decode_link("#queues"), Ok(None));
        assert!(decode_link("#workspace=!!!!").unwrap_err().contains("malformed"));
    }

    #[test]
    fn a_scenario_round_trips_through_the_fragment() {
        let doc = r#"{"format":2,"name":"<script>alert(1)</script>"}"#;
        let fragment = encode(doc);
        assert!(fragment.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=".contains(&b)), "{fragment}");
        assert_eq!(decode(&format!("#{fragment}")), Ok(Some(doc.to_string())));
        assert_eq!(decode("#other"), Ok(None));
    }

    #[test]
    fn hostile_links_are_refused_with_a_reason() {
        let err = |f: &str| decode(f).unwrap_err();
        assert!(err("#scenario=%%%").contains("malformed"));
        let full = encode(&"{\"name\":\"x\"}".repeat(50));
        for cut in [1, 2, 3, 4, 9] {
            let cut = &full[..full.len() - cut];
            assert!(err(cut).contains("truncated"), "{}", err(cut));
        }
        let bomb = format!("{PREFIX}{}", base64url_encode(&compress_to_vec(&vec![b' '; 8 * 1024 * 1024], 9)));
        assert!(bomb.len() < 40_000, "a small link");
        assert!(err(&bomb).contains("decompression bomb"));
        let long = format!("{PREFIX}{}", "A".repeat(MAX_FRAGMENT_CHARS + 1));
        assert!(err(&long).contains("too long"));
        let latin1 = format!("{PREFIX}{}", base64url_encode(&compress_to_vec(&[0xff, 0xfe], 9)));
        assert!(err(&latin1).contains("not UTF-8"));
    }
}
