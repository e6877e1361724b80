//! Stable sorting that costs the web page's download one copy of the standard library's sort, not one
//! per element type.
//!
//! `slice::sort_by` is generic over the element and the comparison, so every call site with its own
//! element type or closure compiles its own driftsort (about 4.5 kB of WebAssembly each; one page had 24
//! of them, 108 kB before `wasm-opt`, BENCHMARKS.md). [`sort_by`] sorts the positions
//! `0..len` instead, with a comparison reached through `dyn`, so every caller shares one instantiation
//! (of `usize`), and then moves the items into that order.
//!
//! Invariant: the result is exactly `slice::sort_by`'s — a stable sort of positions by a comparison of
//! the items at those positions orders equal items by position, as a stable sort of the items does.

use std::cmp::Ordering;

/// Sorts `items` stably by `compare`: the same order as `items.sort_by(compare)`.
pub fn sort_by<T>(items: &mut Vec<T>, mut compare: impl FnMut(&T, &T) -> Ordering) {
    if items.len() < 2 {
        return;
    }
    let order = positions_in_order(items.len(), &mut |a, b| compare(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(order.into_iter().filter_map(|i| slots[i].take()));
}

/// Sorts `items` stably by a key: the same order as `items.sort_by_key(key)`.
pub fn sort_by_key<T, K: Ord>(items: &mut Vec<T>, mut key: impl FnMut(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)))
}

/// Sorts `items` in their natural order: the same order as `items.sort()`.
pub fn sort<T: Ord>(items: &mut Vec<T>) {
    sort_by(items, T::cmp)
}

/// The one instantiation of the standard sort every caller shares.
fn positions_in_order(len: usize, compare: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| compare(a, b));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_as_the_standard_stable_sort_does_equal_keys_kept_in_place() {
        // Pairs compared by their first field only: the second shows where equal items end up.
        let items: Vec<(u8, u32)> =
            [3, 1, 3, 0, 1, 2, 3, 0, 2, 1].iter().enumerate().map(|(i, &k)| (k, i as u32)).collect();
        let mut ours = items.clone();
        sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
        assert_eq!(
            ours,
            vec![(0, 3), (0, 7), (1, 1), (1, 4), (1, 9), (2, 5), (2, 8), (3, 0), (3, 2), (3, 6)]
        );
        let mut by_key = items.clone();
        sort_by_key(&mut by_key, |x| std::cmp::Reverse(x.0));
        assert_eq!(by_key[..3], [(3, 0), (3, 2), (3, 6)]);
        let mut words = vec!["pear".to_string(), "apple".into(), "fig".into(), "apple".into()];
        sort(&mut words);
        assert_eq!(words, ["apple", "apple", "fig", "pear"]);
        let mut empty: Vec<String> = Vec::new();
        sort(&mut empty);
        assert!(empty.is_empty());
    }
}
