//! Cron schedules of CronJobs: the standard 5-field syntax that upstream parses
//! with `robfig/cron/v3` `ParseStandard`, evaluated in virtual time.
//!
//! Virtual time 0 is [`EPOCH`] = 2026-01-01T00:00:00Z (a Thursday), in UTC. A
//! scheduled time is kept as whole minutes since the Unix epoch, which is what
//! upstream puts in Job names (`<cronjob>-<minutes>`).

use crate::sim::time::SimTime;

/// Virtual time 0 as minutes since 1970-01-01T00:00:00Z: 2026-01-01T00:00:00Z.
pub const EPOCH_MINUTES: i64 = 29_453_760;
/// The same instant, for documentation and messages.
pub const EPOCH: &str = "2026-01-01T00:00:00Z";

/// Minutes since the Unix epoch of virtual time `t` (rounded down).
pub fn minute_of(t: SimTime) -> i64 {
    EPOCH_MINUTES + (t.as_millis() / 60_000) as i64
}

/// The virtual time of Unix minute `m` (0 for minutes before the epoch).
pub fn time_of(m: i64) -> SimTime {
    SimTime::from_millis(((m - EPOCH_MINUTES).max(0) as u64) * 60_000)
}

/// `YYYY-MM-DDTHH:MM:00Z` of Unix minute `m`, for messages.
pub fn format_minute(m: i64) -> String {
    let (y, mo, d) = civil(m.div_euclid(1440));
    let r = m.rem_euclid(1440);
    format!("{y:04}-{mo:02}-{d:02}T{:02}:{:02}:00Z", r / 60, r % 60)
}

/// Unix minute `m` as Go's `time.RFC1123Z` prints it (`Thu, 01 Jan 2026 00:30:00 +0000`),
/// the form of upstream's `MissSchedule` message.
pub fn format_rfc1123z(m: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTH_NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = m.div_euclid(1440);
    let (y, mo, d) = civil(days);
    let r = m.rem_euclid(1440);
    format!(
        "{}, {d:02} {} {y:04} {:02}:{:02}:00 +0000",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTH_NAMES[(mo - 1) as usize],
        r / 60,
        r % 60
    )
}

/// (year, month 1-12, day 1-31) of a count of days since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A parsed schedule: one bit per allowed value of each field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    minute: u64,
    hour: u64,
    dom: u64,
    month: u64,
    dow: u64,
    /// The day-of-month or day-of-week field was `*` or `?`: then both must
    /// match; otherwise either may (robfig's `starBit`, as Vixie cron).
    day_star: bool,
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// One field: its bits, and whether it was a bare `*`/`?` (or `*/1`).
fn field(
    expr: &str,
    name: &str,
    min: u32,
    max: u32,
    names: &[&str],
) -> Result<(u64, bool), String> {
    let value = |s: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(min + i as u32);
        }
        s.parse::<u32>().map_err(|_| {
            format!(
                "{name} field: {s:?} is not a number{}",
                if names.is_empty() {
                    String::new()
                } else {
                    format!(" or a name ({})", names.join(", "))
                }
            )
        })
    };
    let mut bits = 0u64;
    let mut star = false;
    for part in expr.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => {
                let st = s
                    .parse::<u32>()
                    .map_err(|_| format!("{name} field: step {s:?} is not a number"))?;
                if st == 0 {
                    return Err(format!("{name} field: step must be at least 1 in {part:?}"));
                }
                (r, Some(st))
            }
            None => (part, None),
        };
        let (lo, hi, is_star) = if range == "*" || range == "?" {
            (min, max, true)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a)?, value(b)?, false)
        } else {
            let v = value(range)?;
            // "N/step" means N through the maximum
            (v, if step.is_some() { max } else { v }, false)
        };
        if lo < min || hi > max {
            return Err(format!(
                "{name} field: {part:?} is out of range {min}-{max}"
            ));
        }
        if lo > hi {
            return Err(format!(
                "{name} field: beginning of range ({lo}) beyond end of range ({hi}) in {part:?}"
            ));
        }
        let step = step.unwrap_or(1);
        star |= is_star && step == 1;
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Ok((bits, star))
}

