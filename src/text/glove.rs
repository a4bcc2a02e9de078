//! GloVe word vectors in their text format: one line per word, the word then its values,
//! separated by single spaces (no header line). Every value must be a finite number (`nan`
//! and `inf` parse as floats, but one of them made every vector drawn from the table's
//! standard deviation NaN); an error names the file, the line and the word, cut to 60
//! characters in the message.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use crate::error::{Error, Result};
use crate::files::{cut, open_regular, read_error};
use crate::tensor::{Element, Rng, Tensor2};
use crate::text::Vocab;

/// Word vectors read from a GloVe text file.
#[derive(Clone, Debug)]
pub struct Glove {
    dim: usize,
    index: HashMap<String, usize>,
    values: Vec<f32>,
}

impl Glove {
    /// Reads the file at `path` (a regular file: a FIFO or a device is an error).
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let (file, _) = open_regular(path, &name)?;
        Self::from_reader(std::io::BufReader::new(file), &name)
    }

    /// Reads vectors from `reader`; `file` names it in errors. Every line must have the same
    /// number of values as the first, each a finite number; an error names the line (from 1)
    /// and what is wrong.
    pub fn from_reader(reader: impl BufRead, file: &str) -> Result<Self> {
        let mut glove = Glove {
            dim: 0,
            index: HashMap::new(),
            values: Vec::new(),
        };
        for (i, line) in reader.lines().enumerate() {
            let line_no = i + 1;
            let error = |message: String| Error::Parse {
                file: file.to_string(),
                line: line_no,
                message,
            };
            let line = line.map_err(|e| match read_error(file, e) {
                Error::Io { message, .. } => error(message),
                out_of_memory => out_of_memory,
            })?;
            if line.is_empty() {
                continue;
            }
            let mut fields = line.split(' ');
            let word = fields.next().unwrap_or_default();
            let start = glove.values.len();
            for (k, field) in fields.enumerate() {
                let what = |problem: &str| {
                    let (word, field) = (cut(word), cut(field));
                    error(format!("value {} of `{word}` {problem}: `{field}`", k + 1))
                };
                let v: f32 = field.parse().map_err(|_| what("is not a number"))?;
                if !v.is_finite() {
                    return Err(what("is not a finite number"));
                }
                glove.values.push(v);
            }
            let n = glove.values.len() - start;
            if glove.index.is_empty() {
                if n == 0 {
                    return Err(error(format!("`{}` has no values", cut(word))));
                }
                glove.dim = n;
            } else if n != glove.dim {
                return Err(error(format!(
                    "`{}` has {n} values, the lines before have {}",
                    cut(word),
                    glove.dim
                )));
            }
            if glove
                .index
                .insert(word.to_string(), glove.index.len())
                .is_some()
            {
                return Err(error(format!("`{}` appears twice", cut(word))));
            }
        }
        Ok(glove)
    }

    /// The number of values per word.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The number of words.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there are no words.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The vector of `word`, or `None`.
    pub fn get(&self, word: &str) -> Option<&[f32]> {
        let i = *self.index.get(word)?;
        Some(&self.values[i * self.dim..][..self.dim])
    }
}

impl Glove {
    /// The population standard deviation of all values (the scale of the vectors).
    pub fn std(&self) -> f64 {
        let n = self.values.len().max(1) as f64;
        let mean = self.values.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = self
            .values
            .iter()
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        var.sqrt()
    }

