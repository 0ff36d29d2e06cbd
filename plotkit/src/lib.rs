//! The plotting helpers `ct-read plot` (`ct_host::plot`) and spicegen's figures share: the
//! embedded font and compact PNG output.
//!
//! # Why a crate of its own
//!
//! The two users have no other crate in common that may carry plotters: `ct-core` is the pure
//! computation crate (no I/O, no drawing), and `ct-host` brings SQLite's C code, the serial
//! port and the CLI, which spicegen must build without. So these few functions, once copied
//! into both with two different font subsets, are a crate of their own that depends on
//! plotters (font registration only) and png, nothing else.

use std::path::Path;
use std::sync::Once;

use plotters::style::FontStyle;

/// The font family to name in text styles: the embedded DejaVu Sans subset once
/// [`register_font`] has run.
pub const FAMILY: &str = "sans-serif";

/// DejaVu Sans cut down to what the labels use (`plotkit/assets/README.md`): no system font
/// library is needed (headless machines and CI have none).
pub static FONT: &[u8] = include_bytes!("../assets/DejaVuSans-subset.ttf");

static REGISTER: Once = Once::new();

/// Registers [`FONT`] as [`FAMILY`] with plotters; call before drawing text. Only the first
/// call registers (and can fail); later calls return `Ok`.
pub fn register_font() -> Result<(), String> {
    let mut result = Ok(());
    REGISTER.call_once(|| {
        result = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
            .map_err(|_| "the embedded DejaVu Sans subset is not a valid font".to_string());
    });
    result
}

/// Writes `rgb` (8-bit RGB, `w` x `h`) as a PNG with the strongest compression: plotters' own
/// PNG output is several times larger, and the plots and figures are committed. An encoder
/// error is returned as an `io::Error` carrying its message.
pub fn write_png(path: &Path, rgb: &[u8], w: u32, h: u32) -> std::io::Result<()> {
    let file = std::fs::File::create(path)?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Best);
    enc.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    let mut writer = enc.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    #[test]
    fn text_renders_with_the_embedded_font_into_a_png() {
        register_font().expect("valid font");
        register_font().expect("a second call is harmless");
        let (w, h) = (120u32, 40u32);
        let mut rgb = vec![0u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            root.fill(&WHITE).unwrap();
            root.draw(&Text::new("±5 µA Ω…", (5, 10), (FAMILY, 16))).unwrap();
            root.present().unwrap();
        }
        assert!(rgb.iter().any(|&b| b < 128), "the text left dark pixels");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.png");
        write_png(&path, &rgb, w, h).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        let err = write_png(&dir.path().join("no/such/dir.png"), &rgb, w, h).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
