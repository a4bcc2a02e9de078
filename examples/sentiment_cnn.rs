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
//! Flags: `--epochs N` (10), `--batch-size N` (50), `--lr X` (0.001), `--seed N` (0),
//! `--fold K` (0), `--cv`, `--embeddings glove|static|random` (glove: GloVe, fine-tuned),
//! `--model kim|minitorch`, `--threads N`, `--data DIR` (holding `mr/mr.tsv` and
//! `glove50-mr/glove50-mr.txt`), `--out FILE` (the trained weights, safetensors; default
//! `target/sentiment-<model>.safetensors`), `--predict SENTENCE` (repeatable: classify these
//! with the saved weights of `--out` instead of training, printing each class's probability),
//! `--limit N` (use only N training sentences, drawn with the seed: for a quick smoke run),
//! `--dev-percent N` (10).
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

use std::path::PathBuf;
use std::time::Instant;

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

/// Command-line options.
struct Options {
    epochs: usize,
    batch_size: usize,
    lr: f32,
    seed: u64,
    fold: u8,
    cv: bool,
    embeddings: String,
    model: String,
    data: PathBuf,
    out: Option<PathBuf>,
    limit: Option<usize>,
    dev_percent: usize,
    predict: Vec<String>,
}

fn parse_options() -> Result<Options, String> {
    let mut o = Options {
        epochs: 10,
        batch_size: 50,
        lr: 1e-3,
        seed: 0,
        fold: 0,
        cv: false,
        embeddings: "glove".into(),
        model: "kim".into(),
        data: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data")),
        out: None,
        limit: None,
        dev_percent: 10,
        predict: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--cv" {
            o.cv = true;
            continue;
        }
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--epochs" => o.epochs = value.parse().map_err(|e| bad(&e))?,
            "--batch-size" => o.batch_size = value.parse().map_err(|e| bad(&e))?,
            "--lr" => o.lr = value.parse().map_err(|e| bad(&e))?,
            "--seed" => o.seed = value.parse().map_err(|e| bad(&e))?,
            "--fold" => o.fold = value.parse().map_err(|e| bad(&e))?,
            "--embeddings" => o.embeddings = value,
            "--model" => o.model = value,
            "--data" => o.data = value.into(),
            "--out" => o.out = Some(value.into()),
            "--limit" => o.limit = Some(value.parse().map_err(|e| bad(&e))?),
            "--dev-percent" => o.dev_percent = value.parse().map_err(|e| bad(&e))?,
            "--predict" => o.predict.push(value),
            "--threads" => {
                let n: usize = value.parse().map_err(|e| bad(&e))?;
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build_global()
                    .map_err(|e| bad(&e))?;
            }
            _ => return Err(format!("unknown flag {flag} (see the example's docs)")),
        }
    }
    if !["glove", "static", "random"].contains(&o.embeddings.as_str()) {
        return Err(format!(
            "--embeddings {}: glove, static or random",
            o.embeddings
        ));
    }
    if !["kim", "minitorch"].contains(&o.model.as_str()) {
        return Err(format!("--model {}: kim or minitorch", o.model));
    }
    if o.fold > 9 || o.batch_size == 0 || o.dev_percent >= 100 {
        return Err("--fold is 0..9, --batch-size at least 1, --dev-percent below 100".into());
    }
    if o.out.is_none() {
        let target = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target"));
        o.out = Some(target.join(format!("sentiment-{}.safetensors", o.model)));
    }
    Ok(o)
}

/// The data every fold shares: sentences as ids, labels, folds, and the embedding table.
struct Corpus {
    vocab: Vocab,
    ids: Vec<Vec<usize>>,
    labels: Vec<u8>,
    folds: Vec<u8>,
    table: Tensor2<f32, V, D>,
}

