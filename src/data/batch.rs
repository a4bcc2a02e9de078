//! Mini-batches: a seeded shuffle of example indices cut into batches (the last, smaller one
//! included unless `drop_last`), and typed batches of MNIST and MNIST-1D: images as
//! `[B, 1, 28, 28]` or sequences as `[B, 1, 40]` float tensors with a runtime batch `B`, labels
//! as `IndexTensor<(usize,), 10>`.
//!
//! ```
//! use shapetorch::data::Batches;
//! let batches: Vec<Vec<usize>> = Batches::shuffled(10, 4, 7).collect();
//! assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 4, 2]);
//! let mut seen: Vec<usize> = batches.concat();
//! seen.sort();
//! assert_eq!(seen, (0..10).collect::<Vec<_>>());        // every example once per epoch
//! assert_eq!(Batches::shuffled(10, 4, 7).drop_last().count(), 2);
//! ```

use super::mnist::Mnist;
use super::mnist1d::Mnist1d;
use crate::shape::Dim;
use crate::tensor::{Element, IndexTensor, Rng, Tensor};

/// Batches of example indices, in a seeded random order or in order.
#[derive(Clone, Debug)]
pub struct Batches {
    order: Vec<usize>,
    batch_size: usize,
    next: usize,
    drop_last: bool,
}

impl Batches {
    /// The indices `0..n` in an order drawn from `seed` (a Fisher–Yates shuffle), cut into
    /// batches of `batch_size`; the last batch holds the rest. Panics if `batch_size` is 0.
    pub fn shuffled(n: usize, batch_size: usize, seed: u64) -> Self {
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = Rng::new(seed);
        for i in (1..n).rev() {
            order.swap(i, rng.below(i + 1));
        }
        Self::of(order, batch_size)
    }

    /// The indices `0..n` in order (for evaluation), cut into batches of `batch_size`.
    pub fn sequential(n: usize, batch_size: usize) -> Self {
        Self::of((0..n).collect(), batch_size)
    }

    fn of(order: Vec<usize>, batch_size: usize) -> Self {
        assert!(batch_size > 0, "Batches: the batch size must be at least 1");
        Batches {
            order,
            batch_size,
            next: 0,
            drop_last: false,
        }
    }

    /// Leaves out the last batch when it is smaller than the others (every batch then has
    /// exactly `batch_size` examples).
    pub fn drop_last(mut self) -> Self {
        self.drop_last = true;
        self
    }

    /// Where the next batch starts in the epoch's order: how many examples the batches
    /// yielded so far hold.
    pub fn offset(&self) -> usize {
        self.next
    }

    /// The number of examples in all (`n`).
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether there are no examples at all.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The batch size.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Whether the last, smaller batch is left out.
    pub fn drops_last(&self) -> bool {
        self.drop_last
    }

    /// The order of the examples in this epoch (what a checkpoint saves).
    pub(crate) fn order(&self) -> &[usize] {
        &self.order
    }

    /// Continues at `offset` of `order` (what a checkpoint restores; the caller checked
    /// that `order` is a permutation of this one's examples and `offset` within it).
    pub(crate) fn restore(&mut self, order: Vec<usize>, offset: usize) {
        debug_assert!(order.len() == self.order.len() && offset <= order.len());
        self.order = order;
        self.next = offset;
    }

    /// The number of batches this iterator yields in all.
    pub fn batch_count(&self) -> usize {
        if self.drop_last {
            self.order.len() / self.batch_size
        } else {
            self.order.len().div_ceil(self.batch_size)
        }
    }
}

impl Iterator for Batches {
    type Item = Vec<usize>;
    fn next(&mut self) -> Option<Vec<usize>> {
        let rest = self.order.len() - self.next;
        if rest == 0 || (self.drop_last && rest < self.batch_size) {
            return None;
        }
        let take = rest.min(self.batch_size);
        let batch = self.order[self.next..self.next + take].to_vec();
        self.next += take;
        Some(batch)
    }
}

/// A batch of MNIST digits: `[B, 1, 28, 28]` pixels and `B` labels.
pub type MnistBatch<E> = (
    Tensor<E, (usize, Dim<1>, Dim<28>, Dim<28>)>,
    IndexTensor<(usize,), 10>,
);

/// The mean and standard deviation of MNIST's training pixels (scaled to `[0, 1]`), the
/// normalisation of PyTorch's MNIST examples.
pub const MNIST_MEAN_STD: (f64, f64) = (0.1307, 0.3081);

