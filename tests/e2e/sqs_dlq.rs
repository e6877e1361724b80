//! The SQS page's dead-letter queue edge in the browser, at 1280×720 and 1920×1080: the dead-letter
//! tutorial played with the keyboard to 39 s, when the malformed payment has reached payments-dlq. The
//! edge's label ("> 3 receives · moved 1") is drawn whole: clear of every queue's box, and inside the
//! graph's SVG and every pane around it that clips (an SVG clips what lies outside it). Screenshots: `artifacts/e2e-sqs-dlq-*.png`.

use crate::harness::*;
use serde_json::json;

fn dlq_at(width: i64, height: i64) {
    let b = Browser::open_sized("/?model=sqs&doc=dead-letter-queue-and-redrive", width, height);
    let page = &b.page;
    page.wait_text("#sqs-clock", "0.000 s / 60.000 s");
    blur(page);
    keys(page, &[KEY_RIGHT; 39]);
    page.wait_text("#sqs-clock", "39.000 s / 60.000 s");
    let link = page.wait_text(".sqs-dlq-link", "> 3 receives · moved 1");
    assert!(link.contains("> 3 receives · moved 1"), "{link}");
    page.execute("document.querySelector('#sqs-graph').scrollIntoView({block: 'center'});", json!([]));

    // The label's box against every queue's box and against the SVG that clips it, in page pixels.
    let geometry = page.execute(
        "const r = e => { const b = e.getBoundingClientRect();
                          return {left: b.left, right: b.right, top: b.top, bottom: b.bottom}; };
         const label = document.querySelector('.sqs-dlq-link text');
         const clips = [];
         for (let a = label.ownerSVGElement; a && a !== document.documentElement; a = a.parentElement) {
           const s = getComputedStyle(a);
           if (a.tagName.toLowerCase() === 'svg' || s.overflowX !== 'visible' || s.overflowY !== 'visible')
             clips.push(r(a));
         }
         return {label: r(label), clips,
                 boxes: [...document.querySelectorAll('.sqs-node rect')].map(r)};",
        json!([]),
    );
    let side = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let label = &geometry["label"];
    let (l, r, t, bottom) =
        (side(label, "left"), side(label, "right"), side(label, "top"), side(label, "bottom"));
    assert!(r - l > 20.0, "the label is laid out: {geometry}");
    // Whole inside the SVG and every pane around it that clips (a half-pixel of rounding allowed).
    for c in geometry["clips"].as_array().expect("clipping boxes") {
        assert!(
            l >= side(c, "left") - 0.5
                && r <= side(c, "right") + 0.5
                && t >= side(c, "top") - 0.5
                && bottom <= side(c, "bottom") + 0.5,
            "the label is clipped: {geometry}"
        );
    }
    let boxes = geometry["boxes"].as_array().expect("queue boxes");
    assert!(boxes.len() >= 2, "{geometry}");
    for b in boxes {
        let apart = r <= side(b, "left")
            || side(b, "right") <= l
            || bottom <= side(b, "top")
            || side(b, "bottom") <= t;
        assert!(apart, "the label overlaps a queue's box: {geometry}");
    }
    page.assert_in_view(".sqs-dlq-link text", "the DLQ edge's label");
    page.screenshot(&format!("e2e-sqs-dlq-{width}x{height}.png"));
    assert!(page.console_errors().is_empty(), "{:?}", page.console_errors());
}

#[test]
fn sqs_dlq_edge_at_1280x720() {
    dlq_at(1280, 720);
}

#[test]
fn sqs_dlq_edge_at_1920x1080() {
    dlq_at(1920, 1080);
}
