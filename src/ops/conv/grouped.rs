//! Grouped convolution (PyTorch's `groups=`): `G` convolutions side by side, group `g`
//! reading input channels `g·C/G .. (g+1)·C/G` with its own `O/G` filters and writing output
//! channels `g·O/G .. (g+1)·O/G`. Weight `[O, C/G, KH, KW]`:
//!
//! `output[b, o, oy, ox] = sum_{c < C/G, ky, kx} weight[o, c, ky, kx]
//!     * input[b, (o / (O/G))·(C/G) + c, oy*stride_h + ky*dilation_h - pad_top, ...]`
//!
//! A [`GroupedPlan`] runs it, made once per call and kept by the backward closure like the
//! [`ConvPlan`] it holds:
//! - one group: the [`ConvPlan`] of the whole convolution, nothing else (no copies);
//! - `G = C` (depthwise): the direct loops of `depthwise.rs`, one plane at a time;
//! - otherwise: the [`ConvPlan`] of one group's geometry, run once per group on that group's
//!   channels, copied into contiguous buffers (a group's channels are contiguous within each
//!   batch entry only) and the result copied back. The copies are one pass over each tensor,
//!   against `C/G·KH·KW` multiply-adds per element in the kernels.

use super::{depthwise, ConvGeometry, ConvPlan};
use crate::memory::Buffer;
use crate::tensor::Element;

/// Which kernels run a grouped convolution.
// A plan is made once per call and copied into the backward closure: no box for its size.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupKernel {
    /// The plan of one group's geometry (the whole convolution's when there is one group),
    /// run once per group.
    PerGroup(ConvPlan),
    /// The depthwise loops (`groups == in_channels`).
    Depthwise,
}

/// The plan of a convolution with `groups` groups: which kernels run it
/// ([`GroupKernel`]), made once per call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupedPlan {
    /// The whole convolution: `in_channels = C`, `out_channels = O`.
    geometry: ConvGeometry,
    groups: usize,
    kernel: GroupKernel,
}

impl GroupedPlan {
    /// The plan for `geometry` (whole channel counts) in `groups` groups, in `E`: the depthwise
    /// loops when every group has one input channel (and there are several), else the
    /// [`ConvPlan`] of one group.
    ///
    /// Panics unless `groups` divides both channel counts (the typed API has checked it).
    pub fn new<E: Element>(geometry: &ConvGeometry, groups: usize) -> GroupedPlan {
        let depthwise = groups > 1 && groups == geometry.in_channels;
        Self::with_kernel::<E>(geometry, groups, depthwise)
    }

    /// The plan with the depthwise loops (`depthwise`, which needs `groups == in_channels`) or
    /// the per-group [`ConvPlan`]: for tests and benchmarks that compare them.
    pub fn with_kernel<E: Element>(
        geometry: &ConvGeometry,
        groups: usize,
        depthwise: bool,
    ) -> GroupedPlan {
        let g = geometry;
        assert!(
            groups >= 1
                && g.in_channels.is_multiple_of(groups)
                && g.out_channels.is_multiple_of(groups),
            "convolution: {} input and {} output channels do not split into {groups} groups",
            g.in_channels,
            g.out_channels
        );
        assert!(
            !depthwise || groups == g.in_channels,
            "convolution: the depthwise loops need groups == in_channels ({groups} != {})",
            g.in_channels
        );
        let kernel = if depthwise {
            GroupKernel::Depthwise
        } else {
            GroupKernel::PerGroup(ConvPlan::new::<E>(&Self::one_group(g, groups)))
        };
        GroupedPlan {
            geometry: *g,
            groups,
            kernel,
        }
    }

    /// The geometry of one group: `C/G` input and `O/G` output channels.
    fn one_group(g: &ConvGeometry, groups: usize) -> ConvGeometry {
        ConvGeometry {
            in_channels: g.in_channels / groups,
            out_channels: g.out_channels / groups,
            ..*g
        }
    }

    /// The whole convolution's geometry.
    pub fn geometry(&self) -> &ConvGeometry {
        &self.geometry
    }

    /// The group count.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// The kernels that run.
    pub fn kernel(&self) -> GroupKernel {
        self.kernel
    }

    /// Elements in the weight `[O, C/G, KH, KW]`.
    pub fn weight_len(&self) -> usize {
        Self::one_group(&self.geometry, self.groups).weight_len() * self.groups
    }

    /// Overwrites `output` with the grouped convolution of `input` and `weight`.
    pub fn forward<E: Element>(&self, input: &[E], weight: &[E], output: &mut [E]) {
        let g = &self.geometry;
        match self.kernel {
            GroupKernel::Depthwise => depthwise::forward(g, input, weight, output),
            GroupKernel::PerGroup(plan) if self.groups == 1 => plan.forward(input, weight, output),
            GroupKernel::PerGroup(plan) => {
                let one = plan.geometry();
                let split = self.split(weight, output.len());
                let mut y = Buffer::for_overwrite(one.output_len());
                let mut x = Buffer::for_overwrite(one.input_len());
                for group in 0..self.groups {
                    split.input.gather(input, group, &mut x);
                    plan.forward(&x, split.weight(weight, group), &mut y);
                    split.output.scatter(&y, group, output, |out, y| *out = y);
                }
            }
        }
    }

