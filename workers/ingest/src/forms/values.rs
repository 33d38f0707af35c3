//! From read text to a normalised, validated value, per field type. A value
//! that cannot be normalised is kept as read and marked invalid with the
//! reason, so a reviewer sees what the page seemed to say.

use chrono::{Datelike, NaiveDate};
use dangan_archive::domain::id_number::IdNumber;
use dangan_archive::domain::text::to_half_width;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Name,
    Gender,
    Ethnicity,
    IdNumber,
    Mobile,
    Date,
    Room,
    Decimal,
    Amount,
    Count,
    Contact,
    Text,
}

impl FieldType {
    /// What a region read of this type may contain.
    pub fn charset(self) -> crate::ocr::Charset {
        use crate::ocr::Charset;
        match self {
            FieldType::IdNumber => Charset::IdNumber,
            FieldType::Mobile => Charset::Digits,
            FieldType::Date => Charset::Date,
            FieldType::Decimal => Charset::Decimal,
            _ => Charset::Any,
        }
    }

    /// Whether a validator checks the value (text is only read, never checked).
    pub fn is_checked(self) -> bool {
        self != FieldType::Text
    }

    /// Values whose check cannot catch a misread character.
    pub fn is_weakly_checked(self) -> bool {
        matches!(self, FieldType::Text | FieldType::Name | FieldType::Contact)
    }
}

/// The outcome for one read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    Valid(String),
    /// (the text as read, cleaned; why it is not acceptable)
    Invalid(String, String),
}

impl Checked {
    pub fn value(&self) -> &str {
        match self {
            Checked::Valid(v) | Checked::Invalid(v, _) => v,
        }
    }
    pub fn is_valid(&self) -> bool {
        matches!(self, Checked::Valid(_))
    }
}

const ETHNICITIES: &[&str] = &[
    "汉",
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
];

pub fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

/// Half-width, no spaces, no separators a reader leaves at either end.
pub fn clean(s: &str) -> String {
    let s: String = to_half_width(s).chars().filter(|c| !c.is_whitespace()).collect();
    s.trim_matches(|c: char| {
        matches!(c, ':' | '|' | ',' | '.' | '_' | '-' | '\'' | '"' | '、' | '，' | '。' | '!' | ';')
    })
    .to_string()
}

/// Text values keep their own punctuation (full-width commas stay): only
/// spaces that are a reader's artefact (beside a Chinese character or a
/// sign) go.
fn clean_text(s: &str) -> String {
    let chars: Vec<char> = s.trim().chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_whitespace() {
            let prev = out.chars().last();
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            // A space is kept only between two Latin words or numbers:
            // beside a Chinese character or a sign (HT-2021 - 061925) it is
            // the reader's, not the print's.
            let word = |c: &char| c.is_ascii_alphanumeric();
            let between_words = prev.as_ref().is_some_and(word) && next.is_some_and(word);
            if !between_words {
                continue;
            }
        }
        out.push(c);
    }
    out.trim_matches(|c: char| {
        matches!(c, ':' | '：' | '|' | '_' | ' ' | ',' | '，' | '、' | '.' | '。' | '"' | '”' | '“')
    })
    .to_string()
}

fn invalid(v: impl Into<String>, why: impl Into<String>) -> Checked {
    Checked::Invalid(v.into(), why.into())
}

