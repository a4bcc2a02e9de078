//! Kim's sentence CNN (2014) on the MR movie-review sentences: an embedding table (GloVe
//! vectors), 1-D convolutions of widths 3, 4 and 5 over the words, ReLU, max over time (the
//! lecture's "reduction"), the three feature vectors joined, dropout, a linear layer to the two
//! classes. Every size is in the types: sentence length, embedding size, feature maps.
//!
//! ```text
//! cargo run --release --example sentiment_cnn                    # train folds 1-9, test fold 0
//! cargo run --release --example sentiment_cnn -- --cv            # 10-fold cross-validation
//! cargo run --release --example sentiment_cnn -- --model minitorch
//! cargo run --release --example sentiment_cnn -- --predict "a gripping, funny film" --predict "dull"
//! ```
//!
//! Flags (`--help` lists each with its default and range): `--epochs`, `--batch-size`, `--lr`,
//! `--seed`, `--fold K`, `--cv`, `--embeddings glove|static|random` (glove: GloVe, fine-tuned),
//! `--model kim|minitorch`, `--threads`, `--data DIR` (holding `mr/mr.tsv` and
//! `glove50-mr/glove50-mr.txt`), `--out FILE` (the trained weights, safetensors; default
//! `target/sentiment-<model>.safetensors`), `--predict SENTENCE` (repeatable: classify these
//! with the saved weights of `--out` instead of training, printing each class's probability),
//! `--limit N` (use only N training sentences, drawn with the seed: for a quick smoke run),
//! `--dev-percent N`. Exit codes: 0 done, 2 a usage error (a value out of range, a batch
//! larger than the training sentences), 1 a runtime error (a data file, weights that cannot be
//! read or written; `--out` is checked before training).
//!
//! Model selection follows Kim: `--dev-percent` of the training sentences (drawn with the seed)
//! are held out as a development set; after each epoch the model is scored on it, and the
//! reported test accuracy is the one of the epoch with the best development accuracy (the
//! weights saved with `--out` are that epoch's too). The last epoch's test accuracy is printed
//! as well. `--dev-percent 0` trains on all training folds and reports the last epoch.
//!
//! `--model minitorch` trains the teaching library's variant: the three convolutions in the
//! lecture's convention (output as long as the input), their max-pooled outputs summed instead
//! of joined, a linear layer to one number, dropout 0.25, a sigmoid, binary cross-entropy.

#[path = "common/cli.rs"]
mod cli;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use cli::Failure;
use indicatif::{ProgressBar, ProgressStyle};
use shapetorch::prelude::*;
use shapetorch::text::{pad_batch, read_mr, tokenize, Glove, MrSentence, Vocab};

/// Longest sentence, in tokens (MR's longest has 63).
const L: usize = 64;
/// Embedding table rows: MR has 17,823 token types, plus padding and unknown.
const V: usize = 18_000;
/// GloVe vectors' width.
const D: usize = 50;
/// Feature maps per filter width.
const MAPS: usize = 100;

type Ids = IndexTensor<(usize, Dim<L>), V>;

shapetorch::model! {
    /// Kim's CNN: filter widths 3, 4 and 5 with 100 maps each, max over time, joined.
    pub struct Kim {
        embed: Embedding<f32, V, D>,
        conv3: Conv1d<f32, D, MAPS, 3>,
        conv4: Conv1d<f32, D, MAPS, 4>,
        conv5: Conv1d<f32, D, MAPS, 5>,
        dropout: Dropout<50>,
        fc: Linear<f32, 300, 2>,
    }
}

impl Kim {
    /// `[B, L]` word ids → `[B, 2]` class scores.
    fn forward(&self, ids: Ids) -> Tensor<f32, (usize, Dim<2>)> {
        // [B, L, D] -> [B, D, L]: the embedding's values are the convolution's channels
        let x = self.embed.forward(ids).permute::<0, 2, 1>();
        // [B, 100, L - k + 1] -> max over time -> [B, 100]
        let f3 = self.conv3.forward(x.clone()).relu().max::<2>();
        let f4 = self.conv4.forward(x.clone()).relu().max::<2>();
        let f5 = self.conv5.forward(x).relu().max::<2>();
        let features = f3.cat::<1, _>(&f4).cat::<1, _>(&f5); // [B, 300]
        self.fc.forward(self.dropout.forward(features))
    }
}

