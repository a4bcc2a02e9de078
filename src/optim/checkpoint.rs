//! Resumable checkpoints: a model, its optimiser's state, the learning-rate schedule's
//! position and the data order in one safetensors file, so that a run stopped after `k` steps
//! and resumed in a fresh process continues bit for bit as if it had never stopped.
//!
//! ```
//! use shapetorch::data::Batches;
//! use shapetorch::optim::Checkpoint;
//! use shapetorch::prelude::*;
//!
//! shapetorch::model! {
//!     struct Net { fc: Linear<f32, 4, 2> }
//! }
//! let (mut model, mut adam) = (Net::new(0), Adam::new(1e-3));
//! let mut schedule = LrScheduler::new(&mut adam, StepLR::new(100)).unwrap();
//! let mut batches = Batches::shuffled(1000, 32, 7);
//! let first = batches.next().unwrap();
//! // ... train on `first`, step adam and schedule ...
//! # let dir = std::env::temp_dir().join(format!("checkpoint-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("run.safetensors");
//! Checkpoint::new(&mut model, &mut adam)
//!     .scheduler(&mut schedule)
//!     .batches(&mut batches)
//!     .save(&path, &[("epoch", "1")])
//!     .unwrap();
//!
//! // Later, in another process: the same types and arguments, then `load`.
//! let (mut model, mut adam) = (Net::new(0), Adam::new(1e-3));
//! let mut schedule = LrScheduler::new(&mut adam, StepLR::new(100)).unwrap();
//! let mut batches = Batches::shuffled(1000, 32, 7);
//! let metadata = Checkpoint::new(&mut model, &mut adam)
//!     .scheduler(&mut schedule)
//!     .batches(&mut batches)
//!     .load(&path)
//!     .unwrap();
//! assert_eq!(metadata["epoch"], "1");
//! assert_eq!(batches.offset(), 32); // continues with the second batch
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```
//!
//! # A resumable training loop
//!
//! Reshuffle each epoch from a seed and the epoch number (`Batches::shuffled(n, batch_size,
//! seed + epoch)`), iterate with `while let Some(batch) = batches.next()` so that the batches
//! can be saved mid-epoch, and keep the epoch and the step in the metadata. To resume, build
//! the model, optimiser, scheduler and batches as at the start (any seed for the model:
//! everything is overwritten), `load`, and read the epoch and step back: the batches then
//! continue the saved epoch at the saved offset. `train` in `tests/checkpoint.rs` is such a
//! loop, checked to resume bit for bit in a fresh process.
//!
//! # What the file holds
//!
//! Tensors: `model.<name>` for each parameter and buffer (as a weights file holds them, under
//! `model.`), `optimizer.<parameter>.<buffer>` for the optimiser's state (PyTorch's names:
//! `momentum_buffer`; `exp_avg`, `exp_avg_sq`), `data.order` (the epoch's order of examples,
//! `U64`). The safetensors `__metadata__` map holds the scalars as exact text: the model's
//! scalar state (`model.dropout.calls`, see [`Visitor::scalar`](crate::nn::Visitor::scalar)),
//! the optimiser's kind and hyper-parameters (`optimizer`, `optimizer.lr`, `optimizer.beta2`,
//! ...) and step counts (`optimizer.fc.weight.step`), the schedule's arguments and position
//! (`schedule`, `schedule.T_max`, `schedule.last_epoch`, ...), the data order's offset
//! (`data.offset`) and the caller's own entries (`user.<key>`).
//!
//! # What loading checks
//!
//! Everything, before anything changes: the model's tensors (names, types, shapes: the first
//! that differs is named), the optimiser's kind and hyper-parameters, that its state belongs
//! to parameters of the model with their shapes, the schedule's kind and arguments, the data
//! order's size, batch size and contents. A checkpoint of another model, optimiser or schedule
//! is an [`Error`] naming the first tensor or field that differs, never a panic.
//!
//! The learning rate and the momentum are state when a schedule drives them (restored from
//! the file), and hyper-parameters otherwise (compared: resuming with another `--lr` is an
//! error).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors};

use super::{exact, LrScheduler, Optimizer, OptimizerState, ParameterState};
use crate::data::Batches;
use crate::element::Element;
use crate::error::{Error, Result};
use crate::files::{open_regular, read_error, read_expected};
use crate::nn::weights::{self, Entry};
use crate::nn::{Module, ModuleExt};

/// The value of the `format` metadata entry.
const FORMAT: &str = "shapetorch checkpoint 1";

/// What one checkpoint saves and restores: a model and its optimiser, and optionally the
/// learning-rate schedule and the data order. See [the module docs](self).
pub struct Checkpoint<'a, E: Element> {
    model: &'a mut dyn Module<E>,
    optimizer: &'a mut dyn Optimizer<E>,
    scheduler: Option<&'a mut LrScheduler>,
    batches: Option<&'a mut Batches>,
}

