//! Shapes as types: dims (`Dim<N>` or a runtime `usize`), shape tuples, and rank aliases.
//!
//! A dimension is either a const-generic marker `Dim<N>` (its size is part of the type, so the
//! compiler checks it) or a plain `usize` (its size is known only at run time: use it for the
//! batch dim, since the last batch of an epoch is smaller). A shape is a tuple of dims.
//!
//! ```
//! use shapetorch::prelude::*;
//! let s: Rank3<2, 3, 28> = Default::default();
//! assert_eq!(s.dims(), [2, 3, 28]);
//! let dynamic: (usize, Dim<10>) = (7, Dim);
//! assert_eq!(dynamic.numel(), 70);
//! ```

mod axes;
mod bridge;
mod concat;
mod conv;
mod lookup;
pub mod markers;
mod params;
mod pool;
mod relations;
mod reshape;
mod tile;
mod window;

pub use axes::{
    Axes2, Axes3, Axes4, BatchDim, MaxOut, MaxShape, MeanOut, MeanShape, PermuteShape, Permuted,
    RemoveAxis, SelectAxis, SumOut, SumShape,
};
#[doc(hidden)]
pub use axes::{
    AxisIf, MaxAxisInRange, MaxAxisNotEmpty, MaxAxisPair, MaxCheck, MeanAxisInRange,
    MeanAxisNotEmpty, MeanAxisPair, MeanCheck, PermuteAxisInRange, PermuteAxisOnce, PermuteCheck,
    SumAxisInRange, SumCheck,
};
#[doc(hidden)]
pub use bridge::{Check, Count, CountAtMost, CountIf, ElementCount, Holds, Many, Verdict};
pub use bridge::{DimOf, MulDims, Num, ToDim, ToUnsigned, TypeNumel, Unsigned, MAX_STATIC_DIM};
pub use concat::{AddDims, CatShape};
#[doc(hidden)]
pub use conv::{
    Conv1dCheckFor, Conv1dInputRank, Conv1dParams, Conv1dParamsPerAxis, Conv1dSizeFor,
    Conv2dCheckFor, Conv2dInputRank, Conv2dSizeFor,
};
pub use conv::{Conv1dOut, Conv1dShape, Conv1dSize, Conv2dOut, Conv2dShape, Conv2dSize};
pub use lookup::{
    AppendDim, AxisClasses, LabelClasses, LabelsFor, ResultClasses, Vocabulary, VocabularyFor,
};
pub use params::{
    Axis, ConvAxes, ConvHyperParams, ConvParams, ConvParams2d, Minitorch, Pool1d, Pool2d,
    PoolHyperParams,
};
#[doc(hidden)]
pub use pool::{
    AvgPool1dCheckFor, AvgPool2dCheckFor, MaxPool1dCheckFor, MaxPool2dCheckFor, Pool1dInputRank,
    Pool1dSizeFor, Pool2dInputRank, Pool2dSizeFor,
};
pub use pool::{
    AvgPool1dShape, AvgPool2dShape, MaxPool1dShape, MaxPool2dShape, Pool1dOut, Pool1dSize,
    Pool2dOut, Pool2dSize,
};
pub(crate) use relations::assert_same_dims;
pub use relations::{
    BatchDims, Conv1dBiasDims, Conv2dBiasDims, InnerDims, LinearBiasDims, LinearOut, LinearShape,
    LinearTo, ReplaceLast,
};
#[doc(hidden)]
pub use relations::{Deep, FeaturesEqual, Flat, LastDim, LastDimFeaturesEqual, LinearPair};
#[doc(hidden)]
pub use reshape::{
    FlattenCheck, FlattenFits, ReshapeCounts, ReshapeCountsMatch, UnflattenCheck, UnflattenCounts,
    UnflattenCountsMatch, UnflattenFits,
};
pub use reshape::{FlattenShape, FlattenTo, Flattened, ReshapeFits, ReshapeShape, UnflattenShape};
#[doc(hidden)]
pub use tile::{TileCheck, TileInputRank, TileSizeFor};
pub use tile::{TileShape, TileSize, Tiled};
#[doc(hidden)]
pub use window::{
    AxisDilated, AxisFits, AxisOut, AxisPadded, AxisTiles, AxisUndilated, Height, NonEmpty1,
    NonEmpty2, TileAxis, Width,
};
pub use window::{
    AxisWords, ChannelsEqual, ChannelsMatch, DilationNonZero, DimEq, PaddingAtMostHalf,
    StrideNonZero, TileDivides, Undilated, WindowFits, WindowNonEmpty, WindowNonZero, WindowOut,
    WindowOutDim,
};