shapetorch::model! {
    /// MiniTorch's sentence CNN: the lecture's convolutions, their max-pooled outputs summed.
    pub struct MinitorchCnn {
        embed: Embedding<f32, V, D>,
        conv3: Conv1d<f32, D, MAPS, 3, Minitorch>,
        conv4: Conv1d<f32, D, MAPS, 4, Minitorch>,
        conv5: Conv1d<f32, D, MAPS, 5, Minitorch>,
        fc: Linear<f32, MAPS, 1>,
        dropout: Dropout<25>,
    }
}

impl MinitorchCnn {
    /// `[B, L]` word ids → `[B, 1]` probabilities of the positive class.
    fn forward(&self, ids: Ids) -> Tensor<f32, (usize, Dim<1>)> {
        let x = self.embed.forward(ids).permute::<0, 2, 1>(); // [B, D, L]
        let f3 = self.conv3.forward(x.clone()).relu().max::<2>(); // [B, 100]
        let f4 = self.conv4.forward(x.clone()).relu().max::<2>();
        let f5 = self.conv5.forward(x).relu().max::<2>();
        let summed = &(&f3 + &f4) + &f5;
        self.dropout.forward(self.fc.forward(summed)).sigmoid()
    }
}

/// Trains Kim's sentence CNN on MR (GloVe vectors) and reports the test accuracy of a fold or
/// of 10-fold cross-validation; or classifies sentences with the saved weights.
#[derive(Parser, Debug)]
#[command(name = "sentiment_cnn", allow_negative_numbers = true)]
struct Cli {
    /// Passes over the training sentences (at least 1)
    #[arg(long, default_value_t = 10, value_parser = cli::at_least_one)]
    epochs: usize,
    /// Sentences per step (1 to the number of training sentences)
    #[arg(long, default_value_t = 50, value_parser = cli::at_least_one)]
    batch_size: usize,
    /// Adam's learning rate, a finite number above 0
    #[arg(long, default_value_t = 1e-3, value_parser = cli::learning_rate)]
    lr: f32,
    /// Seed of the initial weights, the shuffles and the development split (any u64)
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The test fold (0 to 9); the others train
    #[arg(long, default_value_t = 0, value_parser = |s: &str| cli::in_range(s, 0, 9))]
    fold: usize,
    /// 10-fold cross-validation: every fold tested once
    #[arg(long)]
    cv: bool,
    /// The embedding table: glove (GloVe, fine-tuned), static (GloVe, frozen), random
    #[arg(long, value_enum, default_value_t = Embeddings::Glove)]
    embeddings: Embeddings,
    /// The network
    #[arg(long, value_enum, default_value_t = Model::Kim)]
    model: Model,
    /// Threads (1 to 1024) [default: one per core]
    #[arg(long, value_parser = cli::threads)]
    threads: Option<usize>,
    /// Directory holding mr/mr.tsv and glove50-mr/glove50-mr.txt
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/data"))]
    data: PathBuf,
    /// The trained weights (safetensors), written after training, read by --predict
    /// [default: target/sentiment-<model>.safetensors]
    #[arg(long)]
    out: Option<PathBuf>,
    /// Only N training sentences, drawn with the seed: a smoke run (at least 1)
    #[arg(long, value_parser = cli::at_least_one)]
    limit: Option<usize>,
    /// Percent of the training sentences held out to choose the epoch (0 to 99; 0: the last
    /// epoch)
    #[arg(long, default_value_t = 10, value_parser = |s: &str| cli::in_range(s, 0, 99))]
    dev_percent: usize,
    /// Classify this sentence with the saved weights instead of training (repeatable)
    #[arg(long, value_name = "SENTENCE")]
    predict: Vec<String>,
}

/// `--embeddings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Embeddings {
    /// GloVe vectors, fine-tuned
    Glove,
    /// GloVe vectors, frozen
    Static,
    /// N(0, 1), trained
    Random,
}

/// `--model`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Model {
    /// Kim's CNN: widths 3/4/5 x 100 maps, max over time, joined, dropout, 300 -> 2
    Kim,
    /// The teaching library's variant: the three maps summed, 100 -> 1, sigmoid, BCE
    Minitorch,
}

impl Model {
    fn as_str(self) -> &'static str {
        match self {
            Model::Kim => "kim",
            Model::Minitorch => "minitorch",
        }
    }
}

impl Cli {
    /// `--out`, or `target/sentiment-<model>.safetensors`.
    fn out(&self) -> PathBuf {
        self.out.clone().unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target"))
                .join(format!("sentiment-{}.safetensors", self.model.as_str()))
        })
    }
}

