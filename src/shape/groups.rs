//! Groups: how a convolution's channels split into `G` groups (PyTorch's `groups=`), checked by
//! the compiler with messages that name the op and the numbers.
//!
//! A convolution with `G` groups is `G` convolutions side by side: group `g` reads input
//! channels `g*C/G .. (g+1)*C/G` and writes output channels `g*O/G .. (g+1)*O/G`, so its weight
//! is `[O, C/G, K..]` (a transposed convolution's, `[C, O/G, K..]`). The checks:
//! - the group count is at least 1;
//! - `C % G == 0` ("conv2d: 6 input channels do not split into 4 groups");
//! - `O % G == 0` ("conv2d: 6 output channels do not split into 4 groups");
//! - the weight's per-group channels are `C/G` ("conv2d: input channels differ: 8 input
//!   channels in 4 groups, the weight expects 3 a group").
//!
//! ```
//! use shapetorch::shape::{Dim, GroupKind, Grouped, Ungrouped};
//! // one group: the checks compare const generics (no typenum), as without groups
//! let _: Ungrouped = <Dim<1> as GroupKind>::Kind::default();
//! let _: Grouped<4> = <Dim<4> as GroupKind>::Kind::default();
//! ```
//!
//! # Why a *kind*
//!
//! With one group (every convolution written before groups existed) the input's channels must
//! equal the weight's, a comparison of two const generics that needs no typenum, so code
//! generic over its channels needs no bound. With `G > 1` the check divides, which only typenum
//! can do on stable Rust, and only on known numbers. Two impls, one for `G = 1` and one for any
//! `G`, would overlap; so the group count picks a *kind* first ([`GroupKind`]: [`Ungrouped`]
//! for 1, [`Grouped`] otherwise), and the checks are implemented once per kind. The kind of a
//! known group count is known even when the channels are generic.

use std::ops::{BitAnd, BitOr, Div, Mul, Not, Rem};

use typenum::{And, Gr, IsEqual, IsGreater, Max, Maximum, Prod, Quot, U0, U1};

use super::bridge::{Check, Holds, Num, ToDim, ToUnsigned, Verdict};
use super::window::{ChannelsEqual, DimEq};
use super::{ConstDim, Dim};

/// The kind of a group count of 1: the channel checks compare const generics directly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ungrouped;

/// The kind of a group count `G` other than 1: the channel checks divide, with typenum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Grouped<const G: usize>;

/// The kind of the group count `Self` (`Dim<G>`): [`Ungrouped`] for 1, [`Grouped<G>`] else.
pub trait GroupKind {
    /// `Ungrouped` or `Grouped<G>`.
    type Kind;
}

impl<const G: usize> GroupKind for Dim<G>
where
    Dim<G>: ToUnsigned,
    Num<Dim<G>>: IsEqual<U1>,
    typenum::Eq<Num<Dim<G>>, U1>: Verdict,
{
    type Kind = <typenum::Eq<Num<Dim<G>>, U1> as Verdict>::Select<Ungrouped, Grouped<G>>;
}

// ---------------------------------------------------------------------------------------------
// Guards: implemented for `Holds` only, `Self` the op on failure
// ---------------------------------------------------------------------------------------------

/// The group count is at least 1.
#[diagnostic::on_unimplemented(
    message = "{Self}: the group count is {G}; it must be at least 1",
    label = "zero groups"
)]
pub trait GroupsNonZero<const G: usize> {}
#[diagnostic::do_not_recommend]
impl<const G: usize> GroupsNonZero<G> for Holds {}

/// The input channels split evenly into the groups.
#[diagnostic::on_unimplemented(
    message = "{Self}: {C} input channels do not split into {G} groups",
    label = "input channels not a multiple of the groups",
    note = "groups=G splits the input channels into G equal groups: in_channels must be a multiple of G"
)]
pub trait InChannelsSplit<const C: usize, const G: usize> {}
#[diagnostic::do_not_recommend]
impl<const C: usize, const G: usize> InChannelsSplit<C, G> for Holds {}

/// The output channels split evenly into the groups.
#[diagnostic::on_unimplemented(
    message = "{Self}: {O} output channels do not split into {G} groups",
    label = "output channels not a multiple of the groups",
    note = "each of the G groups has out_channels / G filters: out_channels must be a multiple of G"
)]
pub trait OutChannelsSplit<const O: usize, const G: usize> {}
#[diagnostic::do_not_recommend]
impl<const O: usize, const G: usize> OutChannelsSplit<O, G> for Holds {}

/// The weight's channels per group equal the input's (`C / G`).
#[diagnostic::on_unimplemented(
    message = "{Self}: input channels differ: {C} input channels in {G} groups, the weight expects {WC} a group",
    label = "channels per group differ",
    note = "a grouped convolution's weight is [out_channels, in_channels / groups, kernel...]"
)]
pub trait GroupChannelsEqual<const C: usize, const G: usize, const WC: usize> {}
#[diagnostic::do_not_recommend]
impl<const C: usize, const G: usize, const WC: usize> GroupChannelsEqual<C, G, WC> for Holds {}

