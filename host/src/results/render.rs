//! [`Results`] for a terminal (a table) and for a spreadsheet (CSV with a
//! header). Both are made from the one JSON shape, so what `canvas results`
//! prints is the same whether it read the store or asked the service.

use std::fmt::Write as _;
use std::io::Write;

use super::{Results, Row};
use crate::report::format::{count, percent, yuan};

/// The columns of the CSV after the group's dimensions, as its header names them.
const CSV_COLUMNS: [&str; 37] = [
    "selected",
    "touched",
    "held_out",
    "suppressed",
    "touched_converted",
    "touch_conversion",
    "holdout_converted",
    "holdout_conversion",
    "touched_orders",
    "touched_revenue_fen",
    "holdout_orders",
    "holdout_revenue_fen",
    "uplift_pp",
    "uplift_low_pp",
    "uplift_high_pp",
    "incremental_orders",
    "incremental_revenue_fen",
    "attributed_orders",
    "attributed_revenue_fen",
    "coupons_redeemed",
    "coupon_cost_fen",
    "group_buy_joins",
    "group_buy_cost_fen",
    "cost_fen",
    "roi",
    "touched_harmed",
    "touched_harm_rate",
    "holdout_harmed",
    "holdout_harm_rate",
    "harm_uplift_pp",
    "harm_uplift_low_pp",
    "harm_uplift_high_pp",
    "staff_tasks",
    "staff_tasks_done",
    "staff_task_done_share",
    "from",
    "to",
];

/// A row's label: its key's values in the grouping's order, or `total`.
pub fn label(results: &Results, row: &Row) -> String {
    if row.key.is_empty() {
        return "total".to_string();
    }
    results.by.iter().map(|d| row.key.get(d).map_or("", String::as_str)).collect::<Vec<_>>().join(" · ")
}

fn opt_pct(v: Option<f64>) -> String {
    v.map_or("–".into(), percent)
}

/// An uplift in pp with its interval: `+1.2 pp [-0.3, +2.8]`.
pub fn uplift_text(pp: Option<f64>, low: Option<f64>, high: Option<f64>) -> String {
    match (pp, low, high) {
        (Some(pp), Some(low), Some(high)) => format!("{pp:+.1} pp [{low:+.1}, {high:+.1}]"),
        _ => "–".into(),
    }
}

/// The table `canvas results` prints.
pub fn table(results: &Results) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "results {} to {}{}: orders within {} days of a touch, harm within {} days",
        results.from,
        results.to,
        if results.by.is_empty() { String::new() } else { format!(" by {}", results.by.join(",")) },
        results.attribution_days,
        results.harm_days
    );
    let rows: Vec<&Row> = results.groups.iter().chain(std::iter::once(&results.total)).collect();
    let width = rows.iter().map(|r| label(results, r).chars().count()).max().unwrap_or(5).max(5);
    let header = std::iter::once("group").chain(COLUMNS.iter().map(|(name, ..)| *name));
    line(&mut out, width, header);
    for row in rows {
        let cells = cells(row);
        line(&mut out, width, std::iter::once(label(results, row).as_str()).chain(cells.iter().map(String::as_str)));
    }
    let split = sales_split(results).map(|(kind, members, revenue)| format!("{kind} {members} members {revenue}"));
    let _ = writeln!(out, "sales in the period: {}", split.join(" · "));
    if !results.recovered_by_guides.is_empty() {
        let _ = writeln!(
            out,
            "recovered by guides (orders within {} days of an out-of-stock-recovery task):",
            results.attribution_days
        );
        let _ =
            writeln!(out, "  {:<12}  {:>6}  {:>7}  {:>6}  {:>12}", "guide", "tasks", "members", "orders", "revenue");
        for g in &results.recovered_by_guides {
            let (tasks, members, orders) = (count(g.tasks), count(g.members_ordered), count(g.orders));
            let _ = writeln!(
                out,
                "  {:<12}  {tasks:>6}  {members:>7}  {orders:>6}  {:>12}",
                g.guide_id,
                yuan(g.revenue_fen)
            );
        }
    }
    out
}

