//! Loan periods of paper files. The seeds differ: the same day (003),
//! seven working days or one month (001, 002 §7); the period is a setting
//! per site with the same day as the default.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoanPeriod {
    /// Back before the archive room closes.
    #[default]
    SameDay,
    /// Monday to Friday; public holidays are not known to the archive.
    WorkingDays(u32),
    Days(u32),
    Months(u32),
}

impl LoanPeriod {
    /// The due date of a loan made, or renewed, on `from`.
    pub fn due(self, from: NaiveDate) -> NaiveDate {
        match self {
            LoanPeriod::SameDay => from,
            LoanPeriod::Days(n) => from.checked_add_days(Days::new(u64::from(n))).unwrap_or(from),
            LoanPeriod::Months(n) => from.checked_add_months(Months::new(n)).unwrap_or(from),
            LoanPeriod::WorkingDays(n) => {
                let mut d = from;
                let mut left = n;
                while left > 0 {
                    d = d.succ_opt().unwrap_or(d);
                    if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
                        left -= 1;
                    }
                }
                d
            }
        }
    }
}

impl fmt::Display for LoanPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoanPeriod::SameDay => f.write_str("same_day"),
            LoanPeriod::WorkingDays(n) => write!(f, "{n}_working_days"),
            LoanPeriod::Days(n) => write!(f, "{n}_days"),
            LoanPeriod::Months(n) => write!(f, "{n}_months"),
        }
    }
}

impl FromStr for LoanPeriod {
    type Err = String;

    /// `same_day`, `7_working_days`, `14_days`, `1_month` / `2_months`.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "same_day" {
            return Ok(LoanPeriod::SameDay);
        }
        let bad = || format!("{s:?} is not a loan period: use same_day, N_working_days, N_days or N_months");
        let (n, unit) = s.split_once('_').ok_or_else(bad)?;
        let n: u32 = n.parse().map_err(|_| bad())?;
        if n == 0 || n > 366 {
            return Err(bad());
        }
        match unit {
            "working_day" | "working_days" => Ok(LoanPeriod::WorkingDays(n)),
            "day" | "days" => Ok(LoanPeriod::Days(n)),
            "month" | "months" => Ok(LoanPeriod::Months(n)),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn due_dates_follow_the_period() {
        // 2026-12-04 is a Friday.
        assert_eq!(LoanPeriod::SameDay.due(d(2026, 12, 4)), d(2026, 12, 4));
        assert_eq!(LoanPeriod::WorkingDays(7).due(d(2026, 12, 4)), d(2026, 12, 15));
        assert_eq!(LoanPeriod::Months(1).due(d(2026, 1, 31)), d(2026, 2, 28));
        assert_eq!(LoanPeriod::Days(3).due(d(2026, 12, 30)), d(2027, 1, 2));
    }

    #[test]
    fn periods_parse_and_print() {
        for s in ["same_day", "7_working_days", "1_months", "14_days"] {
            assert_eq!(s.parse::<LoanPeriod>().unwrap().to_string(), s);
        }
        assert_eq!("1_month".parse::<LoanPeriod>(), Ok(LoanPeriod::Months(1)));
        assert!("0_days".parse::<LoanPeriod>().is_err());
        assert!("soon".parse::<LoanPeriod>().is_err());
    }
}