impl<'a, E: Element> Checkpoint<'a, E> {
    /// A checkpoint of `model` and `optimizer`.
    pub fn new(model: &'a mut dyn Module<E>, optimizer: &'a mut dyn Optimizer<E>) -> Self {
        Checkpoint {
            model,
            optimizer,
            scheduler: None,
            batches: None,
        }
    }

    /// With the learning-rate schedule.
    pub fn scheduler(mut self, scheduler: &'a mut LrScheduler) -> Self {
        self.scheduler = Some(scheduler);
        self
    }

    /// With the data order: the current epoch's batches and how far they have got. To save
    /// in the middle of an epoch, iterate with `while let Some(batch) = batches.next()` (a
    /// `for` loop holds the iterator).
    pub fn batches(mut self, batches: &'a mut Batches) -> Self {
        self.batches = Some(batches);
        self
    }

    /// The checkpoint as the bytes of a safetensors file, with `metadata` (the caller's own
    /// entries: epoch, step, ...) stored as `user.<key>`.
    pub fn to_bytes(&mut self, metadata: &[(&str, &str)]) -> Result<Vec<u8>> {
        let mut tensors = BTreeMap::new();
        let mut meta = HashMap::new();
        meta.insert("format".to_string(), FORMAT.to_string());
        meta.insert("dtype".to_string(), format!("{:?}", E::DTYPE));

        weights::add_entries(self.model, "model.", &mut tensors);
        self.model.for_each_scalar(|name, value| {
            meta.insert(format!("model.{name}"), value.to_string());
        });

        let state = self.optimizer.state_dict();
        meta.insert("optimizer".into(), state.kind.clone());
        meta.insert("optimizer.lr".into(), exact(state.lr));
        if let Some(momentum) = state.momentum {
            meta.insert("optimizer.momentum".into(), exact(momentum));
        }
        for (name, value) in &state.hyperparameters {
            meta.insert(format!("optimizer.{name}"), value.clone());
        }
        for (param, s) in &state.parameters {
            if let Some(step) = s.step {
                meta.insert(format!("optimizer.{param}.step"), step.to_string());
            }
            for (buffer, values) in &s.buffers {
                let entry = Entry::of(s.dims.clone(), values);
                tensors.insert(format!("optimizer.{param}.{buffer}"), entry);
            }
        }

        if let Some(scheduler) = &self.scheduler {
            meta.extend(scheduler.config_fields());
            meta.extend(scheduler.state_fields());
        }

        if let Some(batches) = &self.batches {
            let order = batches.order();
            let mut bytes = Vec::with_capacity(order.len() * 8);
            for &i in order {
                bytes.extend_from_slice(&(i as u64).to_le_bytes());
            }
            let entry = Entry {
                dtype: Dtype::U64,
                shape: vec![order.len()],
                bytes,
            };
            tensors.insert("data.order".into(), entry);
            meta.insert("data.len".into(), batches.len().to_string());
            meta.insert("data.batch_size".into(), batches.batch_size().to_string());
            meta.insert("data.drop_last".into(), batches.drops_last().to_string());
            meta.insert("data.offset".into(), batches.offset().to_string());
        }

        for (key, value) in metadata {
            meta.insert(format!("user.{key}"), value.to_string());
        }
        safetensors::serialize(tensors.iter(), Some(meta)).map_err(|e| Error::WeightsFormat {
            file: "<bytes>".into(),
            message: e.to_string(),
        })
    }

