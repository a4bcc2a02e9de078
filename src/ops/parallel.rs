//! How the kernels of `ops` split work across rayon's threads: one task per chunk of an output
//! that no two tasks share ([`for_each_chunk`]), one task per thread over a run of batch entries
//! ([`for_each_entry_range`]), or one partial sum per thread added up at the end
//! ([`add_per_thread_sums`]). Shared by the convolution kernels (`conv/`) and open to
//! pooling's (`pool/`), whose planes are chunks of this kind.
//!
//! Handing work to the pool costs some 10-40 µs (measured), more than a small op takes, so every
//! helper takes a `parallel` flag or a size, and small work stays on the caller's thread.

use std::ops::Range;

use rayon::prelude::*;

use crate::memory::Buffer;
use crate::tensor::Element;

/// Runs `body` on each `(index, chunk)` of `data` cut into `chunk`-long pieces (the last may be
/// shorter), each call with a scratch value of its task: one rayon task per chunk when
/// `parallel`, else all on this thread with one scratch value.
pub(crate) fn for_each_chunk<E: Send, S: Default>(
    data: &mut [E],
    chunk: usize,
    parallel: bool,
    body: impl Fn(&mut S, (usize, &mut [E])) + Send + Sync,
) {
    if data.is_empty() {
        return;
    }
    if parallel {
        data.par_chunks_mut(chunk)
            .enumerate()
            .for_each_init(S::default, |s, item| body(s, item));
    } else {
        let mut scratch = S::default();
        data.chunks_mut(chunk)
            .enumerate()
            .for_each(|item| body(&mut scratch, item));
    }
}

/// Whether a batch of `count` entries is worth splitting into one run of entries per thread:
/// every thread gets at least one, and the work pays for the threads (`worth_threads`).
pub(crate) fn split_by_entries(count: usize, worth_threads: bool) -> bool {
    count >= rayon::current_num_threads() && worth_threads
}

/// Runs `run(entries, data_of_those_entries, single_thread)` over `0..count` entries whose data
/// are `per_entry` consecutive elements each: one rayon task per thread, each over its own run
/// of entries and its own slice of `data` (`single_thread`: the task is one of several, so the
/// matrix multiplies inside it stay on its thread), when [`split_by_entries`]; else once, on
/// this thread, the matrix multiplies free to use the threads when `worth_threads`.
pub(crate) fn for_each_entry_range<E: Send>(
    count: usize,
    data: &mut [E],
    per_entry: usize,
    worth_threads: bool,
    run: impl Fn(Range<usize>, &mut [E], bool) + Sync,
) {
    if split_by_entries(count, worth_threads) && per_entry > 0 {
        let per_task = count.div_ceil(rayon::current_num_threads());
        data.par_chunks_mut(per_task * per_entry)
            .enumerate()
            .for_each(|(task, data)| {
                let first = task * per_task;
                run(first..first + data.len() / per_entry, data, true)
            });
    } else {
        run(0..count, data, !worth_threads);
    }
}

/// Adds into `sum` what `run(entries, partial)` adds into a zeroed `partial` of `sum`'s length,
/// over `0..count` (a batch, say): one rayon task per thread, each over its own run of
/// consecutive entries and its own (pooled) buffer, the buffers added at the end. For a sum over
/// the batch (the weight's gradient) that the tasks cannot write into one buffer.
pub(crate) fn add_per_thread_sums<E: Element>(
    count: usize,
    sum: &mut [E],
    run: impl Fn(Range<usize>, &mut [E]) + Sync,
) {
    if count == 0 {
        return;
    }
    let per_task = count.div_ceil(rayon::current_num_threads());
    let len = sum.len();
    let zeros = || Buffer::<E>::zeroed(len);
    let total = (0..count.div_ceil(per_task))
        .into_par_iter()
        .map(|task| {
            let mut partial = zeros();
            run(
                task * per_task..((task + 1) * per_task).min(count),
                &mut partial,
            );
            partial
        })
        .reduce(zeros, |mut a, b| {
            a.iter_mut().zip(b.iter()).for_each(|(a, &b)| *a += b);
            a
        });
    sum.iter_mut().zip(total.iter()).for_each(|(s, &t)| *s += t);
}
