//! A newcomer's first minutes at laptop size (1280×720), with real clicks and key presses: the start card
//! lists the tutorials and opens one; the example opens in a fresh broker; the picker, the peek list and
//! the "run to" field follow what is loaded; a mandatory publish nobody takes says 312 NO_ROUTE; deleting
//! a workspace can be undone; Import opens each file the app writes and says which it found; a share link
//! opened in a tab where the app already runs loads it. Screenshots: `artifacts/start-card-1280.png`,
//! `start-card-1920.png`, `start-imported.png`.

use crate::harness::*;
use serde_json::{json, Value};

fn resize(page: &Page, width: u32, height: u32) {
    post(&format!("{}/window/rect", page.s), json!({"width": width, "height": height}));
}

fn value_of(page: &Page, css: &str) -> Value {
    page.execute("return document.querySelector(arguments[0]).value;", json!([css]))
}

fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    for _ in 0..200 {
        if ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("never happened: {what}");
}

/// Whether the element's box lies inside the viewport.
fn in_viewport(page: &Page, css: &str) -> bool {
    page.execute(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();
         return r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth;",
        json!([css]),
    ) == json!(true)
}

/// Chooses a file in the workspace bar's Import (WebDriver types the path into the file input).
fn import(page: &Page, path: &std::path::Path) {
    let id = page.find("#ws-import");
    post(&format!("{}/element/{id}/value", page.s), json!({"text": path.display().to_string()}));
}

#[test]
fn a_newcomer_starts_from_the_card_and_nothing_on_the_page_goes_stale() {
    let browser = Browser::open("/?db=start-card");
    let page = &browser.page;
    resize(page, 1280, 720);
    page.wait_text("#ws-status", "Saved automatically");
    assert_eq!(page.text("#ws-status"), "Saved automatically", "no developer counter in the bar");

    // The start card: the tutorials by their titles, one click opens one.
    let card = page.wait_text("#start-card", "Where to begin");
    for title in
        ["1. Hello World", "2. Work queues", "7. Publisher confirms", "Retry with a dead-letter exchange"]
    {
        assert!(card.contains(title), "the card lists '{title}': {card}");
    }
    assert!(card.contains("Start with an empty broker"), "{card}");
    assert!(in_viewport(page, "#start-02-work-queues"), "the second tutorial is in view at 1280×720");
    assert!(in_viewport(page, "#tab-queues"), "the tabs stay reachable beside the card");
    page.screenshot("start-card-1280.png");
    resize(page, 1920, 1080);
    page.screenshot("start-card-1920.png");
    resize(page, 1280, 720);

    page.click("#start-02-work-queues");
    page.wait_text("#notice", "Loaded scenario '2. Work queues'");
    assert!(page.try_find("#start-card").is_none(), "the card makes way for the run");
    assert_eq!(value_of(page, "#scenario"), json!("02-work-queues"), "the picker names the run");

    // "Run to" typed for this run is cleared when another run replaces it.
    page.type_into("#ff-target", "5s");
    assert_eq!(value_of(page, "#ff-target"), json!("5s"));

    // The example: a fresh broker, not mixed into the run.
    page.click("#start");
    page.wait_text("#start-card", "Where to begin");
    page.click("#start-example");
    page.wait_text("#notice", "Loaded the example in a fresh broker");
    assert_eq!(value_of(page, "#scenario"), json!(""), "the picker no longer names the tutorial");
    assert_eq!(value_of(page, "#ff-target"), json!(""), "the run-to field of the old run is gone");
    page.wait_text("#topology", "orders.eu");
    assert!(!page.text("#topology").contains("task_queue"), "nothing of the tutorial stays");

    // Peek, then publish: the list follows the queue.
    page.click("#tab-messages");
    page.click("#get-queue option[value='orders.eu']");
    page.click("#peek");
    page.wait_text("#notice", "Queue 'orders.eu' holds 2 ready messages");
    assert_eq!(
        page.execute("return document.querySelectorAll('#peek-list li').length;", json!([])),
        json!(2)
    );
    page.type_into("#publish-exchange", "orders");
    page.type_into("#publish-key", "order.eu.shipped");
    page.type_into("#publish-body", "third");
    page.click("#publish");
    page.wait_text("#notice", "Published");
    wait_until("the peek list shows the new message", || {
        page.execute("return document.querySelectorAll('#peek-list li').length;", json!([])) == json!(3)
    });

    // A mandatory publish nobody takes: 312 NO_ROUTE where it was published. ('orders' would pass it on
    // to 'audit', which takes everything: amq.direct has no binding for the key.)
    page.type_into("#publish-exchange", "amq.direct");
    page.type_into("#publish-key", "nowhere.at.all");
    page.click("#publish-form input[type='checkbox']:not(#publish-persistent)");
    page.click("#publish");
    let returned = page.wait_text("#notice", "312 NO_ROUTE");
    assert!(returned.contains("exchange 'amq.direct' with routing key 'nowhere.at.all'"), "{returned}");

    // Deleting the workspace can be undone.
    page.click("#ws-rename");
    page.type_into("#ws-name", "Orders demo");
    page.click("#ws-rename-ok");
    page.wait_text("#ws-select", "Orders demo");
    page.click("#ws-delete");
    page.wait_text("#notice", "Deleted workspace 'Orders demo'");
    page.click("#ws-undo-delete");
    page.wait_text("#notice", "Restored workspace 'Orders demo'");
    page.wait_text("#topology", "orders.eu");

    // A hand-built broker gets a producer and a consumer from the graph pane's forms, typed key by key.
    page.click("#start");
    page.click("#start-empty");
    page.wait_text("#notice", "An empty broker");
    page.click("#tab-queues");
    page.type_into("#queue-name", "jobs");
    page.click("#queue-declare");
    page.wait_text("#notice", "Declared: queue 'jobs' (0 messages, 0 consumers)");
    page.click("#add-producer");
    page.type_into("#producer-key", "jobs");
    page.type_into("#producer-rate", "5");
    page.type_into("#producer-body", "job {seq}");
    assert_eq!(value_of(page, "#producer-key"), json!("jobs"), "every key in one field");
    assert!(in_viewport(page, "#producer-add"), "the form's button is in view at 1280×720");
    page.screenshot("start-actors-1280.png");
    page.click("#producer-add");
    page.wait_text("#notice", "Added producer 'producer-1'");
    page.click("#add-consumer");
    page.type_into("#consumer-processing", "100");
    page.click("#consumer-add");
    page.wait_text("#notice", "Added consumer 'consumer-1'");
    page.click("#speed option[value='10']");
    page.click("#play");
    page.wait_text("#topology", "consumer-1");
    wait_until("the consumer acknowledges jobs", || {
        page.text("tr[data-queue='jobs'] td.acked").parse::<u32>().is_ok_and(|n| n >= 3)
    });
    page.click("#play");
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}

