//! The relation of the lecture's `tile` ([`TileShape`]): `[B, C, H, W]` cut into `KH x KW`
//! tiles, `[B, C, H/KH, W/KW, KH*KW]` ([`Tiled`]), compiling only when the tile divides the
//! image; built as the pooling relations are (`pool.rs`), with the guards of `window.rs`.
//!
//! ```
//! use shapetorch::shape::{Dim, Tiled};
//! // tiles of 2 x 4: [B, C, 28/2, 28/4, 2*4]
//! let _: Tiled<(usize, Dim<3>, Dim<28>, Dim<28>), 2, 4> = (1, Dim::<3>, Dim::<14>, Dim::<7>, Dim::<8>);
//! ```

use super::bridge::{Check, MulDims};
use super::markers::tile;
use super::window::{AxisTiles, Height, NonEmpty2, TileAxis, Width, WindowNonEmpty};
use super::{Dim, Dimension, Shape};

/// tile takes a 4-D input: asked of `()` by the impls for other ranks, implemented by none.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "tile takes a 4-D input [batch, channels, height, width]; the input is `{X}`",
    label = "not a 4-D input"
)]
pub trait TileInputRank<X, const KH: usize, const KW: usize> {}
/// Never met by a real tile (0 x 0, an error on a 4-D input); see the impl of
/// `Pool2dInputRank`. (Not `usize::MAX` as there: `tile`'s last axis, `KH*KW`, must stay
/// computable for method lookup to go on.)
#[diagnostic::do_not_recommend]
impl<X> TileInputRank<X, 0, 0> for () {}

/// tile's output shape for an input shape `Self` (`[B, C, H, W]`) and tiles `KH x KW`:
/// `[B, C, H/KH, W/KW, KH*KW]`, arithmetic only, the supertrait of [`TileShape`].
pub trait TileSize<const KH: usize, const KW: usize>: Shape {
    /// `[B, C, H/KH, W/KW, KH*KW]`.
    type Output: Shape;
    /// The output shape's value (batch and channels pass through).
    fn tiled_shape(&self) -> Self::Output;
}

impl<X: Shape, const KH: usize, const KW: usize> TileSize<KH, KW> for X
where
    (): TileSizeFor<X, KH, KW>,
{
    type Output = <() as TileSizeFor<X, KH, KW>>::Output;
    #[inline]
    fn tiled_shape(&self) -> Self::Output {
        <() as TileSizeFor<X, KH, KW>>::out_shape(self)
    }
}

/// [`TileSize`], asked of `()`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "tile: the compiler cannot see the height and width of `{X}`; in generic code, add the op's relation: `where {X}: TileShape<{KH}, {KW}>`"
)]
pub trait TileSizeFor<X, const KH: usize, const KW: usize> {
    /// The output shape.
    type Output: Shape;
    /// The output shape's value.
    fn out_shape(x: &X) -> Self::Output;
}

impl<
        T: ?Sized,
        B: Dimension,
        C: Dimension,
        const H: usize,
        const W: usize,
        const KH: usize,
        const KW: usize,
    > TileSizeFor<(B, C, Dim<H>, Dim<W>), KH, KW> for T
where
    Dim<H>: TileAxis<KH>,
    Dim<W>: TileAxis<KW>,
    Dim<KH>: MulDims<Dim<KW>>,
{
    type Output = (
        B,
        C,
        <Dim<H> as TileAxis<KH>>::Tiles,
        <Dim<W> as TileAxis<KW>>::Tiles,
        <Dim<KH> as MulDims<Dim<KW>>>::Output,
    );
    fn out_shape(x: &(B, C, Dim<H>, Dim<W>)) -> Self::Output {
        (
            x.0,
            x.1,
            Default::default(),
            Default::default(),
            Default::default(),
        )
    }
}