impl Schedule {
    /// Parse a schedule: five fields (minute hour day-of-month month
    /// day-of-week) with `*`, `?`, `a-b`, lists, `*/n` and `a/n`, month and day
    /// names, or one of `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`,
    /// `@midnight`, `@hourly`.
    pub fn parse(s: &str) -> Result<Schedule, String> {
        let s = s.trim();
        let expanded = match s.to_ascii_lowercase().as_str() {
            "@yearly" | "@annually" => "0 0 1 1 *",
            "@monthly" => "0 0 1 * *",
            "@weekly" => "0 0 * * 0",
            "@daily" | "@midnight" => "0 0 * * *",
            "@hourly" => "0 * * * *",
            x if x.starts_with("@every") => {
                return Err(format!(
                    "{s:?}: @every is not supported by kubesim; write the interval as a 5-field schedule (e.g. \"*/15 * * * *\")"
                ))
            }
            x if x.starts_with('@') => {
                return Err(format!(
                    "unrecognized descriptor {s:?}: expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"
                ))
            }
            x if x.starts_with("tz=") || x.starts_with("cron_tz=") => {
                return Err(format!(
                    "{s:?}: a time zone in the schedule is not allowed; use spec.timeZone"
                ))
            }
            _ => s,
        };
        let f: Vec<&str> = expanded.split_whitespace().collect();
        if f.len() != 5 {
            return Err(format!(
                "expected exactly 5 fields (minute hour day-of-month month day-of-week), found {}: {s:?}",
                f.len()
            ));
        }
        let (minute, _) = field(f[0], "minute", 0, 59, &[])?;
        let (hour, _) = field(f[1], "hour", 0, 23, &[])?;
        let (dom, dom_star) = field(f[2], "day-of-month", 1, 31, &[])?;
        let (month, _) = field(f[3], "month", 1, 12, &MONTHS)?;
        let (dow, dow_star) = field(f[4], "day-of-week", 0, 6, &DAYS)?;
        Ok(Schedule {
            minute,
            hour,
            dom,
            month,
            dow,
            day_star: dom_star || dow_star,
        })
    }