use std::fmt::Debug;

/// A dimension whose size is the const generic `N`, known to the compiler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Dim<const N: usize>;

/// One dimension of a shape: a static `Dim<N>` or a runtime `usize`.
pub trait Dimension: Copy + Debug + PartialEq + Send + Sync + 'static {
    /// The size of this dimension.
    fn size(&self) -> usize;
    /// This dimension with size `n`, or `None` when the type fixes another size.
    fn from_size(n: usize) -> Option<Self>;
}

impl<const N: usize> Dimension for Dim<N> {
    #[inline(always)]
    fn size(&self) -> usize {
        N
    }
    fn from_size(n: usize) -> Option<Self> {
        (n == N).then_some(Dim)
    }
}

impl Dimension for usize {
    #[inline(always)]
    fn size(&self) -> usize {
        *self
    }
    fn from_size(n: usize) -> Option<Self> {
        Some(n)
    }
}

/// A dimension whose size the type fixes (`Dim<N>`).
pub trait ConstDim: Dimension + Default {
    /// The size, as a constant.
    const SIZE: usize;
}

impl<const N: usize> ConstDim for Dim<N> {
    const SIZE: usize = N;
}

/// A shape: a tuple of [`Dimension`]s, outermost first (row-major, NCHW for images).
pub trait Shape: Copy + Debug + PartialEq + Send + Sync + 'static {
    /// The number of dims.
    const RANK: usize;
    /// The sizes as an array `[usize; RANK]`; also the type of a multi-index.
    type Dims: Copy + Debug + AsRef<[usize]> + AsMut<[usize]> + PartialEq + Send + Sync;
    /// The sizes, outermost first.
    fn dims(&self) -> Self::Dims;
    /// A shape with these sizes, or `None` if a static dim disagrees or the rank differs.
    fn from_dims(dims: &[usize]) -> Option<Self>;
    /// The number of elements: the product of the dims.
    ///
    /// Panics, naming the sizes, when the product does not fit a `usize` (no tensor of that
    /// shape can exist); [`try_numel`](Self::try_numel) returns `None` instead.
    fn numel(&self) -> usize {
        self.try_numel().unwrap_or_else(|| {
            panic!(
                "shape {} has more elements than a usize can count",
                fmt_dims(self.dims().as_ref())
            )
        })
    }
    /// The number of elements, or `None` when the product of the dims overflows `usize`.
    fn try_numel(&self) -> Option<usize> {
        self.dims()
            .as_ref()
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
    }
    /// Row-major strides: `strides[i]` is how far apart consecutive indices of dim `i` lie.
    fn strides(&self) -> Self::Dims {
        let mut strides = self.dims();
        let mut step = 1;
        for (s, d) in strides.as_mut().iter_mut().zip(self.dims().as_ref()).rev() {
            *s = step;
            // saturating: only the product past the outermost dim can exceed a tensor's numel
            step = step.saturating_mul(*d);
        }
        strides
    }
    /// The flat (row-major) offset of a multi-index, or `None` if any index is out of bounds.
    fn offset(&self, index: Self::Dims) -> Option<usize> {
        let dims = self.dims();
        let mut flat = 0;
        for (i, d) in index.as_ref().iter().zip(dims.as_ref()) {
            if i >= d {
                return None;
            }
            flat = flat * d + i;
        }
        Some(flat)
    }
    /// The multi-index of a flat offset (`offset < numel()`).
    fn unravel(&self, mut offset: usize) -> Self::Dims {
        let mut index = self.dims();
        for (i, d) in index.as_mut().iter_mut().zip(self.dims().as_ref()).rev() {
            *i = offset % d;
            offset /= d;
        }
        index
    }
}

