//! The direct-path measurement as a test, so the same source runs natively (`cargo test`) and in headless
//! Chromium (`cargo test --target wasm32-unknown-unknown`, wasm-bindgen-test-runner). It prints figures
//! and asserts none of them: `scripts/wasm-bench.sh` reads the lines. Without `AMQP_WASM_BENCH` it runs
//! the tiny plan, which still checks the pipeline (see `amqp_support::verified_direct`).

use amqp_wasm_bench::{measure, report, Plan};

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn direct_path_per_message() {
    let plan = Plan::from_env();
    let rounds = measure(plan);
    assert_eq!(rounds.len(), plan.rounds as usize);
    let target = if cfg!(target_arch = "wasm32") { "wasm32" } else { "native" };
    for line in report(target, plan, &rounds) {
        #[cfg(target_arch = "wasm32")]
        wasm_bindgen_test::console_log!("{line}");
        #[cfg(not(target_arch = "wasm32"))]
        println!("{line}");
    }
}
