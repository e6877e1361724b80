//! The baseline page of the web benchmark: a blank Yew page (one paragraph) built by the same trunk,
//! wasm-bindgen, wasm-opt and profile as the app, so first-render times compare like with like.

use yew::prelude::*;

#[function_component(Blank)]
fn blank() -> Html {
    html! { <p id="blank">{ "Blank Yew page" }</p> }
}

fn main() {
    #[cfg(target_arch = "wasm32")]
    yew::Renderer::<Blank>::new().render();
}
