//! What the pages say: names, ID numbers, rooms, dates and amounts drawn from
//! a seeded generator, each field with its printed text and its normalised
//! value (the ground truth an extractor must produce).

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    OwnerRegistration,
    HandoverAcceptance,
    IdCardCopy,
    PurchaseContract,
}

impl FormKind {
    pub const ALL: [FormKind; 4] =
        [FormKind::OwnerRegistration, FormKind::HandoverAcceptance, FormKind::IdCardCopy, FormKind::PurchaseContract];

    /// The title printed on the form, simplified or traditional.
    pub fn title(self, traditional: bool) -> &'static str {
        match (self, traditional) {
            (FormKind::OwnerRegistration, false) => "业主登记表",
            (FormKind::OwnerRegistration, true) => "業主登記表",
            (FormKind::HandoverAcceptance, false) => "房屋交付验收表",
            (FormKind::HandoverAcceptance, true) => "房屋交付驗收表",
            (FormKind::IdCardCopy, false) => "身份证复印件",
            (FormKind::IdCardCopy, true) => "身份證複印件",
            (FormKind::PurchaseContract, false) => "商品房买卖合同",
            (FormKind::PurchaseContract, true) => "商品房買賣合同",
        }
    }
}

/// One field: the key an extractor reports, the label printed before it, the
/// value as printed and its normalised form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub key: String,
    pub label: String,
    pub printed: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormData {
    pub kind: FormKind,
    pub traditional: bool,
    pub title: String,
    pub fields: Vec<Field>,
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林",
    "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "欧阳", "司马",
];
const GIVEN: &str = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国晶雪梅琳丹飞斌宇浩凯健俊帆旭宁龙欣瑞博文婷颖倩晨阳鑫宏志海波峰亮成新春燕云莉凤琴荣";
const ETHNICITIES: &[&str] = &["汉", "汉", "汉", "汉", "回", "满", "蒙古", "壮", "朝鲜"];
const CITIES: &[(&str, &str, &str)] = &[
    ("110105", "北京市", "朝阳区"),
    ("310104", "上海市", "徐汇区"),
    ("440106", "广州市", "天河区"),
    ("320102", "南京市", "玄武区"),
    ("510107", "成都市", "武侯区"),
    ("120103", "天津市", "河西区"),
];
const ROADS: &[&str] = &["建国路", "人民路", "解放大道", "中山路", "友谊路", "长江路", "和平街", "新华路"];
const COMPANIES: &[&str] = &[
    "华远房地产开发有限公司",
    "万达置业有限公司",
    "中航地产股份有限公司",
    "金地集团开发有限公司",
    "保利房地产开发有限公司",
];
const EMPLOYERS: &[&str] =
    &["市第一人民医院", "河西区第一中学", "中国银行分行", "市自来水公司", "华为技术有限公司", "个体经营"];
const REMARKS: &[&str] =
    &["验收合格", "墙面有细微裂缝，已登记维修", "门窗完好，同意收楼", "卫生间渗水，待整改", "无异议"];

const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// A valid ID number (GB 11643 check character) for a region, birth date and sex.
pub fn id_number(region: &str, birth: NaiveDate, male: bool, rng: &mut StdRng) -> String {
    let seq: u32 = rng.random_range(0..50) * 2 + u32::from(male);
    let first = format!("{region}{}{:03}", birth.format("%Y%m%d"), 100 + seq % 900);
    let sum: u32 = first.bytes().zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
    format!("{first}{}", CHECK[(sum % 11) as usize] as char)
}

fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

fn name(rng: &mut StdRng) -> String {
    let given: Vec<char> = GIVEN.chars().collect();
    let mut n = pick(rng, SURNAMES).to_string();
    n.push(*pick(rng, &given));
    if rng.random_bool(0.6) {
        n.push(*pick(rng, &given));
    }
    n
}

fn phone(rng: &mut StdRng) -> String {
    format!("1{}{:09}", pick(rng, &[3, 5, 7, 8, 9]), rng.random_range(0..1_000_000_000u64))
}

