//! Embedding lookup: the rows of a table `[V, D]` at integer ids, with the table's gradient;
//! and the lecture's form of the same map, one-hot ids times the table.
//!
//! ```text
//! embedding(table, ids)[s, d] = table[ids[s], d]
//! grad_table[v, d]            = sum over the positions s with ids[s] == v of grad[s, d]
//! one_hot(ids)[s, v]          = 1 if ids[s] == v else 0,   so   one_hot(ids) · table == embedding(table, ids)
//! ```
//!
//! Shapes in words: a table of `V` rows (the vocabulary) of `D` values, ids of any shape up to
//! rank 4 (`[T]` for a sentence, `[B, T]` for a batch of them; the batch may be a runtime
//! `usize`) → the ids' shape with `D` appended (`[B, T, D]`). Like `F.embedding(ids, table)`
//! (`padding_idx`, `max_norm` and sparse gradients are not supported).
//!
//! The ids are an [`IndexTensor<S, V>`] with the table's own `V`: every id was checked against
//! `V` when the ids were built, so the lookup cannot go out of range, and ids built for another
//! vocabulary do not compile (``expected `1000`, found `500` ``). An id out of range is an
//! error when the ids are built, naming the id, its position and the vocabulary size:
//!
//! ```
//! use shapetorch::prelude::*;
//! let table = Tensor2::<f32, 5, 2>::from_fn(|[v, d]| (10 * v + d) as f32); // [V = 5, D = 2]
//! let ids = IndexTensor::<Rank2<2, 3>, 5>::from_slice(&[0, 4, 4, 1, 2, 0]).unwrap();
//! let y: Tensor3<f32, 2, 3, 2> = table.embedding(&ids);
//! assert_eq!(y.to_vec(), vec![0., 1., 40., 41., 40., 41., 10., 11., 20., 21., 0., 1.]);
//! // The lecture's form: one-hot ids [2, 3, 5] times the table [5, 2].
//! let one_hot: Tensor3<f32, 2, 3, 5> = ids.one_hot();
//! let product = one_hot.reshape::<Rank2<6, 5>>().matmul(&table).reshape::<Rank3<2, 3, 2>>();
//! assert_eq!(product.to_vec(), y.to_vec());
//!
//! let err = IndexTensor::<Rank1<3>, 5>::from_slice(&[1, 7, 2]).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "from_slice: index 7 at [1] is out of range: the values must lie in 0..5"
//! );
//! ```

use crate::memory::Buffer;
use crate::shape::markers::one_hot;
use crate::shape::{AppendDim, Dim, ResultClasses, Shape};
use crate::tensor::{Element, IndexTensor, Tensor, TokenIds};

impl<E: Element, const V: usize, const D: usize> Tensor<E, (Dim<V>, Dim<D>)> {
    /// The rows of this table `[V, D]` at `ids` (any shape `S`): `[S..., D]`, like
    /// `F.embedding(ids, table)`. The gradient of a row used at several positions is the sum
    /// of theirs. The backward pass keeps the ids only (shared, not copied).
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn embedding<L>(&self, ids: &L) -> Tensor<E, <L::Shape as AppendDim<Dim<D>>>::Output>
    where L: TokenIds<V>, L::Shape: AppendDim<Dim<D>>,
    {
        let ids = &ids.token_ids();
        let table = self.as_slice();
        let mut y = Buffer::for_overwrite(ids.numel() * D);
        // y[s, :] = table[ids[s], :]
        for (row, &id) in y.chunks_exact_mut(D.max(1)).zip(ids.as_slice()) {
            row.copy_from_slice(&table[id * D..][..D]);
        }
        let (table_id, ids_kept) = (self.id(), ids.clone());
        Tensor::from_op(
            "embedding",
            ids.shape().append(Dim),
            y,
            &[self],
            move |grad_y, grads| {
                // grad_table[ids[s], :] += grad_y[s, :], accumulating repeated ids
                let grad_table = grads.accumulator(table_id, V * D);
                for (g_row, &id) in grad_y.chunks_exact(D.max(1)).zip(ids_kept.as_slice()) {
                    for (gt, &g) in grad_table[id * D..][..D].iter_mut().zip(g_row) {
                        *gt += g;
                    }
                }
            },
        )
    }
}

