//! Element buffers and the pool that recycles them: tensor storage and gradients come from
//! memory that earlier steps freed, so a training loop stops paying the system allocator (and
//! the page faults of freshly mapped memory) on every op.
//!
//! A [`Buffer`] is a `Vec` that, when dropped, gives its memory to a pool (one per element type)
//! instead of freeing it; the next buffer of the same length takes it back. A training step
//! repeats the same sizes, so from the second step on its large buffers are reused. Buffers
//! below [`MIN_POOLED_BYTES`] skip the pool (the allocator serves small sizes from its own caches
//! at no cost), and the pool keeps at most [`pool_limit`] bytes: past it, it empties itself and
//! starts over, so a program whose shapes change does not hoard stale buffers.
//!
//! ```
//! use shapetorch::memory::{self, Buffer};
//! let mut b = Buffer::<f32>::zeroed(1 << 16);
//! b[0] = 1.0;
//! let address = b.as_ptr();
//! drop(b);                                       // into the pool ...
//! let again = Buffer::<f32>::zeroed(1 << 16);    // ... and out again, zeroed
//! assert_eq!(again[0], 0.0);
//! # let _ = (address, memory::pooled_bytes::<f32>());
//! ```

use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::element::Element;

/// Buffers smaller than this (in bytes) are freed, not pooled.
pub const MIN_POOLED_BYTES: usize = 16 * 1024;

/// The default of [`pool_limit`]: 512 MiB per element type.
pub const DEFAULT_POOL_LIMIT: usize = 512 << 20;

static POOL_LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_POOL_LIMIT);

/// The most bytes of free buffers the pool of each element type keeps.
pub fn pool_limit() -> usize {
    POOL_LIMIT.load(Ordering::Relaxed)
}

/// Sets [`pool_limit`]; `0` turns the pool off (every buffer is freed when dropped).
pub fn set_pool_limit(bytes: usize) {
    POOL_LIMIT.store(bytes, Ordering::Relaxed);
    if bytes == 0 {
        clear_pool::<f32>();
        clear_pool::<f64>();
    }
}

/// Frees every buffer the pool of `E` holds.
pub fn clear_pool<E: Element>() {
    let mut state = E::pool().lock();
    state.by_len.clear();
    state.bytes = 0;
}

/// The bytes of free buffers the pool of `E` holds now.
pub fn pooled_bytes<E: Element>() -> usize {
    E::pool().lock().bytes
}

/// The free buffers of one element type, by length.
#[doc(hidden)]
#[derive(Default)]
pub struct Pool<E> {
    state: Mutex<PoolState<E>>,
}

#[derive(Default)]
struct PoolState<E> {
    by_len: HashMap<usize, Vec<Vec<E>>>,
    bytes: usize,
}

impl<E> Pool<E> {
    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState<E>> {
        // A panic while holding the lock cannot leave the map inconsistent: recover it.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A pooled buffer of `len` elements with unspecified (but initialised) contents, or a fresh
/// one.
fn take<E: Element>(len: usize, fill: E) -> Vec<E> {
    if len * size_of::<E>() >= MIN_POOLED_BYTES {
        let mut state = E::pool().lock();
        if let Some(v) = state.by_len.get_mut(&len).and_then(Vec::pop) {
            state.bytes -= len * size_of::<E>();
            return v;
        }
    }
    vec![fill; len]
}

/// Gives `v`'s memory to the pool, or frees it when it is small or the pool is full.
fn give<E: Element>(v: Vec<E>) {
    let bytes = v.len() * size_of::<E>();
    let limit = pool_limit();
    if bytes < MIN_POOLED_BYTES || bytes > limit || v.len() != v.capacity() {
        return;
    }
    let mut state = E::pool().lock();
    if state.bytes + bytes > limit {
        // Full: the shapes in use have changed. Start over with what is in use now.
        state.by_len.clear();
        state.bytes = 0;
    }
    state.bytes += bytes;
    state.by_len.entry(v.len()).or_default().push(v);
}

/// A buffer of elements whose memory returns to a pool when it is dropped (see the module
/// docs). Dereferences to a slice.
pub struct Buffer<E: Element> {
    data: Vec<E>,
}

impl<E: Element> Buffer<E> {
    /// `len` zeros.
    pub fn zeroed(len: usize) -> Self {
        let mut data = take(len, E::zero());
        data.fill(E::zero());
        Buffer { data }
    }

    /// `len` elements whose values are unspecified (left from an earlier use, but always
    /// initialised): for outputs that a kernel overwrites entirely.
    pub fn for_overwrite(len: usize) -> Self {
        Buffer {
            data: take(len, E::zero()),
        }
    }

    /// A copy of `values`.
    pub fn copied_from(values: &[E]) -> Self {
        let mut b = Self::for_overwrite(values.len());
        b.copy_from_slice(values);
        b
    }

    /// The elements as a `Vec`, taken out of the pool's reach.
    pub fn into_vec(mut self) -> Vec<E> {
        std::mem::take(&mut self.data)
    }
}

impl<E: Element> From<Vec<E>> for Buffer<E> {
    /// Wraps `data` without copying; its memory joins the pool when the buffer is dropped.
    fn from(data: Vec<E>) -> Self {
        Buffer { data }
    }
}

impl<E: Element> Drop for Buffer<E> {
    fn drop(&mut self) {
        give(std::mem::take(&mut self.data));
    }
}

impl<E: Element> Clone for Buffer<E> {
    fn clone(&self) -> Self {
        Self::copied_from(self)
    }
}

impl<E: Element> Deref for Buffer<E> {
    type Target = [E];
    fn deref(&self) -> &[E] {
        &self.data
    }
}

impl<E: Element> DerefMut for Buffer<E> {
    fn deref_mut(&mut self) -> &mut [E] {
        &mut self.data
    }
}

impl<E: Element> std::fmt::Debug for Buffer<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.data.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The pool is global; these tests use an element count no other test uses, and f64.
    const LEN: usize = 12_345;

    #[test]
    fn a_dropped_buffer_is_reused_zeroed_and_small_ones_are_not_pooled() {
        let mut b = Buffer::<f64>::zeroed(LEN);
        b.fill(7.0);
        let address = b.as_ptr();
        drop(b);
        let again = Buffer::<f64>::zeroed(LEN);
        assert_eq!(
            again.as_ptr(),
            address,
            "the pooled memory is handed out again"
        );
        assert!(again.iter().all(|&v| v == 0.0));
        let overwrite = Buffer::<f64>::for_overwrite(LEN);
        assert_eq!(overwrite.len(), LEN);
        assert_ne!(overwrite.as_ptr(), again.as_ptr());
        drop((again, overwrite));
        let v = Buffer::<f64>::from(vec![1.0, 2.0]).into_vec();
        assert_eq!(v, vec![1.0, 2.0]);
    }
}
