//! `canvas report --out DIR`: the live results as one self-contained
//! report.html — the table of groups, horizontal bars of conversion (touched
//! vs holdout) and attributed revenue in inline SVG, and the sales split. No
//! script and nothing fetched: it opens anywhere, mailed or archived.

use std::fmt::Write as _;

use super::render::{cells, label, sales_split, COLUMNS};
use super::{Results, Row};
use crate::report::format::{count, percent, yuan};

/// Escapes text for HTML (group names are the operator's strategy ids, steps and stores).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Horizontal bars, one row per label, one bar per series in it.
fn bars(title: &str, rows: &[(String, Vec<f64>)], series: &[&str], show: impl Fn(f64) -> String) -> String {
    const COLOURS: [&str; 2] = ["#2f6db5", "#c7a03a"];
    let (left, bar_h, width) = (220.0, 14.0, 760.0);
    let row_h = bar_h * series.len() as f64 + 10.0;
    let height = 30.0 + rows.len() as f64 * row_h + 20.0;
    let max = rows.iter().flat_map(|(_, v)| v.iter().copied()).fold(0.0, f64::max).max(f64::MIN_POSITIVE);
    let mut out = format!(
        r#"<svg class="chart" data-chart="bars" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img"><title>{t}</title><text x="0" y="16" font-weight="bold">{t}</text>"#,
        t = escape(title)
    );
    for (s, name) in series.iter().enumerate() {
        let _ = write!(
            out,
            r#"<rect x="{x}" y="6" width="10" height="10" fill="{c}"/><text x="{tx}" y="15" font-size="12">{n}</text>"#,
            x = 420 + s * 140,
            c = COLOURS[s % 2],
            tx = 434 + s * 140,
            n = escape(name)
        );
    }
    for (i, (name, values)) in rows.iter().enumerate() {
        let y = 30.0 + i as f64 * row_h;
        let _ = write!(out, r#"<text x="0" y="{:.1}" font-size="12">{}</text>"#, y + bar_h, escape(name));
        for (s, v) in values.iter().enumerate() {
            let w = (width - left - 110.0) * v.max(0.0) / max;
            let by = y + s as f64 * bar_h;
            let _ = write!(
                out,
                r#"<rect class="bar" x="{left}" y="{by:.1}" width="{w:.1}" height="{:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
                bar_h - 2.0,
                COLOURS[s % 2],
                left + w + 4.0,
                by + bar_h - 3.0,
                escape(&show(*v))
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// The whole page.
pub fn report_html(results: &Results) -> String {
    let rows: Vec<&Row> = results.groups.iter().chain(std::iter::once(&results.total)).collect();
    let mut out = String::new();
    let by = if results.by.is_empty() { String::new() } else { format!(" by {}", results.by.join(", ")) };
    let _ = write!(
        out,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>canvas results {f} to {t}</title><style>body{{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em;color:#1d2733;max-width:1180px}}.scroll{{overflow-x:auto;max-width:100%}}svg.chart{{max-width:100%;height:auto}}table{{border-collapse:collapse;font-size:13px}}td,th{{padding:3px 8px;border-bottom:1px solid #dde2e8;text-align:right}}td:first-child,th:first-child{{text-align:left}}</style></head><body><h1>Results {f} to {t}{by}</h1><p>Orders within {a} days after a touch (or a withheld one, for the holdout); harm within {h} days. Attributed revenue counts every order once: it goes to the latest touch sent before it within the window, of any strategy. Money in yuan. Made {made}.</p>"#,
        made = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        f = escape(&results.from),
        t = escape(&results.to),
        by = escape(&by),
        a = results.attribution_days,
        h = results.harm_days
    );
    out.push_str("<div class=\"scroll\"><table><tr><th>group</th>");
    for (.., header) in COLUMNS {
        let _ = write!(out, "<th>{header}</th>");
    }
    out.push_str("</tr>");
    for row in &rows {
        let _ = write!(out, "<tr><td>{}</td>", escape(&label(results, row)));
        for cell in cells(row) {
            let _ = write!(out, "<td>{}</td>", escape(&cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table></div>");
    let conversion: Vec<(String, Vec<f64>)> = rows
        .iter()
        .map(|r| (label(results, r), vec![r.touch_conversion.unwrap_or(0.0), r.holdout_conversion.unwrap_or(0.0)]))
        .collect();
    out.push_str(&bars("Conversion, touched vs holdout", &conversion, &["touched", "holdout"], percent));
    let revenue: Vec<(String, Vec<f64>)> =
        results.groups.iter().map(|r| (label(results, r), vec![r.attributed_revenue_fen as f64])).collect();
    if !revenue.is_empty() {
        out.push_str(&bars("Attributed revenue (last touch)", &revenue, &["revenue"], |v| yuan(v as i64)));
    }
    out.push_str(
        "<h2>Sales in the period, all orders</h2><table><tr><th>customers</th><th>members</th><th>revenue</th></tr>",
    );
    for (kind, members, revenue) in sales_split(results) {
        let _ = write!(out, "<tr><td>{kind}</td><td>{members}</td><td>{revenue}</td></tr>");
    }
    out.push_str("</table>");
    if !results.recovered_by_guides.is_empty() {
        let _ = write!(
            out,
            "<h2>Recovered by guides</h2><p>Orders within {} days after an out-of-stock-recovery task, credited to the guide the task went to (each order once; the guide's credit, beside the attributed revenue above, not added to it).</p><table><tr><th>guide</th><th>tasks</th><th>members who ordered</th><th>orders</th><th>revenue</th></tr>",
            results.attribution_days
        );
        for g in &results.recovered_by_guides {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&g.guide_id),
                count(g.tasks),
                count(g.members_ordered),
                count(g.orders),
                yuan(g.revenue_fen)
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</body></html>\n");
    out
}