pub fn check(ty: FieldType, raw: &str, today: NaiveDate) -> Checked {
    let s = clean(raw);
    if s.is_empty() {
        return invalid("", "nothing could be read");
    }
    match ty {
        FieldType::Name => {
            let n = s.chars().count();
            if s.chars().all(is_cjk) && (2..=4).contains(&n) {
                Checked::Valid(s)
            } else {
                invalid(s, "a name is 2-4 Chinese characters")
            }
        }
        // The value comes first in its region; what follows may be the next
        // label (民族) read along with it.
        FieldType::Gender => match s.chars().next() {
            Some('男') => Checked::Valid("male".into()),
            Some('女') => Checked::Valid("female".into()),
            _ => invalid(s, "gender is 男 or 女"),
        },
        FieldType::Ethnicity => {
            let e = s.trim_end_matches('族');
            if ETHNICITIES.contains(&e) { Checked::Valid(e.into()) } else { invalid(s, "not an ethnic group") }
        }
        FieldType::IdNumber => match IdNumber::parse(&s) {
            Ok(id) => Checked::Valid(id.as_str().into()),
            Err(e) => invalid(s, format!("ID number: {e}")),
        },
        FieldType::Mobile => {
            mobile(&s).map_or_else(|| invalid(s.clone(), "not an 11-digit mobile number"), Checked::Valid)
        }
        FieldType::Date => match date(&s) {
            Some(d) if d.year() >= 1900 && d <= today => Checked::Valid(d.to_string()),
            Some(d) => invalid(s, format!("date {d} is out of range")),
            None => invalid(s, "not a date"),
        },
        FieldType::Room => room(&s).map_or_else(|| invalid(s.clone(), "a room is N栋N单元N室"), Checked::Valid),
        FieldType::Decimal => {
            let v = s.trim_end_matches("平方米").trim_end_matches("m2").trim_end_matches('㎡');
            if is_decimal(v) { Checked::Valid(v.into()) } else { invalid(s.clone(), "not a number") }
        }
        FieldType::Amount => {
            // The currency before the number, or what of it was read.
            let v = s.trim_start_matches(['人', '民', '币', '幣', '¥']).trim_end_matches('元');
            // Yuan and fen: the last point, with two digits after it. Any
            // point or comma before it groups thousands (a comma misread as
            // a point, 1.235,269.00, or one lost, 3.843182.00): an amount
            // has one decimal point.
            let v = match v.rsplit_once('.') {
                Some((int, fen)) if fen.len() == 2 => format!("{}.{fen}", int.replace([',', '.'], "")),
                _ => v.replace(',', ""),
            };
            match v.split_once('.') {
                Some((a, b)) if !a.is_empty() && b.len() == 2 && is_decimal(&v) => Checked::Valid(v),
                None if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()) => Checked::Valid(format!("{v}.00")),
                _ => invalid(s, "not an amount in yuan"),
            }
        }
        FieldType::Count => {
            let v = s.trim_end_matches(['把', '个', '套', '件']);
            if !v.is_empty() && v.len() <= 3 && v.chars().all(|c| c.is_ascii_digit()) {
                let t = v.trim_start_matches('0');
                Checked::Valid(if t.is_empty() { "0".into() } else { t.into() })
            } else {
                invalid(s, "not a count")
            }
        }
        FieldType::Contact => {
            let name: String = s.chars().take_while(|c| is_cjk(*c)).collect();
            let rest = &s[name.len()..];
            match (mobile(rest), name.chars().count()) {
                (Some(m), 2..=4) => Checked::Valid(format!("{name} {m}")),
                _ => invalid(s, "a contact is a name and a mobile number"),
            }
        }
        FieldType::Text => {
            let t = clean_text(raw);
            if t.is_empty() { invalid("", "nothing could be read") } else { Checked::Valid(t) }
        }
    }
}

fn is_decimal(v: &str) -> bool {
    let mut parts = v.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    !int.is_empty()
        && int.chars().all(|c| c.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
}

fn mobile(s: &str) -> Option<String> {
    let d: String = s.chars().filter(|c| *c != '-').collect();
    let b = d.as_bytes();
    (b.len() == 11 && d.chars().all(|c| c.is_ascii_digit()) && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]))
        .then_some(d)
}

/// 2019年5月20日, 2019.05.20, 2019-5-20, 2019/5/20.
pub fn date(s: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = s.split(['年', '月', '日', '.', '-', '/']).filter(|p| !p.is_empty()).collect();
    if parts.len() != 3 || parts[0].len() != 4 || parts[1].len() > 2 || parts[2].len() > 2 {
        return None;
    }
    // The separators must be one kind: "2019年5.20" is a misread.
    let seps: String = s.chars().filter(|c| !c.is_ascii_digit()).collect();
    if !matches!(seps.as_str(), "年月日" | "年月" | ".." | "--" | "//") {
        return None;
    }
    let n: Vec<u32> = parts.iter().map(|p| p.parse().ok()).collect::<Option<_>>()?;
    NaiveDate::from_ymd_opt(n[0] as i32, n[1], n[2])
}