fn date(rng: &mut StdRng, from_year: i32, to_year: i32) -> NaiveDate {
    let start = NaiveDate::from_ymd_opt(from_year, 1, 1).expect("valid");
    let days = (NaiveDate::from_ymd_opt(to_year, 12, 31).expect("valid") - start).num_days();
    start + chrono::Days::new(rng.random_range(0..days as u64))
}

/// How a date is printed: the Chinese form mostly, ISO and dotted forms sometimes.
fn date_printed(d: NaiveDate, rng: &mut StdRng) -> String {
    match rng.random_range(0..6) {
        0 => d.format("%Y-%m-%d").to_string(),
        1 => d.format("%Y.%m.%d").to_string(),
        _ => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
    }
}

fn field(key: &str, label: &str, printed: String, value: String) -> Field {
    Field { key: key.into(), label: label.into(), printed, value }
}

/// Labels in simplified or traditional characters.
fn l(traditional: bool, simplified: &'static str, trad: &'static str) -> &'static str {
    if traditional { trad } else { simplified }
}

struct Person {
    name: String,
    male: bool,
    birth: NaiveDate,
    id: String,
    address: String,
    city: (&'static str, &'static str, &'static str),
}

fn person(rng: &mut StdRng) -> Person {
    let city = *pick(rng, CITIES);
    let male = rng.random_bool(0.5);
    let birth = date(rng, 1950, 2000);
    let id = id_number(city.0, birth, male, rng);
    let address = format!("{}{}{}{}号", city.1, city.2, pick(rng, ROADS), rng.random_range(1..300));
    Person { name: name(rng), male, birth, id, address, city }
}

fn room(rng: &mut StdRng) -> (String, String) {
    let (b, u, f, r) =
        (rng.random_range(1..30), rng.random_range(1..5), rng.random_range(1..33), rng.random_range(1..5));
    let room = format!("{f}{r:02}");
    (format!("{b}栋{u}单元{room}室"), format!("{b}/{u}/{room}"))
}

fn gender(male: bool) -> (String, String) {
    if male { ("男".into(), "male".into()) } else { ("女".into(), "female".into()) }
}

pub fn generate(kind: FormKind, traditional: bool, rng: &mut StdRng) -> FormData {
    let t = traditional;
    let p = person(rng);
    let (g_printed, g_value) = gender(p.male);
    let fields = match kind {
        FormKind::OwnerRegistration => {
            let (room_p, room_v) = room(rng);
            let moved = date(rng, 2005, 2024);
            let ph = phone(rng);
            let contact = name(rng);
            let contact_phone = phone(rng);
            let employer = pick(rng, EMPLOYERS).to_string();
            vec![
                field("owner_name", "姓名", p.name.clone(), p.name.clone()),
                field("gender", l(t, "性别", "性別"), g_printed, g_value),
                field("phone", l(t, "联系电话", "聯繫電話"), ph.clone(), ph),
                field("id_number", l(t, "公民身份号码", "公民身份號碼"), p.id.clone(), p.id.clone()),
                field("room", l(t, "房号", "房號"), room_p, room_v),
                field("move_in_date", "入住日期", date_printed(moved, rng), moved.to_string()),
                field("employer", l(t, "工作单位", "工作單位"), employer.clone(), employer),
                field(
                    "emergency_contact",
                    l(t, "紧急联系人", "緊急聯繫人"),
                    format!("{contact} {contact_phone}"),
                    format!("{contact} {contact_phone}"),
                ),
            ]
        }
        FormKind::HandoverAcceptance => {
            let (room_p, room_v) = room(rng);
            let accepted = date(rng, 2005, 2024);
            let water = format!("{}.{}", rng.random_range(0..2000), rng.random_range(0..10));
            let elec = format!("{}.{}", rng.random_range(0..9000), rng.random_range(0..10));
            let gas = format!("{}.{}", rng.random_range(0..800), rng.random_range(0..10));
            let keys = rng.random_range(1..6).to_string();
            let remark = pick(rng, REMARKS).to_string();
            vec![
                field("room", l(t, "房号", "房號"), room_p, room_v),
                field("owner_name", l(t, "业主姓名", "業主姓名"), p.name.clone(), p.name.clone()),
                field(
                    "acceptance_date",
                    l(t, "验收日期", "驗收日期"),
                    date_printed(accepted, rng),
                    accepted.to_string(),
                ),
                field("water_meter", l(t, "水表读数", "水錶讀數"), water.clone(), water),
                field("electricity_meter", l(t, "电表读数", "電錶讀數"), elec.clone(), elec),
                field("gas_meter", l(t, "燃气表读数", "燃氣錶讀數"), gas.clone(), gas),
                field("key_count", l(t, "钥匙数量", "鑰匙數量"), format!("{keys}把"), keys),
                field("remarks", l(t, "验收意见", "驗收意見"), remark.clone(), remark),
            ]
        }
        FormKind::IdCardCopy => {
            let eth = pick(rng, ETHNICITIES).to_string();
            let birth_printed = format!("{}年{}月{}日", p.birth.year(), p.birth.month(), p.birth.day());
            vec![
                field("name", "姓名", p.name.clone(), p.name.clone()),
                field("gender", l(t, "性别", "性別"), g_printed, g_value),
                field("ethnicity", "民族", eth.clone(), eth),
                field("birth_date", "出生", birth_printed, p.birth.to_string()),
                field("address", "住址", p.address.clone(), p.address.clone()),
                field("id_number", l(t, "公民身份号码", "公民身份號碼"), p.id.clone(), p.id.clone()),
            ]
        }
        FormKind::PurchaseContract => {
            let (room_p, _) = room(rng);
            let no = format!("HT-{}-{:06}", rng.random_range(2005..2025), rng.random_range(0..1_000_000));
            let seller = format!("{}{}", p.city.1, pick(rng, COMPANIES));
            let address =
                format!("{}{}{}{}号{}", p.city.1, p.city.2, pick(rng, ROADS), rng.random_range(1..300), room_p);
            let area = format!("{}.{:02}", rng.random_range(40..220), rng.random_range(0..100));
            let cents: u64 = rng.random_range(30_000_000..900_000_000) / 100 * 100;
            let price = format!("{}.{:02}", cents / 100, cents % 100);
            let price_printed = format!("人民币{}元", group_thousands(cents / 100) + &format!(".{:02}", cents % 100));
            let signed = date(rng, 2005, 2024);
            vec![
                field("contract_no", l(t, "合同编号", "合同編號"), no.clone(), no),
                field("seller", l(t, "出卖人", "出賣人"), seller.clone(), seller),
                field("buyer", l(t, "买受人", "買受人"), p.name.clone(), p.name.clone()),
                field("property_address", "房屋坐落", address.clone(), address),
                field("floor_area", l(t, "建筑面积", "建築面積"), format!("{area}平方米"), area),
                field("total_price", l(t, "总价款", "總價款"), price_printed, price),
                field("signing_date", l(t, "签订日期", "簽訂日期"), date_printed(signed, rng), signed.to_string()),
            ]
        }
    };
    FormData { kind, traditional, title: kind.title(traditional).to_string(), fields }
}

fn group_thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn thousands() {
        assert_eq!(group_thousands(1234567), "1,234,567");
        assert_eq!(group_thousands(999), "999");
    }

    #[test]
    fn id_numbers_are_valid_and_agree_with_the_card() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..200 {
            let f = generate(FormKind::IdCardCopy, false, &mut rng);
            let get = |k: &str| f.fields.iter().find(|x| x.key == k).unwrap().value.clone();
            let id = get("id_number");
            let sum: u32 = id.bytes().take(17).zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
            assert_eq!(id.as_bytes()[17], CHECK[(sum % 11) as usize], "{id}");
            assert_eq!(get("birth_date").replace('-', ""), &id[6..14]);
            let male = (id.as_bytes()[16] - b'0') % 2 == 1;
            assert_eq!(get("gender"), if male { "male" } else { "female" });
        }
    }
}