    /// Saves the checkpoint to `path` (see [`to_bytes`](Self::to_bytes)): written to
    /// `<path>.tmp` first and renamed, so that a run killed while saving leaves the previous
    /// checkpoint whole.
    pub fn save(&mut self, path: impl AsRef<Path>, metadata: &[(&str, &str)]) -> Result<()> {
        let path = path.as_ref();
        let bytes = self.to_bytes(metadata)?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let io = |e: std::io::Error, what: &str| Error::Io {
            file: path.display().to_string(),
            message: format!("cannot {what}: {e}"),
        };
        std::fs::write(&tmp, bytes).map_err(|e| io(e, "write"))?;
        std::fs::rename(&tmp, path).map_err(|e| io(e, "rename the new file into place"))
    }

    /// Restores everything from the bytes of a checkpoint (`file` names it in errors) and
    /// returns the caller's metadata entries. Checks everything first: on an error nothing
    /// has changed.
    pub fn from_bytes(&mut self, bytes: &[u8], file: &str) -> Result<BTreeMap<String, String>> {
        let format = |message: String| Error::WeightsFormat {
            file: file.into(),
            message,
        };
        let tensors = SafeTensors::deserialize(bytes).map_err(|e| format(e.to_string()))?;
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| format(e.to_string()))?;
        let empty = HashMap::new();
        let meta = header.metadata().as_ref().unwrap_or(&empty);
        let plan = Plan::check(self, &Saved::new(&tensors, meta, file))?;
        plan.apply(self, &tensors);
        Ok(plan.user)
    }

    /// Restores everything from the checkpoint at `path`; see [`from_bytes`](Self::from_bytes).
    pub fn load(&mut self, path: impl AsRef<Path>) -> Result<BTreeMap<String, String>> {
        let path = path.as_ref();
        let file = path.display().to_string();
        // a regular file only (a FIFO would block, a device such as /dev/zero never ends), read
        // into one buffer of its length; running out of memory is Error::OutOfMemory
        let (opened, len) = open_regular(path, &file)?;
        let (bytes, _) = read_expected(opened, len, len).map_err(|e| read_error(&file, e))?;
        self.from_bytes(&bytes, &file)
    }
}

/// A checkpoint file being read: its tensors and metadata, and the errors that name it.
struct Saved<'a> {
    tensors: &'a SafeTensors<'a>,
    meta: &'a HashMap<String, String>,
    file: &'a str,
    /// The metadata keys, sorted (so that "the first" difference is well defined).
    keys: Vec<&'a String>,
    /// The tensor names, sorted.
    tensor_names: Vec<&'a str>,
}

impl<'a> Saved<'a> {
    fn new(tensors: &'a SafeTensors<'a>, meta: &'a HashMap<String, String>, file: &'a str) -> Self {
        let mut keys: Vec<&String> = meta.keys().collect();
        keys.sort_unstable();
        let mut tensor_names = tensors.names();
        tensor_names.sort_unstable();
        Saved {
            tensors,
            meta,
            file,
            keys,
            tensor_names,
        }
    }

    /// `field` is `saved` in the file but `here` in what it is loaded into.
    fn mismatch(&self, field: &str, saved: &str, here: &str) -> Error {
        Error::StateMismatch {
            file: self.file.into(),
            field: field.into(),
            saved: saved.into(),
            here: here.into(),
        }
    }

    /// `field` is missing or malformed.
    fn bad(&self, field: &str, message: String) -> Error {
        Error::StateFormat {
            file: self.file.into(),
            field: field.into(),
            message,
        }
    }

