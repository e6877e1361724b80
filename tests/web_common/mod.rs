//! What the browser tests of the page share: a fresh root element to render the app into, and finding
//! rendered elements by CSS selector (a missing one fails the test with its selector).

#![allow(dead_code)] // each test file uses part of it

use wasm_bindgen::JsCast;

/// A new `<div>` appended to `<body>`, for one rendering of the app.
pub fn root() -> web_sys::Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let div = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&div).unwrap();
    div
}

/// The rendered element matching `css` under `root`.
pub fn find(root: &web_sys::Element, css: &str) -> web_sys::HtmlElement {
    root.query_selector(css)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {css}"))
        .dyn_into::<web_sys::HtmlElement>()
        .unwrap()
}
