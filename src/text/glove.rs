//! GloVe word vectors in their text format: one line per word, the word then its values,
//! separated by single spaces (no header line).

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use crate::error::{Error, Result};

/// Word vectors read from a GloVe text file.
#[derive(Clone, Debug)]
pub struct Glove {
    dim: usize,
    index: HashMap<String, usize>,
    values: Vec<f32>,
}

impl Glove {
    /// Reads the file at `path`.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_reader(std::io::BufReader::new(file), &path.display().to_string())
    }

    /// Reads vectors from `reader`; `file` names it in errors. Every line must have the same
    /// number of values as the first; an error names the line (from 1) and what is wrong.
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
            let line = line.map_err(|e| error(e.to_string()))?;
            if line.is_empty() {
                continue;
            }
            let mut fields = line.split(' ');
            let word = fields.next().unwrap_or_default();
            let start = glove.values.len();
            for (k, field) in fields.enumerate() {
                let v: f32 = field.parse().map_err(|_| {
                    error(format!(
                        "value {} of `{word}` is not a number: `{field}`",
                        k + 1
                    ))
                })?;
                glove.values.push(v);
            }
            let n = glove.values.len() - start;
            if glove.index.is_empty() {
                if n == 0 {
                    return Err(error(format!("`{word}` has no values")));
                }
                glove.dim = n;
            } else if n != glove.dim {
                return Err(error(format!(
                    "`{word}` has {n} values, the lines before have {}",
                    glove.dim
                )));
            }
            if glove
                .index
                .insert(word.to_string(), glove.index.len())
                .is_some()
            {
                return Err(error(format!("`{word}` appears twice")));
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
}
