//! Inline SVG charts: no script, no CDN, they render wherever the HTML opens.
//! Every chart is an `<svg class="chart" data-chart="…">` whose marks carry a
//! class (`series`, `bar`, `interval`) so tests can find them.

use std::fmt::Write as _;

use super::format;

const WIDTH: f64 = 880.0;
pub const PALETTE: [&str; 10] =
    ["#2f6fdf", "#e8772e", "#2e9e5b", "#c83e4d", "#7b5cc4", "#a1785c", "#d65fa8", "#7f7f7f", "#b5b82e", "#1fb3c7"];

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The smallest 1, 2 or 5 × 10ⁿ at or above `v` (for axis tops).
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * magnitude).find(|&n| n >= v).unwrap_or(10.0 * magnitude)
}

fn open(out: &mut String, kind: &str, height: f64, title: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart" data-chart="{kind}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
}

/// A legend in HTML (it wraps with the page): a coloured swatch per name,
/// in the charts' palette order.
fn legend(out: &mut String, names: &[String]) {
    out.push_str(r#"<div class="legend">"#);
    for (i, name) in names.iter().enumerate() {
        let _ =
            write!(out, r#"<span><i style="background:{}"></i>{}</span>"#, PALETTE[i % PALETTE.len()], escape(name));
    }
    out.push_str("</div>");
}

/// One line per series over the same x labels (e.g. days).
pub fn line_chart(title: &str, x_labels: &[String], series: &[(String, Vec<f64>)]) -> String {
    let (height, left, top, plot_h) = (264.0, 60.0, 16.0, 220.0);
    let plot_w = WIDTH - left - 20.0;
    let max = nice_ceiling(series.iter().flat_map(|(_, v)| v.iter().copied()).fold(0.0, f64::max));
    let mut out = String::new();
    open(&mut out, "line", height, title);
    axes(&mut out, left, top, plot_w, plot_h, max);
    let n = x_labels.len().max(2) - 1;
    let x_of = |i: usize| left + plot_w * i as f64 / n as f64;
    let step = (x_labels.len() / 8).max(1);
    for (i, label) in x_labels.iter().enumerate().step_by(step) {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{}" class="tick" text-anchor="middle">{}</text>"#,
            x_of(i),
            top + plot_h + 16.0,
            escape(label)
        );
    }
    for (s, (_, values)) in series.iter().enumerate() {
        let points: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x_of(i), top + plot_h - plot_h * v / max))
            .collect();
        let _ = write!(
            out,
            r#"<polyline class="series" fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
            PALETTE[s % PALETTE.len()],
            points.join(" ")
        );
    }
    out.push_str("</svg>");
    legend(&mut out, &series.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>());
    out
}

fn axes(out: &mut String, left: f64, top: f64, width: f64, height: f64, max: f64) {
    for i in 0..=4 {
        let y = top + height - height * i as f64 / 4.0;
        let value = max * i as f64 / 4.0;
        let label = if max <= 1.0 { format::percent(value) } else { format::count(value.round() as u64) };
        let _ = write!(
            out,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e3e6ea"/><text x="{}" y="{:.1}" class="tick" text-anchor="end">{label}</text>"##,
            left + width,
            left - 6.0,
            y + 4.0
        );
    }
}

/// Horizontal bars, one per row, split into coloured segments.
pub fn stacked_bars(title: &str, rows: &[(String, Vec<f64>)], segments: &[String]) -> String {
    let (left, bar_h, gap, top) = (190.0, 20.0, 10.0, 10.0);
    let plot_w = WIDTH - left - 90.0;
    let height = top + rows.len() as f64 * (bar_h + gap) + 4.0;
    let max = rows.iter().map(|(_, v)| v.iter().sum::<f64>()).fold(0.0, f64::max).max(1.0);
    let mut out = String::new();
    open(&mut out, "stacked", height, title);
    for (r, (label, values)) in rows.iter().enumerate() {
        let y = top + r as f64 * (bar_h + gap);
        let _ = write!(
            out,
            r#"<text x="{}" y="{:.1}" class="label" text-anchor="end">{}</text>"#,
            left - 8.0,
            y + 15.0,
            escape(label)
        );
        let mut x = left;
        for (s, v) in values.iter().enumerate() {
            let w = plot_w * v / max;
            if w > 0.0 {
                let _ = write!(
                    out,
                    r#"<rect class="bar" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{bar_h}" fill="{}"><title>{}: {}</title></rect>"#,
                    PALETTE[s % PALETTE.len()],
                    escape(&segments[s]),
                    format::count(*v as u64)
                );
            }
            x += w;
        }
        let total: f64 = values.iter().sum();
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" class="tick">{}</text>"#,
            x + 6.0,
            y + 15.0,
            format::count(total as u64)
        );
    }
    out.push_str("</svg>");
    legend(&mut out, segments);
    out
}

