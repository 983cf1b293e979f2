//! report.html: one self-contained page (inline CSS and SVG, no script, no
//! network) that an operator can open offline or mail around. It shows what
//! the strategies would have done and what that would cost — never an
//! uplift, which history cannot show — and what made it (config, plugin
//! builds, data). Laid out for a 1,280 px window: tables scroll inside their
//! own box, long text wraps, and the Chinese labels name CJK fonts.

use std::fmt::Write as _;

use super::charts::{self, escape};
use super::format;
use super::{Section, SimulationReport};
use crate::model::DecisionStatus;

const STYLE: &str = r#"
body { font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: #1d2733; margin: 0; background: #f5f7fa; }
main { max-width: 1180px; margin: 0 auto; padding: 24px; box-sizing: border-box; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 32px 0 8px; } h3 { font-size: 15px; margin: 20px 0 6px; }
.meta { color: #5b6775; margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; }
.card { background: #fff; border: 1px solid #e3e6ea; border-radius: 6px; padding: 10px 12px; }
.card b { display: block; font-size: 20px; } .card span { color: #5b6775; font-size: 12px; }
section.panel { background: #fff; border: 1px solid #e3e6ea; border-radius: 6px; padding: 12px 16px; margin: 12px 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: right; padding: 4px 8px; border-bottom: 1px solid #eef0f3; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { color: #5b6775; font-weight: 600; white-space: normal; vertical-align: bottom; }
td.wrap { white-space: normal; text-align: left; overflow-wrap: anywhere; }
figure.chart-box { margin: 12px 0; } figure.chart-box figcaption { font-weight: 600; font-size: 13px; }
dl.provenance { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; font-size: 12px; margin: 0; }
dl.provenance dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 6px 0; font-size: 11px; }
svg .tick, svg .legend { fill: #5b6775; } svg .label { fill: #1d2733; font-size: 12px; }
.note { color: #5b6775; font-size: 12px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; color: #5b6775; font-size: 12px; margin: 0 0 8px 60px; }
.legend i { display: inline-block; width: 11px; height: 11px; margin-right: 5px; vertical-align: -1px; }
.scroll { overflow-x: auto; max-width: 100%; }
.good { color: #2e9e5b; } .bad { color: #c83e4d; }
"#;

const STATUSES: [(DecisionStatus, &str); 4] = [
    (DecisionStatus::Dispatched, "已触达 dispatched"),
    (DecisionStatus::Deferred, "延后 deferred"),
    (DecisionStatus::Holdout, "对照组 holdout"),
    (DecisionStatus::Suppressed, "已拦截 suppressed"),
];

/// report.html: one self-contained page (inline CSS and SVG charts, no
/// scripts), in Chinese with English alongside.
pub fn render_html(report: &SimulationReport) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>营销画布模拟报告 · Canvas simulation {} – {}</title><style>{STYLE}</style></head><body><main>"#,
        report.from, report.to
    );
    let _ = write!(
        out,
        r#"<h1>营销画布模拟报告 · Canvas simulation report</h1><p class="meta">{} – {} ({}) · {} runs · a dry run over history: what the strategies would have done, not what they caused</p>"#,
        report.from,
        report.to,
        escape(&report.timezone),
        format::count(report.runs),
    );
    overview(&mut out, &report.overall);
    outlook_section(&mut out, report);
    charts_section(&mut out, report);
    guide_tasks_section(&mut out, report);
    reasons_section(&mut out, report);
    let r = &report.referrals;
    let _ = write!(
        out,
        r#"<h2>拼团裂变 · Group-buy referrals</h2><section class="panel"><p>{} joins brought by {} referrers; {} of them new customers; {} after a strategy's invite.</p></section>"#,
        format::count(r.joins),
        format::count(r.referrers),
        format::count(r.new_customers),
        format::count(r.joins_after_invites)
    );
    if !report.refused.is_empty() {
        out.push_str(r#"<h2>未加载 · Refused</h2><section class="panel"><ul>"#);
        for refusal in &report.refused {
            let _ = write!(out, "<li>{}</li>", escape(refusal));
        }
        out.push_str("</ul></section>");
    }
    provenance_section(&mut out, report);
    out.push_str("</main></body></html>");
    out
}

/// What made the report: the config's hash, each plugin build, the data's
/// range, and when — so two reports can be told apart, or shown alike.
fn provenance_section(out: &mut String, report: &SimulationReport) {
    let p = &report.provenance;
    let _ = write!(
        out,
        r#"<h2>报告来源 · What made this report</h2><section class="panel"><dl class="provenance"><dt>config SHA-256 配置</dt><dd data-config-sha256>{}</dd><dt>data 数据</dt><dd>{} – {}</dd><dt>made 生成于</dt><dd>{}</dd>"#,
        escape(&p.config_sha256),
        escape(p.data_first.as_deref().unwrap_or("–")),
        escape(p.data_last.as_deref().unwrap_or("–")),
        escape(&p.generated_at)
    );
    for plugin in &p.plugins {
        let _ = write!(
            out,
            "<dt>plugin 插件 {} {}</dt><dd>{}</dd>",
            escape(&plugin.id),
            escape(&plugin.version),
            escape(&plugin.sha256)
        );
    }
    out.push_str("</dl></section>");
}

fn card(out: &mut String, value: &str, label: &str) {
    let _ = write!(out, r#"<div class="card"><b>{value}</b><span>{label}</span></div>"#);
}

fn overview(out: &mut String, overall: &Section) {
    let t = &overall.totals;
    let (b, c) = (&overall.baseline, &overall.cost);
    out.push_str(r#"<h2>概览 · Overview</h2><div class="cards">"#);
    card(out, &format::count(t.decisions), "决策 decisions");
    card(
        out,
        &format::count(t.count(DecisionStatus::Dispatched) + t.count(DecisionStatus::Deferred)),
        "触达 touches it would send",
    );
    card(out, &format::count(t.members_touched), "触达会员 members it would touch");
    card(out, &format::yuan(c.total_fen), "权益成本 benefit cost");
    card(out, &format::count(t.count(DecisionStatus::Holdout)), "对照组 held out");
    card(out, &format::count(t.count(DecisionStatus::Suppressed)), "拦截 suppressed");
    card(out, &format::count(t.unreachable), "无法触达 unreachable");
    card(out, &b.conversion.map(format::percent).unwrap_or("–".into()), "基线转化 baseline conversion, untouched");
    out.push_str("</div>");
}

fn charts_section(out: &mut String, report: &SimulationReport) {
    let days: Vec<String> = report.overall.audience_by_day.keys().map(|d| d.format("%m-%d").to_string()).collect();
    let series =
        |pick: fn(&Section) -> &std::collections::BTreeMap<chrono::NaiveDate, u64>| -> Vec<(String, Vec<f64>)> {
            report
                .strategies
                .iter()
                .map(|(id, s)| (id.clone(), pick(s).values().map(|&v| v as f64).collect()))
                .collect()
        };
    out.push_str(r#"<h2>每日人群与触达 · Audience and touches per day</h2><section class="panel">"#);
    out.push_str(&charts::line_chart("Audience per day", &days, &series(|s| &s.audience_by_day)));
    out.push_str(&charts::line_chart("Touches sent per day", &days, &series(|s| &s.sent_by_day)));
    out.push_str("</section>");

    out.push_str(r#"<h2>决策结果 · What became of each proposal</h2><section class="panel">"#);
    let rows: Vec<(String, Vec<f64>)> = report
        .strategies
        .iter()
        .map(|(id, s)| (id.clone(), STATUSES.iter().map(|(status, _)| s.totals.count(*status) as f64).collect()))
        .collect();
    let names: Vec<String> = STATUSES.iter().map(|(_, name)| name.to_string()).collect();
    out.push_str(&charts::stacked_bars("Decisions by status", &rows, &names));
    out.push_str(r#"<div class="scroll"><table><tr><th>strategy 策略</th><th>runs</th><th>failed</th><th>audience</th><th>decisions</th>"#);
    for (_, name) in STATUSES {
        let _ = write!(out, "<th>{name}</th>");
    }
    out.push_str("<th>无法触达 unreachable</th><th>members</th><th>benefits</th></tr>");
    let mut row = |name: &str, s: &Section| {
        let t = &s.totals;
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            escape(name),
            format::count(t.runs),
            format::count(t.failed_runs),
            format::count(t.audience),
            format::count(t.decisions)
        );
        for (status, _) in STATUSES {
            let _ = write!(out, "<td>{}</td>", format::count(t.count(status)));
        }
        let by_channel: Vec<String> =
            t.unreachable_by_channel.iter().map(|(c, n)| format!("{} {}", escape(c), format::count(*n))).collect();
        let _ = write!(
            out,
            r#"<td title="{}">{}</td><td>{}</td><td>{}</td></tr>"#,
            by_channel.join(", "),
            format::count(t.unreachable),
            format::count(t.members_touched),
            format::yuan(t.benefit_fen)
        );
    };
    for (id, s) in &report.strategies {
        row(id, s);
    }
    row("total 合计", &report.overall);
    out.push_str("</table></div>");
    let labels: Vec<String> = report.touches_per_member.iter().map(|b| b.touches.clone()).collect();
    let values: Vec<f64> = report.touches_per_member.iter().map(|b| b.members as f64).collect();
    out.push_str(r#"<h3>每位会员的触达次数 · Touches per member (members touched at least once)</h3>"#);
    out.push_str(&charts::columns("Members by number of touches", &labels, &values));
    out.push_str("</section>");
}

/// Staff tasks per guide per day: a histogram of guide-days and the
/// busiest ones, which read the same at 10 guides and at 12,000.
fn guide_tasks_section(out: &mut String, report: &SimulationReport) {
    let g = &report.guide_tasks;
    if g.tasks == 0 {
        return;
    }
    let _ = write!(
        out,
        r#"<h2>导购任务 · Staff tasks per guide per day</h2><section class="panel"><p>{} tasks to {} guides on {} guide-days (a guide-day: one guide's tasks sent on one day).</p>"#,
        format::count(g.tasks),
        format::count(g.guides),
        format::count(g.guide_days)
    );
    let labels: Vec<String> = g.histogram.iter().map(|b| b.tasks_a_day.clone()).collect();
    let values: Vec<f64> = g.histogram.iter().map(|b| b.guide_days as f64).collect();
    out.push_str(&charts::columns("Guide-days by the tasks sent that day", &labels, &values));
    out.push_str(
        r#"<h3>最忙的导购日 · Busiest guide-days</h3><div class="scroll"><table><tr><th>guide 导购</th><th>date</th><th>tasks</th></tr>"#,
    );
    for b in &g.busiest {
        let _ = write!(out, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", escape(&b.guide), b.date, b.tasks);
    }
    out.push_str("</table></div></section>");
}

/// What the strategies would have done: the baseline of the members each
/// selected, the cost of its touches, and the lift that would pay for it.
fn outlook_section(out: &mut String, report: &SimulationReport) {
    let _ = write!(
        out,
        r#"<h2>模拟结果 · What the strategies would have done</h2><section class="panel"><p class="note">Over history these touches were never sent, so what followed them is what members did untouched: uplift is measured only live, against the holdout (<code>canvas results</code>). Baseline: of the members a strategy selected (touched or not), the share who ordered within {} days after its decision, and that revenue; each order counts once, overall too. Benefit cost: coupons and gifts in the touches it would send, plus (list price − group price) per group-buy invite it would send (joins in history were of group buys members opened themselves, so none can be attributed to an invite that never went out; like a coupon at face value, each invite counts its discount once). Break-even lift: the extra conversion it would need for the margin ({}% of an order's value) to pay for the benefits — cost per touched member ÷ (average order value × margin).</p>"#,
        report.attribution_days,
        (report.margin * 100.0).round()
    );
    let labels: Vec<String> = report.strategies.keys().cloned().collect();
    let values: Vec<f64> = report.strategies.values().map(|s| s.cost.break_even_pp.unwrap_or(0.0).max(0.0)).collect();
    out.push_str(&charts::columns(
        "Break-even lift in percentage points: the lift each strategy would need to pay for itself",
        &labels,
        &values,
    ));
    out.push_str(r#"<div class="scroll"><table><tr><th>strategy 策略</th><th>selected 入选会员</th><th>ordered 下单</th><th>baseline conversion 基线转化</th><th>baseline revenue 基线收入</th><th>average order 客单价</th><th>touched 触达会员</th><th>benefits 权益</th><th>group-buy discounts 拼团让利</th><th>cost per touched member 人均成本</th><th>break-even lift 盈亏平衡提升</th></tr>"#);
    let mut row = |name: &str, s: &Section| {
        let (b, c) = (&s.baseline, &s.cost);
        let none = || "–".to_string();
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            format::count(b.members),
            format::count(b.converted),
            b.conversion.map_or_else(none, format::percent),
            format::yuan(b.revenue_fen),
            b.average_order_value_fen.map_or_else(none, format::yuan),
            format::count(c.touched_members),
            format::yuan(c.benefits_fen),
            format::yuan(c.group_buy_discounts_fen),
            c.per_touched_member_fen.map_or_else(none, format::yuan),
            c.break_even_pp.map_or_else(none, |pp| format!("{pp:.1} pp")),
        );
    };
    for (id, s) in &report.strategies {
        row(id, s);
    }
    row("overall 整体", &report.overall);
    out.push_str("</table></div>");
    let incomplete = report.overall.baseline.incomplete;
    if incomplete > 0 {
        let _ = write!(
            out,
            r#"<p class="note">{} decisions are left out of the baseline: their window runs past the last order in the data ({}).</p>"#,
            format::count(incomplete),
            escape(report.data_end.as_deref().unwrap_or("–"))
        );
    }
    out.push_str("</section>");
}

fn reasons_section(out: &mut String, report: &SimulationReport) {
    out.push_str(r#"<h2>未即时触达的原因 · Why touches were not sent now</h2><section class="panel"><div class="scroll"><table><tr><th>status: reason</th><th>count</th><th>by strategy</th></tr>"#);
    for (reason, count) in &report.overall.totals.reasons {
        let by: Vec<String> = report
            .strategies
            .iter()
            .filter_map(|(id, s)| s.totals.reasons.get(reason).map(|n| format!("{id} {}", format::count(*n))))
            .collect();
        let _ = write!(
            out,
            r#"<tr><td class="wrap">{}</td><td>{}</td><td class="wrap">{}</td></tr>"#,
            escape(reason),
            format::count(*count),
            escape(&by.join(", "))
        );
    }
    out.push_str("</table></div></section>");
}