/// The table's columns after the group: (header in a terminal, its width
/// there, header on the page).
pub(super) const COLUMNS: [(&str, usize, &str); 13] = [
    ("selected", 8, "selected"),
    ("touched", 8, "touched"),
    ("holdout", 7, "held out"),
    ("conv", 6, "conversion"),
    ("h.conv", 6, "holdout conv."),
    ("uplift [95%]", 28, "uplift [95%]"),
    ("incr. rev", 12, "incremental revenue"),
    ("attributed", 12, "attributed revenue"),
    ("cost", 10, "cost"),
    ("roi", 7, "ROI"),
    ("harm", 6, "harm"),
    ("h.harm", 6, "holdout harm"),
    ("tasks done", 9, "staff tasks done"),
];

/// A row's cells under [`COLUMNS`], as the terminal table and report.html show them.
pub(super) fn cells(row: &Row) -> [String; 13] {
    [
        count(row.selected),
        count(row.touched),
        count(row.held_out),
        opt_pct(row.touch_conversion),
        opt_pct(row.holdout_conversion),
        uplift_text(row.uplift_pp, row.uplift_low_pp, row.uplift_high_pp),
        row.incremental_revenue_fen.map_or("–".into(), yuan),
        yuan(row.attributed_revenue_fen),
        yuan(row.cost_fen),
        row.roi.map_or("–".into(), |r| format!("{r:.2}")),
        opt_pct(row.touched_harm_rate),
        opt_pct(row.holdout_harm_rate),
        if row.staff_tasks == 0 { "–".to_string() } else { format!("{}/{}", row.staff_tasks_done, row.staff_tasks) },
    ]
}

/// The period's sales split as (kind, members, revenue), shown.
pub(super) fn sales_split(results: &Results) -> [(&'static str, String, String); 3] {
    let s = &results.sales_split;
    [
        ("new", count(s.new_members), yuan(s.new_revenue_fen)),
        ("existing", count(s.existing_members), yuan(s.existing_revenue_fen)),
        ("re-activated", count(s.reactivated_members), yuan(s.reactivated_revenue_fen)),
    ]
}

/// One line of the terminal table: the group left-aligned in `width`, each
/// column right-aligned in its own.
fn line<'a>(out: &mut String, width: usize, cells: impl Iterator<Item = &'a str>) {
    for (i, cell) in cells.enumerate() {
        match i {
            0 => {
                let _ = write!(out, "{cell:<width$}");
            }
            _ => {
                let w = COLUMNS[i - 1].1;
                let _ = write!(out, "  {cell:>w$}");
            }
        }
    }
    out.push('\n');
}

/// CSV: a header (the grouping's dimensions, then [`CSV_COLUMNS`]), a row
/// per group and one for the total (its dimensions empty, `group` = total).
pub fn csv(results: &Results, out: impl Write) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    let mut header: Vec<&str> = vec!["group"];
    header.extend(results.by.iter().map(String::as_str));
    header.extend(CSV_COLUMNS);
    writer.write_record(&header)?;
    for row in results.groups.iter().chain(std::iter::once(&results.total)) {
        let value = serde_json::to_value(row)?;
        let mut record = vec![if row.key.is_empty() { "total".to_string() } else { "group".to_string() }];
        record.extend(results.by.iter().map(|d| row.key.get(d).cloned().unwrap_or_default()));
        for column in CSV_COLUMNS {
            record.push(match column {
                "from" => results.from.clone(),
                "to" => results.to.clone(),
                _ => match &value[column] {
                    serde_json::Value::Null => String::new(),
                    v => v.to_string(),
                },
            });
        }
        writer.write_record(&record)?;
    }
    writer.flush()?;
    Ok(())
}
