//! Inline SVG charts: no script, no CDN, they render wherever the HTML opens.
//! Every chart is a `<figure class="chart-box">` whose visible
//! `<figcaption>` is its title, around an `<svg class="chart" data-chart="…">`
//! whose marks carry a class (`series`, `bar`) so tests can find them.

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

/// Opens a chart's figure, its visible title first (the SVG's own `<title>`
/// is only a tooltip), then its SVG; [`close`] ends both.
fn open(out: &mut String, kind: &str, height: f64, title: &str) {
    let _ = write!(
        out,
        r#"<figure class="chart-box"><figcaption>{t}</figcaption><svg class="chart" data-chart="{kind}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
}

/// Ends what [`open`] began, with the legend (if any) inside the figure.
fn close(out: &mut String, legend_names: Option<&[String]>) {
    out.push_str("</svg>");
    if let Some(names) = legend_names {
        legend(out, names);
    }
    out.push_str("</figure>");
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
    close(&mut out, Some(&series.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()));
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
    close(&mut out, Some(segments));
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
    close(&mut out, None);
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

    #[test]
    fn every_chart_has_a_visible_title() {
        let charts = [
            columns("Members by touches", &["1".into()], &[3.0]),
            line_chart("Audience per day", &["03-01".into(), "03-02".into()], &[("s".into(), vec![1.0, 2.0])]),
            stacked_bars("Decisions by status", &[("s".into(), vec![1.0])], &["sent".into()]),
        ];
        for (chart, title) in charts.iter().zip(["Members by touches", "Audience per day", "Decisions by status"]) {
            assert!(chart.starts_with(&format!(r#"<figure class="chart-box"><figcaption>{title}</figcaption>"#)));
            assert!(chart.ends_with("</figure>"), "{chart}");
        }
    }
}
