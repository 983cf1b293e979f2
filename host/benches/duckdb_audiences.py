# requires: duckdb==1.5.6
"""The audiences of one daily run of each strategy, computed with DuckDB SQL
over the CSV files of a data set: what an analyst would reach for, to
benchmark against the canvas host.

    python duckdb_audiences.py --data DIR --run-at 2026-10-31T10:00:00+08:00 \\
        [--timezone Asia/Shanghai] --out result.json

Loads members.csv, orders.csv, events.csv and products.csv (the CSV contract
of README.md, "canvas import") into in-memory tables, timed as `load_ms`,
then runs one query per strategy, each timed on its own, and writes

    {"load_ms": float, "strategies": {"<id>": {"ms": float, "count": int, "members": [sorted ids]}}}

The semantics are the host's (host/src/audience.rs: `select`, `holds`,
`RunClock`) applied to each plugin's `audience()` with its default config, on
a *fresh store*: no decision exists yet, so a clause that needs an earlier
decision selects nobody and a "none of: decided ..." condition excludes
nobody. In short:

- a member exists if joined at or before the run instant; an order or event
  exists if placed or stamped at or before it;
- days are local dates in the brand's time zone: "exactly N days ago" is the
  run date minus N, "the last N days" are the run date and the N - 1 days
  before it; event look-backs are hours before the run instant, both ends
  included.

Checked against `canvas simulate --from D --to D` (a one-day simulation
starts from an empty decision history): the counts equal runs.jsonl's
`audience` for every strategy's 10:00 run. The triggered strategies
(coupon-reminder, browse-abandon, out-of-stock-recovery) have no daily
audience: they answer events, one member at a time.
"""

import argparse
import json
import os
import time

import duckdb

# One query per strategy. Each reads the one-row table `run(at TIMESTAMPTZ,
# today DATE)` — the run instant and its local date — and returns the
# member_ids of the audience, sorted. `today - N` is the date N days before.
STRATEGIES = {
    # Birthday in the run date's month (29 February is February). Once a
    # year is the plugin's check, not the audience's.
    "birthday-tiered": """
        SELECT m.member_id
        FROM members m, run
        WHERE m.joined_at <= run.at
          AND month(m.birthday) = month(run.today)
        ORDER BY 1""",
    # WeCom friend added exactly 30 days ago (and already added at the run),
    # no order ever as of the run. The two `followup` clauses (a `first`
    # decided, dispatched or deferred, exactly 7 days ago) select nobody on a
    # fresh store, so they are left out.
    "first-purchase-nudge": """
        SELECT m.member_id
        FROM members m, run
        WHERE m.joined_at <= run.at
          AND m.wecom_added_at <= run.at
          AND m.wecom_day = run.today - 30
          AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.member_id = m.member_id AND o.placed_at <= run.at)
        ORDER BY 1""",
    # First order's day and last order's day both exactly 60 days ago: one
    # day of orders and nothing since. The `followup` clauses (a `first`
    # decided 7 days ago) select nobody on a fresh store.
    "second-purchase-nudge": """
        WITH seen AS (
            SELECT o.member_id, min(o.day) AS first_day, max(o.day) AS last_day
            FROM orders o, run
            WHERE o.placed_at <= run.at
            GROUP BY o.member_id
        )
        SELECT m.member_id
        FROM members m JOIN seen USING (member_id), run
        WHERE m.joined_at <= run.at
          AND seen.first_day = run.today - 60
          AND seen.last_day = run.today - 60
        ORDER BY 1""",
    # Last order's day exactly 90 days ago (a later order resets the clock).
    "dormant-recall": """
        WITH seen AS (
            SELECT o.member_id, max(o.day) AS last_day
            FROM orders o, run
            WHERE o.placed_at <= run.at
            GROUP BY o.member_id
        )
        SELECT m.member_id
        FROM members m JOIN seen USING (member_id), run
        WHERE m.joined_at <= run.at
          AND seen.last_day = run.today - 90
        ORDER BY 1""",
    # At least 2 orders in the last 180 days, and an order ever (as of the
    # run) in a category with a launch in the last 7 days: launched at or
    # before the run instant, on the run date - 6 or later. "A launch not yet
    # told" (an earlier `launch` decision naming its sku) is every launch on
    # a fresh store.
    "category-recommendation": """
        WITH launched AS (
            SELECT DISTINCT p.category
            FROM products p, run
            WHERE p.launched_at <= run.at
              AND p.launched_day >= run.today - 6
        ),
        seen AS (
            SELECT o.member_id,
                   count(*) FILTER (WHERE o.day >= run.today - 179) AS recent_orders,
                   bool_or(o.category IN (SELECT category FROM launched)) AS bought_launched_category
            FROM orders o, run
            WHERE o.placed_at <= run.at
            GROUP BY o.member_id
        )
        SELECT m.member_id
        FROM members m JOIN seen USING (member_id), run
        WHERE m.joined_at <= run.at
          AND seen.recent_orders >= 2
          AND seen.bought_launched_category
        ORDER BY 1""",
    # At least one order in the last 180 days. The `except` (an `invite`
    # dispatched, deferred or held out in the last 30 days) excludes nobody
    # on a fresh store.
    "group-buy-referral": """
        SELECT m.member_id
        FROM members m, run
        WHERE m.joined_at <= run.at
          AND EXISTS (SELECT 1 FROM orders o
                      WHERE o.member_id = m.member_id
                        AND o.placed_at <= run.at
                        AND o.day >= run.today - 179)
        ORDER BY 1""",
    # (The Python plugin.) Level 3 or 4, joined k years back for some k in
    # 1..50 as far as the leap days allow: the join day lies 365k +
    # max(k//4 - 1, 0) to 365k + (k+3)//4 days before the run date. The plugin
    # picks the exact anniversary itself.
    "vip-anniversary": """
        SELECT m.member_id
        FROM members m, run
        WHERE m.joined_at <= run.at
          AND m.level IN (3, 4)
          AND EXISTS (SELECT 1 FROM range(1, 51) AS years(k)
                      WHERE run.today - m.joined_day BETWEEN 365 * k + greatest(k // 4 - 1, 0)
                                                         AND 365 * k + (k + 3) // 4)
        ORDER BY 1""",
}

