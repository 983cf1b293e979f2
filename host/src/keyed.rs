//! Maps keyed by strings the host holds elsewhere (member ids, strategy ids).

use std::collections::HashMap;
use std::hash::BuildHasher;

/// The value for `key`, a default one inserted if there is none. Unlike
/// `entry(key.to_owned())`, the key is copied only when it is new: these maps
/// are updated for every decision of a run, and most keys are already there.
pub fn value_for<'m, V: Default, S: BuildHasher>(map: &'m mut HashMap<String, V, S>, key: &str) -> &'m mut V {
    value_for_or(map, key, V::default)
}

/// [`value_for`], with `new` making the value for a new key.
pub fn value_for_or<'m, V, S: BuildHasher>(
    map: &'m mut HashMap<String, V, S>,
    key: &str,
    new: impl FnOnce() -> V,
) -> &'m mut V {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), new());
    }
    map.get_mut(key).expect("present or just inserted")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_kept_per_key_and_start_from_default() {
        let mut map: HashMap<String, Vec<u32>> = HashMap::new();
        value_for(&mut map, "a").push(1);
        value_for(&mut map, "b").push(2);
        value_for(&mut map, "a").push(3);
        assert_eq!((map["a"].as_slice(), map["b"].as_slice(), map.len()), (&[1, 3][..], &[2][..], 2));
    }
}
