//! Resumable checkpoints: training N steps equals training k steps, saving, loading in a
//! fresh process and training N − k steps, bit for bit; and a checkpoint of another model,
//! optimiser, schedule or data order is an error naming what differs, with nothing changed.
//!
//! The fresh processes are this test binary run again on the ignored test `child_run`
//! (`--ignored --exact child_run`), told what to do through environment variables.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use safetensors::SafeTensors;
use shapetorch::data::Batches;
use shapetorch::nn::Visitor;
use shapetorch::optim::{clip_grad_norm, Checkpoint};
use shapetorch::prelude::*;

shapetorch::model! {
    /// A small CNN with dropout (whose random state a checkpoint must carry too).
    struct Net {
        conv: Conv2d<f32, 1, 4, 3, 3>,
        fc1: Linear<f32, 144, 16>,
        dropout: Dropout<30>,
        fc2: Linear<f32, 16, 4>,
    }
}

type Images = Tensor<f32, (usize, Dim<1>, Dim<8>, Dim<8>)>;

impl Net {
    fn forward(&self, x: Images) -> Tensor<f32, (usize, Dim<4>)> {
        let x = self.conv.forward(x).relu().flatten(); // [B, 4 · 6 · 6]
        self.fc2
            .forward(self.dropout.forward(self.fc1.forward(x).relu()))
    }
}

/// 64 random 8 × 8 images with random labels in 0..4.
struct Data {
    x: Vec<f32>,
    y: Vec<u8>,
}

impl Data {
    fn new() -> Self {
        let mut rng = Rng::new(42);
        Data {
            x: (0..64 * 64).map(|_| rng.normal() as f32).collect(),
            y: (0..64).map(|_| rng.below(4) as u8).collect(),
        }
    }

    fn batch(&self, indices: &[usize]) -> (Images, IndexTensor<(usize,), 4>) {
        let mut x = Vec::new();
        for &i in indices {
            x.extend_from_slice(&self.x[i * 64..][..64]);
        }
        let y: Vec<u8> = indices.iter().map(|&i| self.y[i]).collect();
        (
            Tensor::from_vec_shaped((indices.len(), Dim, Dim, Dim), x).unwrap(),
            IndexTensor::from_ints_shaped((indices.len(),), &y).unwrap(),
        )
    }
}

/// Steps in all, and where the interrupted run stops: in the middle of the second epoch
/// (7 batches of 10, 10, ..., 4 per epoch).
const STEPS: usize = 17;
const STOP: usize = 9;

/// The epoch's batches: reshuffled each epoch from the seed and the epoch.
fn epoch_batches(epoch: u64) -> Batches {
    Batches::shuffled(64, 10, 100 + epoch)
}

/// Trains from scratch, or from the checkpoint `resume`, until step `stop`, then saves a
/// checkpoint to `save`; returns the losses of the steps taken, as bits.
fn train(resume: Option<&Path>, stop: usize, save: &Path, model_seed: u64) -> Vec<u32> {
    let data = Data::new();
    let mut model = Net::new(model_seed);
    let mut adam = Adam::adamw(1e-3, 0.01);
    let mut schedule = LrScheduler::new(&mut adam, OneCycleLR::new(0.01, STEPS)).unwrap();
    let (mut epoch, mut step) = (0u64, 0usize);
    let mut batches = epoch_batches(epoch);
    if let Some(path) = resume {
        let metadata = Checkpoint::new(&mut model, &mut adam)
            .scheduler(&mut schedule)
            .batches(&mut batches)
            .load(path)
            .unwrap();
        epoch = metadata["epoch"].parse().unwrap();
        step = metadata["step"].parse().unwrap();
    }
    let tape = Tape::new();
    model.trace(&tape);
    let mut losses = Vec::new();
    while step < stop {
        let Some(indices) = batches.next() else {
            epoch += 1;
            batches = epoch_batches(epoch);
            continue;
        };
        let (x, y) = data.batch(&indices);
        let loss = model.forward(x).cross_entropy(&y);
        losses.push(loss.item().to_bits());
        let mut grads = loss.backward();
        clip_grad_norm(&mut model, &mut grads, 0.5, 2.0);
        adam.step(&mut model, &grads);
        schedule.step(&mut adam);
        step += 1;
    }
    let (epoch, step) = (epoch.to_string(), step.to_string());
    Checkpoint::new(&mut model, &mut adam)
        .scheduler(&mut schedule)
        .batches(&mut batches)
        .save(save, &[("epoch", &epoch), ("step", &step)])
        .unwrap();
    losses
}

