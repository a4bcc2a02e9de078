//! A small PNG line chart for the examples' training curves: panels of lines with their axes'
//! ranges written in an 8×8 bitmap font (`font8x8`, public domain), encoded as PNG with zlib
//! from `flate2`. No font files and no system libraries: it works on a fresh machine.

use std::io::Write;

use font8x8::legacy::BASIC_LEGACY;

/// An RGB colour.
pub type Rgb = [u8; 3];

/// Blue, for the first series.
pub const BLUE: Rgb = [31, 119, 180];
/// Orange, for the second series.
pub const ORANGE: Rgb = [255, 127, 14];

/// One panel: a title and lines of `(x, y)` points.
pub struct Panel<'a> {
    /// Written above the panel.
    pub title: &'a str,
    /// Each line: its colour and points.
    pub lines: Vec<(Rgb, &'a [(f64, f64)])>,
}

/// An image being drawn on: RGB pixels, row-major.
struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: usize, height: usize) -> Self {
        Canvas {
            width,
            height,
            pixels: vec![255; width * height * 3],
        }
    }

    fn set(&mut self, x: i64, y: i64, color: Rgb) {
        if x >= 0 && y >= 0 && (x as usize) < self.width && (y as usize) < self.height {
            let i = (y as usize * self.width + x as usize) * 3;
            self.pixels[i..i + 3].copy_from_slice(&color);
        }
    }

    /// A line two pixels thick, by Bresenham's algorithm.
    fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), color: Rgb) {
        let (dx, dy) = ((x1 - x0).abs(), -(y1 - y0).abs());
        let (sx, sy) = (if x0 < x1 { 1 } else { -1 }, if y0 < y1 { 1 } else { -1 });
        let (mut x, mut y, mut err) = (x0, y0, dx + dy);
        loop {
            self.set(x, y, color);
            self.set(x + 1, y, color);
            self.set(x, y + 1, color);
            if x == x1 && y == y1 {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    /// `text` in the 8×8 font with its top-left corner at `(x, y)`.
    fn text(&mut self, x: i64, y: i64, text: &str, color: Rgb) {
        for (i, c) in text.chars().enumerate() {
            let glyph = BASIC_LEGACY[(c as usize).min(127)];
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits & (1 << col) != 0 {
                        self.set(x + 8 * i as i64 + col, y + row as i64, color);
                    }
                }
            }
        }
    }

    /// The image as PNG bytes (8-bit RGB, no filtering, zlib-compressed).
    fn png(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity((self.width * 3 + 1) * self.height);
        for row in self.pixels.chunks(self.width * 3) {
            raw.push(0); // filter: none
            raw.extend_from_slice(row);
        }
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&raw).expect("writing to memory");
        let idat = z.finish().expect("writing to memory");
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&(self.width as u32).to_be_bytes());
        ihdr.extend_from_slice(&(self.height as u32).to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8 bits, RGB, deflate, no filter, no interlace
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        for (kind, data) in [(b"IHDR", &ihdr), (b"IDAT", &idat), (b"IEND", &Vec::new())] {
            png.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let start = png.len();
            png.extend_from_slice(kind);
            png.extend_from_slice(data);
            let crc = crc32(&png[start..]);
            png.extend_from_slice(&crc.to_be_bytes());
        }
        png
    }
}

/// CRC-32 (the polynomial PNG uses), bit by bit: the chart is small.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A short decimal for an axis label.
fn label(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// Draws `panels` side by side, each 460×360 pixels with its axes, and writes the PNG to
/// `path`.
pub fn save_png(path: &std::path::Path, panels: &[Panel<'_>]) -> std::io::Result<()> {
    let (pw, ph) = (460usize, 360usize);
    let mut canvas = Canvas::new(pw * panels.len().max(1), ph);
    let (grey, black) = ([200, 200, 200], [0, 0, 0]);
    for (p, panel) in panels.iter().enumerate() {
        let x0 = (p * pw) as i64;
        // the plot area, inside margins for the labels
        let (left, right, top, bottom) = (x0 + 70, x0 + pw as i64 - 20, 40i64, ph as i64 - 40);
        canvas.text(left, 15, panel.title, black);
        let points = panel.lines.iter().flat_map(|(_, pts)| pts.iter());
        let (mut xmin, mut xmax, mut ymin, mut ymax) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, y) in points {
            if x.is_finite() && y.is_finite() {
                xmin = xmin.min(x);
                xmax = xmax.max(x);
                ymin = ymin.min(y);
                ymax = ymax.max(y);
            }
        }
        if xmin > xmax {
            continue; // nothing to draw
        }
        if xmax == xmin {
            xmax = xmin + 1.0;
        }
        if ymax == ymin {
            ymax = ymin + 1.0;
        }
        let to_px = |(x, y): (f64, f64)| -> (i64, i64) {
            let px = left as f64 + (x - xmin) / (xmax - xmin) * (right - left) as f64;
            let py = bottom as f64 - (y - ymin) / (ymax - ymin) * (bottom - top) as f64;
            (px.round() as i64, py.round() as i64)
        };
        // frame, a light grid at quarters, and the axes' ranges
        for k in 0..=4 {
            let y = top + (bottom - top) * k / 4;
            canvas.line((left, y), (right, y), grey);
            let value = ymax - (ymax - ymin) * k as f64 / 4.0;
            canvas.text(x0 + 8, y - 4, &label(value), black);
        }
        canvas.line((left, top), (left, bottom), black);
        canvas.line((left, bottom), (right, bottom), black);
        canvas.text(left, bottom + 10, &label(xmin), black);
        let xmax_label = label(xmax);
        canvas.text(
            right - 8 * xmax_label.len() as i64,
            bottom + 10,
            &xmax_label,
            black,
        );
        for (color, pts) in &panel.lines {
            for pair in pts.windows(2) {
                canvas.line(to_px(pair[0]), to_px(pair[1]), *color);
            }
            if let [single] = pts {
                let (x, y) = to_px(*single);
                canvas.line((x - 3, y), (x + 3, y), *color);
            }
        }
    }
    std::fs::write(path, canvas.png())
}
