//! The demo shop's catalog and its shoppers' names: a category tree of
//! eight departments, products with brands, prices and popularity, and
//! Chinese and English names.

use super::rng::Rng;
use serde_json::{Value, json};

/// (department, sub-categories, price range in yuan, brands)
type Department = (&'static str, &'static [&'static str], (i64, i64), &'static [&'static str]);

const DEPARTMENTS: &[Department] = &[
    ("茶叶", &["绿茶", "红茶", "乌龙", "普洱", "花茶"], (39, 880), &["狮峰", "大益", "八马", "Twinings", "小罐茶"]),
    ("茶具", &["茶壶", "茶杯", "茶盘", "公道杯"], (19, 680), &["宜兴", "景德镇", "Hario", "陶作坊"]),
    ("零食", &["坚果", "果干", "糕点", "饼干"], (9, 168), &["三只松鼠", "良品铺子", "Lotus", "百草味"]),
    ("美妆", &["面霜", "精华", "口红", "面膜"], (49, 960), &["百雀羚", "完美日记", "L'Oréal", "珀莱雅"]),
    ("数码", &["耳机", "充电器", "手机壳", "移动电源"], (19, 1599), &["华为", "小米", "Anker", "漫步者"]),
    ("家居", &["香薰", "收纳", "床品", "餐具"], (15, 599), &["无印良品", "网易严选", "IKEA", "名创优品"]),
    ("服饰", &["T恤", "外套", "围巾", "袜子"], (29, 1299), &["优衣库", "李宁", "Uniqlo", "太平鸟"]),
    ("母婴", &["奶粉", "纸尿裤", "玩具", "辅食"], (29, 459), &["飞鹤", "帮宝适", "Lego", "贝亲"]),
];

const ADJECTIVES: &[&str] = &["经典", "特级", "限定", "新款", "有机", "轻奢", "便携", "礼盒装", "家庭装", "升级版"];
const TAGS: &[&str] = &["新品", "热卖", "礼盒", "包邮", "限时"];

/// A product as the demo uses it.
#[derive(Debug, Clone)]
pub struct Item {
    pub product_id: String,
    pub sku: String,
    pub name: String,
    pub category: String,
    pub price_minor: i64,
}

pub struct Catalog {
    pub items: Vec<Item>,
    /// Per department: product indexes and their cumulative popularity.
    pub by_department: Vec<(Vec<usize>, Vec<f64>)>,
    /// The catalog as the products API takes it.
    pub json: Vec<Value>,
}

pub fn catalog(seed: u64, count: usize) -> Catalog {
    let mut rng = Rng::fork(seed, u64::MAX);
    let (mut items, mut json) = (Vec::with_capacity(count), Vec::with_capacity(count));
    let mut by_department: Vec<(Vec<usize>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); DEPARTMENTS.len()];
    for n in 0..count {
        let department = n % DEPARTMENTS.len();
        let (top, subs, (lo, hi), brands) = DEPARTMENTS[department];
        let sub = rng.pick(subs);
        let brand = rng.pick(brands);
        // log-uniform prices, ending in .00 or .90
        let yuan = (lo as f64 * ((hi as f64 / lo as f64).powf(rng.float()))).round() as i64;
        let price_minor = yuan * 100 + if rng.chance(0.5) { 90 } else { 0 };
        let name = format!("{brand} {}{sub}", rng.pick(ADJECTIVES));
        let product_id = format!("P{:05}", n + 1);
        let sku = format!("SKU-{}-{:05}", department + 1, n + 1);
        let mut tags: Vec<&str> = TAGS.iter().copied().filter(|_| rng.chance(0.15)).collect();
        tags.sort_unstable();
        json.push(json!({
            "product_id": product_id, "sku": sku, "name": name, "category": format!("{top}/{sub}"),
            "brand": brand, "tags": tags, "price": format!("{}.{:02}", price_minor / 100, price_minor % 100),
            "currency": "CNY", "stock": rng.range(0, 500),
            "status": if rng.chance(0.04) { "off_shelf" } else { "on_shelf" },
            "review_status": "approved",
        }));
        // a few best sellers per department, a long tail after them
        let rank = by_department[department].0.len() as f64 + 1.0;
        let (list, cumulative) = &mut by_department[department];
        list.push(items.len());
        cumulative.push(cumulative.last().copied().unwrap_or(0.0) + 1.0 / rank.powf(0.9));
        items.push(Item { product_id, sku, name, category: format!("{top}/{sub}"), price_minor });
    }
    Catalog { items, by_department, json }
}

pub fn department_count() -> usize {
    DEPARTMENTS.len()
}

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "高",
    "罗",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超",
    "秀兰", "霞", "平", "刚", "桂英", "子涵", "一诺", "欣怡", "梓萱", "浩宇", "宇轩", "雨桐",
];
const FIRST: &[&str] = &[
    "Emma", "Liam", "Olivia", "Noah", "Ava", "James", "Sophia", "Lucas", "Mia", "Ethan", "Grace", "Jack", "Chloe",
    "Leo", "Lily", "Ryan",
];
const LAST: &[&str] =
    &["Smith", "Chen", "Brown", "Wang", "Taylor", "Lee", "Wilson", "Li", "Martin", "Clark", "Zhang", "Wong"];
pub const CITIES: &[&str] =
    &["上海", "北京", "杭州", "深圳", "广州", "成都", "南京", "武汉", "西安", "苏州", "Singapore", "Hong Kong"];

/// A shopper's name: Chinese three times in four.
pub fn name(rng: &mut Rng) -> (String, bool) {
    if rng.chance(0.75) {
        (format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN)), true)
    } else {
        (format!("{} {}", rng.pick(FIRST), rng.pick(LAST)), false)
    }
}

/// Review texts, positive and negative: Chinese from a real corpus, English written here.
pub struct Texts {
    pub zh: (Vec<&'static str>, Vec<&'static str>),
    pub en: (Vec<&'static str>, Vec<&'static str>),
}

pub fn texts() -> Texts {
    let mut zh = (Vec::new(), Vec::new());
    for line in include_str!("reviews_zh.tsv").lines().filter(|l| !l.starts_with('#')) {
        match line.split_once('\t') {
            Some(("1", text)) => zh.0.push(text),
            Some(("0", text)) => zh.1.push(text),
            _ => {}
        }
    }
    let en = (
        vec![
            "Great quality, arrived quickly.",
            "Exactly as described, would buy again.",
            "Lovely packaging, a perfect gift.",
            "Good value for the price.",
            "My second order, still very happy.",
        ],
        vec!["Arrived damaged, disappointed.", "Not as pictured, returning it.", "Too expensive for what you get."],
    );
    Texts { zh, en }
}
