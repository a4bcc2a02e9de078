//! Layers and models: the [`Forward`] pass, the [`Module`] trait (parameters visited by name,
//! train/eval mode), seeded initialisation ([`Init`]), and the [`model!`](crate::model) macro
//! that makes a struct of layers a module.
//!
//! A model is a struct of layers with a hand-written `forward`, as in PyTorch. Every layer's
//! input type is checked where it is called, so a layer that does not fit the previous one's
//! output fails the build on that line, with the layer's own message ("linear: the input has
//! 256 features, the layer expects 250"):
//!
//! ```
//! use shapetorch::prelude::*;
//!
//! shapetorch::model! {
//!     /// A two-layer perceptron.
//!     pub struct Mlp {
//!         fc1: Linear<f32, 4, 8>,
//!         fc2: Linear<f32, 8, 3>,
//!     }
//! }
//!
//! impl Mlp {
//!     fn forward<B: Dimension>(&self, x: Tensor<f32, (B, Dim<4>)>) -> Tensor<f32, (B, Dim<3>)> {
//!         self.fc2.forward(self.fc1.forward(x).relu())
//!     }
//! }
//!
//! let mut model = Mlp::new(0); // seeded, PyTorch's default initialisation
//! let y = model.forward(Tensor::<f32, (usize, Dim<4>)>::zeros_shaped((5, Dim)));
//! assert_eq!(y.dims(), [5, 3]);
//! assert_eq!(
//!     model.parameter_names(),
//!     vec!["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
//! );
//! ```

mod activation;
mod conv;
mod dropout;
mod embedding;
mod linear;
mod pool;
pub mod weights;

pub use activation::{ReLU, Sigmoid, Tanh};
pub use conv::{Conv1d, Conv2d};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use linear::Linear;
pub use pool::{AvgPool1d, AvgPool2d, Flatten, MaxPool1d, MaxPool2d};

use crate::autodiff::{Tape, TensorId};
use crate::element::Element;
use crate::shape::Shape;
use crate::tensor::{Rng, Tensor};

/// A layer's or model's forward pass on an input of type `Input`.
///
/// Layers implement it for every input shape they accept, bounded by the op's shape relation,
/// so a wrong input fails the build with the op's message.
pub trait Forward<Input> {
    /// The result's type (its shape computed by the compiler).
    type Output;
    /// Computes the output. Parameters traced on a tape record the op there.
    fn forward(&self, input: Input) -> Self::Output;
}

/// One parameter as a [`Module`] visitor sees it: any tensor of element type `E`, whatever its
/// shape.
pub trait Parameter<E: Element> {
    /// The autodiff id: `grads.get_raw(p.id())` finds its gradient.
    fn id(&self) -> TensorId;
    /// The sizes of its dims.
    fn dims(&self) -> Vec<usize>;
    /// Its values, row-major.
    fn values(&self) -> &[E];
    /// Its values, for an in-place update (copy-on-write; keeps id and trace).
    fn values_mut(&mut self) -> &mut [E];
    /// Traces it on `tape` as a leaf (`Some`), or cuts it from its tape (`None`).
    fn set_tape(&mut self, tape: Option<&Tape<E>>);
}

impl<E: Element, S: Shape> Parameter<E> for Tensor<E, S> {
    fn id(&self) -> TensorId {
        Tensor::id(self)
    }
    fn dims(&self) -> Vec<usize> {
        Tensor::dims(self).as_ref().to_vec()
    }
    fn values(&self) -> &[E] {
        self.as_slice()
    }
    fn values_mut(&mut self) -> &mut [E] {
        self.data_mut()
    }
    fn set_tape(&mut self, tape: Option<&Tape<E>>) {
        // The same id either way, so optimiser state and gradients keep finding it.
        let id = Tensor::id(self);
        *self = match tape {
            Some(tape) => self.trace(tape),
            None => self.untraced(),
        };
        debug_assert_eq!(Tensor::id(self), id);
    }
}

/// The callbacks a [`Module`] gives its parameters and sub-modules to, with the dotted name
/// of each (`"conv1.weight"`).
pub struct Visitor<'a, E: Element> {
    prefix: String,
    visit: &'a mut dyn FnMut(&str, &mut dyn Parameter<E>),
    include_frozen: bool,
}

impl<'a, E: Element> Visitor<'a, E> {
    /// A visitor calling `visit` with every parameter's full name, frozen ones included.
    pub fn new(visit: &'a mut dyn FnMut(&str, &mut dyn Parameter<E>)) -> Self {
        Visitor {
            prefix: String::new(),
            visit,
            include_frozen: true,
        }
    }

