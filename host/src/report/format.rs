//! Numbers formatted for people: 12,345 · 12.3% · ¥12,345 · +1.2 pp.

use crate::model::Fen;

/// 1234567 → "1,234,567".
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Fen → "¥1,234" (whole yuan; amounts under 100 yuan keep their fen).
pub fn yuan(fen: Fen) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    if fen < 10_000 && !fen.is_multiple_of(100) {
        format!("{sign}¥{}.{:02}", fen / 100, fen % 100)
    } else {
        format!("{sign}¥{}", count((fen + 50) / 100))
    }
}

/// 0.1234 → "12.3%".
pub fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// A difference of rates, 0.012 → "+1.2 pp".
pub fn points(fraction: f64) -> String {
    format!("{:+.1} pp", fraction * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_people_write_them() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(100), "100");
        assert_eq!(yuan(123_456_700), "¥1,234,567");
        assert_eq!(yuan(1_250), "¥12.50");
        assert_eq!(yuan(2_000), "¥20");
        assert_eq!(percent(0.1234), "12.3%");
        assert_eq!(points(-0.0051), "-0.5 pp");
    }
}
