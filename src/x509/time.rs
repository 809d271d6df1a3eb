//! Certificate times: UTCTime and GeneralizedTime <-> [`UnixTime`], and printing them.
//!
//! RFC 5280 4.1.2.5 pins both ASN.1 time types down to one form each, always in UTC (`Z`), with
//! seconds and without fractions:
//! - UTCTime `YYMMDDHHMMSSZ` for years 1950 to 2049 (`YY >= 50` means 19YY, else 20YY);
//! - GeneralizedTime `YYYYMMDDHHMMSSZ` for every other year.
//!
//! Dates are converted with the proleptic Gregorian calendar ("days from civil"), ignoring leap
//! seconds as X.509 and Unix time both do.

use super::der::{DerError, tag};
use crate::clock::UnixTime;
use std::fmt;

const SECONDS_PER_DAY: i64 = 86_400;

/// A calendar date and time of day in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a valid date (the "days from civil" algorithm: count in 400-year eras
/// that start on March 1st, so that the leap day falls at the end of each year).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // 0..=399
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1; // 0..=365
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // 0..=146096
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

impl DateTime {
    /// Builds a date-time, checking every field is in range (no 30th of February, no second 60).
    pub fn new(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
    ) -> Option<DateTime> {
        let ok = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60;
        ok.then_some(DateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    /// Seconds since the Unix epoch.
    pub fn to_unix(self) -> UnixTime {
        let days = days_from_civil(self.year, self.month, self.day);
        UnixTime(
            days * SECONDS_PER_DAY
                + self.hour as i64 * 3600
                + self.minute as i64 * 60
                + self.second as i64,
        )
    }

    /// The calendar date-time of a Unix time.
    pub fn from_unix(t: UnixTime) -> DateTime {
        let days = t.0.div_euclid(SECONDS_PER_DAY);
        let secs = t.0.rem_euclid(SECONDS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        DateTime {
            year,
            month,
            day,
            hour: (secs / 3600) as u32,
            minute: (secs / 60 % 60) as u32,
            second: (secs % 60) as u32,
        }
    }
}

/// Shows a time the way toytls' messages do: `2026-01-01 00:00:00 UTC`.
pub struct Display(pub UnixTime);

impl fmt::Display for Display {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = DateTime::from_unix(self.0);
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            d.year, d.month, d.day, d.hour, d.minute, d.second
        )
    }
}

/// Formats a Unix time as `2026-01-01 00:00:00 UTC`.
pub fn format(t: UnixTime) -> String {
    Display(t).to_string()
}

/// Parses `n` ASCII digits.
fn digits(s: &[u8]) -> Option<u32> {
    s.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32)
    })
}

/// Decodes the value of a UTCTime (`tag::UTC_TIME`) or GeneralizedTime (`tag::GENERALIZED_TIME`)
/// in the one form RFC 5280 4.1.2.5.1 / 4.1.2.5.2 allows.
pub fn parse_time(time_tag: u8, value: &[u8]) -> Result<UnixTime, DerError> {
    let (year, rest) = match (time_tag, value.len()) {
        (tag::UTC_TIME, 13) => {
            let yy = digits(&value[..2]).ok_or(DerError::BadTime)? as i64;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &value[2..])
        }
        (tag::GENERALIZED_TIME, 15) => {
            let yyyy = digits(&value[..4]).ok_or(DerError::BadTime)? as i64;
            (yyyy, &value[4..])
        }
        _ => return Err(DerError::BadTime),
    };
    // rest is MMDDHHMMSSZ
    if rest[10] != b'Z' {
        return Err(DerError::BadTime);
    }
    let field = |i: usize| digits(&rest[i..i + 2]).ok_or(DerError::BadTime);
    let dt = DateTime::new(year, field(0)?, field(2)?, field(4)?, field(6)?, field(8)?)
        .ok_or(DerError::BadTime)?;
    Ok(dt.to_unix())
}

/// Encodes a time as RFC 5280 requires: UTCTime for 1950..=2049, GeneralizedTime otherwise.
/// Returns `(tag, value)`, or `None` for years outside 0..=9999, which have no encoding.
pub fn encode_time(t: UnixTime) -> Option<(u8, String)> {
    let d = DateTime::from_unix(t);
    let rest = format!(
        "{:02}{:02}{:02}{:02}{:02}Z",
        d.month, d.day, d.hour, d.minute, d.second
    );
    match d.year {
        1950..=2049 => Some((tag::UTC_TIME, format!("{:02}{rest}", d.year % 100))),
        0..=9999 => Some((tag::GENERALIZED_TIME, format!("{:04}{rest}", d.year))),
        _ => None,
    }
}