    /// A visitor calling `visit` with the trainable parameters only (not the frozen ones).
    pub fn trainable(visit: &'a mut dyn FnMut(&str, &mut dyn Parameter<E>)) -> Self {
        Visitor {
            include_frozen: false,
            ..Self::new(visit)
        }
    }

    /// Visits one parameter named `name` within the current module.
    pub fn param(&mut self, name: &str, param: &mut dyn Parameter<E>) {
        let full = format!("{}{name}", self.prefix);
        (self.visit)(&full, param);
    }

    /// Visits a frozen parameter: one that is saved, loaded and counted, but not trained
    /// (`trace` leaves it untraced, so it gets no gradient), like a PyTorch parameter with
    /// `requires_grad = False`.
    pub fn frozen_param(&mut self, name: &str, param: &mut dyn Parameter<E>) {
        if self.include_frozen {
            self.param(name, param);
        }
    }

    /// Visits the parameters of sub-module `name` (their names get the prefix `name.`).
    pub fn module<M: Module<E> + ?Sized>(&mut self, name: &str, module: &mut M) {
        let len = self.prefix.len();
        self.prefix.push_str(name);
        self.prefix.push('.');
        module.visit(self);
        self.prefix.truncate(len);
    }
}

/// Something with parameters: a layer or a model. Visits its parameters by name, switches
/// between training and evaluation, and gets (through [`ModuleExt`]) tracing, parameter
/// counts, saving and loading.
///
/// Layers implement it by hand; a struct of layers gets it from [`model!`](crate::model).
pub trait Module<E: Element> {
    /// Calls `visitor.param(name, p)` for each own parameter and `visitor.module(name, m)`
    /// for each sub-module, always in the same order.
    fn visit(&mut self, visitor: &mut Visitor<'_, E>);

    /// Switches training mode (`true`, the default) or evaluation mode (`false`), like
    /// PyTorch's `model.train()` / `model.eval()`: dropout is the identity in evaluation.
    fn set_training(&mut self, training: bool) {
        let _ = training;
    }
}

/// What every [`Module`] can do, built on [`Module::visit`].
pub trait ModuleExt<E: Element>: Module<E> {
    /// Calls `f` with every parameter's name and the parameter.
    fn for_each_parameter(&mut self, mut f: impl FnMut(&str, &mut dyn Parameter<E>)) {
        self.visit(&mut Visitor::new(&mut f));
    }

    /// Calls `f` with every trainable (not frozen) parameter's name and the parameter.
    fn for_each_trainable(&mut self, mut f: impl FnMut(&str, &mut dyn Parameter<E>)) {
        self.visit(&mut Visitor::trainable(&mut f));
    }

    /// Traces every trainable parameter on `tape` (once, before training): the parameters
    /// keep their ids, so each step's `backward()` gives their gradients. Frozen parameters
    /// stay untraced.
    fn trace(&mut self, tape: &Tape<E>) {
        self.for_each_trainable(|_, p| p.set_tape(Some(tape)));
    }

    /// Cuts every parameter from its tape.
    fn untrace(&mut self) {
        self.for_each_parameter(|_, p| p.set_tape(None));
    }

    /// The parameters' names, in visiting order.
    fn parameter_names(&mut self) -> Vec<String> {
        let mut names = Vec::new();
        self.for_each_parameter(|name, _| names.push(name.to_string()));
        names
    }

    /// The number of values in all parameters (frozen ones included, as PyTorch counts).
    fn parameter_count(&mut self) -> usize {
        let mut count = 0;
        self.for_each_parameter(|_, p| count += p.values().len());
        count
    }

    /// The number of trainable values (frozen parameters left out).
    fn trainable_parameter_count(&mut self) -> usize {
        let mut count = 0;
        self.for_each_trainable(|_, p| count += p.values().len());
        count
    }

    /// Evaluation mode: `set_training(false)`.
    fn eval(&mut self) {
        self.set_training(false);
    }

    /// Training mode: `set_training(true)`.
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Saves the weights to `path` as safetensors, one tensor per parameter, named as
    /// [`parameter_names`](Self::parameter_names) lists them.
    fn save(&mut self, path: impl AsRef<std::path::Path>) -> crate::Result<()> {
        weights::save(self, path.as_ref())
    }

