//! A model summary like `torchinfo.summary`: each layer's dotted name, kind, output shape and
//! parameter count, and the totals.
//!
//! Names and counts come from [`Module::visit`]; output shapes from one forward pass that the
//! caller writes (on a batch of zeros of the model's input type), during which each layer notes
//! the shape of what it returns. Those shapes are the types' shapes: the compiler has already
//! checked them; the pass only reads them out, batch included.
//!
//! ```
//! use shapetorch::prelude::*;
//!
//! shapetorch::model! {
//!     struct Net {
//!         conv: Conv2d<f32, 1, 4, 3, 3>,
//!         bn: BatchNorm2d<f32, 4>,
//!         pool: AdaptiveAvgPool2d<1, 1>,
//!         flatten: Flatten,
//!         fc: Linear<f32, 4, 10>,
//!     }
//! }
//! let mut net = Net::new(0);
//! let summary = Summary::new(&mut net, |net| {
//!     let x = Tensor::<f32, (usize, Dim<1>, Dim<8>, Dim<8>)>::zeros_shaped((2, Dim, Dim, Dim));
//!     let x = net.bn.forward(net.conv.forward(x));
//!     net.fc.forward(net.flatten.forward(net.pool.forward(x)));
//! });
//! assert_eq!(summary.layers[0].output, Some(vec![2, 4, 6, 6]));
//! assert_eq!(summary.layers[0].parameters, 4 * 1 * 3 * 3 + 4);
//! assert_eq!(summary.total_parameters, 40 + 8 + 50);
//! println!("{summary}");
//! ```
//!
//! prints
//!
//! ```text
//! Layer (type)                 Output shape           Param #
//! ===========================================================
//! conv (Conv2d)                [2, 4, 6, 6]                40
//! bn (BatchNorm2d)             [2, 4, 6, 6]                 8
//! pool (AdaptiveAvgPool2d)     [2, 4, 1, 1]                 0
//! flatten (Flatten)            [2, 4]                       0
//! fc (Linear)                  [2, 10]                     50
//! ===========================================================
//! Total params: 98
//! Trainable params: 98
//! ```

use std::any::type_name;
use std::cell::RefCell;
use std::fmt;

use super::{Module, ModuleExt, Visitor};
use crate::element::Element;

/// A layer's identity within one model: its address and its type. (A layer without data,
/// such as `ReLU`, may share its address with a neighbour field; its type tells them apart.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerId {
    address: usize,
    type_name: &'static str,
}

impl LayerId {
    /// The identity of `layer`.
    pub fn of<L: ?Sized>(layer: &L) -> Self {
        LayerId {
            address: layer as *const L as *const () as usize,
            type_name: type_name::<L>(),
        }
    }

    /// The type's own name without its path or parameters: `Conv2d`.
    pub fn kind(&self) -> &'static str {
        let name = self.type_name.split('<').next().unwrap_or(self.type_name);
        name.rsplit("::").next().unwrap_or(name)
    }
}

/// The outputs noted in one summary's forward pass: each layer and its output's dims.
type Outputs = Vec<(LayerId, Vec<usize>)>;

thread_local! {
    /// The outputs noted while a [`Summary`] runs its forward pass on this thread (`None`
    /// otherwise: then [`note_output`] does nothing but this check).
    static RECORDING: RefCell<Option<Outputs>> = const { RefCell::new(None) };
}

/// Called by each layer's `forward` with the dims of what it returns: while a [`Summary`]
/// records, the output shape of that layer. Public so that a block written by hand can note
/// its own output too.
pub fn note_output<L: ?Sized>(layer: &L, dims: &[usize]) {
    RECORDING.with(|recording| {
        if let Some(outputs) = recording.borrow_mut().as_mut() {
            outputs.push((LayerId::of(layer), dims.to_vec()));
        }
    });
}

/// One row of a [`Summary`]: a layer (or a block of layers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSummary {
    /// The dotted name, as in a weights file: `block.conv1`.
    pub name: String,
    /// The type's name: `Conv2d`.
    pub kind: &'static str,
    /// The shape of the layer's output in the summary's forward pass (of its last call), or
    /// `None` when it did not note one: a block without its own note, a layer not called, or
    /// two data-less layers of one type at one address (which cannot be told apart).
    pub output: Option<Vec<usize>>,
    /// The values in its parameters, its sub-modules' included (frozen ones too; buffers
    /// are not parameters).
    pub parameters: usize,
    /// How deep it sits: 0 for a field of the model, 1 for a field of such a field, ...
    pub depth: usize,
}