/// The data every fold shares: sentences as ids, labels, folds, and the embedding table.
struct Corpus {
    vocab: Vocab,
    ids: Vec<Vec<usize>>,
    labels: Vec<u8>,
    folds: Vec<u8>,
    table: Tensor2<f32, V, D>,
}

fn load(o: &Cli) -> Result<Corpus, Failure> {
    let mr = o.data.join("mr/mr.tsv");
    let rows: Vec<MrSentence> = read_mr(&mr)?;
    if rows.is_empty() {
        return Err(cli::runtime(format!("{}: no sentences", mr.display())));
    }
    let tokens: Vec<Vec<String>> = rows.iter().map(|r| tokenize(&r.text)).collect();
    let vocab = Vocab::build(&tokens, V, 1);
    let glove = Glove::read(o.data.join("glove50-mr/glove50-mr.txt"))?;
    let (table, covered) = glove.embedding_table::<f32, V, D>(&vocab, o.seed)?;
    println!(
        "MR: {} sentences, {} word types ({} with a GloVe vector)",
        rows.len(),
        vocab.len() - 2,
        covered
    );
    Ok(Corpus {
        ids: tokens.iter().map(|t| vocab.encode(t)).collect(),
        vocab,
        labels: rows.iter().map(|r| r.label).collect(),
        folds: rows.iter().map(|r| r.fold).collect(),
        table,
    })
}

/// What the two models share for training: a forward pass to a loss, and predictions.
trait SentenceModel: Module<f32> + Init {
    fn set_table(&mut self, table: Tensor2<f32, V, D>, frozen: bool);
    fn loss(&self, ids: Ids, labels: &[u8]) -> Tensor0<f32>;
    fn predict(&self, ids: Ids) -> Vec<u8>;
    /// The probability of the positive class for each sentence.
    fn positive(&self, ids: Ids) -> Vec<f32>;
}

impl SentenceModel for Kim {
    fn set_table(&mut self, table: Tensor2<f32, V, D>, frozen: bool) {
        self.embed = Embedding::from_pretrained(table, frozen);
    }
    fn loss(&self, ids: Ids, labels: &[u8]) -> Tensor0<f32> {
        let labels = IndexTensor::from_ints_shaped((labels.len(),), labels).expect("labels 0/1");
        self.forward(ids).cross_entropy(&labels)
    }
    fn positive(&self, ids: Ids) -> Vec<f32> {
        let p = self.forward(ids).softmax::<1>();
        p.as_slice().chunks(2).map(|row| row[1]).collect()
    }
    fn predict(&self, ids: Ids) -> Vec<u8> {
        self.forward(ids)
            .argmax::<1, 2>()
            .as_slice()
            .iter()
            .map(|&c| c as u8)
            .collect()
    }
}

impl SentenceModel for MinitorchCnn {
    fn set_table(&mut self, table: Tensor2<f32, V, D>, frozen: bool) {
        self.embed = Embedding::from_pretrained(table, frozen);
    }
    fn loss(&self, ids: Ids, labels: &[u8]) -> Tensor0<f32> {
        let target = Tensor::from_vec_shaped(
            (labels.len(), Dim),
            labels.iter().map(|&l| l as f32).collect(),
        )
        .expect("one label per sentence");
        self.forward(ids).binary_cross_entropy(&target)
    }
    fn positive(&self, ids: Ids) -> Vec<f32> {
        self.forward(ids).to_vec()
    }
    fn predict(&self, ids: Ids) -> Vec<u8> {
        self.forward(ids)
            .as_slice()
            .iter()
            .map(|&p| u8::from(p > 0.5))
            .collect()
    }
}

/// The accuracy (%) of `model` on the sentences `indices`, in evaluation mode.
fn accuracy<M: SentenceModel>(model: &M, corpus: &Corpus, indices: &[usize]) -> f64 {
    let correct: usize = indices
        .chunks(500)
        .map(|chunk| {
            let predicted = model.predict(batch_ids(corpus, chunk));
            chunk
                .iter()
                .zip(predicted)
                .filter(|(&i, p)| corpus.labels[i] == *p)
                .count()
        })
        .sum();
    100.0 * correct as f64 / indices.len().max(1) as f64
}

/// The sentences `indices` as a padded batch of ids.
fn batch_ids(corpus: &Corpus, indices: &[usize]) -> Ids {
    let sentences: Vec<Vec<usize>> = indices.iter().map(|&i| corpus.ids[i].clone()).collect();
    pad_batch(&sentences).expect("the vocabulary fits the table")
}