    fn day_matches(&self, days: i64) -> bool {
        let (_, m, d) = civil(days);
        // 1970-01-01 was a Thursday (4)
        let wd = (days + 4).rem_euclid(7) as u32;
        if self.month & (1 << m) == 0 {
            return false;
        }
        let dom = self.dom & (1 << d) != 0;
        let dow = self.dow & (1 << wd) != 0;
        if self.day_star {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// The first scheduled Unix minute strictly after minute `after`, looking
    /// up to 5 years ahead (robfig gives up there too); `None` if there is none
    /// (e.g. `0 0 30 2 *`).
    pub fn next_after(&self, after: i64) -> Option<i64> {
        let start = after + 1;
        let first_day = start.div_euclid(1440);
        for day in first_day..first_day + 5 * 366 {
            if !self.day_matches(day) {
                continue;
            }
            let from = if day == first_day {
                start.rem_euclid(1440)
            } else {
                0
            };
            for h in (from / 60)..24 {
                if self.hour & (1 << h) == 0 {
                    continue;
                }
                let m0 = if h == from / 60 { from % 60 } else { 0 };
                for m in m0..60 {
                    if self.minute & (1 << m) != 0 {
                        return Some(day * 1440 + h * 60 + m);
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Unix minute of a UTC date and time.
    fn at(y: i64, mo: u32, d: u32, h: i64, mi: i64) -> i64 {
        // days from civil (inverse of `civil`), checked through it
        let mut days = (y - 1970) * 365;
        days += ((1970..y)
            .filter(|y| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0)
            .count()) as i64;
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let ml = [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        days += ml[..(mo - 1) as usize].iter().sum::<i64>() + i64::from(d) - 1;
        assert_eq!(civil(days), (y, mo, d));
        days * 1440 + h * 60 + mi
    }

    fn next(s: &str, after: i64) -> String {
        format_minute(Schedule::parse(s).unwrap().next_after(after).unwrap())
    }

    #[test]
    fn the_epoch_is_2026_01_01_a_thursday() {
        assert_eq!(at(2026, 1, 1, 0, 0), EPOCH_MINUTES);
        assert_eq!(
            format_minute(minute_of(SimTime::ZERO)),
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(
            minute_of(SimTime::from_millis(90 * 60_000 + 59_999)),
            EPOCH_MINUTES + 90
        );
        assert_eq!(time_of(EPOCH_MINUTES + 2), SimTime::from_millis(120_000));
    }

    #[test]
    fn next_fire_times_of_common_schedules() {
        let t0 = EPOCH_MINUTES; // Thu 2026-01-01 00:00
        assert_eq!(next("*/15 * * * *", t0), "2026-01-01T00:15:00Z");
        assert_eq!(next("*/15 * * * *", t0 + 44), "2026-01-01T00:45:00Z");
        assert_eq!(next("* * * * *", t0), "2026-01-01T00:01:00Z");
        assert_eq!(next("@hourly", t0), "2026-01-01T01:00:00Z");
        assert_eq!(next("@daily", t0), "2026-01-02T00:00:00Z");
        // Sunday is day 0: the first Sunday of 2026 is January 4th
        assert_eq!(next("@weekly", t0), "2026-01-04T00:00:00Z");
        assert_eq!(next("@monthly", t0), "2026-02-01T00:00:00Z");
        assert_eq!(next("@yearly", t0), "2027-01-01T00:00:00Z");
        assert_eq!(next("30 9-17/4 * * MON-FRI", t0), "2026-01-01T09:30:00Z");
        assert_eq!(
            next("30 9-17/4 * * mon-fri", at(2026, 1, 1, 17, 30)),
            "2026-01-02T09:30:00Z"
        );
        // Friday 2026-01-02 17:30 → Monday 2026-01-05 09:30
        assert_eq!(
            next("30 9-17/4 * * 1-5", at(2026, 1, 2, 17, 30)),
            "2026-01-05T09:30:00Z"
        );
        assert_eq!(next("0 0 1,15 * *", t0), "2026-01-15T00:00:00Z");
        assert_eq!(next("5/20 * * * *", t0), "2026-01-01T00:05:00Z");
        assert_eq!(next("5/20 * * * *", t0 + 45), "2026-01-01T01:05:00Z");
        assert_eq!(next("0 12 * FEB *", t0), "2026-02-01T12:00:00Z");
        // leap day: the next 29 February after 2026 is in 2028
        assert_eq!(next("0 0 29 2 *", t0), "2028-02-29T00:00:00Z");
    }

    #[test]
    fn day_of_month_and_day_of_week_are_ored_unless_one_is_a_star() {
        let t0 = EPOCH_MINUTES;
        // the 13th or any Friday: Friday 2026-01-02 comes first
        assert_eq!(next("0 0 13 * 5", t0), "2026-01-02T00:00:00Z");
        // a star in day-of-month: only Fridays
        assert_eq!(
            next("0 0 * * 5", at(2026, 1, 2, 0, 0)),
            "2026-01-09T00:00:00Z"
        );
        // */2 in day-of-month is not a star: odd days or Mondays
        assert_eq!(
            next("0 0 */2 * 1", at(2026, 1, 1, 0, 0)),
            "2026-01-03T00:00:00Z"
        );
    }

    #[test]
    fn rfc1123z_names_the_weekday() {
        assert_eq!(
            format_rfc1123z(EPOCH_MINUTES + 30),
            "Thu, 01 Jan 2026 00:30:00 +0000"
        );
        assert_eq!(
            format_rfc1123z(at(2026, 1, 4, 13, 5)),
            "Sun, 04 Jan 2026 13:05:00 +0000"
        );
    }

    #[test]
    fn impossible_schedules_have_no_next_time() {
        let s = Schedule::parse("0 0 30 2 *").unwrap();
        assert_eq!(s.next_after(EPOCH_MINUTES), None);
    }

    #[test]
    fn bad_schedules_say_what_is_wrong() {
        let e = |s: &str| Schedule::parse(s).unwrap_err();
        assert!(e("* * * *").contains("expected exactly 5 fields"));
        assert!(e("60 * * * *").contains("minute field: \"60\" is out of range 0-59"));
        assert!(e("* 5-2 * * *").contains("beginning of range (5) beyond end of range (2)"));
        assert!(e("*/0 * * * *").contains("step must be at least 1"));
        assert!(e("* * * foo *").contains("month field: \"foo\" is not a number or a name"));
        assert!(e("@every 5m").contains("@every is not supported"));
        assert!(e("@often").contains("unrecognized descriptor"));
        assert!(e("TZ=UTC * * * * *").contains("spec.timeZone"));
    }
}