    /// An embedding table `[V, D]` for `vocab`: row `id` is the vector of its word; the padding
    /// row is zeros; words without a vector (and the unknown id) get values uniform in
    /// `[-a, a)` with `a = sqrt(3)·std`, so their variance matches the vectors' (Kim's rule),
    /// drawn from `seed`. Returns the table and how many words had a vector.
    ///
    /// An error when the vectors are not `D` wide or the vocabulary has more than `V` ids.
    pub fn embedding_table<E: Element, const V: usize, const D: usize>(
        &self,
        vocab: &Vocab,
        seed: u64,
    ) -> Result<(Tensor2<E, V, D>, usize)> {
        if self.dim != D {
            return Err(Error::Shape {
                op: "embedding_table",
                expected: format!("vectors of {D} values"),
                found: vec![self.dim],
            });
        }
        if vocab.len() > V {
            return Err(Error::Shape {
                op: "embedding_table",
                expected: format!("a vocabulary of at most {V} ids"),
                found: vec![vocab.len()],
            });
        }
        let a = 3f64.sqrt() * self.std();
        let mut rng = Rng::new(seed);
        let mut covered = 0;
        let mut table = Tensor2::<E, V, D>::zeros();
        let values = table.data_mut();
        for (id, row) in values.chunks_exact_mut(D.max(1)).enumerate() {
            let word = vocab.word(id);
            match word.and_then(|w| self.get(w)) {
                Some(vector) if id != Vocab::PAD && id != Vocab::UNKNOWN => {
                    covered += 1;
                    for (r, &v) in row.iter_mut().zip(vector) {
                        *r = E::of(v as f64);
                    }
                }
                _ if id == Vocab::PAD => {}
                _ => {
                    for r in row.iter_mut() {
                        *r = E::of((2.0 * rng.uniform() - 1.0) * a);
                    }
                }
            }
        }
        Ok((table, covered))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_vectors_and_names_the_line_of_each_error() {
        let glove = Glove::from_reader("the 0.5 -1\n, 2e-1 3\n".as_bytes(), "g.txt").unwrap();
        assert_eq!((glove.len(), glove.dim()), (2, 2));
        assert_eq!(glove.get(","), Some(&[0.2f32, 3.0][..]));
        assert_eq!(glove.get("zebra"), None);
        let err = Glove::from_reader("a 1 2\nb 1\n".as_bytes(), "g.txt").unwrap_err();
        assert_eq!(
            err.to_string(),
            "g.txt:2: `b` has 1 values, the lines before have 2"
        );
        let err = Glove::from_reader("a 1 2\nb 1 x2\n".as_bytes(), "g.txt").unwrap_err();
        assert_eq!(
            err.to_string(),
            "g.txt:2: value 2 of `b` is not a number: `x2`"
        );
        let err = Glove::from_reader("a 1\na 2\n".as_bytes(), "g.txt").unwrap_err();
        assert_eq!(err.to_string(), "g.txt:2: `a` appears twice");
        let err = Glove::from_reader("lonely\n".as_bytes(), "g.txt").unwrap_err();
        assert_eq!(err.to_string(), "g.txt:1: `lonely` has no values");
        let err = Glove::from_reader("a 1  2\n".as_bytes(), "g.txt").unwrap_err();
        assert_eq!(
            err.to_string(),
            "g.txt:1: value 2 of `a` is not a number: ``"
        );
    }

    /// `nan`, `inf` and a value past f32's range (which parses to inf) are refused: one of
    /// them made the table's standard deviation NaN, and so every vector drawn from it.
    #[test]
    fn values_must_be_finite() {
        for (text, bad) in [
            (
                "a 1 2\nb nan 3\n",
                "value 1 of `b` is not a finite number: `nan`",
            ),
            ("a inf 2\n", "value 1 of `a` is not a finite number: `inf`"),
            (
                "a 1 -infinity\n",
                "value 2 of `a` is not a finite number: `-infinity`",
            ),
            (
                "a 1 1e39\n",
                "value 2 of `a` is not a finite number: `1e39`",
            ),
            ("a 1 NaN\n", "value 2 of `a` is not a finite number: `NaN`"),
        ] {
            let err = Glove::from_reader(text.as_bytes(), "g.txt").unwrap_err();
            assert!(err.to_string().ends_with(bad), "{err}");
        }
    }

    /// A word of 1 MiB (or a value as long) is cut to 60 characters in the message: a 64 MiB
    /// word made a 67 MB message.
    #[test]
    fn long_words_and_values_are_cut_in_messages() {
        let word = "w".repeat(1 << 20);
        for text in [
            format!("{word} x\n"),
            format!("a 1\n{word}\n"),
            format!("a 1\n{word} 1 2\n"),
            format!("{word} 1\n{word} 2\n"),
            format!("a {word}\n"),
        ] {
            let err = Glove::from_reader(text.as_bytes(), "g.txt").unwrap_err();
            let message = err.to_string();
            assert!(
                message.len() < 200,
                "{} bytes: {}",
                message.len(),
                &message[..200]
            );
            assert!(message.contains("more characters)"), "{message}");
        }
    }

    #[test]
    fn an_embedding_table_copies_known_words_pads_with_zeros_and_draws_the_rest() {
        let glove = Glove::from_reader("good 1 2\nbad -1 -2\n".as_bytes(), "g").unwrap();
        let words: Vec<String> = ["good", "movie", "bad", "good"].map(String::from).to_vec();
        let vocab = Vocab::build([words.as_slice()], 10, 1);
        // ids: 0 <pad>, 1 <unk>, 2 good, 3 movie, 4 bad; rows 5..8 unused
        let (table, covered) = glove.embedding_table::<f64, 8, 2>(&vocab, 1).unwrap();
        assert_eq!(covered, 2);
        assert_eq!(table.as_slice()[..2], [0.0, 0.0]);
        assert_eq!(table.as_slice()[4..6], [1.0, 2.0]);
        assert_eq!(table.as_slice()[8..10], [-1.0, -2.0]);
        let a = 3f64.sqrt() * glove.std();
        assert!(table.as_slice()[6..8]
            .iter()
            .all(|v| v.abs() <= a && *v != 0.0));
        let err = glove.embedding_table::<f64, 8, 3>(&vocab, 1).unwrap_err();
        assert!(err.to_string().contains("vectors of 3 values"), "{err}");
        let err = glove.embedding_table::<f64, 4, 2>(&vocab, 1).unwrap_err();
        assert!(err.to_string().contains("at most 4 ids"), "{err}");
    }
}