/// What a child process does, from `SHAPETORCH_CHECKPOINT_CHILD`: `full` trains all the
/// steps, `first` stops at `STOP`, `resume` loads `first`'s checkpoint into a model built
/// from another seed and trains the rest. Each writes its losses and final checkpoint to
/// `SHAPETORCH_CHECKPOINT_DIR`.
#[test]
#[ignore = "a child process of resume_in_a_fresh_process_is_bit_for_bit, not a test of its own"]
fn child_run() {
    let mode = std::env::var("SHAPETORCH_CHECKPOINT_CHILD").expect("run by the parent test");
    let dir = PathBuf::from(std::env::var("SHAPETORCH_CHECKPOINT_DIR").unwrap());
    let losses = match mode.as_str() {
        "full" => train(None, STEPS, &dir.join("full.safetensors"), 0),
        "first" => train(None, STOP, &dir.join("first.safetensors"), 0),
        "resume" => train(
            Some(&dir.join("first.safetensors")),
            STEPS,
            &dir.join("resume.safetensors"),
            99,
        ),
        other => panic!("mode {other}"),
    };
    let text: Vec<String> = losses.iter().map(|b| format!("{b:08x}")).collect();
    std::fs::write(dir.join(format!("{mode}.losses")), text.join("\n")).unwrap();
}

/// Runs `child_run` in a fresh process.
fn child(mode: &str, dir: &Path) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "child_run", "--test-threads=1"])
        .env("SHAPETORCH_CHECKPOINT_CHILD", mode)
        .env("SHAPETORCH_CHECKPOINT_DIR", dir)
        // the same thread count in every run (a kernel's split of its work may depend on it)
        .env("RAYON_NUM_THREADS", "2")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "child `{mode}` failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn losses(dir: &Path, mode: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join(format!("{mode}.losses"))).unwrap();
    text.lines().map(str::to_string).collect()
}

/// Every tensor (bytes) and metadata entry of two checkpoints, compared; the first
/// difference is named.
fn assert_same_checkpoint(a: &[u8], b: &[u8]) {
    let (ta, tb) = (
        SafeTensors::deserialize(a).unwrap(),
        SafeTensors::deserialize(b).unwrap(),
    );
    let (mut na, mut nb) = (ta.names(), tb.names());
    na.sort_unstable();
    nb.sort_unstable();
    assert_eq!(na, nb);
    for name in na {
        let (va, vb) = (ta.tensor(name).unwrap(), tb.tensor(name).unwrap());
        assert_eq!(va.shape(), vb.shape(), "{name}");
        assert!(va.data() == vb.data(), "tensor {name} differs");
    }
    let meta = |bytes: &[u8]| -> HashMap<String, String> {
        let (_, header) = SafeTensors::read_metadata(bytes).unwrap();
        header.metadata().clone().unwrap()
    };
    let (ma, mb) = (meta(a), meta(b));
    let mut keys: Vec<&String> = ma.keys().chain(mb.keys()).collect();
    keys.sort_unstable();
    for key in keys {
        assert_eq!(ma.get(key), mb.get(key), "metadata {key}");
    }
}