// ---------------------------------------------------------------------------------------------
// The arithmetic: `N` channels in `G` groups
// ---------------------------------------------------------------------------------------------

/// `max(G, 1)` as a typenum number: a group count of 0 is reported by its own check, and the
/// arithmetic never divides by zero.
type AtLeastOne<const G: usize> = Maximum<Num<Dim<G>>, U1>;

/// `Self` (`Dim<N>`) channels split into `G` groups, as typenum facts.
#[doc(hidden)]
pub trait SplitBits<const G: usize> {
    /// `B1` when `G >= 1`.
    type NonZero: Verdict + Not;
    /// `B1` when `N % max(G, 1) == 0`.
    type Divides: Verdict;
    /// `B1` when `G >= 1` and `N % G == 0`.
    type Splits: Verdict + Not;
    /// `Dim<N / max(G, 1)>`.
    type PerGroup;
}

impl<const N: usize, const G: usize> SplitBits<G> for Dim<N>
where
    Dim<N>: ToUnsigned,
    Dim<G>: ToUnsigned,
    Num<Dim<G>>: IsGreater<U0> + Max<U1>,
    Gr<Num<Dim<G>>, U0>: Verdict + Not,
    Num<Dim<N>>: Rem<AtLeastOne<G>> + Div<AtLeastOne<G>>,
    typenum::Mod<Num<Dim<N>>, AtLeastOne<G>>: IsEqual<U0>,
    typenum::Eq<typenum::Mod<Num<Dim<N>>, AtLeastOne<G>>, U0>: Verdict,
    Quot<Num<Dim<N>>, AtLeastOne<G>>: ToDim,
    Gr<Num<Dim<G>>, U0>: BitAnd<typenum::Eq<typenum::Mod<Num<Dim<N>>, AtLeastOne<G>>, U0>>,
    And<Gr<Num<Dim<G>>, U0>, typenum::Eq<typenum::Mod<Num<Dim<N>>, AtLeastOne<G>>, U0>>:
        Verdict + Not,
{
    type NonZero = Gr<Num<Dim<G>>, U0>;
    type Splits =
        And<Gr<Num<Dim<G>>, U0>, typenum::Eq<typenum::Mod<Num<Dim<N>>, AtLeastOne<G>>, U0>>;
    type Divides = typenum::Eq<typenum::Mod<Num<Dim<N>>, AtLeastOne<G>>, U0>;
    type PerGroup = <Quot<Num<Dim<N>>, AtLeastOne<G>> as ToDim>::Output;
}

/// `!A | B` of two typenum bits: a check that only applies when `A` holds.
type Unless<A, B> = <<A as Not>::Output as BitOr<B>>::Output;

// ---------------------------------------------------------------------------------------------
// The checks per kind
// ---------------------------------------------------------------------------------------------

/// A convolution's input side: `C` input channels split into the groups of the kind `Self`,
/// `WC` (the weight's second dim) to a group; failures name the op `Op`.
#[doc(hidden)]
pub trait InGroups<Op, const C: usize, const WC: usize> {}

impl<Op, const C: usize, const WC: usize> InGroups<Op, C, WC> for Ungrouped where
    Op: ChannelsEqual<C, WC>
{
}

// Three guards, each vacuous when an earlier one fails (`Unless`), so that a bad input reports
// one error: zero groups; else channels that do not split; else the weight's channels a group.
impl<Op, const G: usize, const C: usize, const WC: usize> InGroups<Op, C, WC> for Grouped<G>
where
    Dim<C>: SplitBits<G>,
    Check<<Dim<C> as SplitBits<G>>::NonZero, Op>: GroupsNonZero<G>,
    <<Dim<C> as SplitBits<G>>::NonZero as Not>::Output: BitOr<<Dim<C> as SplitBits<G>>::Divides>,
    Unless<<Dim<C> as SplitBits<G>>::NonZero, <Dim<C> as SplitBits<G>>::Divides>: Verdict,
    Check<Unless<<Dim<C> as SplitBits<G>>::NonZero, <Dim<C> as SplitBits<G>>::Divides>, Op>:
        InChannelsSplit<C, G>,
    <Dim<C> as SplitBits<G>>::PerGroup: DimEq<WC>,
    <Dim<C> as SplitBits<G>>::Splits: Not,
    <<Dim<C> as SplitBits<G>>::Splits as Not>::Output:
        BitOr<<<Dim<C> as SplitBits<G>>::PerGroup as DimEq<WC>>::Bit>,
    Unless<
        <Dim<C> as SplitBits<G>>::Splits,
        <<Dim<C> as SplitBits<G>>::PerGroup as DimEq<WC>>::Bit,
    >: Verdict,
    Check<
        Unless<
            <Dim<C> as SplitBits<G>>::Splits,
            <<Dim<C> as SplitBits<G>>::PerGroup as DimEq<WC>>::Bit,
        >,
        Op,
    >: GroupChannelsEqual<C, G, WC>,
{
}

