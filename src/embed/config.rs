//! What an embed's address asks for (`?embed=1&scenario=…&panels=…&origin=…`): parsed from decoded query
//! pairs, so it is plain Rust and tested natively.

use crate::state::{Theme, SPEEDS};

/// A part of the embedded view an author can choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Panel {
    /// Play / pause / step, the clock, speed and the last outcome.
    Controls,
    /// The topology graph.
    Topology,
    /// A compact queue table with the counters the API reads.
    Queues,
    /// The scenario's checks, live.
    Checks,
    /// The last few events of the log.
    Log,
}

impl Panel {
    pub const ALL: [Panel; 5] = [Panel::Controls, Panel::Topology, Panel::Queues, Panel::Checks, Panel::Log];

    pub fn name(self) -> &'static str {
        match self {
            Panel::Controls => "controls",
            Panel::Topology => "topology",
            Panel::Queues => "queues",
            Panel::Checks => "checks",
            Panel::Log => "log",
        }
    }

    fn from_name(name: &str) -> Option<Panel> {
        Panel::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// The panels shown when the address names none.
pub const DEFAULT_PANELS: [Panel; 3] = [Panel::Controls, Panel::Topology, Panel::Queues];

/// An embed's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbedConfig {
    /// A bundled scenario to load at start.
    pub scenario: Option<String>,
    /// In the author's order, each once.
    pub panels: Vec<Panel>,
    /// Origins whose messages are obeyed (`scheme://host[:port]`, as `MessageEvent.origin` spells them).
    pub allowed_origins: Vec<String>,
    pub theme: Theme,
    pub speed: Option<f64>,
    /// Problems with the address, shown in the embed so the author sees them (nothing fails silently).
    pub warnings: Vec<String>,
}

/// Whether the query asks for embed mode (`embed`, `embed=1` or `embed=true`). index.html's loader
/// (`Trunk.toml`) applies the same rule in JavaScript to choose the embed's module.
pub fn wants_embed(pairs: &[(String, String)]) -> bool {
    pairs.iter().any(|(k, v)| k == "embed" && matches!(v.as_str(), "" | "1" | "true"))
}

/// The origin of a URL, as browsers serialise it: lower-case scheme and host, no default port, no path.
/// Only `http` and `https` (a `file:` or opaque origin cannot be told apart from any other).
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // Credentials are never part of an origin.
    let host_port = authority.rsplit('@').next().unwrap_or("");
    if host_port.is_empty() || host_port.contains(char::is_whitespace) {
        return None;
    }
    let host_port = host_port.to_ascii_lowercase();
    let host_port = match (scheme.as_str(), host_port.rsplit_once(':')) {
        ("http", Some((host, "80"))) | ("https", Some((host, "443"))) => host.to_string(),
        _ => host_port,
    };
    if host_port.ends_with(':') {
        return None;
    }
    Some(format!("{scheme}://{host_port}"))
}

