//! The bundled scenario library (`www/scenarios/*.json`), embedded in the app so the picker works
//! offline and a document is never fetched at run time.

use broker_core::scenario::document::Document;

/// `(id, document text)`: the file stem and the JSON, in the library's (tutorial) order.
pub const BUNDLED: &[(&str, &str)] = &[
    ("01-hello-world", include_str!("../www/scenarios/01-hello-world.json")),
    ("02-work-queues", include_str!("../www/scenarios/02-work-queues.json")),
    ("03-publish-subscribe", include_str!("../www/scenarios/03-publish-subscribe.json")),
    ("04-routing", include_str!("../www/scenarios/04-routing.json")),
    ("05-topics", include_str!("../www/scenarios/05-topics.json")),
    ("06-rpc", include_str!("../www/scenarios/06-rpc.json")),
    ("07-publisher-confirms", include_str!("../www/scenarios/07-publisher-confirms.json")),
    ("08-retry-with-dlx", include_str!("../www/scenarios/08-retry-with-dlx.json")),
    ("09-poison-message", include_str!("../www/scenarios/09-poison-message.json")),
    ("10-priority-queue", include_str!("../www/scenarios/10-priority-queue.json")),
    ("11-slow-consumer-backlog", include_str!("../www/scenarios/11-slow-consumer-backlog.json")),
    ("12-stream-replay", include_str!("../www/scenarios/12-stream-replay.json")),
];

/// A picker entry: the document's own name and description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioEntry {
    pub id: &'static str,
    pub name: String,
    pub description: String,
}

/// The document text of a bundled scenario.
pub fn bundled_text(id: &str) -> Option<&'static str> {
    BUNDLED.iter().find(|(i, _)| *i == id).map(|(_, text)| *text)
}

/// The picker's entries. A document that does not parse (a bug the library test catches) is still
/// listed, under its file name, so choosing it shows the parser's error rather than hiding it.
pub fn catalogue() -> Vec<ScenarioEntry> {
    BUNDLED
        .iter()
        .map(|(id, text)| match Document::parse(text) {
            Ok(d) => ScenarioEntry { id, name: d.name, description: d.description },
            Err(e) => ScenarioEntry { id, name: id.to_string(), description: e.to_string() },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_document_is_listed_with_its_own_name() {
        let on_disk = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/www/scenarios"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "json"))
            .count();
        let entries = catalogue();
        assert_eq!(entries.len(), on_disk, "a new file in www/scenarios must be added to BUNDLED");
        let work = entries.iter().find(|e| e.id == "02-work-queues").unwrap();
        assert_eq!(work.name, "2. Work queues");
        assert!(work.description.starts_with("RabbitMQ tutorial 2"));
        assert!(bundled_text("nope").is_none());
    }
}