/// A model's layers with their output shapes and parameter counts, and the totals, like
/// `torchinfo.summary`. See [the module docs](self). `Display` prints it as a table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Every sub-module in the order the model visits them, parents before their children.
    pub layers: Vec<LayerSummary>,
    /// The values in all parameters (frozen ones included, as PyTorch counts).
    pub total_parameters: usize,
    /// The values in the trainable parameters.
    pub trainable_parameters: usize,
}

impl Summary {
    /// The summary of `model`, with the output shapes noted while `forward` runs (give it
    /// the model's forward pass on a batch of zeros of its input type).
    ///
    /// `forward` runs in evaluation mode, so that it changes no state (batch norm's running
    /// statistics, dropout's random stream); the model is left in training mode, PyTorch's
    /// default (call `eval()` after if it was evaluating).
    pub fn new<E: Element, M: Module<E>>(model: &mut M, forward: impl FnOnce(&M)) -> Self {
        model.set_training(false);
        RECORDING.with(|recording| *recording.borrow_mut() = Some(Vec::new()));
        // a panicking forward must not leave this thread recording
        struct Stop;
        impl Drop for Stop {
            fn drop(&mut self) {
                RECORDING.with(|recording| recording.borrow_mut().take());
            }
        }
        let stop = Stop;
        forward(model);
        let outputs = RECORDING.with(|recording| recording.borrow_mut().take());
        drop(stop);
        let outputs = outputs.unwrap_or_default();
        model.set_training(true);

        let mut modules = Vec::new();
        model.visit(&mut Visitor::modules(&mut |name, id| {
            modules.push((name.to_string(), id))
        }));
        let mut counts = Vec::new();
        model.for_each_parameter(|name, p| counts.push((name.to_string(), p.values().len())));
        let layers = modules
            .iter()
            .map(|(name, id)| {
                let prefix = format!("{name}.");
                let parameters = counts
                    .iter()
                    .filter(|(param, _)| param.starts_with(&prefix))
                    .map(|(_, count)| count)
                    .sum();
                let shared = modules.iter().filter(|(_, other)| other == id).count();
                let output = match shared {
                    1 => outputs
                        .iter()
                        .rev()
                        .find(|(layer, _)| layer == id)
                        .map(|(_, dims)| dims.clone()),
                    _ => None,
                };
                LayerSummary {
                    name: name.clone(),
                    kind: id.kind(),
                    output,
                    parameters,
                    depth: name.matches('.').count(),
                }
            })
            .collect();
        Summary {
            layers,
            total_parameters: model.parameter_count(),
            trainable_parameters: model.trainable_parameter_count(),
        }
    }
}

impl fmt::Display for Summary {
    /// A table: one row per layer (indented by depth), its output shape and parameter count
    /// (`-` for no shape), then the totals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<(String, String, String)> = self
            .layers
            .iter()
            .map(|layer| {
                let name = format!(
                    "{}{} ({})",
                    "  ".repeat(layer.depth),
                    layer.name,
                    layer.kind
                );
                let output = layer
                    .output
                    .as_ref()
                    .map_or("-".to_string(), |dims| format!("{dims:?}"));
                (name, output, layer.parameters.to_string())
            })
            .collect();
        let name_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(28);
        let output_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(22);
        let total_width = name_width + 1 + output_width + 1 + 7;
        writeln!(
            f,
            "{:<name_width$} {:<output_width$} {:>7}",
            "Layer (type)", "Output shape", "Param #"
        )?;
        writeln!(f, "{}", "=".repeat(total_width))?;
        for (name, output, parameters) in &rows {
            writeln!(
                f,
                "{name:<name_width$} {output:<output_width$} {parameters:>7}"
            )?;
        }
        writeln!(f, "{}", "=".repeat(total_width))?;
        writeln!(f, "Total params: {}", self.total_parameters)?;
        write!(f, "Trainable params: {}", self.trainable_parameters)
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    crate::model! {
        /// A 3x3 convolution that keeps the shape, then a batch norm.
        struct Block {
            conv: Conv2d<f32, 6, 6, 3, 3, ConvParams<1, 1, 1>>,
            bn: BatchNorm2d<f32, 6>,
        }
    }