impl Mnist {
    /// The images `indices` as a typed batch, pixels scaled to `[0, 1]` then normalised with
    /// [`MNIST_MEAN_STD`] (as PyTorch's MNIST examples do), and their labels.
    ///
    /// Panics when the images are not 28 × 28 or an index is out of range.
    pub fn batch<E: Element>(&self, indices: &[usize]) -> MnistBatch<E> {
        assert!(
            self.rows == 28 && self.cols == 28,
            "Mnist::batch: the images are {} x {}, not 28 x 28",
            self.rows,
            self.cols
        );
        let (mean, std) = MNIST_MEAN_STD;
        let mut pixels = Vec::with_capacity(indices.len() * 784);
        for &n in indices {
            pixels.extend(
                self.image(n)
                    .iter()
                    .map(|&p| E::of((p as f64 / 255.0 - mean) / std)),
            );
        }
        let labels: Vec<u8> = indices.iter().map(|&n| self.labels[n]).collect();
        let x = Tensor::from_vec_shaped((indices.len(), Dim, Dim, Dim), pixels)
            .expect("784 pixels per image");
        let y = IndexTensor::from_ints_shaped((indices.len(),), &labels)
            .expect("the reader checked every label is below 10");
        (x, y)
    }
}

/// A batch of MNIST-1D sequences: `[B, 1, 40]` values and `B` labels.
pub type Mnist1dBatch<E> = (
    Tensor<E, (usize, Dim<1>, Dim<40>)>,
    IndexTensor<(usize,), 10>,
);

impl Mnist1d {
    /// Training sequences `indices` as a typed batch (one channel of 40 values), with labels.
    /// Panics when the sequences are not 40 long or an index is out of range.
    pub fn train_batch<E: Element>(&self, indices: &[usize]) -> Mnist1dBatch<E> {
        self.batch_of(&self.train_x, &self.train_y, indices)
    }

    /// Test sequences `indices` as a typed batch, with labels.
    pub fn test_batch<E: Element>(&self, indices: &[usize]) -> Mnist1dBatch<E> {
        self.batch_of(&self.test_x, &self.test_y, indices)
    }

    fn batch_of<E: Element>(&self, x: &[f32], y: &[u8], indices: &[usize]) -> Mnist1dBatch<E> {
        assert_eq!(
            self.length, 40,
            "Mnist1d batches are [B, 1, 40]; these sequences are {} long",
            self.length
        );
        let mut values = Vec::with_capacity(indices.len() * 40);
        for &n in indices {
            values.extend(x[n * 40..][..40].iter().map(|&v| E::of(v as f64)));
        }
        let labels: Vec<u8> = indices.iter().map(|&n| y[n]).collect();
        let x = Tensor::from_vec_shaped((indices.len(), Dim, Dim), values).expect("40 per row");
        let y = IndexTensor::from_ints_shaped((indices.len(),), &labels)
            .expect("generated labels are below 10");
        (x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffles_repeat_with_the_seed_and_cover_every_example() {
        let a: Vec<Vec<usize>> = Batches::shuffled(103, 10, 1).collect();
        let b: Vec<Vec<usize>> = Batches::shuffled(103, 10, 1).collect();
        let c: Vec<Vec<usize>> = Batches::shuffled(103, 10, 2).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 11);
        assert_eq!(a[10].len(), 3);
        let mut all = a.concat();
        all.sort();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
        assert_eq!(Batches::shuffled(103, 10, 1).drop_last().batch_count(), 10);
        assert_eq!(Batches::shuffled(103, 10, 1).batch_count(), 11);
        assert!(Batches::shuffled(103, 10, 1)
            .drop_last()
            .all(|batch| batch.len() == 10));
        assert_eq!(
            Batches::sequential(5, 2).collect::<Vec<_>>(),
            vec![vec![0, 1], vec![2, 3], vec![4]]
        );
        assert_eq!(Batches::sequential(0, 2).count(), 0);
    }

    #[test]
    fn mnist_batches_are_typed_and_normalised() {
        let mnist = Mnist {
            images: (0..2 * 784).map(|i| (i % 256) as u8).collect(),
            labels: vec![3, 9],
            count: 2,
            rows: 28,
            cols: 28,
        };
        let (x, y) = mnist.batch::<f32>(&[1, 0]);
        assert_eq!(x.dims(), [2, 1, 28, 28]);
        assert_eq!(y.to_vec(), vec![9, 3]);
        // image 1 starts with pixel 784 % 256 = 16
        let expected = ((16.0 / 255.0 - 0.1307) / 0.3081) as f32;
        assert!((x.as_slice()[0] - expected).abs() < 1e-6);
    }
}