    /// The metadata entry `field`.
    fn get(&self, field: &str) -> Result<&'a String> {
        self.meta
            .get(field)
            .ok_or_else(|| self.bad(field, "missing from the checkpoint".into()))
    }

    /// The metadata entry `field`, parsed.
    fn parse<T: std::str::FromStr>(&self, field: &str) -> Result<T> {
        let text = self.get(field)?;
        text.parse()
            .map_err(|_| self.bad(field, format!("`{text}` does not parse")))
    }

    /// The first metadata key under `prefix` that `known` does not accept.
    fn extra_key(&self, prefix: &str, known: impl Fn(&str) -> bool) -> Option<&'a String> {
        self.keys
            .iter()
            .find(|k| k.starts_with(prefix) && !known(k.as_str()))
            .copied()
    }

    /// The model's scalar state (`model.<name>`), in visiting order.
    fn scalars<E: Element>(&self, model: &mut dyn Module<E>) -> Result<Vec<u64>> {
        let mut values = Vec::new();
        let mut names = HashSet::new();
        let mut problem = None;
        model.for_each_scalar(|name, _| {
            let field = format!("model.{name}");
            match self.parse::<u64>(&field) {
                Ok(v) => values.push(v),
                Err(e) => problem = problem.take().or(Some(e)),
            }
            names.insert(field);
        });
        if let Some(e) = problem {
            return Err(e);
        }
        if let Some(extra) = self.extra_key("model.", |k| names.contains(k)) {
            return Err(self.mismatch(extra, &self.meta[extra], "not a scalar of the model"));
        }
        Ok(values)
    }

    /// The optimiser's saved state, checked against `optimizer` (kind, hyper-parameters) and
    /// `model` (each state belongs to a parameter of its shape). The learning rate and
    /// momentum are compared later, unless a schedule drives them.
    fn optimizer<E: Element>(
        &self,
        optimizer: &dyn Optimizer<E>,
        model: &mut dyn Module<E>,
    ) -> Result<OptimizerState<E>> {
        let mut hyperparameters = Vec::new();
        let mut parameters: BTreeMap<String, ParameterState<E>> = BTreeMap::new();
        for &key in &self.keys {
            let Some(rest) = key.strip_prefix("optimizer.") else {
                continue;
            };
            match rest.rsplit_once('.') {
                _ if rest == "lr" || rest == "momentum" => {}
                None => hyperparameters.push((rest.to_string(), self.meta[key].clone())),
                Some((param, "step")) => {
                    let step = Some(self.parse::<u64>(key)?);
                    parameters.entry(param.into()).or_insert_with(empty).step = step;
                }
                Some(_) => return Err(self.mismatch(key, &self.meta[key], "no such field")),
            }
        }
        let mut model_dims = HashMap::new();
        model.for_each_parameter(|name, p| {
            model_dims.insert(name.to_string(), p.dims());
        });
        for &key in &self.tensor_names {
            let Some(rest) = key.strip_prefix("optimizer.") else {
                continue;
            };
            let Some((param, buffer)) = rest.rsplit_once('.') else {
                return Err(self.mismatch(key, "a tensor", "no such field"));
            };
            let view = self.tensors.tensor(key).expect("listed");
            let shape = format!("shape {:?}", view.shape());
            match model_dims.get(param) {
                None => return Err(self.mismatch(key, &shape, "no such parameter")),
                Some(dims) if dims != view.shape() => {
                    return Err(self.mismatch(key, &shape, &format!("shape {dims:?}")))
                }
                Some(_) => {}
            }
            let count = view.shape().iter().product::<usize>();
            if view.dtype() != E::DTYPE || view.data().len() != count * E::BYTES {
                let here = format!("{:?}", E::DTYPE);
                return Err(self.mismatch(key, &format!("{:?}", view.dtype()), &here));
            }
            let values = view.data().chunks_exact(E::BYTES);
            let state = parameters.entry(param.into()).or_insert_with(empty);
            state.dims = view.shape().to_vec();
            let values = values.map(E::from_le_slice).collect();
            state.buffers.push((buffer.to_string(), values));
        }
        if let Some((param, _)) = parameters
            .iter()
            .find(|(p, s)| s.buffers.is_empty() && !model_dims.contains_key(*p))
        {
            let field = format!("optimizer.{param}.step");
            return Err(self.mismatch(&field, "a count", "no such parameter"));
        }
        let momentum = match self.meta.get("optimizer.momentum") {
            Some(_) => Some(E::of(self.parse("optimizer.momentum")?)),
            None => None,
        };
        let saved = OptimizerState {
            kind: self.get("optimizer")?.clone(),
            lr: E::of(self.parse("optimizer.lr")?),
            momentum,
            hyperparameters,
            parameters,
        };
        optimizer
            .check_state_dict(&saved)
            .map_err(|e| e.in_file(self.file))?;
        Ok(saved)
    }

    /// `scheduler` with the saved position, after comparing the schedule's arguments.
    fn scheduler(&self, scheduler: Option<&LrScheduler>) -> Result<Option<LrScheduler>> {
        let s = match (scheduler, self.meta.get("schedule")) {
            (None, None) => return Ok(None),
            (None, Some(kind)) => return Err(self.mismatch("schedule", kind, "no schedule")),
            (Some(s), None) => {
                return Err(self.mismatch("schedule", "missing", s.schedule().name()))
            }
            (Some(s), Some(_)) => s,
        };
        let config = s.config_fields();
        for (field, value) in &config {
            let saved = self.meta.get(field);
            if saved != Some(value) {
                let saved = saved.map_or("missing", String::as_str);
                return Err(self.mismatch(field, saved, value));
            }
        }
        let state = s.state_fields();
        let known: HashSet<&str> = config.iter().chain(&state).map(|(f, _)| &**f).collect();
        if let Some(extra) = self.extra_key("schedule", |k| known.contains(k)) {
            return Err(self.mismatch(extra, &self.meta[extra], "absent"));
        }
        let mut restored = s.clone();
        restored
            .load_state(&|f| self.meta.get(f).cloned())
            .map_err(|e| e.in_file(self.file))?;
        Ok(Some(restored))
    }

    /// The saved order of examples and the offset into it, checked against `batches`.
    fn order(&self, batches: Option<&Batches>) -> Result<Option<(Vec<usize>, usize)>> {
        let b = match (batches, self.meta.get("data.len")) {
            (None, None) => return Ok(None),
            (None, Some(_)) => return Err(self.mismatch("data", "an order", "no batches")),
            (Some(_), None) => return Err(self.mismatch("data", "missing", "batches")),
            (Some(b), Some(_)) => b,
        };
        for (field, here) in [
            ("data.len", b.len().to_string()),
            ("data.batch_size", b.batch_size().to_string()),
            ("data.drop_last", b.drops_last().to_string()),
        ] {
            let saved = self.get(field)?;
            if *saved != here {
                return Err(self.mismatch(field, saved, &here));
            }
        }
        let n = b.len();
        let offset: usize = self.parse("data.offset")?;
        if offset > n {
            let message = format!("{offset} is past the {n} examples");
            return Err(self.bad("data.offset", message));
        }
        let view = self
            .tensors
            .tensor("data.order")
            .map_err(|_| self.bad("data.order", "missing from the checkpoint".into()))?;
        if view.dtype() != Dtype::U64 || view.shape() != [n] || view.data().len() != n * 8 {
            let (dtype, shape) = (view.dtype(), view.shape());
            let message = format!("{dtype:?} {shape:?}, not U64 [{n}]");
            return Err(self.bad("data.order", message));
        }
        // A permutation of 0..n: every index in range, none twice.
        let mut seen = vec![false; n];
        let mut order = Vec::with_capacity(n);
        for chunk in view.data().chunks_exact(8) {
            let i = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
            let Some(i) = usize::try_from(i).ok().filter(|&i| i < n && !seen[i]) else {
                let message = format!("{i} is out of range or repeated: not an order of 0..{n}");
                return Err(self.bad("data.order", message));
            };
            seen[i] = true;
            order.push(i);
        }
        Ok(Some((order, offset)))
    }
}

