//! PNG figures for spice/README.md, drawn with plotters.
//!
//! Text is rendered with the embedded DejaVu Sans subset of `ct_plotkit` (shared with
//! `ct-read plot`) through plotters' `ab_glyph` feature, so no system font library is needed
//! at run time (CI machines and headless boxes have none).

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use ct_plotkit::FAMILY;
use plotters::prelude::*;

use crate::sim::Record;

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(127, 127, 127),
];

/// A named line to draw.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

fn bounds(series: &[Series]) -> (f64, f64, f64, f64) {
    let mut b = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for s in series {
        for &(x, y) in &s.points {
            b.0 = b.0.min(x);
            b.1 = b.1.max(x);
            b.2 = b.2.min(y);
            b.3 = b.3.max(y);
        }
    }
    let pad = (b.3 - b.2).abs().max(1e-9) * 0.05;
    (b.0, b.1, b.2 - pad, b.3 + pad)
}

/// One panel: lines with a legend.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let (x0, x1, y0, y1) = bounds(series);
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FAMILY, 17))
        .margin(8)
        .x_label_area_size(38)
        .y_label_area_size(58)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FAMILY, 13))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    for (k, s) in series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        chart
            .draw_series(LineSeries::new(s.points.iter().copied(), color.stroke_width(2)))
            .map_err(|e| anyhow!("{e}"))?
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FAMILY, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow!("{e}"))?;
    Ok(())
}

/// A figure of stacked panels, each `(title, x label, y label, series)`.
pub fn stacked(path: &Path, height_per_panel: u32, panels: &[(String, String, String, Vec<Series>)]) -> Result<()> {
    ct_plotkit::register_font().map_err(|e| anyhow!(e))?;
    let (w, h) = (900u32, height_per_panel * panels.len() as u32);
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
        let areas = root.split_evenly((panels.len(), 1));
        for (area, (title, xd, yd, series)) in areas.iter().zip(panels) {
            panel(area, title, xd, yd, series)?;
        }
        root.present().map_err(|e| anyhow!("{}: {e}", path.display()))?;
    }
    ct_plotkit::write_png(path, &rgb, w, h).with_context(|| path.display().to_string())
}

/// The waveform figure for one load: primary current, then the three node voltages, over the
/// first `cycles` recorded cycles (time in ms).
pub fn waveforms(path: &Path, title: &str, rec: &Record, cycles: usize) -> Result<()> {
    let n = rec.points_per_cycle * cycles.min(rec.cycles);
    let dt_ms = 1000.0 / rec.stimulus.hz() / rec.points_per_cycle as f64;
    let pts =
        |v: &[f64]| -> Vec<(f64, f64)> { v[..n].iter().enumerate().map(|(k, &y)| (k as f64 * dt_ms, y)).collect() };
    stacked(
        path,
        300,
        &[
            (
                format!("{title}: primary current"),
                "time (ms)".into(),
                "A".into(),
                vec![Series { label: "primary current".into(), points: pts(&rec.primary_a) }],
            ),
            (
                format!("{title}: voltages"),
                "time (ms)".into(),
                "V".into(),
                vec![
                    Series { label: "at the CT (hot - cold)".into(), points: pts(&rec.ct_v) },
                    Series { label: "after the in-line diode".into(), points: pts(&rec.diode_v) },
                    Series { label: "ADC input".into(), points: pts(&rec.adc_v) },
                ],
            ),
        ],
    )
}