    /// Adds the gradient with respect to the input into `grad_input`.
    pub fn grad_input<E: Element>(&self, grad_output: &[E], weight: &[E], grad_input: &mut [E]) {
        let g = &self.geometry;
        match self.kernel {
            GroupKernel::Depthwise => depthwise::grad_input(g, grad_output, weight, grad_input),
            GroupKernel::PerGroup(plan) if self.groups == 1 => {
                plan.grad_input(grad_output, weight, grad_input)
            }
            GroupKernel::PerGroup(plan) => {
                let one = plan.geometry();
                let split = self.split(weight, grad_output.len());
                let mut gy = Buffer::for_overwrite(one.output_len());
                let mut gx = Buffer::zeroed(one.input_len());
                for group in 0..self.groups {
                    split.output.gather(grad_output, group, &mut gy);
                    gx.fill(E::zero());
                    plan.grad_input(&gy, split.weight(weight, group), &mut gx);
                    split
                        .input
                        .scatter(&gx, group, grad_input, |out, gx| *out += gx);
                }
            }
        }
    }

    /// Adds the gradient with respect to the weight into `grad_weight`.
    pub fn grad_weight<E: Element>(&self, grad_output: &[E], input: &[E], grad_weight: &mut [E]) {
        let g = &self.geometry;
        match self.kernel {
            GroupKernel::Depthwise => depthwise::grad_weight(g, grad_output, input, grad_weight),
            GroupKernel::PerGroup(plan) if self.groups == 1 => {
                plan.grad_weight(grad_output, input, grad_weight)
            }
            GroupKernel::PerGroup(plan) => {
                let one = plan.geometry();
                let split = self.split(grad_weight, grad_output.len());
                let mut gy = Buffer::for_overwrite(one.output_len());
                let mut x = Buffer::for_overwrite(one.input_len());
                let per_group = one.weight_len();
                for (group, grad_w) in grad_weight.chunks_exact_mut(per_group).enumerate() {
                    split.output.gather(grad_output, group, &mut gy);
                    split.input.gather(input, group, &mut x);
                    plan.grad_weight(&gy, &x, grad_w);
                }
            }
        }
    }

    /// How the input, weight and output split into groups; checks the slices' lengths.
    fn split<E>(&self, weight: &[E], output: usize) -> Split {
        let g = &self.geometry;
        assert_eq!(
            (weight.len(), output),
            (self.weight_len(), g.output_len()),
            "grouped convolution: weight and output lengths for {g:?} in {} groups",
            self.groups
        );
        Split {
            input: Channels {
                batch: g.batch,
                total: g.in_channels,
                per_group: g.in_channels / self.groups,
                plane: g.in_plane(),
            },
            output: Channels {
                batch: g.batch,
                total: g.out_channels,
                per_group: g.out_channels / self.groups,
                plane: g.out_plane(),
            },
            weight_per_group: self.weight_len() / self.groups,
        }
    }
}

/// A tensor `[B, total, plane]` seen as `total / per_group` groups of channels.
struct Channels {
    batch: usize,
    total: usize,
    per_group: usize,
    plane: usize,
}

impl Channels {
    /// Copies group `group`'s channels of `all` (`[B, total, plane]`) into `one`
    /// (`[B, per_group, plane]`).
    fn gather<E: Copy>(&self, all: &[E], group: usize, one: &mut [E]) {
        let run = self.per_group * self.plane;
        assert_eq!(
            (all.len(), one.len()),
            (self.batch * self.total * self.plane, self.batch * run)
        );
        for (b, one) in one.chunks_exact_mut(run.max(1)).enumerate() {
            let start = (b * self.total + group * self.per_group) * self.plane;
            one.copy_from_slice(&all[start..start + run]);
        }
    }

    /// Writes `one` (`[B, per_group, plane]`) into group `group`'s channels of `all` with
    /// `write` (assign or add).
    fn scatter<E: Copy>(&self, one: &[E], group: usize, all: &mut [E], write: impl Fn(&mut E, E)) {
        let run = self.per_group * self.plane;
        assert_eq!(
            (all.len(), one.len()),
            (self.batch * self.total * self.plane, self.batch * run)
        );
        for (b, one) in one.chunks_exact(run.max(1)).enumerate() {
            let start = (b * self.total + group * self.per_group) * self.plane;
            let all = &mut all[start..start + run];
            all.iter_mut().zip(one).for_each(|(a, &o)| write(a, o));
        }
    }
}

/// The three tensors of a grouped convolution, by group.
struct Split {
    input: Channels,
    output: Channels,
    weight_per_group: usize,
}

impl Split {
    /// Group `group`'s filters, `[O/G, C/G, KH, KW]`: contiguous in the weight.
    fn weight<'w, E>(&self, weight: &'w [E], group: usize) -> &'w [E] {
        &weight[group * self.weight_per_group..][..self.weight_per_group]
    }
}