/// A convolution's output side: `O` output channels split into the groups of the kind `Self`;
/// a failure names the op `Op` (zero groups are reported by the input's check).
#[doc(hidden)]
pub trait OutGroups<Op, const O: usize> {}

impl<Op, const O: usize> OutGroups<Op, O> for Ungrouped {}

impl<Op, const G: usize, const O: usize> OutGroups<Op, O> for Grouped<G>
where
    Dim<O>: SplitBits<G>,
    <Dim<O> as SplitBits<G>>::NonZero: Not,
    <<Dim<O> as SplitBits<G>>::NonZero as Not>::Output: BitOr<<Dim<O> as SplitBits<G>>::Divides>,
    Unless<<Dim<O> as SplitBits<G>>::NonZero, <Dim<O> as SplitBits<G>>::Divides>: Verdict,
    Check<Unless<<Dim<O> as SplitBits<G>>::NonZero, <Dim<O> as SplitBits<G>>::Divides>, Op>:
        OutChannelsSplit<O, G>,
{
}

/// A transposed convolution's input side: `C` input channels split into the groups of the
/// kind `Self`; failures name the op `Op`.
#[doc(hidden)]
pub trait InSplit<Op, const C: usize> {}

impl<Op, const C: usize> InSplit<Op, C> for Ungrouped {}

impl<Op, const G: usize, const C: usize> InSplit<Op, C> for Grouped<G>
where
    Dim<C>: SplitBits<G>,
    Check<<Dim<C> as SplitBits<G>>::NonZero, Op>: GroupsNonZero<G>,
    <<Dim<C> as SplitBits<G>>::NonZero as Not>::Output: BitOr<<Dim<C> as SplitBits<G>>::Divides>,
    Unless<<Dim<C> as SplitBits<G>>::NonZero, <Dim<C> as SplitBits<G>>::Divides>: Verdict,
    Check<Unless<<Dim<C> as SplitBits<G>>::NonZero, <Dim<C> as SplitBits<G>>::Divides>, Op>:
        InChannelsSplit<C, G>,
{
}

/// A transposed convolution's output channels: the weight's `WO` a group times the groups of
/// the kind `Self` (`Dim<WO>` itself with one group, so generic channels need no bound).
#[doc(hidden)]
pub trait GroupTimes<const WO: usize> {
    /// `Dim<WO * G>`.
    type Channels: ConstDim;
}

impl<const WO: usize> GroupTimes<WO> for Ungrouped {
    type Channels = Dim<WO>;
}

impl<const G: usize, const WO: usize> GroupTimes<WO> for Grouped<G>
where
    Dim<WO>: ToUnsigned,
    Dim<G>: ToUnsigned,
    Num<Dim<G>>: Max<U1>,
    Num<Dim<WO>>: Mul<AtLeastOne<G>>,
    Prod<Num<Dim<WO>>, AtLeastOne<G>>: ToDim,
{
    type Channels = <Prod<Num<Dim<WO>>, AtLeastOne<G>> as ToDim>::Output;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::markers::conv2d;
    use typenum::{B0, B1};

    fn input<K: InGroups<conv2d, C, WC>, const C: usize, const WC: usize>() {}
    fn output<K: OutGroups<conv2d, O>, const O: usize>() {}
    fn split<K: InSplit<conv2d, C>, const C: usize>() {}

    #[test]
    fn kinds_and_splits() {
        let _: Ungrouped = <Dim<1> as GroupKind>::Kind::default();
        let _: Grouped<0> = <Dim<0> as GroupKind>::Kind::default();
        let _: Grouped<3> = <Dim<3> as GroupKind>::Kind::default();
        let _: B1 = <Dim<12> as SplitBits<4>>::Divides::default();
        let _: B0 = <Dim<6> as SplitBits<4>>::Divides::default();
        let _: Dim<3> = <Dim<12> as SplitBits<4>>::PerGroup::default();
        let _: B0 = <Dim<6> as SplitBits<0>>::NonZero::default();
        let _: Dim<12> = <Grouped<4> as GroupTimes<3>>::Channels::default();
        let _: Dim<5> = <Ungrouped as GroupTimes<5>>::Channels::default();
        input::<Ungrouped, 7, 7>();
        input::<Grouped<4>, 8, 2>();
        input::<Grouped<8>, 8, 1>();
        output::<Grouped<4>, 12>();
        output::<Ungrouped, 7>();
        split::<Grouped<2>, 6>();
    }

    /// The same checks for every channel count: generic code with one group needs no bound.
    fn ungrouped_generic<const C: usize, const O: usize>() {
        input::<Ungrouped, C, C>();
        output::<Ungrouped, O>();
        split::<Ungrouped, C>();
    }

    #[test]
    fn one_group_needs_no_arithmetic() {
        ungrouped_generic::<3000, 9>();
    }
}