impl<S: Shape, const N: usize> IndexTensor<S, N> {
    /// The one-hot encoding `[S..., N]`: `1` at each index, `0` elsewhere, like
    /// `F.one_hot(ids, N)` (as floats). Multiplied by a table `[N, D]` it gives the same rows
    /// as [`Tensor::embedding`] (the lecture's form of the lookup). Not traced.
    #[rustfmt::skip] // the signature on two lines: compile errors quote it
    pub fn one_hot<E: Element, const C: usize>(&self) -> Tensor<E, <S as AppendDim<Dim<C>>>::Output>
    where S: AppendDim<Dim<C>>, one_hot: ResultClasses<N, C>,
    {
        let shape = self.shape().append(Dim);
        let mut out = vec![E::zero(); shape.numel()];
        // out[s, ids[s]] = 1
        for (row, &id) in out.chunks_exact_mut(N.max(1)).zip(self.as_slice()) {
            row[id] = E::one();
        }
        Tensor::from_parts(shape, out)
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn lookup_hand_case_and_repeated_ids_accumulate() {
        // table [[1, 2], [3, 4], [5, 6]]; ids [2, 0, 2]
        let tape = Tape::new();
        let table = Tensor2::<f64, 3, 2>::from_slice(&[1., 2., 3., 4., 5., 6.])
            .unwrap()
            .trace(&tape);
        let ids = IndexTensor::<Rank1<3>, 3>::from_slice(&[2, 0, 2]).unwrap();
        let y: Tensor2<f64, 3, 2> = table.embedding(&ids);
        assert_eq!(y.to_vec(), vec![5., 6., 1., 2., 5., 6.]);
        // grad of sum(y * w), w = [[1, 10], [2, 20], [3, 30]]:
        // row 0 gets w[1]; row 1 nothing; row 2 gets w[0] + w[2] = [1 + 3, 10 + 30]
        let w = Tensor2::<f64, 3, 2>::from_slice(&[1., 10., 2., 20., 3., 30.]).unwrap();
        let grad = (&y * &w).sum_all().backward().get(&table).unwrap();
        assert_eq!(grad.to_vec(), vec![2., 20., 0., 0., 4., 40.]);
    }

    #[test]
    fn an_id_out_of_the_vocabulary_is_an_error_naming_it_and_the_vocabulary_size() {
        // Token ids of a batch of 2 sentences of 3 tokens, vocabulary 50: id 50 is one too many.
        let err =
            IndexTensor::<(usize, Dim<3>), 50>::from_ints_shaped((2, Dim), &[4i64, 9, 0, 1, 50, 2])
                .unwrap_err();
        assert_eq!(
            err,
            Error::IndexOutOfRange {
                op: "from_ints",
                position: vec![1, 1],
                value: 50,
                bound: 50
            }
        );
        assert_eq!(
            err.to_string(),
            "from_ints: index 50 at [1, 1] is out of range: the values must lie in 0..50"
        );
    }

    #[test]
    fn gradient_matches_central_differences() {
        let table = Tensor2::<f64, 6, 3>::randn(1);
        let ids = IndexTensor::<(usize, Dim<4>), 6>::from_vec_shaped(
            (2, Dim),
            vec![5, 1, 1, 0, 5, 5, 2, 1],
        )
        .unwrap();
        gradcheck("embedding", &table, |t| t.embedding(&ids)).unwrap();
        let scalar_id = IndexTensor::<(), 6>::from_vec(vec![4]).unwrap();
        let row: Tensor1<f64, 3> = table.embedding(&scalar_id);
        assert_eq!(row.to_vec(), table.as_slice()[12..15].to_vec());
    }

    #[test]
    fn one_hot_times_the_table_equals_the_lookup_with_its_gradient() {
        let tape = Tape::new();
        let table = Tensor2::<f64, 7, 4>::randn(2).trace(&tape);
        let ids = IndexTensor::<Rank1<9>, 7>::from_slice(&[3, 0, 3, 6, 3, 1, 1, 2, 0]).unwrap();
        let one_hot: Tensor2<f64, 9, 7> = ids.one_hot();
        assert_eq!(one_hot[[0, 3]], 1.0);
        assert_eq!(one_hot.sum::<1>().to_vec(), vec![1.0; 9]);
        let weights = Tensor2::<f64, 9, 4>::randn(3);
        let lookup = table.embedding(&ids);
        let product = one_hot.matmul(&table);
        assert_eq!(lookup.to_vec(), product.to_vec());
        let grad_lookup = (&lookup * &weights)
            .sum_all()
            .backward()
            .get(&table)
            .unwrap();
        let product = one_hot.matmul(&table);
        let grad_product = (&product * &weights)
            .sum_all()
            .backward()
            .get(&table)
            .unwrap();
        for (a, b) in grad_lookup.as_slice().iter().zip(grad_product.as_slice()) {
            assert!((a - b).abs() < 1e-12, "{grad_lookup} vs {grad_product}");
        }
    }
}