/// Everything a load will restore, read and checked from the file before anything changes.
struct Plan<E> {
    scalars: Vec<u64>,
    optimizer: OptimizerState<E>,
    scheduler: Option<LrScheduler>,
    order: Option<(Vec<usize>, usize)>,
    user: BTreeMap<String, String>,
}

impl<E: Element> Plan<E> {
    /// Reads and checks everything: the format, the model's tensors and scalars, the
    /// optimiser, the schedule, the learning rate and momentum, the data order, and that no
    /// tensor is left over.
    fn check(c: &mut Checkpoint<'_, E>, saved: &Saved<'_>) -> Result<Self> {
        let format = saved.get("format")?;
        if format != FORMAT {
            return Err(saved.mismatch("format", format, FORMAT));
        }
        let (dtype, here) = (saved.get("dtype")?, format!("{:?}", E::DTYPE));
        if *dtype != here {
            return Err(saved.mismatch("dtype", dtype, &here));
        }
        weights::check(c.model, saved.tensors, "model.", saved.file)?;
        let scalars = saved.scalars(c.model)?;
        let optimizer = saved.optimizer(c.optimizer, c.model)?;
        let scheduler = saved.scheduler(c.scheduler.as_deref())?;

        // The learning rate and momentum: compared unless a schedule drives them (checked
        // after the schedule, whose absence would explain a difference).
        let here = c.optimizer.state_dict();
        if c.scheduler.is_none() && optimizer.lr != here.lr {
            let (s, h) = (exact(optimizer.lr), exact(here.lr));
            return Err(saved.mismatch("optimizer.lr", &s, &h));
        }
        let cycled = c.scheduler.as_ref().is_some_and(|s| s.momentum().is_some());
        if let (false, Some(s), Some(h)) = (cycled, optimizer.momentum, here.momentum) {
            if s != h {
                return Err(saved.mismatch("optimizer.momentum", &exact(s), &exact(h)));
            }
        }

        let order = saved.order(c.batches.as_deref())?;
        let ours = |n: &&&str| {
            n.starts_with("model.") || n.starts_with("optimizer.") || **n == "data.order"
        };
        if let Some(extra) = saved.tensor_names.iter().find(|n| !ours(n)) {
            return Err(Error::UnexpectedWeight {
                file: saved.file.into(),
                tensor: extra.to_string(),
            });
        }
        let user = saved
            .meta
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("user.")?.to_string(), v.clone())))
            .collect();
        Ok(Plan {
            scalars,
            optimizer,
            scheduler,
            order,
            user,
        })
    }

    /// Restores everything ([`check`](Self::check) passed).
    fn apply(&self, c: &mut Checkpoint<'_, E>, tensors: &SafeTensors<'_>) {
        weights::copy(c.model, tensors, "model.");
        let mut scalars = self.scalars.iter();
        c.model
            .for_each_scalar(|_, value| *value = *scalars.next().expect("counted"));
        c.optimizer
            .load_state_dict(&self.optimizer)
            .expect("checked before");
        if let (Some(s), Some(restored)) = (c.scheduler.as_deref_mut(), &self.scheduler) {
            *s = restored.clone();
            s.apply(c.optimizer);
        }
        if let (Some(b), Some((order, offset))) = (c.batches.as_deref_mut(), &self.order) {
            b.restore(order.clone(), *offset);
        }
    }
}

/// A parameter's state before its tensors are read.
fn empty<E>() -> ParameterState<E> {
    ParameterState {
        dims: Vec::new(),
        step: None,
        buffers: Vec::new(),
    }
}