/// Parses an RFC 3339 timestamp such as `2026-01-01T00:00:00Z` or `2026-01-01T02:00:00+02:00`
/// (fractional seconds are accepted and dropped). For the CLI's `--at`.
pub fn parse_rfc3339(s: &str) -> Option<UnixTime> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&b[0..4])? as i64;
    let dt = DateTime::new(
        year,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    )?;
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = &rest[1 + n..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = digits(&[*h1, *h2])? as i64;
            let m = digits(&[*m1, *m2])? as i64;
            if h > 23 || m > 59 {
                return None;
            }
            let off = h * 3600 + m * 60;
            if *sign == b'+' { off } else { -off }
        }
        _ => return None,
    };
    Some(UnixTime(dt.to_unix().0 - offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        // Checked with `date -u -d @SECONDS`.
        assert_eq!(
            parse_time(tag::UTC_TIME, b"700101000000Z").unwrap(),
            UnixTime(0)
        );
        assert_eq!(
            parse_time(tag::UTC_TIME, b"260101000000Z").unwrap(),
            UnixTime(1_767_225_600)
        );
        assert_eq!(
            parse_time(tag::GENERALIZED_TIME, b"20500101000000Z").unwrap(),
            UnixTime(2_524_608_000)
        );
        assert_eq!(
            parse_time(tag::UTC_TIME, b"500101000000Z").unwrap(),
            UnixTime(-631_152_000)
        );
        assert_eq!(
            parse_time(tag::GENERALIZED_TIME, b"20240229235959Z").unwrap(),
            UnixTime(1_709_251_199)
        );
        assert_eq!(format(UnixTime(1_767_225_600)), "2026-01-01 00:00:00 UTC");
        assert_eq!(format(UnixTime(1_709_251_199)), "2024-02-29 23:59:59 UTC");
        assert_eq!(format(UnixTime(-1)), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn rejects_other_forms() {
        for (t, v) in [
            (tag::UTC_TIME, &b"2601010000Z"[..]),          // no seconds
            (tag::UTC_TIME, b"260101000000+0100"),         // offset instead of Z
            (tag::UTC_TIME, b"260230000000Z"),             // 30 February
            (tag::UTC_TIME, b"250229000000Z"),             // 2025 is not a leap year
            (tag::UTC_TIME, b"260101240000Z"),             // hour 24
            (tag::UTC_TIME, b"260101000060Z"),             // second 60
            (tag::UTC_TIME, b"2601010000 0Z"),             // not a digit
            (tag::GENERALIZED_TIME, b"20260101000000.5Z"), // fractions
            (tag::GENERALIZED_TIME, b"260101000000Z"),     // short year in GeneralizedTime
            (tag::OCTET_STRING, b"260101000000Z"),         // not a time at all
        ] {
            assert_eq!(parse_time(t, v), Err(DerError::BadTime), "{v:?}");
        }
    }

    #[test]
    fn round_trip_and_type_choice() {
        for t in [
            0i64,
            1_767_225_600,
            2_524_607_999,
            2_524_608_000,
            -631_152_000,
            -631_152_001,
        ] {
            let (tg, s) = encode_time(UnixTime(t)).unwrap();
            let expect_utc = (-631_152_000..2_524_608_000).contains(&t);
            assert_eq!(tg == tag::UTC_TIME, expect_utc, "{t}");
            assert_eq!(parse_time(tg, s.as_bytes()).unwrap(), UnixTime(t));
        }
        // 9999-12-31T23:59:59Z is the last encodable instant.
        assert!(encode_time(UnixTime(253_402_300_799)).is_some());
        assert!(encode_time(UnixTime(253_402_300_800)).is_none());
    }

    #[test]
    fn civil_conversion_agrees_day_by_day() {
        // Walk 1600..2500 one day at a time: each day's number is one more than the last.
        let mut expected = days_from_civil(1600, 1, 1);
        for year in 1600..2500 {
            for month in 1..=12 {
                for day in 1..=days_in_month(year, month) {
                    assert_eq!(days_from_civil(year, month, day), expected);
                    assert_eq!(civil_from_days(expected), (year, month, day));
                    expected += 1;
                }
            }
        }
    }

    #[test]
    fn rfc3339() {
        assert_eq!(
            parse_rfc3339("2026-01-01T00:00:00Z"),
            Some(UnixTime(1_767_225_600))
        );
        assert_eq!(
            parse_rfc3339("2026-01-01T02:00:00+02:00"),
            Some(UnixTime(1_767_225_600))
        );
        assert_eq!(
            parse_rfc3339("2025-12-31T23:00:00.123-01:00"),
            Some(UnixTime(1_767_225_600))
        );
        assert_eq!(parse_rfc3339("2026-01-01"), None);
        assert_eq!(parse_rfc3339("2026-01-01T00:00:00"), None);
        assert_eq!(parse_rfc3339("2026-02-30T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2026-01-01T00:00:00+2:00"), None);
    }
}