fn load(o: &Options) -> shapetorch::Result<Corpus> {
    let rows: Vec<MrSentence> = read_mr(o.data.join("mr/mr.tsv"))?;
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
/// it on `fold`.
fn run_fold<M: SentenceModel>(o: &Options, corpus: &Corpus, fold: u8) -> FoldResult {
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

    let mut model = M::new(o.seed);
    match o.embeddings.as_str() {
        "glove" => model.set_table(corpus.table.clone(), false),
        "static" => model.set_table(corpus.table.clone(), true),
        _ => {} // random: the layer's own N(0, 1) initialisation
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
            if o.out.is_some() {
                best_weights = shapetorch::nn::weights::to_bytes(&mut model).ok();
            }
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
    if let (Some(out), Some(bytes)) = (&o.out, best_weights) {
        match std::fs::write(out, bytes) {
            Ok(()) => println!("weights saved to {}", out.display()),
            Err(e) => eprintln!("could not save the weights to {}: {e}", out.display()),
        }
    }
    FoldResult { selected, last }
}

/// Classifies `o.predict`'s sentences with the weights saved at `o.out`.
fn classify<M: SentenceModel>(o: &Options, corpus: &Corpus) -> Result<(), String> {
    let weights = o.out.as_ref().expect("a default is set");
    let mut model = M::new(o.seed);
    model.load(weights).map_err(|e| match e {
        shapetorch::Error::Io { .. } => format!(
            "{e}\n(train first: cargo run --release --example sentiment_cnn -- --model {})",
            o.model
        ),
        _ => e.to_string(),
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
    let o = match parse_options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("sentiment_cnn: {e}");
            std::process::exit(2);
        }
    };
    let corpus = match load(&o) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sentiment_cnn: {e}");
            std::process::exit(1);
        }
    };
    if !o.predict.is_empty() {
        let result = match o.model.as_str() {
            "kim" => classify::<Kim>(&o, &corpus),
            _ => classify::<MinitorchCnn>(&o, &corpus),
        };
        if let Err(e) = result {
            eprintln!("sentiment_cnn: {e}");
            std::process::exit(1);
        }
        return;
    }
    println!(
        "model {}, embeddings {}, {} epochs, batch {}, Adam lr {}, seed {}, {} threads",
        o.model,
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
        vec![o.fold]
    };
    let (mut selected, mut last) = (Vec::new(), Vec::new());
    for &fold in &folds {
        // on one of rayon's threads (see mnist_lenet)
        let result = rayon::scope(|_| match o.model.as_str() {
            "kim" => run_fold::<Kim>(&o, &corpus, fold),
            _ => run_fold::<MinitorchCnn>(&o, &corpus, fold),
        });
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
}

/// Smoke test, run by `cargo test` (the example is built with the test harness too).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_run_of_each_model_learns_something() {
        let mut o = Options {
            epochs: 1,
            batch_size: 50,
            lr: 1e-3,
            seed: 0,
            fold: 0,
            cv: false,
            embeddings: "glove".into(),
            model: "kim".into(),
            data: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data")),
            out: None,
            limit: Some(1000),
            dev_percent: 10,
            predict: Vec::new(),
        };
        let corpus = load(&o).unwrap();
        let dir = std::env::temp_dir().join(format!("shapetorch-sentiment-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        o.out = Some(dir.join("kim.safetensors"));
        // 900 training sentences, one epoch; chance is about 50 %
        let kim = run_fold::<Kim>(&o, &corpus, 0);
        assert!(kim.last > 55.0, "Kim's CNN: {} %", kim.last);
        // the saved weights classify sentences given as text
        o.predict = vec!["a gripping , funny film".into(), "dull and boring".into()];
        classify::<Kim>(&o, &corpus).unwrap();
        o.out = Some(dir.join("missing.safetensors"));
        assert!(classify::<Kim>(&o, &corpus)
            .unwrap_err()
            .contains("train first"));
        o.predict.clear();
        o.out = None;
        std::fs::remove_dir_all(&dir).unwrap();
        o.model = "minitorch".into();
        o.embeddings = "static".into();
        let minitorch = run_fold::<MinitorchCnn>(&o, &corpus, 0);
        assert!((0.0..=100.0).contains(&minitorch.last));
    }
}