    crate::model! {
        /// A small CNN for 1 x 12 x 12 inputs, with a block of its own.
        struct Net {
            conv1: Conv2d<f32, 1, 6, 5, 5>,
            act: ReLU,
            block: Block,
            pool: AdaptiveAvgPool2d<1, 1>,
            flatten: Flatten,
            fc: Linear<f32, 6, 10>,
        }
    }

    type Images = Tensor<f32, (usize, Dim<1>, Dim<12>, Dim<12>)>;

    impl Net {
        fn forward(&self, x: Images) -> Tensor<f32, (usize, Dim<10>)> {
            let x = self.act.forward(self.conv1.forward(x));
            let x = self.block.bn.forward(self.block.conv.forward(x));
            self.fc.forward(self.flatten.forward(self.pool.forward(x)))
        }
    }

    #[test]
    fn names_shapes_and_counts_by_hand() {
        let mut net = Net::new(0);
        let summary = Summary::new(&mut net, |net| {
            let _ = net.forward(Images::zeros_shaped((2, Dim, Dim, Dim)));
        });
        let rows: Vec<(&str, &str, Option<Vec<usize>>, usize)> = summary
            .layers
            .iter()
            .map(|l| (l.name.as_str(), l.kind, l.output.clone(), l.parameters))
            .collect();
        assert_eq!(
            rows,
            vec![
                // 6 * 1 * 5 * 5 weights + 6 biases; 12 - 5 + 1 = 8
                ("conv1", "Conv2d", Some(vec![2, 6, 8, 8]), 156),
                ("act", "ReLU", Some(vec![2, 6, 8, 8]), 0),
                // conv 6 * 6 * 3 * 3 + 6 = 330, bn 6 + 6 = 12: the block's own output is not noted
                ("block", "Block", None, 342),
                ("block.conv", "Conv2d", Some(vec![2, 6, 8, 8]), 330),
                ("block.bn", "BatchNorm2d", Some(vec![2, 6, 8, 8]), 12),
                ("pool", "AdaptiveAvgPool2d", Some(vec![2, 6, 1, 1]), 0),
                ("flatten", "Flatten", Some(vec![2, 6]), 0),
                // 10 * 6 + 10
                ("fc", "Linear", Some(vec![2, 10]), 70),
            ]
        );
        assert_eq!(summary.total_parameters, 156 + 342 + 70);
        assert_eq!(summary.trainable_parameters, 568);
        assert_eq!(summary.layers[3].depth, 1);
    }

    #[test]
    fn the_forward_pass_changes_no_state_and_stops_recording() {
        let mut net = Net::new(0);
        let _ = Summary::new(&mut net, |net| {
            let _ = net.forward(Images::zeros_shaped((3, Dim, Dim, Dim)));
        });
        assert_eq!(
            net.block.bn.num_batches_tracked(),
            0,
            "ran in evaluation mode"
        );
        assert!(net.block.bn.is_training(), "left in training mode");
        // outside a summary, forward notes nothing
        let _ = net.forward(Images::zeros_shaped((1, Dim, Dim, Dim)));
        super::RECORDING.with(|r| assert!(r.borrow().is_none()));
    }

    #[test]
    fn without_a_forward_pass_there_are_no_shapes() {
        let mut net = Net::new(0);
        let summary = Summary::new(&mut net, |_| {});
        assert_eq!(summary.total_parameters, 568);
        assert_eq!(summary.layers.len(), 8);
        assert!(summary.layers.iter().all(|l| l.output.is_none()));
    }

    #[test]
    fn the_table_lists_each_layer_and_the_totals() {
        let mut net = Net::new(0);
        let summary = Summary::new(&mut net, |net| {
            let _ = net.forward(Images::zeros_shaped((2, Dim, Dim, Dim)));
        });
        let table = summary.to_string();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2 + 8 + 3, "{table}");
        assert!(lines[2].starts_with("conv1 (Conv2d)"), "{table}");
        assert!(
            lines[2].contains("[2, 6, 8, 8]") && lines[2].ends_with(" 156"),
            "{table}"
        );
        assert!(lines[5].starts_with("  block.conv (Conv2d)"), "{table}");
        assert!(lines[4].contains(" - "), "{table}");
        assert_eq!(lines[11], "Total params: 568");
        assert_eq!(lines[12], "Trainable params: 568");
    }
}