# The CSV contract's columns, per file.
COLUMNS = {
    "members": ["member_id", "name", "level", "birthday", "joined_at", "wecom_added_at", "store_id", "guide_id", "tz"],
    "orders": ["order_id", "member_id", "placed_at", "amount", "channel", "category", "sku"],
    "events": ["event_id", "member_id", "kind", "at", "attrs"],
    "products": ["sku", "name", "category", "price", "launched_at", "tags"],
}


def load(con, data, timezone):
    """Reads the CSVs into tables: each instant as a TIMESTAMPTZ, cut to the
    millisecond as the host keeps it, beside its local date in `timezone`."""
    # ICU (bundled in the wheel) does the time-zone arithmetic; the session
    # zone only affects how timestamps would print.
    con.execute(f"SET TimeZone = '{timezone}'")

    def source(table):
        path = os.path.join(data, f"{table}.csv")
        if not os.path.exists(path):  # a missing file means no rows of that kind
            return "(SELECT " + ", ".join(f'CAST(NULL AS VARCHAR) AS "{c}"' for c in COLUMNS[table]) + " LIMIT 0)"
        # All columns as text (empty → NULL), typed below; extra columns are simply not selected.
        path = path.replace("'", "''")
        return f"read_csv('{path}', header = true, all_varchar = true, quote = '\"', escape = '\"')"

    def instant(column):
        return f"""date_trunc('millisecond', CAST("{column}" AS TIMESTAMPTZ))"""

    def day(column):
        return f"CAST(timezone('{timezone}', {instant(column)}) AS DATE)"

    con.execute(f"""
        CREATE TABLE members AS
        SELECT member_id, name, CAST(level AS UTINYINT) AS level, CAST(birthday AS DATE) AS birthday,
               {instant('joined_at')} AS joined_at, {day('joined_at')} AS joined_day,
               {instant('wecom_added_at')} AS wecom_added_at, {day('wecom_added_at')} AS wecom_day,
               store_id, guide_id, tz
        FROM {source('members')}""")
    con.execute(f"""
        CREATE TABLE orders AS
        SELECT order_id, member_id, {instant('placed_at')} AS placed_at, {day('placed_at')} AS day,
               CAST(amount AS DECIMAL(18, 2)) AS amount, channel, category, sku
        FROM {source('orders')}""")
    # `at` is a keyword: quoted here, always qualified in the queries (e.at, run.at).
    con.execute(f"""
        CREATE TABLE events AS
        SELECT event_id, member_id, kind, {instant('at')} AS "at", {day('at')} AS day, attrs
        FROM {source('events')}""")
    con.execute(f"""
        CREATE TABLE products AS
        SELECT sku, name, category, CAST(price AS DECIMAL(18, 2)) AS price,
               {instant('launched_at')} AS launched_at, {day('launched_at')} AS launched_day,
               coalesce(string_split(tags, ';'), []) AS tags
        FROM {source('products')}""")


def main():
    parser = argparse.ArgumentParser(description="Strategy audiences with DuckDB SQL, timed.")
    parser.add_argument("--data", required=True, help="folder with members.csv, orders.csv, events.csv, products.csv")
    parser.add_argument("--run-at", required=True, help="the run instant, RFC 3339 with an offset")
    parser.add_argument("--timezone", default="Asia/Shanghai", help="the brand's calendar (IANA name)")
    parser.add_argument("--out", required=True, help="where to write the result JSON")
    args = parser.parse_args()

    con = duckdb.connect()  # in memory
    started = time.perf_counter()
    load(con, args.data, args.timezone)
    load_ms = (time.perf_counter() - started) * 1000

    # The run instant (to the millisecond, like the data) and its local date.
    con.execute(
        """CREATE TABLE run AS
           SELECT t AS "at", CAST(timezone($tz, t) AS DATE) AS today
           FROM (SELECT date_trunc('millisecond', CAST($at AS TIMESTAMPTZ)) AS t)""",
        {"at": args.run_at, "tz": args.timezone},
    )

    results = {}
    for id, sql in STRATEGIES.items():
        started = time.perf_counter()
        members = [row[0] for row in con.execute(sql).fetchall()]
        ms = (time.perf_counter() - started) * 1000
        results[id] = {"ms": ms, "count": len(members), "members": members}

    with open(args.out, "w") as f:
        json.dump({"load_ms": load_ms, "strategies": results}, f, indent=1)

    today = con.execute("SELECT today FROM run").fetchone()[0]
    print(f"duckdb {duckdb.__version__}: run at {args.run_at} ({today} in {args.timezone}); load {load_ms:.1f} ms")
    print(f"{'strategy':<25} {'audience':>8} {'ms':>8}")
    for id, r in results.items():
        print(f"{id:<25} {r['count']:>8} {r['ms']:>8.2f}")
    total = sum(r["ms"] for r in results.values())
    print(f"{'all queries':<25} {'':>8} {total:>8.2f}")


if __name__ == "__main__":
    main()
