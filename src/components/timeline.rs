//! The timeline bar: the run's time axis to scrub back and forth, fast-forward to a time with progress.
//! (Work in progress.)

use yew::prelude::*;

/// The bar under the header.
#[function_component(TimelineBar)]
pub fn timeline_bar() -> Html {
    html! {}
}