/// Vertical bars with their values on top (a histogram).
pub fn columns(title: &str, labels: &[String], values: &[f64]) -> String {
    let (height, left, top, plot_h) = (240.0, 60.0, 20.0, 180.0);
    let plot_w = WIDTH - left - 20.0;
    let max = nice_ceiling(values.iter().copied().fold(0.0, f64::max));
    let slot = plot_w / values.len().max(1) as f64;
    let mut out = String::new();
    open(&mut out, "columns", height, title);
    axes(&mut out, left, top, plot_w, plot_h, max);
    for (i, (label, v)) in labels.iter().zip(values).enumerate() {
        let h = plot_h * v / max;
        let x = left + slot * i as f64 + slot * 0.15;
        let _ = write!(
            out,
            r#"<rect class="bar" x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" class="tick" text-anchor="middle">{}</text><text x="{:.1}" y="{}" class="tick" text-anchor="middle">{}</text>"#,
            top + plot_h - h,
            slot * 0.7,
            PALETTE[0],
            x + slot * 0.35,
            top + plot_h - h - 4.0,
            format::count(*v as u64),
            x + slot * 0.35,
            top + plot_h + 16.0,
            escape(label)
        );
    }
    out.push_str("</svg>");
    out
}

/// A labelled row of [`intervals`]: the uplift and its 95% interval's low and
/// high ends, or None while the touched or the holdout group is empty.
pub type IntervalRow = (String, Option<(f64, f64, f64)>);

/// One row per group: the uplift (touched minus holdout conversion) as a dot
/// with its 95% interval as a whisker, around a zero line.
pub fn intervals(title: &str, rows: &[IntervalRow]) -> String {
    let (left, row_h, top) = (190.0, 28.0, 24.0);
    let plot_w = WIDTH - left - 200.0;
    let height = top + rows.len() as f64 * row_h + 30.0;
    let extent =
        rows.iter().filter_map(|(_, r)| r.map(|(_, low, high)| low.abs().max(high.abs()))).fold(0.01, f64::max);
    let span = nice_ceiling(extent * 100.0) / 100.0;
    let x_of = |v: f64| left + plot_w * (v + span) / (2.0 * span);
    let mut out = String::new();
    open(&mut out, "intervals", height, title);
    let zero = x_of(0.0);
    let _ = write!(
        out,
        r##"<line x1="{zero:.1}" x2="{zero:.1}" y1="{}" y2="{:.1}" stroke="#9aa3ad" stroke-dasharray="4 3"/>"##,
        top - 14.0,
        height - 26.0
    );
    for v in [-span, span] {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{}" class="tick" text-anchor="middle">{}</text>"#,
            x_of(v),
            top - 10.0,
            format::points(v)
        );
    }
    for (r, (label, interval)) in rows.iter().enumerate() {
        let y = top + r as f64 * row_h + 10.0;
        let _ = write!(
            out,
            r#"<text x="{}" y="{:.1}" class="label" text-anchor="end">{}</text>"#,
            left - 8.0,
            y + 4.0,
            escape(label)
        );
        match interval {
            Some((mid, low, high)) => {
                let color = if *low > 0.0 {
                    "#2e9e5b"
                } else if *high < 0.0 {
                    "#c83e4d"
                } else {
                    "#2f6fdf"
                };
                let _ = write!(
                    out,
                    r#"<g class="interval"><line x1="{:.1}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{color}" stroke-width="3"/><circle cx="{:.1}" cy="{y:.1}" r="5" fill="{color}"/></g><text x="{:.1}" y="{:.1}" class="tick">{} [{}, {}]</text>"#,
                    x_of(*low),
                    x_of(*high),
                    x_of(*mid),
                    left + plot_w + 8.0,
                    y + 4.0,
                    format::points(*mid),
                    format::points(*low),
                    format::points(*high)
                );
            }
            None => {
                let _ = write!(
                    out,
                    r#"<text x="{:.1}" y="{:.1}" class="tick">no holdout to compare</text>"#,
                    zero + 8.0,
                    y + 4.0
                );
            }
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_tops_are_round_numbers() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(120.0), 200.0);
        assert_eq!(nice_ceiling(4_999.0), 5_000.0);
        assert_eq!(nice_ceiling(0.034), 0.05);
    }

    #[test]
    fn labels_are_escaped() {
        let svg = columns("a < b", &["x&y".into()], &[3.0]);
        assert!(svg.contains("a &lt; b") && svg.contains("x&amp;y"));
    }
}