/// 3栋4单元3102室 -> 3/4/3102 (traditional 棟 and 單元 too).
fn room(s: &str) -> Option<String> {
    let s = s.replace('棟', "栋").replace('單', "单");
    let (b, rest) = s.split_once('栋')?;
    let (u, rest) = rest.split_once("单元")?;
    let r = rest.strip_suffix('室').unwrap_or(rest);
    let digits = |x: &str| !x.is_empty() && x.len() <= 5 && x.chars().all(|c| c.is_ascii_digit());
    (digits(b) && digits(u) && digits(r)).then(|| format!("{b}/{u}/{r}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
    }

    #[test]
    fn values_normalise() {
        let ok = |ty, s: &str| check(ty, s, today());
        assert_eq!(ok(FieldType::Date, "2019年5月20日"), Checked::Valid("2019-05-20".into()));
        assert_eq!(ok(FieldType::Date, " 2009.04.24 "), Checked::Valid("2009-04-24".into()));
        assert!(!ok(FieldType::Date, "2019年13月2日").is_valid());
        assert!(!ok(FieldType::Date, "2030年1月2日").is_valid());
        assert_eq!(ok(FieldType::Room, "3栋4单元3102室"), Checked::Valid("3/4/3102".into()));
        assert_eq!(ok(FieldType::Room, "12棟1單元101室"), Checked::Valid("12/1/101".into()));
        assert_eq!(ok(FieldType::Amount, "人民币1,234,567.00元"), Checked::Valid("1234567.00".into()));
        assert_eq!(ok(FieldType::Amount, "民币1235269.00元"), Checked::Valid("1235269.00".into()));
        // A comma read as a point, or lost.
        assert_eq!(ok(FieldType::Amount, "人民币1.235,269.00元"), Checked::Valid("1235269.00".into()));
        assert_eq!(ok(FieldType::Amount, "人民币3.843182.00元"), Checked::Valid("3843182.00".into()));
        assert!(!ok(FieldType::Amount, "人民币3843.18.2元").is_valid(), "the decimal point has two digits after it");
        assert_eq!(ok(FieldType::Decimal, "89.50平方米"), Checked::Valid("89.50".into()));
        assert!(!ok(FieldType::Decimal, "89.5.0").is_valid());
        assert_eq!(ok(FieldType::Count, "5把"), Checked::Valid("5".into()));
        assert_eq!(ok(FieldType::Gender, "女"), Checked::Valid("female".into()));
        assert_eq!(ok(FieldType::Ethnicity, "蒙古族"), Checked::Valid("蒙古".into()));
        assert_eq!(ok(FieldType::Mobile, "193 5290 9793"), Checked::Valid("19352909793".into()));
        assert!(!ok(FieldType::Mobile, "1935290979").is_valid());
        assert_eq!(ok(FieldType::Contact, "欧阳琴丹 17362211739"), Checked::Valid("欧阳琴丹 17362211739".into()));
        assert_eq!(ok(FieldType::Name, "王 伟"), Checked::Valid("王伟".into()));
        assert!(!ok(FieldType::Name, "王").is_valid());
        assert_eq!(ok(FieldType::Text, "卫生间 渗水，待整改"), Checked::Valid("卫生间渗水，待整改".into()));
        assert_eq!(ok(FieldType::Text, "HT-2019-001234"), Checked::Valid("HT-2019-001234".into()));
        assert_eq!(ok(FieldType::Text, "HT-2019 - 001234"), Checked::Valid("HT-2019-001234".into()));
        assert_eq!(ok(FieldType::Text, "Room 12  B"), Checked::Valid("Room 12 B".into()));
    }

    #[test]
    fn a_wrong_id_check_character_is_invalid() {
        assert_eq!(
            check(FieldType::IdNumber, "440106198502151856", today()),
            Checked::Valid("440106198502151856".into())
        );
        let c = check(FieldType::IdNumber, "440106198502151857", today());
        assert!(!c.is_valid(), "{c:?}");
    }
}