/// What one fold's training gave.
struct FoldResult {
    /// Test accuracy at the epoch with the best development accuracy (the last epoch when
    /// there is no development set).
    selected: f64,
    /// Test accuracy after the last epoch.
    last: f64,
}

/// Trains a fresh model on every fold but `fold` (less the development sentences) and scores
/// it on `fold`. A usage error when the batch is larger than the training sentences, a
/// runtime error when the fold has no sentences or the weights cannot be written.
fn run_fold<M: SentenceModel>(o: &Cli, corpus: &Corpus, fold: u8) -> Result<FoldResult, Failure> {
    let mut rng = Rng::new(o.seed ^ 0x5eed);
    let mut train: Vec<usize> = (0..corpus.ids.len())
        .filter(|&i| corpus.folds[i] != fold)
        .collect();
    // Fisher-Yates shuffle from the seed (MR's rows are sorted by label), then the limit, then
    // the development sentences off the front.
    for i in (1..train.len()).rev() {
        train.swap(i, rng.below(i + 1));
    }
    if let Some(limit) = o.limit {
        train.truncate(limit);
    }
    let dev: Vec<usize> = train.drain(..train.len() * o.dev_percent / 100).collect();
    let test: Vec<usize> = (0..corpus.ids.len())
        .filter(|&i| corpus.folds[i] == fold)
        .collect();
    if test.is_empty() {
        return Err(cli::runtime(format!(
            "fold {fold} has no sentences to test on"
        )));
    }
    if o.batch_size > train.len() {
        return Err(cli::usage(format!(
            "--batch-size {}: fold {fold} leaves {} training sentences",
            o.batch_size,
            train.len()
        )));
    }

    let mut model = M::new(o.seed);
    match o.embeddings {
        Embeddings::Glove => model.set_table(corpus.table.clone(), false),
        Embeddings::Static => model.set_table(corpus.table.clone(), true),
        Embeddings::Random => {} // the layer's own N(0, 1) initialisation
    }
    let tape = Tape::new();
    model.trace(&tape);
    let mut adam = Adam::new(o.lr);
    let (mut best_dev, mut selected, mut last) = (f64::NEG_INFINITY, 0.0, 0.0);
    let mut best_weights = None;
    for epoch in 1..=o.epochs {
        for i in (1..train.len()).rev() {
            train.swap(i, rng.below(i + 1));
        }
        let batches = train.len().div_ceil(o.batch_size);
        let bar = ProgressBar::new(batches as u64).with_style(
            ProgressStyle::with_template(
                "epoch {prefix} [{bar:30}] {pos}/{len} batches  {msg}  eta {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(format!("{epoch}/{}", o.epochs));
        let start = Instant::now();
        model.train();
        let mut total_loss = 0.0;
        for (b, chunk) in train.chunks(o.batch_size).enumerate() {
            let labels: Vec<u8> = chunk.iter().map(|&i| corpus.labels[i]).collect();
            let loss = model.loss(batch_ids(corpus, chunk), &labels);
            total_loss += loss.item() as f64;
            adam.step(&mut model, &loss.backward());
            let seen = (b + 1) * o.batch_size;
            bar.set_message(format!(
                "loss {:.4}  {:.0} sentences/s",
                total_loss / (b + 1) as f64,
                seen as f64 / start.elapsed().as_secs_f64()
            ));
            bar.inc(1);
        }
        bar.finish_and_clear();
        model.eval();
        let _no_grad = tape.no_grad();
        let dev_accuracy = accuracy(&model, corpus, &dev);
        last = accuracy(&model, corpus, &test);
        let improved = dev.is_empty() || dev_accuracy > best_dev;
        if improved {
            best_dev = dev_accuracy;
            selected = last;
            best_weights = Some(shapetorch::nn::weights::to_bytes(&mut model)?);
        }
        println!(
            "fold {fold} epoch {epoch}: train loss {:.4}, dev accuracy {}, test accuracy \
             {last:.2} %{} ({:.1} s)",
            total_loss / batches as f64,
            if dev.is_empty() {
                "-".to_string()
            } else {
                format!("{dev_accuracy:.2} %")
            },
            if improved && !dev.is_empty() {
                " *"
            } else {
                ""
            },
            start.elapsed().as_secs_f64()
        );
    }
    if let Some(bytes) = best_weights {
        let out = o.out();
        std::fs::write(&out, bytes).map_err(|e| {
            cli::runtime(format!(
                "could not save the weights to {}: {e}",
                out.display()
            ))
        })?;
        println!("weights saved to {}", out.display());
    }
    Ok(FoldResult { selected, last })
}

/// Classifies `o.predict`'s sentences with the weights saved at `o.out`.
fn classify<M: SentenceModel>(o: &Cli, corpus: &Corpus) -> Result<(), Failure> {
    let weights = o.out();
    let mut model = M::new(o.seed);
    model.load(&weights).map_err(|e| match e {
        shapetorch::Error::Io { .. } if !weights.exists() => cli::runtime(format!(
            "{e}\n(train first: cargo run --release --example sentiment_cnn -- --model {})",
            o.model.as_str()
        )),
        _ => cli::runtime(e),
    })?;
    model.eval();
    let ids: Vec<Vec<usize>> = o
        .predict
        .iter()
        .map(|s| corpus.vocab.encode(&tokenize(s)))
        .collect();
    let batch = pad_batch(&ids).expect("the vocabulary fits the table");
    for (sentence, p) in o.predict.iter().zip(model.positive(batch)) {
        println!(
            "negative {:5.1} %  positive {:5.1} %  {sentence}",
            100.0 * (1.0 - p),
            100.0 * p
        );
    }
    Ok(())
}

fn main() {
    let o = Cli::parse();
    cli::exit_on("sentiment_cnn", run(&o));
}

/// Everything after parsing: `--out` checked (when training), the data loaded, then
/// classification or training.
fn run(o: &Cli) -> Result<(), Failure> {
    cli::use_threads(o.threads)?;
    if o.predict.is_empty() {
        cli::check_writable("--out", &o.out())?;
    }
    let corpus = load(o)?;
    if !o.predict.is_empty() {
        return match o.model {
            Model::Kim => classify::<Kim>(o, &corpus),
            Model::Minitorch => classify::<MinitorchCnn>(o, &corpus),
        };
    }
    println!(
        "model {}, embeddings {:?}, {} epochs, batch {}, Adam lr {}, seed {}, {} threads",
        o.model.as_str(),
        o.embeddings,
        o.epochs,
        o.batch_size,
        o.lr,
        o.seed,
        rayon::current_num_threads()
    );
    let start = Instant::now();
    let folds: Vec<u8> = if o.cv {
        (0..10).collect()
    } else {
        vec![o.fold as u8]
    };
    let (mut selected, mut last) = (Vec::new(), Vec::new());
    for &fold in &folds {
        // on one of rayon's threads (see mnist_lenet)
        let result = rayon::scope(|_| match o.model {
            Model::Kim => run_fold::<Kim>(o, &corpus, fold),
            Model::Minitorch => run_fold::<MinitorchCnn>(o, &corpus, fold),
        })?;
        selected.push(result.selected);
        last.push(result.last);
    }
    let mean_std = |v: &[f64]| {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        (
            mean,
            (v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / n).sqrt(),
        )
    };
    let what = if o.dev_percent > 0 {
        "at the best development epoch"
    } else {
        "after the last epoch"
    };
    if o.cv {
        let (mean, std) = mean_std(&selected);
        let (last_mean, last_std) = mean_std(&last);
        println!("10-fold test accuracy {what}: {mean:.2} ± {std:.2} % (folds: {selected:.1?})");
        println!("  after the last epoch: {last_mean:.2} ± {last_std:.2} %");
    } else {
        println!(
            "test accuracy on fold {} {what}: {:.2} %",
            o.fold, selected[0]
        );
        println!("  after the last epoch: {:.2} %", last[0]);
    }
    println!("time: {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}

/// Smoke test, run by `cargo test` (the example is built with the test harness too).
#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("sentiment_cnn").chain(args.iter().copied()))
    }

    #[test]
    fn a_short_run_of_each_model_learns_something() {
        let dir = std::env::temp_dir().join(format!("shapetorch-sentiment-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("kim.safetensors");
        let mut o = parse(&[
            "--epochs",
            "1",
            "--limit",
            "1000",
            "--out",
            out.to_str().unwrap(),
        ])
        .unwrap();
        let corpus = load(&o).unwrap();
        // 900 training sentences, one epoch; chance is about 50 %
        let kim = run_fold::<Kim>(&o, &corpus, 0).unwrap();
        assert!(kim.last > 55.0, "Kim's CNN: {} %", kim.last);
        // the saved weights classify sentences given as text
        o.predict = vec!["a gripping , funny film".into(), "dull and boring".into()];
        classify::<Kim>(&o, &corpus).unwrap();
        o.out = Some(dir.join("missing.safetensors"));
        let failure = classify::<Kim>(&o, &corpus).unwrap_err();
        assert_eq!(failure.exit_code(), 1);
        assert!(failure.message().contains("train first"));
        o.predict.clear();
        o.out = Some(dir.join("minitorch.safetensors"));
        o.model = Model::Minitorch;
        o.embeddings = Embeddings::Static;
        let minitorch = run_fold::<MinitorchCnn>(&o, &corpus, 0).unwrap();
        assert!((0.0..=100.0).contains(&minitorch.last));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn help_lists_each_flag_with_its_default_and_range() {
        Cli::command().debug_assert();
        let help = Cli::command().render_help().to_string();
        for needle in [
            "--epochs <EPOCHS>",
            "(at least 1) [default: 10]",
            "--batch-size <BATCH_SIZE>",
            "[default: 50]",
            "--lr <LR>",
            "finite number above 0 [default: 0.001]",
            "--seed <SEED>",
            "--fold <FOLD>",
            "(0 to 9); the others train [default: 0]",
            "--cv",
            "--embeddings <EMBEDDINGS>",
            "[possible values: glove, static, random]",
            "--model <MODEL>",
            "[possible values: kim, minitorch]",
            "--threads <THREADS>",
            "--data <DATA>",
            "--out <OUT>",
            "--limit <LIMIT>",
            "--dev-percent <DEV_PERCENT>",
            "(0 to 99; 0: the last epoch) [default: 10]",
            "--predict <SENTENCE>",
            "-h, --help",
        ] {
            assert!(help.contains(needle), "`{needle}` is not in:\n{help}");
        }
    }

    #[test]
    fn values_out_of_range_are_usage_errors_and_files_runtime_errors() {
        for (args, needle) in [
            (&["--fold", "10"][..], "10 is not in 0..=9"),
            (&["--dev-percent", "100"], "100 is not in 0..=99"),
            (&["--lr", "nan"], "NaN is not a finite number above 0"),
            (&["--epochs", "0"], "0 is below 1"),
            (&["--embeddings", "word2vec"], "invalid value 'word2vec'"),
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{args:?}");
            assert!(err.to_string().contains(needle), "{args:?}: {err}");
        }
        let dir =
            std::env::temp_dir().join(format!("shapetorch-sentiment-cli-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("mr")).unwrap();
        // an unwritable --out is found before the data is read
        let nowhere = dir.join("none").join("w.safetensors");
        let o = parse(&["--out", nowhere.to_str().unwrap()]).unwrap();
        let failure = run(&o).unwrap_err();
        assert_eq!(failure.exit_code(), 1);
        assert!(
            failure.message().starts_with("--out "),
            "{}",
            failure.message()
        );
        // a 0-byte MR file: an error, not an accuracy of 0.00 % with exit code 0
        std::fs::write(dir.join("mr/mr.tsv"), b"").unwrap();
        let out = dir.join("w.safetensors");
        let o = parse(&[
            "--data",
            dir.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .unwrap();
        let failure = run(&o).unwrap_err();
        assert_eq!(failure.exit_code(), 1);
        assert!(
            failure.message().ends_with("found an empty file"),
            "{}",
            failure.message()
        );
        // GloVe values that are not finite: an error naming the line and the word
        std::fs::write(dir.join("mr/mr.tsv"), "label\tfold\tsentence\n1\t0\tgood\n").unwrap();
        std::fs::create_dir_all(dir.join("glove50-mr")).unwrap();
        std::fs::write(dir.join("glove50-mr/glove50-mr.txt"), "good nan\n").unwrap();
        let failure = run(&o).unwrap_err();
        assert_eq!(failure.exit_code(), 1);
        assert!(
            failure
                .message()
                .ends_with(":1: value 1 of `good` is not a finite number: `nan`"),
            "{}",
            failure.message()
        );
        // the real data with a batch larger than the training sentences
        let o = parse(&["--batch-size", "9000", "--out", out.to_str().unwrap()]).unwrap();
        let failure = run(&o).unwrap_err();
        assert_eq!(failure.exit_code(), 2);
        assert!(
            failure
                .message()
                .starts_with("--batch-size 9000: fold 0 leaves"),
            "{}",
            failure.message()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