/// Reads the query pairs. `parent_origin` is the embedding page's origin when the browser tells it (the
/// referrer); `own_origin` is the sandbox's. Allowed origins: those of `origin=` (comma-separated, may
/// repeat), else the parent's, else only the sandbox's own.
pub fn from_query(pairs: &[(String, String)], parent_origin: Option<&str>, own_origin: &str) -> EmbedConfig {
    let mut warnings = Vec::new();
    let mut panels = Vec::new();
    let mut allowed_origins = Vec::new();
    let mut scenario = None;
    let mut theme = Theme::System;
    let mut speed = None;
    for (key, value) in pairs {
        match key.as_str() {
            "embed" => {}
            "scenario" if !value.trim().is_empty() => scenario = Some(value.trim().to_string()),
            "panels" => {
                for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    match Panel::from_name(name) {
                        Some(p) if !panels.contains(&p) => panels.push(p),
                        Some(_) => {}
                        None => {
                            let known: Vec<&str> = Panel::ALL.iter().map(|p| p.name()).collect();
                            warnings.push(format!("unknown panel '{name}' (known: {})", known.join(", ")));
                        }
                    }
                }
            }
            "origin" => {
                for o in value.split(',').map(str::trim).filter(|o| !o.is_empty()) {
                    match origin_of(o) {
                        Some(o) if !allowed_origins.contains(&o) => allowed_origins.push(o),
                        Some(_) => {}
                        None => warnings.push(format!("'{o}' is not an http(s) origin; ignored")),
                    }
                }
            }
            "theme" => match value.as_str() {
                "light" => theme = Theme::Light,
                "dark" => theme = Theme::Dark,
                "" | "system" => theme = Theme::System,
                other => warnings.push(format!("unknown theme '{other}' (light, dark, system)")),
            },
            "speed" => match value.parse::<f64>() {
                Ok(s) if SPEEDS.contains(&s) => speed = Some(s),
                _ => warnings.push(format!("speed '{value}' is not one of the offered speeds")),
            },
            _ => {}
        }
    }
    if panels.is_empty() {
        panels = DEFAULT_PANELS.to_vec();
    }
    if allowed_origins.is_empty() {
        allowed_origins.extend(parent_origin.and_then(origin_of).or_else(|| origin_of(own_origin)));
    }
    EmbedConfig { scenario, panels, allowed_origins, theme, speed, warnings }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &[(&str, &str)]) -> Vec<(String, String)> {
        query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn embed_mode_is_asked_for_explicitly() {
        assert!(wants_embed(&pairs(&[("embed", "1")])));
        assert!(wants_embed(&pairs(&[("x", "y"), ("embed", "")])));
        assert!(wants_embed(&pairs(&[("embed", "true")])));
        assert!(!wants_embed(&pairs(&[("embed", "0")])));
        assert!(!wants_embed(&pairs(&[("scenario", "02-work-queues")])));
    }

    #[test]
    fn origins_are_normalised_as_browsers_spell_them() {
        assert_eq!(
            origin_of("http://127.0.0.1:8080/examples/x.html?a#b").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin_of("HTTPS://Docs.Example.com/").as_deref(), Some("https://docs.example.com"));
        assert_eq!(origin_of("https://example.com:443").as_deref(), Some("https://example.com"));
        assert_eq!(origin_of("http://example.com:80/").as_deref(), Some("http://example.com"));
        assert_eq!(origin_of("http://example.com:8443").as_deref(), Some("http://example.com:8443"));
        assert_eq!(origin_of("https://user:pw@example.com/").as_deref(), Some("https://example.com"));
        assert_eq!(origin_of("http://[::1]:9000/").as_deref(), Some("http://[::1]:9000"));
        for bad in
            ["", "example.com", "file:///tmp/x.html", "null", "javascript:alert(1)", "http://", "http://a b"]
        {
            assert_eq!(origin_of(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_address_chooses_scenario_panels_and_origins() {
        let c = from_query(
            &pairs(&[
                ("embed", "1"),
                ("scenario", "02-work-queues"),
                ("panels", "queues, topology,queues,bogus"),
                ("origin", "https://docs.example.com,https://example.org/,nope"),
                ("theme", "dark"),
                ("speed", "10"),
            ]),
            Some("https://other.example"),
            "http://127.0.0.1:8080",
        );
        assert_eq!(c.scenario.as_deref(), Some("02-work-queues"));
        assert_eq!(c.panels, vec![Panel::Queues, Panel::Topology], "the author's order, once each");
        assert_eq!(c.allowed_origins, vec!["https://docs.example.com", "https://example.org"]);
        assert_eq!(c.theme, Theme::Dark);
        assert_eq!(c.speed, Some(10.0));
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        assert!(c.warnings[0].starts_with("unknown panel 'bogus'"), "{:?}", c.warnings);
        assert!(c.warnings[1].starts_with("'nope' is not an http(s) origin"), "{:?}", c.warnings);
    }

    #[test]
    fn without_origin_the_parent_is_trusted_else_only_the_sandbox_itself() {
        let c = from_query(
            &pairs(&[("embed", "1")]),
            Some("https://blog.example/post/1"),
            "http://localhost:8080",
        );
        assert_eq!(c.allowed_origins, vec!["https://blog.example"]);
        assert_eq!(c.panels, DEFAULT_PANELS.to_vec());
        assert_eq!(c.scenario, None);
        let c = from_query(&pairs(&[("embed", "1")]), None, "http://localhost:8080");
        assert_eq!(c.allowed_origins, vec!["http://localhost:8080"]);
        let c = from_query(&pairs(&[("speed", "3.7"), ("theme", "neon")]), None, "http://a");
        assert_eq!((c.speed, c.theme, c.warnings.len()), (None, Theme::System, 2));
    }
}
