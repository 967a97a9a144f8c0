//! ISO 8601 times as unix microseconds, as trace filters and queries take them (with fractions and offsets).

/// An ISO 8601 time as unix microseconds: `2025-11-19T10:00:00Z`, with an
/// optional fraction, `Z`, a `±HH:MM` offset or none (UTC); a bare date is
/// its midnight (UTC).
pub fn parse_time_micros(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, time) = match text.split_once(['T', ' ']) {
        Some((date, time)) => (date, time),
        None => (text, "00:00:00"),
    };
    let (clock, offset_seconds) = split_offset(time)?;
    let (whole, fraction) = match clock.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (clock, ""),
    };
    let whole = if whole.len() == 5 { format!("{whole}:00") } else { whole.to_owned() };
    let base = format!("{date}T{whole}Z");
    let seconds = crate::rfc3339::parse(&base)?;
    // A real date and time formats back to itself (2025-02-30 does not).
    if crate::rfc3339::format(seconds) != base {
        return None;
    }
    if !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let digits: String = fraction.chars().chain(std::iter::repeat('0')).take(6).collect();
    let micros: i64 = digits.parse().ok()?;
    seconds.checked_sub(offset_seconds)?.checked_mul(1_000_000)?.checked_add(micros)
}

/// Splits `HH:MM:SS[.fff]` from its zone: `Z`, `±HH:MM`, `±HHMM` or none.
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        return Some((clock, 0));
    }
    let Some(at) = time.rfind(['+', '-']) else { return Some((time, 0)) };
    let (clock, zone) = time.split_at(at);
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let hours: i64 = digits[..2].parse().ok()?;
    let minutes: i64 = digits[2..].parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some((clock, sign * (hours * 3600 + minutes * 60)))
}

#[cfg(test)]
mod tests {
    use super::parse_time_micros;

    #[test]
    fn times_parse_with_fractions_offsets_or_as_dates() {
        assert_eq!(parse_time_micros("1970-01-01T00:00:01.5Z"), Some(1_500_000));
        assert_eq!(parse_time_micros("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_time_micros("1970-01-01T00:00:00-0030"), Some(1_800_000_000));
        assert_eq!(parse_time_micros("1970-01-02"), Some(86_400_000_000));
        assert_eq!(parse_time_micros("1970-01-01T00:00"), Some(0));
        assert_eq!(parse_time_micros("1970-01-01T00:00:00.1x"), None);
        assert_eq!(parse_time_micros("1970-13-01T00:00:00Z"), None);
    }
}
