//! Concatenation along a typed axis, `a.cat::<I>(&b)`, like `torch.cat([a, b], dim=I)`: the
//! shapes agree outside axis `I`, and the result's axis `I` is their sum, computed by the
//! compiler for static dims. The gradient splits back into the two parts.
//!
//! ```
//! use shapetorch::prelude::*;
//! let a = Tensor2::<f32, 2, 1>::from_slice(&[1., 2.]).unwrap();
//! let b = Tensor2::<f32, 2, 2>::from_slice(&[3., 4., 5., 6.]).unwrap();
//! let ab: Tensor2<f32, 2, 3> = a.cat::<1, _>(&b);
//! assert_eq!(ab.to_vec(), vec![1., 3., 4., 2., 5., 6.]);
//! ```

use super::reduce::split_at_axis;
use super::{Element, Tensor};
use crate::memory::Buffer;
use crate::shape::{fmt_dims, CatShape, Shape};

impl<E: Element, S: Shape> Tensor<E, S> {
    /// `self` and `other` joined along axis `I`. Panics naming both shapes when a runtime dim
    /// outside axis `I` differs (static ones are checked by the compiler).
    pub fn cat<const I: usize, R: Shape>(&self, other: &Tensor<E, R>) -> Tensor<E, S::Output>
    where
        S: CatShape<I, R>,
    {
        let out_shape = self.shape().cat_shape(other.shape()).unwrap_or_else(|| {
            panic!(
                "cat: {} and {} differ outside axis {I}",
                fmt_dims(self.dims().as_ref()),
                fmt_dims(other.dims().as_ref())
            )
        });
        let (outer, n1, inner) = split_at_axis(self.dims().as_ref(), I);
        let n2 = other.dims().as_ref()[I];
        // Each of the `outer` blocks of the result is a block of `self` then one of `other`.
        let (block1, block2) = (n1 * inner, n2 * inner);
        let mut out = Buffer::for_overwrite(out_shape.numel());
        if block1 + block2 > 0 {
            for (o, dst) in out.chunks_exact_mut(block1 + block2).enumerate() {
                dst[..block1].copy_from_slice(&self.as_slice()[o * block1..][..block1]);
                dst[block1..].copy_from_slice(&other.as_slice()[o * block2..][..block2]);
            }
        }
        let (a_id, b_id) = (self.grad_id(), other.grad_id());
        Tensor::from_op(
            "cat",
            out_shape,
            out,
            &[self, other],
            move |grad_out, grads| {
                if block1 + block2 == 0 {
                    return;
                }
                for (o, g) in grad_out.chunks_exact(block1 + block2).enumerate() {
                    if let Some(id) = a_id {
                        let grad_a =
                            &mut grads.accumulator(id, outer * block1)[o * block1..][..block1];
                        for (d, &s) in grad_a.iter_mut().zip(&g[..block1]) {
                            *d += s;
                        }
                    }
                    if let Some(id) = b_id {
                        let grad_b =
                            &mut grads.accumulator(id, outer * block2)[o * block2..][..block2];
                        for (d, &s) in grad_b.iter_mut().zip(&g[block1..]) {
                            *d += s;
                        }
                    }
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    #[test]
    fn cat_joins_along_each_axis_and_splits_the_gradient() {
        let a = Tensor3::<f64, 2, 3, 2>::randn(1);
        let b = Tensor3::<f64, 2, 1, 2>::randn(2);
        let ab: Tensor3<f64, 2, 4, 2> = a.cat::<1, _>(&b);
        for i in 0..2 {
            for k in 0..2 {
                assert_eq!(ab[[i, 0, k]], a[[i, 0, k]]);
                assert_eq!(ab[[i, 3, k]], b[[i, 0, k]]);
            }
        }
        gradcheck("cat, first operand", &a, |a| a.cat::<1, _>(&b)).unwrap();
        gradcheck("cat, second operand", &b, |b| a.cat::<1, _>(b)).unwrap();
        let c = Tensor3::<f64, 1, 3, 2>::randn(3);
        gradcheck("cat along axis 0", &c, |c| a.cat::<0, _>(c)).unwrap();
        let d = Tensor3::<f64, 2, 3, 5>::randn(4);
        gradcheck("cat along the last axis", &d, |d| a.cat::<2, _>(d)).unwrap();
        // a runtime batch
        let x = Tensor::<f64, (usize, Dim<2>)>::ones_shaped((3, Dim));
        let y = Tensor::<f64, (usize, Dim<5>)>::zeros_shaped((3, Dim));
        let xy: Tensor<f64, (usize, Dim<7>)> = x.cat::<1, _>(&y);
        assert_eq!(xy.dims(), [3, 7]);
        assert_eq!(xy.as_slice()[..7], [1., 1., 0., 0., 0., 0., 0.]);
    }

    #[test]
    #[should_panic(expected = "cat: [3, 2] and [4, 5] differ outside axis 1")]
    fn runtime_dims_outside_the_axis_must_agree() {
        let x = Tensor::<f64, (usize, Dim<2>)>::ones_shaped((3, Dim));
        let y = Tensor::<f64, (usize, Dim<5>)>::zeros_shaped((4, Dim));
        let _ = x.cat::<1, _>(&y);
    }
}