/// A shape all of whose dims are static, so `Default` builds it.
pub trait ConstShape: Shape + Default {
    /// The number of elements.
    const NUMEL: usize;
}

impl Shape for () {
    const RANK: usize = 0;
    type Dims = [usize; 0];
    fn dims(&self) -> [usize; 0] {
        []
    }
    fn from_dims(dims: &[usize]) -> Option<Self> {
        dims.is_empty().then_some(())
    }
}
impl ConstShape for () {
    const NUMEL: usize = 1;
}

macro_rules! tuple_shape {
    ($rank:literal; $($d:ident $i:tt),+) => {
        impl<$($d: Dimension),+> Shape for ($($d,)+) {
            const RANK: usize = $rank;
            type Dims = [usize; $rank];
            #[inline]
            fn dims(&self) -> [usize; $rank] {
                [$(self.$i.size()),+]
            }
            fn from_dims(dims: &[usize]) -> Option<Self> {
                if dims.len() != $rank {
                    return None;
                }
                Some(($($d::from_size(dims[$i])?,)+))
            }
        }
        impl<$($d: ConstDim),+> ConstShape for ($($d,)+) {
            const NUMEL: usize = 1 $(* $d::SIZE)+;
        }
    };
}
tuple_shape!(1; D0 0);
tuple_shape!(2; D0 0, D1 1);
tuple_shape!(3; D0 0, D1 1, D2 2);
tuple_shape!(4; D0 0, D1 1, D2 2, D3 3);
tuple_shape!(5; D0 0, D1 1, D2 2, D3 3, D4 4);

/// A rank-0 shape (a scalar).
pub type Rank0 = ();
/// A static rank-1 shape `[A]`.
pub type Rank1<const A: usize> = (Dim<A>,);
/// A static rank-2 shape `[A, B]`.
pub type Rank2<const A: usize, const B: usize> = (Dim<A>, Dim<B>);
/// A static rank-3 shape `[A, B, C]`.
pub type Rank3<const A: usize, const B: usize, const C: usize> = (Dim<A>, Dim<B>, Dim<C>);
/// A static rank-4 shape `[A, B, C, D]` (NCHW for images).
pub type Rank4<const A: usize, const B: usize, const C: usize, const D: usize> =
    (Dim<A>, Dim<B>, Dim<C>, Dim<D>);
/// A static rank-5 shape `[A, B, C, D, F]`.
pub type Rank5<const A: usize, const B: usize, const C: usize, const D: usize, const F: usize> =
    (Dim<A>, Dim<B>, Dim<C>, Dim<D>, Dim<F>);

/// Prints a shape's sizes as `[2, 3, 28]`.
pub(crate) fn fmt_dims(dims: &[usize]) -> String {
    format!("{dims:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides_offsets_and_unravel_agree() {
        let s: Rank3<2, 3, 4> = Default::default();
        assert_eq!(s.strides(), [12, 4, 1]);
        assert_eq!(s.offset([1, 2, 3]), Some(12 + 8 + 3));
        assert_eq!(s.offset([2, 0, 0]), None);
        assert_eq!(s.unravel(23), [1, 2, 3]);
        assert_eq!(<Rank3<2, 3, 4> as ConstShape>::NUMEL, 24);
    }

    #[test]
    fn runtime_dims_check_static_ones() {
        assert_eq!(<(usize, Dim<3>)>::from_dims(&[5, 3]), Some((5, Dim)));
        assert_eq!(<(usize, Dim<3>)>::from_dims(&[5, 4]), None);
        assert_eq!(<(usize, Dim<3>)>::from_dims(&[5]), None);
    }
}