    /// Loads the weights from the safetensors file at `path`: every parameter must be there
    /// with the model's element type and shape, and nothing else; on an error (naming the file,
    /// the tensor and both shapes) the model is unchanged.
    fn load(&mut self, path: impl AsRef<std::path::Path>) -> crate::Result<()> {
        weights::load(self, path.as_ref())
    }
}

impl<E: Element, M: Module<E> + ?Sized> ModuleExt<E> for M {}

/// Building a layer or a model with seeded random parameters (PyTorch's default
/// initialisation for each layer).
pub trait Init: Sized {
    /// Draws the parameters from `rng`.
    fn init(rng: &mut Rng) -> Self;

    /// Draws the parameters from a generator seeded with `seed`: the same seed gives the same
    /// model.
    fn new(seed: u64) -> Self {
        Self::init(&mut Rng::new(seed))
    }
}

/// Makes a struct of layers a model: declares the struct and implements [`Module`] (parameters
/// named `field.param`, training mode passed to every field) and [`Init`] (each field
/// initialised in order from one seeded generator). Write the forward pass in an `impl`
/// block of your own (see [the module docs](crate::nn)).
///
/// Fields must implement `Module<E>` and `Init`: layers, or models made with this macro. The
/// struct may have generic parameters (const ones such as channels and stride, and types) and
/// a where-clause, so one block is written once and used at several sizes:
///
/// ```
/// use shapetorch::prelude::*;
///
/// shapetorch::model! {
///     /// Two 3x3 convolutions, `C` channels in, `O` out, the first with stride `S`.
///     pub struct Block<const C: usize, const O: usize, const S: usize> {
///         conv1: Conv2d<f32, C, O, 3, 3, ConvParams<S, 1, 1>>,
///         conv2: Conv2d<f32, O, O, 3, 3, ConvParams<1, 1, 1>>,
///     }
/// }
///
/// shapetorch::model! {
///     struct Net {
///         stage1: Block<1, 8, 1>,
///         stage2: Block<8, 16, 2>,
///     }
/// }
///
/// let mut net = Net::new(0);
/// assert_eq!(net.parameter_names()[4], "stage2.conv1.weight");
/// assert_eq!(net.parameter_count(), (72 + 8) + (576 + 8) + (1152 + 16) + (2304 + 16));
/// ```
///
/// In the generic parameters, write bounds of type parameters without `<` (put a bound such
/// as `T: From<u8>` in the where-clause) and no defaults.
#[macro_export]
macro_rules! model {
    // A struct without generic parameters.
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($fields:tt)*
        }
    ) => {
        $crate::model!(@emit [$(#[$meta])*] [$vis] $name [] [] [] { $($fields)* });
    };
    // A struct with generic parameters: gather them up to the closing `>`.
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident < $($rest:tt)*
    ) => {
        $crate::model!(@generics [$(#[$meta])*] [$vis] $name [] $($rest)*);
    };
    (@generics $attrs:tt $vis:tt $name:ident [$($gen:tt)*] > $($rest:tt)*) => {
        $crate::model!(@names $attrs $vis $name [$($gen)*] [] $($gen)* , ; $($rest)*);
    };
    (@generics $attrs:tt $vis:tt $name:ident [$($gen:tt)*] $t:tt $($rest:tt)*) => {
        $crate::model!(@generics $attrs $vis $name [$($gen)* $t] $($rest)*);
    };
    // The parameters' names, for `Name<C, O, S>` in the impls.
    (@names $attrs:tt $vis:tt $name:ident $gen:tt [$($names:tt)*] ; $($rest:tt)*) => {
        $crate::model!(@where $attrs $vis $name $gen [$($names)*] [] $($rest)*);
    };
    (@names $attrs:tt $vis:tt $name:ident $gen:tt [$($names:tt)*] , $($more:tt)*) => {
        $crate::model!(@names $attrs $vis $name $gen [$($names)*] $($more)*);
    };
    (@names $attrs:tt $vis:tt $name:ident $gen:tt [$($names:tt)*]
        const $n:ident : $t:ty , $($more:tt)*) => {
        $crate::model!(@names $attrs $vis $name $gen [$($names)* $n,] $($more)*);
    };
    (@names $attrs:tt $vis:tt $name:ident $gen:tt [$($names:tt)*] $l:lifetime $($more:tt)*) => {
        $crate::model!(@skip $attrs $vis $name $gen [$($names)* $l,] $($more)*);
    };
    (@names $attrs:tt $vis:tt $name:ident $gen:tt [$($names:tt)*] $n:ident $($more:tt)*) => {
        $crate::model!(@skip $attrs $vis $name $gen [$($names)* $n,] $($more)*);
    };
    // A type parameter's bounds, up to the next comma.
    (@skip $attrs:tt $vis:tt $name:ident $gen:tt $names:tt , $($more:tt)*) => {
        $crate::model!(@names $attrs $vis $name $gen $names $($more)*);
    };
    (@skip $attrs:tt $vis:tt $name:ident $gen:tt $names:tt $t:tt $($more:tt)*) => {
        $crate::model!(@skip $attrs $vis $name $gen $names $($more)*);
    };
    // The where-clause, up to the fields.
    (@where $attrs:tt $vis:tt $name:ident $gen:tt $names:tt [] where $($rest:tt)*) => {
        $crate::model!(@where $attrs $vis $name $gen $names [] $($rest)*);
    };
    (@where $attrs:tt $vis:tt $name:ident $gen:tt $names:tt [$($wc:tt)*] { $($fields:tt)* }) => {
        $crate::model!(@emit $attrs $vis $name $gen $names [$($wc)*] { $($fields)* });
    };
    (@where $attrs:tt $vis:tt $name:ident $gen:tt $names:tt [$($wc:tt)*] $t:tt $($rest:tt)*) => {
        $crate::model!(@where $attrs $vis $name $gen $names [$($wc)* $t] $($rest)*);
    };
    // The struct, `Module` and `Init`.
    (
        @emit [$(#[$meta:meta])*] [$vis:vis] $name:ident [$($gen:tt)*] [$($names:tt)*]
        [$($wc:tt)*]
        { $($(#[$fmeta:meta])* $fvis:vis $field:ident : $fty:ty),* $(,)? }
    ) => {
        $(#[$meta])*
        $vis struct $name<$($gen)*>
        where
            $($wc)*
        {
            $($(#[$fmeta])* $fvis $field: $fty),*
        }

        impl<__E: $crate::element::Element, $($gen)*> $crate::nn::Module<__E> for $name<$($names)*>
        where
            $($fty: $crate::nn::Module<__E>,)*
            $($wc)*
        {
            fn visit(&mut self, visitor: &mut $crate::nn::Visitor<'_, __E>) {
                $(visitor.module(stringify!($field), &mut self.$field);)*
            }
            fn set_training(&mut self, training: bool) {
                $($crate::nn::Module::<__E>::set_training(&mut self.$field, training);)*
            }
        }

        impl<$($gen)*> $crate::nn::Init for $name<$($names)*>
        where
            $($fty: $crate::nn::Init,)*
            $($wc)*
        {
            fn init(rng: &mut $crate::tensor::Rng) -> Self {
                $name {
                    $($field: $crate::nn::Init::init(rng)),*
                }
            }
        }
    };
}

/// Draws a tensor uniform in `[-bound, bound)` from `rng` (PyTorch's Kaiming-uniform layers
/// use `bound = 1/sqrt(fan_in)`).
pub(crate) fn uniform<E: Element, S: crate::shape::ConstShape>(
    rng: &mut Rng,
    bound: f64,
) -> Tensor<E, S> {
    Tensor::rand_uniform(rng.next_u64(), E::of(-bound), E::of(bound))
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::model! {
        /// A model with a sub-model, to check names and modes.
        struct Outer {
            head: Linear<f64, 3, 2>,
            body: Inner,
        }
    }

    crate::model! {
        struct Inner {
            fc: Linear<f64, 2, 3>,
        }
    }

    #[test]
    fn parameters_are_visited_by_dotted_name_and_traced_in_place() {
        let mut model = Outer::new(5);
        assert_eq!(
            model.parameter_names(),
            vec!["head.weight", "head.bias", "body.fc.weight", "body.fc.bias"]
        );
        assert_eq!(model.parameter_count(), 3 * 2 + 2 + 2 * 3 + 3);
        let id = model.head.weight.id();
        let tape = Tape::new();
        model.trace(&tape);
        assert!(model.head.weight.is_traced() && model.body.fc.bias.is_traced());
        assert_eq!(model.head.weight.id(), id);
        model.untrace();
        assert!(!model.head.weight.is_traced());
        // The same seed gives the same parameters; another seed others.
        assert_eq!(
            Outer::new(5).head.weight.to_vec(),
            model.head.weight.to_vec()
        );
        assert_ne!(
            Outer::new(6).head.weight.to_vec(),
            model.head.weight.to_vec()
        );
    }
}