#[test]
fn resume_in_a_fresh_process_is_bit_for_bit() {
    let dir = std::env::temp_dir().join(format!("shapetorch-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    child("full", &dir);
    child("first", &dir);
    child("resume", &dir);
    let (full, first, resumed) = (
        losses(&dir, "full"),
        losses(&dir, "first"),
        losses(&dir, "resume"),
    );
    assert_eq!(
        (full.len(), first.len(), resumed.len()),
        (STEPS, STOP, STEPS - STOP)
    );
    assert_eq!(first[..], full[..STOP], "the interrupted run's first steps");
    assert_eq!(
        resumed[..],
        full[STOP..],
        "the resumed run's steps, loss bits"
    );
    // the weights, optimiser state, schedule, data order and dropout state at the end
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    assert_same_checkpoint(&read("full.safetensors"), &read("resume.safetensors"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A run's objects, built as `train` builds them.
struct Run {
    model: Net,
    adam: Adam<f32>,
    schedule: LrScheduler,
    batches: Batches,
}

impl Run {
    fn new() -> Self {
        let mut adam = Adam::adamw(1e-3, 0.01);
        let schedule = LrScheduler::new(&mut adam, OneCycleLR::new(0.01, STEPS)).unwrap();
        Run {
            model: Net::new(0),
            adam,
            schedule,
            batches: epoch_batches(0),
        }
    }

    /// A checkpoint after three steps of training.
    fn trained_bytes() -> Vec<u8> {
        let mut r = Run::new();
        let data = Data::new();
        let tape = Tape::new();
        r.model.trace(&tape);
        for _ in 0..3 {
            let (x, y) = data.batch(&r.batches.next().unwrap());
            let grads = r.model.forward(x).cross_entropy(&y).backward();
            r.adam.step(&mut r.model, &grads);
            r.schedule.step(&mut r.adam);
        }
        r.checkpoint().to_bytes(&[]).unwrap()
    }

    fn checkpoint(&mut self) -> Checkpoint<'_, f32> {
        Checkpoint::new(&mut self.model, &mut self.adam)
            .scheduler(&mut self.schedule)
            .batches(&mut self.batches)
    }
}

/// Loading `bytes` into `checkpoint` fails with a message containing `expected`.
fn assert_load_fails(mut checkpoint: Checkpoint<'_, f32>, bytes: &[u8], expected: &str) {
    let err = checkpoint.from_bytes(bytes, "run.safetensors").unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains(expected) && message.starts_with("run.safetensors"),
        "expected {expected:?} in: {message}"
    );
}

#[test]
fn a_checkpoint_round_trips_in_process() {
    let bytes = Run::trained_bytes();
    let mut r = Run::new();
    let metadata = r
        .checkpoint()
        .from_bytes(&bytes, "run.safetensors")
        .unwrap();
    assert!(metadata.is_empty());
    assert_eq!(r.batches.offset(), 30);
    assert_eq!(r.schedule.last_epoch(), 3);
    assert_eq!(r.adam.steps("fc1.weight"), 3);
    assert_eq!(r.adam.lr, r.schedule.lr() as f32);
    assert_same_checkpoint(&r.checkpoint().to_bytes(&[]).unwrap(), &bytes);
}

#[test]
fn another_model_is_an_error_naming_the_first_tensor_and_changes_nothing() {
    shapetorch::model! {
        struct Other {
            conv: Conv2d<f32, 1, 4, 3, 3>,
            fc1: Linear<f32, 144, 8>,
            dropout: Dropout<30>,
            fc2: Linear<f32, 8, 4>,
        }
    }
    let bytes = Run::trained_bytes();
    let mut other = Other::new(0);
    let before = other.fc1.weight.to_vec();
    let mut adam = Adam::adamw(1e-3, 0.01);
    let err = Checkpoint::new(&mut other, &mut adam)
        .from_bytes(&bytes, "run.safetensors")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`model.fc1.weight`") && err.contains("[16, 144]"),
        "{err}"
    );
    assert_eq!(other.fc1.weight.to_vec(), before, "nothing changed");
    assert_eq!(adam.steps("conv.weight"), 0);
}

#[test]
fn another_optimizer_or_hyperparameter_is_an_error_naming_the_field() {
    let bytes = Run::trained_bytes();
    let mut r = Run::new();
    let mut sgd = Sgd::new(1e-3).momentum(0.9);
    let mut schedule = LrScheduler::new(&mut sgd, OneCycleLR::new(0.01, STEPS)).unwrap();
    let checkpoint = Checkpoint::new(&mut r.model, &mut sgd).scheduler(&mut schedule);
    assert_load_fails(
        checkpoint,
        &bytes,
        "`optimizer` is Adam in the saved state but Sgd",
    );

    let mut r = Run::new();
    r.adam.beta2 = 0.99;
    assert_load_fails(
        r.checkpoint(),
        &bytes,
        "`optimizer.beta2` is 0.9990000128746033",
    );
    let mut r = Run::new();
    r.adam.decoupled_weight_decay = false;
    assert_load_fails(
        r.checkpoint(),
        &bytes,
        "`optimizer.decoupled_weight_decay` is true",
    );
}

#[test]
fn without_a_schedule_another_learning_rate_is_an_error() {
    let mut model = Net::new(0);
    let mut adam = Adam::new(1e-3);
    let bytes = Checkpoint::new(&mut model, &mut adam)
        .to_bytes(&[])
        .unwrap();
    let mut adam = Adam::new(1e-2);
    let err = Checkpoint::new(&mut model, &mut adam)
        .from_bytes(&bytes, "run.safetensors")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`optimizer.lr` is 0.0010000000474974513"),
        "{err}"
    );
    // with a schedule, the learning rate is the schedule's state: restored, not compared
    let bytes = Run::trained_bytes();
    let mut r = Run::new();
    r.adam.lr = 0.5;
    r.checkpoint()
        .from_bytes(&bytes, "run.safetensors")
        .unwrap();
    assert_ne!(r.adam.lr, 0.5);
}

#[test]
fn another_schedule_or_data_order_is_an_error_naming_the_field() {
    let bytes = Run::trained_bytes();
    let mut r = Run::new();
    r.schedule = LrScheduler::new(&mut r.adam, StepLR::new(5)).unwrap();
    assert_load_fails(
        r.checkpoint(),
        &bytes,
        "`schedule` is OneCycleLR in the saved state but StepLR",
    );

    let mut r = Run::new();
    r.schedule = LrScheduler::new(&mut r.adam, OneCycleLR::new(0.01, STEPS + 1)).unwrap();
    assert_load_fails(r.checkpoint(), &bytes, "`schedule.total_steps` is 17");

    let mut r = Run::new();
    let checkpoint = Checkpoint::new(&mut r.model, &mut r.adam).batches(&mut r.batches);
    assert_load_fails(
        checkpoint,
        &bytes,
        "`schedule` is OneCycleLR in the saved state but no schedule",
    );

    let mut r = Run::new();
    r.batches = Batches::shuffled(64, 8, 0);
    assert_load_fails(
        r.checkpoint(),
        &bytes,
        "`data.batch_size` is 10 in the saved state but 8",
    );
    let mut r = Run::new();
    r.batches = Batches::shuffled(65, 10, 0);
    assert_load_fails(r.checkpoint(), &bytes, "`data.len` is 64");
}

#[test]
fn a_damaged_file_is_an_error_not_a_panic() {
    let bytes = Run::trained_bytes();
    for cut in [0, 7, 100, bytes.len() / 2, bytes.len() - 1] {
        let mut r = Run::new();
        let err = r.checkpoint().from_bytes(&bytes[..cut], "run.safetensors");
        assert!(err.is_err(), "cut at {cut}");
    }
    // a weights file is not a checkpoint
    let mut model = Net::new(0);
    let weights = shapetorch::nn::weights::to_bytes(&mut model).unwrap();
    let mut r = Run::new();
    assert_load_fails(
        r.checkpoint(),
        &weights,
        "checkpoint field `format`: missing",
    );
}

/// A module with a buffer (as batch norm's running statistics), an integer buffer (as its
/// `num_batches_tracked`) and scalar state (as dropout's call count): weights files carry the
/// buffers, checkpoints all three; none is a parameter, so the optimiser leaves them alone.
struct WithBuffer {
    weight: Tensor1<f64, 2>,
    running_mean: Tensor1<f64, 2>,
    batches_tracked: u64,
    calls: u64,
}

impl Module<f64> for WithBuffer {
    fn visit(&mut self, visitor: &mut Visitor<'_, f64>) {
        visitor.param("weight", &mut self.weight);
        visitor.buffer("running_mean", &mut self.running_mean);
        visitor.int_buffer("num_batches_tracked", &mut self.batches_tracked);
        visitor.scalar("calls", &mut self.calls);
    }
}

#[test]
fn buffers_and_scalars_are_saved_and_loaded_but_not_trained() {
    let new = |v: f64| WithBuffer {
        weight: Tensor1::from_slice(&[v, v]).unwrap(),
        running_mean: Tensor1::from_slice(&[v + 1.0, v + 2.0]).unwrap(),
        batches_tracked: v as u64,
        calls: 2 * v as u64,
    };
    let mut m = new(3.0);
    assert_eq!(m.parameter_names(), vec!["weight"]);
    assert_eq!(m.parameter_count(), 2);
    let tape = Tape::new();
    m.trace(&tape);
    assert!(!m.running_mean.is_traced());
    let mut sgd = Sgd::new(0.1);
    let grads = m.weight.sum_all().backward();
    sgd.step(&mut m, &grads);
    assert_eq!(m.running_mean.to_vec(), vec![4.0, 5.0]);
    let trained = m.weight.to_vec();
    assert_ne!(trained, vec![3.0, 3.0]);
    // weights files hold the buffer (as PyTorch's state_dict); checkpoints the scalar too
    let weights = shapetorch::nn::weights::to_bytes(&mut m).unwrap();
    let bytes = Checkpoint::new(&mut m, &mut sgd).to_bytes(&[]).unwrap();
    let mut fresh = new(0.0);
    shapetorch::nn::weights::from_bytes(&mut fresh, &weights, "w").unwrap();
    assert_eq!(fresh.running_mean.to_vec(), vec![4.0, 5.0]);
    assert_eq!(fresh.batches_tracked, 3);
    assert_eq!(fresh.calls, 0);
    let mut fresh = new(0.0);
    let mut sgd = Sgd::new(0.1);
    Checkpoint::new(&mut fresh, &mut sgd)
        .from_bytes(&bytes, "c")
        .unwrap();
    assert_eq!(fresh.weight.to_vec(), trained);
    assert_eq!(fresh.running_mean.to_vec(), vec![4.0, 5.0]);
    assert_eq!(fresh.batches_tracked, 3);
    assert_eq!(fresh.calls, 6);
    // the count is a tensor of the checkpoint, `model.num_batches_tracked`, a 0-dim I64
    let saved = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let count = saved.tensor("model.num_batches_tracked").unwrap();
    assert_eq!(
        (count.dtype(), count.shape()),
        (safetensors::Dtype::I64, &[][..])
    );
    assert_eq!(count.data(), 3i64.to_le_bytes());
}

shapetorch::model! {
    /// A batch norm after a linear layer: its running statistics and count are state.
    struct Normed {
        fc: Linear<f64, 3, 2>,
        bn: BatchNorm1d<f64, 2>,
    }
}

/// A checkpoint of a model with a batch norm restores its running statistics and its
/// `num_batches_tracked`, so that a resumed run's next step (in training: the cumulative
/// average divides by the count) and evaluation equal the uninterrupted run's, bit for bit.
#[test]
fn a_checkpoint_restores_batch_norm_statistics_and_count() {
    let step = |model: &mut Normed, sgd: &mut Sgd<f64>, seed: u64| {
        let x = Tensor::<f64, (usize, Dim<3>)>::randn_shaped((5, Dim), seed, 0.5, 2.0);
        let y = model.bn.forward(model.fc.forward(x));
        let grads = (&y * &y).sum_all().backward();
        sgd.step(model, &grads);
    };
    let new = || {
        let mut model = Normed::new(4);
        model.bn.momentum = None; // the cumulative average: uses the count
        (model, Sgd::new(0.1))
    };
    let (mut a, mut sgd_a) = new();
    let tape_a = Tape::new();
    a.trace(&tape_a);
    for seed in 0..3 {
        step(&mut a, &mut sgd_a, seed);
    }
    let bytes = Checkpoint::new(&mut a, &mut sgd_a).to_bytes(&[]).unwrap();
    let (mut b, mut sgd_b) = new();
    Checkpoint::new(&mut b, &mut sgd_b)
        .from_bytes(&bytes, "c")
        .unwrap();
    let tape_b = Tape::new();
    b.trace(&tape_b);
    assert_eq!(b.bn.num_batches_tracked(), 3);
    for (model, sgd) in [(&mut a, &mut sgd_a), (&mut b, &mut sgd_b)] {
        step(model, sgd, 3);
    }
    assert_eq!(a.bn.num_batches_tracked(), 4);
    assert_eq!(b.bn.num_batches_tracked(), 4);
    assert_eq!(a.bn.running_mean().to_vec(), b.bn.running_mean().to_vec());
    assert_eq!(a.bn.running_var().to_vec(), b.bn.running_var().to_vec());
    assert_eq!(a.fc.weight.to_vec(), b.fc.weight.to_vec());
}