#[test]
fn import_opens_every_file_the_app_writes_and_a_shared_link_opens_in_a_running_tab() {
    let browser = Browser::open("/?db=start-import");
    let page = &browser.page;
    resize(page, 1280, 720);
    page.wait_text("#ws-status", "Saved automatically");
    let dir = std::env::temp_dir().join(format!("brokerlab-start-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // A scenario document (a bundled tutorial, as a user saves it from the repository).
    let scenario = dir.join("hello.json");
    let text = std::fs::read_to_string(repo_root().join("www/scenarios/01-hello-world.json")).unwrap();
    std::fs::write(&scenario, text).unwrap();
    import(page, &scenario);
    page.wait_text("#notice", "Found a scenario document '1. Hello World' in 'hello.json'");
    assert_eq!(value_of(page, "#scenario"), json!("01-hello-world"));

    // A definitions.json, as RabbitMQ's management UI exports it.
    let definitions = dir.join("definitions.json");
    std::fs::write(
        &definitions,
        r#"{"rabbit_version": "3.10.0", "queues": [{"name": "imported.q", "vhost": "/", "durable": true,
            "auto_delete": false, "arguments": {}}], "exchanges": [], "bindings": []}"#,
    )
    .unwrap();
    import(page, &definitions);
    page.wait_text("#notice", "Found a RabbitMQ definitions.json in 'definitions.json'");
    page.wait_text("#topology", "imported.q");
    page.screenshot("start-imported.png");

    // Something else: refused, saying what Import opens.
    let other = dir.join("package.json");
    std::fs::write(&other, r#"{"name": "left-pad"}"#).unwrap();
    import(page, &other);
    let refusal = page.wait_text("#notice", "was not imported");
    assert!(refusal.contains("a scenario document"), "{refusal}");

    // Share this hand-built workspace; open the link in this same tab (only the fragment changes).
    page.click("#ws-share");
    page.find("#ws-copy-link");
    let link = value_of(page, "#ws-permalink").as_str().expect("a link").to_string();
    let fragment = link.split_once('#').expect("a fragment").1.to_string();
    assert!(fragment.starts_with("workspace="), "{fragment}");
    page.click("#start");
    page.click("#start-empty");
    page.wait_text("#notice", "An empty broker");
    page.execute("location.hash = arguments[0];", json!([fragment]));
    page.wait_text("#notice", "Opened workspace 'Shared: Imported definitions'");
    page.wait_text("#topology", "imported.q");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}