/// tile's checks, asked of `()`; its message is the one for an input whose height or width is
/// not static.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "tile: the compiler cannot see the height and width of `{X}`; in generic code, add the op's relation: `where {X}: TileShape<{KH}, {KW}>`"
)]
pub trait TileCheck<X, const KH: usize, const KW: usize>: TileSizeFor<X, KH, KW> {}

impl<
        T: ?Sized,
        B: Dimension,
        C: Dimension,
        const H: usize,
        const W: usize,
        const KH: usize,
        const KW: usize,
    > TileCheck<(B, C, Dim<H>, Dim<W>), KH, KW> for T
where
    T: TileSizeFor<(B, C, Dim<H>, Dim<W>), KH, KW>,
    (): NonEmpty2<KH, KW>,
    Check<<() as NonEmpty2<KH, KW>>::Bit, tile>: WindowNonEmpty<tile, KH, KW>,
    tile: AxisTiles<Height, H, KH> + AxisTiles<Width, W, KW>,
{
}

macro_rules! tile_wrong_ranks {
    ($($($d:ident),*;)+) => {$(
        impl<T: ?Sized, $($d,)* const KH: usize, const KW: usize> TileSizeFor<($($d,)*), KH, KW>
            for T
        where
            (): TileInputRank<($($d,)*), KH, KW>,
        {
            type Output = ();
            fn out_shape(_: &($($d,)*)) {
                panic!(
                    "tile takes a 4-D input [batch, channels, height, width] and tiles of at \
                     least 1 x 1 (checked at compile time, except for 0 x 0 tiles on another rank)"
                )
            }
        }
        impl<T: ?Sized, $($d,)* const KH: usize, const KW: usize> TileCheck<($($d,)*), KH, KW>
            for T
        where
            (): TileInputRank<($($d,)*), KH, KW>,
        {
        }
    )+};
}
tile_wrong_ranks!(; X0; X0, X1; X0, X1, X2; X0, X1, X2, X3, X4;);
/// Never met by a real tile (`usize::MAX`): see `pool_generic_dims` in `pool.rs`; for `tile`.
#[diagnostic::do_not_recommend]
impl<T: ?Sized, B, C, H, W> TileSizeFor<(B, C, H, W), { usize::MAX }, { usize::MAX }> for T {
    type Output = ();
    fn out_shape(_: &(B, C, H, W)) {
        panic!("tile: a tile of usize::MAX is no tile")
    }
}
#[diagnostic::do_not_recommend]
impl<T: ?Sized, B, C, H, W> TileCheck<(B, C, H, W), { usize::MAX }, { usize::MAX }> for T {}

/// The relation of `tile::<KH, KW>()`: `KH` divides the height and `KW` the width of an input
/// of shape `Self` (`[B, C, H, W]`, static height and width), and the output is [`Tiled`],
/// `[B, C, H/KH, W/KW, KH*KW]`. Generic code writes `where (B, C, H, W): TileShape<2, 2>`.
#[diagnostic::on_unimplemented(message = "tile: `{Self}` does not cut into {KH} x {KW} tiles")]
pub trait TileShape<const KH: usize, const KW: usize>: TileSize<KH, KW> {}

impl<X, const KH: usize, const KW: usize> TileShape<KH, KW> for X
where
    X: TileSize<KH, KW>,
    (): TileCheck<X, KH, KW>,
{
}

/// The output shape of `tile::<KH, KW>()` on an input `S` (`[B, C, H, W]`):
/// `[B, C, H/KH, W/KW, KH*KW]`.
pub type Tiled<S, const KH: usize, const KW: usize> = <S as TileSize<KH, KW>>::Output;

#[cfg(test)]
mod tests {
    use super::*;

    fn same<T>(_: T, _: T) {}

    #[test]
    fn tile_sizes() {
        let t: Tiled<(usize, Dim<3>, Dim<28>, Dim<28>), 2, 4> = (5, Dim, Dim, Dim, Dim);
        same(t, (5usize, Dim::<3>, Dim::<14>, Dim::<7>, Dim::<8>));
    }
}
