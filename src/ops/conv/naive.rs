//! The reference convolution: the formula as plain loops, one output (or one product) at a
//! time. Slow and obviously right; [`direct`](super::direct) and [`unroll`](super::unroll) are
//! tested against it.
//!
//! Layouts are row-major: input `[B, C, H, W]`, weight `[O, C, KH, KW]`, output
//! `[B, O, OH, OW]`. Input positions outside the image (the padding) read as zero.

use super::ConvGeometry;
use crate::tensor::Element;

/// Overwrites `output` with the convolution of `input` and `weight`:
///
/// `output[b, o, oy, ox] = sum_{c, ky, kx} weight[o, c, ky, kx]
///     * input[b, c, oy*stride_h + ky*dilation_h - pad_top,
///                   ox*stride_w + kx*dilation_w - pad_left]`
pub fn forward<E: Element>(g: &ConvGeometry, input: &[E], weight: &[E], output: &mut [E]) {
    g.check("naive::forward", input.len(), weight.len(), output.len());
    for b in 0..g.batch {
        for o in 0..g.out_channels {
            for oy in 0..g.out_h {
                for ox in 0..g.out_w {
                    let mut sum = E::zero();
                    for c in 0..g.in_channels {
                        for ky in 0..g.kernel_h {
                            for kx in 0..g.kernel_w {
                                // zero outside the input: the padding adds nothing
                                if let (Some(iy), Some(ix)) = (g.input_y(oy, ky), g.input_x(ox, kx))
                                {
                                    sum += weight[g.weight_at(o, c, ky, kx)]
                                        * input[g.input_at(b, c, iy, ix)];
                                }
                            }
                        }
                    }
                    output[g.output_at(b, o, oy, ox)] = sum;
                }
            }
        }
    }
}

/// Adds the gradient with respect to the input into `grad_input`: every product of the forward
/// pass sends `grad_output * weight` back to the input element it read,
///
/// `grad_input[b, c, iy, ix] += grad_output[b, o, oy, ox] * weight[o, c, ky, kx]`
/// for every `(o, oy, ox, ky, kx)` with `iy = oy*stride_h + ky*dilation_h - pad_top` and
/// `ix = ox*stride_w + kx*dilation_w - pad_left` inside the input.
pub fn grad_input<E: Element>(
    g: &ConvGeometry,
    grad_output: &[E],
    weight: &[E],
    grad_input: &mut [E],
) {
    g.check(
        "naive::grad_input",
        grad_input.len(),
        weight.len(),
        grad_output.len(),
    );
    for b in 0..g.batch {
        for o in 0..g.out_channels {
            for oy in 0..g.out_h {
                for ox in 0..g.out_w {
                    let upstream = grad_output[g.output_at(b, o, oy, ox)];
                    for c in 0..g.in_channels {
                        for ky in 0..g.kernel_h {
                            for kx in 0..g.kernel_w {
                                if let (Some(iy), Some(ix)) = (g.input_y(oy, ky), g.input_x(ox, kx))
                                {
                                    grad_input[g.input_at(b, c, iy, ix)] +=
                                        upstream * weight[g.weight_at(o, c, ky, kx)];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Adds the gradient with respect to the weight into `grad_weight`: each weight multiplied one
/// input element per output position, so its gradient sums those inputs times the upstream
/// gradient,
///
/// `grad_weight[o, c, ky, kx] += sum_{b, oy, ox} grad_output[b, o, oy, ox]
///     * input[b, c, oy*stride_h + ky*dilation_h - pad_top,
///                   ox*stride_w + kx*dilation_w - pad_left]`
pub fn grad_weight<E: Element>(
    g: &ConvGeometry,
    grad_output: &[E],
    input: &[E],
    grad_weight: &mut [E],
) {
    g.check(
        "naive::grad_weight",
        input.len(),
        grad_weight.len(),
        grad_output.len(),
    );
    for o in 0..g.out_channels {
        for c in 0..g.in_channels {
            for ky in 0..g.kernel_h {
                for kx in 0..g.kernel_w {
                    let mut sum = E::zero();
                    for b in 0..g.batch {
                        for oy in 0..g.out_h {
                            for ox in 0..g.out_w {
                                if let (Some(iy), Some(ix)) = (g.input_y(oy, ky), g.input_x(ox, kx))
                                {
                                    sum += grad_output[g.output_at(b, o, oy, ox)]
                                        * input[g.input_at(b, c, iy, ix)];
                                }
                            }
                        }
                    }
                    grad_weight[g.weight_at(o, c, ky, kx)] += sum;
                }
            }
        }
    }
}
