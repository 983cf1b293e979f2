//! Work spread over threads, its results taken in input order.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// One thread per core.
pub fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `test` of every item, in item order, on all cores, `per_task` items at a
/// time (an input of one task's size or less stays on this thread).
pub fn test_all<T: Sync>(items: &[T], per_task: usize, test: impl Fn(&T) -> bool + Sync) -> Vec<bool> {
    let test_chunk = |chunk: &[T]| chunk.iter().map(&test).collect::<Vec<bool>>();
    in_order(items.chunks(per_task.max(1)), all_cores(), test_chunk, |_| false).concat()
}

/// `f` of every item on all cores, `per_task` items at a time: the `Some`
/// answers, in item order.
pub fn filter_map_all<T: Sync, R: Send>(items: &[T], per_task: usize, f: impl Fn(&T) -> Option<R> + Sync) -> Vec<R> {
    let map_chunk = |chunk: &[T]| chunk.iter().filter_map(&f).collect::<Vec<R>>();
    in_order(items.chunks(per_task.max(1)), all_cores(), map_chunk, |_| false).into_iter().flatten().collect()
}

/// `work` over `items` on up to `workers` threads, each taking the next item
/// when done. The results in item order, up to and including the first that
/// `stops` (no new item is started after it; later ones already done are dropped).
pub fn in_order<'i, I: Sync + ?Sized + 'i, T: Send>(
    items: impl Iterator<Item = &'i I>,
    workers: usize,
    work: impl Fn(&'i I) -> T + Sync,
    stops: impl Fn(&T) -> bool + Sync,
) -> Vec<T> {
    let items: Vec<&I> = items.collect();
    let workers = workers.clamp(1, items.len().max(1));
    let mut results: Vec<Option<T>> = if workers == 1 {
        let mut results = Vec::with_capacity(items.len());
        for item in &items {
            let result = work(item);
            let stop = stops(&result);
            results.push(Some(result));
            if stop {
                break;
            }
        }
        results
    } else {
        let next = AtomicUsize::new(0);
        let stopped = AtomicBool::new(false);
        let slots: Vec<Mutex<Option<T>>> = items.iter().map(|_| Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    while !stopped.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        let result = work(item);
                        if stops(&result) {
                            stopped.store(true, Ordering::Relaxed);
                        }
                        *slots[i].lock().expect("a worker never panics holding its slot") = Some(result);
                    }
                });
            }
        });
        slots.into_iter().map(|slot| slot.into_inner().expect("no worker panicked")).collect()
    };
    let end = results.iter().position(|r| r.as_ref().is_none_or(&stops));
    results.truncate(end.map_or(results.len(), |i| i + 1));
    results.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_tested_once_and_the_answers_keep_the_item_order() {
        let items: Vec<u32> = (0..10_001).collect();
        let odd = test_all(&items, 64, |&i| i % 2 == 1);
        assert_eq!(odd, items.iter().map(|i| i % 2 == 1).collect::<Vec<bool>>());
        assert!(test_all(&[] as &[u32], 64, |_| true).is_empty());
    }

    #[test]
    fn kept_answers_come_in_item_order() {
        let items: Vec<u32> = (0..10_001).collect();
        let tripled_multiples_of_3 = filter_map_all(&items, 64, |&i| (i % 3 == 0).then_some(i * 3));
        assert_eq!(tripled_multiples_of_3, (0..10_001).step_by(3).map(|i| i * 3).collect::<Vec<u32>>());
    }

    #[test]
    fn results_stop_at_the_first_that_stops_the_work() {
        let items: Vec<u32> = (0..100).collect();
        let doubled = in_order(items.chunks(1), 2, |c| c[0] * 2, |&d| d == 40);
        assert_eq!(doubled, (0..=20).map(|i| i * 2).collect::<Vec<u32>>());
    }
}
