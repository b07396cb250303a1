use super::*;

fn product(v: Value) -> Result<Product, Error> {
    parse_product(v.as_object().unwrap_or(&Map::new()), Currency::CNY)
}

#[test]
fn a_product_reads_every_field_and_writes_back_the_same() {
    let p = product(json!({
        "product_id": "tea-1", "sku": "T-001", "name": "西湖龙井 明前特级", "category": "茶叶 / 绿茶",
        "brand": "狮峰", "tags": ["新品", "礼盒", "新品"], "price": "298.00", "stock": "120",
        "status": "on_shelf", "review_status": "pending", "attributes": {"净含量": "250g"}
    }))
    .expect("valid");
    assert_eq!(p.category, ["茶叶", "绿茶"]);
    assert_eq!(p.tags, ["新品", "礼盒"]);
    assert_eq!((p.price.minor, p.stock), (29800, 120));
    let mut again = p.to_json();
    again.as_object_mut().map(|m| m.remove("category_path"));
    assert_eq!(product(again), Ok(p));
}

#[test]
fn bad_products_say_what_is_wrong() {
    let base = || json!({"product_id": "p", "name": "n", "price": 1});
    let cases = [
        (json!({"name": "n", "price": 1}), "product_id is required"),
        (json!({"product_id": "p", "price": 1}), "name is required"),
        (json!({"product_id": "p", "name": "n"}), "price is required"),
        (json!({"product_id": "a/b", "name": "n", "price": 1}), "must not contain"),
    ];
    for (v, expect) in cases {
        let e = product(v.clone()).expect_err(&v.to_string());
        assert_eq!(e.code, ErrorCode::InvalidProduct);
        assert!(e.message.contains(expect), "{v}: {}", e.message);
    }
    for (field, value, expect) in [
        ("price", json!(-1), "negative"),
        ("price", json!("1,5"), "not a decimal"),
        ("stock", json!(-3), "stock"),
        ("stock", json!(1.5), "stock"),
        ("status", json!("sold"), "on_shelf or off_shelf"),
        ("review_status", json!("ok"), "draft, pending or approved"),
        ("currency", json!("yuan"), "ISO-4217"),
        ("category", json!("a//b"), "empty"),
        ("tags", json!(5), "array"),
        ("attributes", json!([1]), "object"),
        ("colour", json!("red"), "unknown field"),
    ] {
        let mut v = base();
        v[field] = value;
        let e = product(v.clone()).expect_err(&v.to_string());
        assert!(e.message.contains(expect), "{v}: {}", e.message);
    }
}

#[test]
fn diff_names_only_what_changed() {
    let a = product(json!({"product_id": "p", "name": "n", "price": "10", "stock": 5})).expect("valid");
    let mut b = a.clone();
    assert_eq!(diff(&a, &b), None);
    b.price.minor = 1200;
    b.stock = 4;
    assert_eq!(diff(&a, &b), Some((json!({"price": "10.00", "stock": 5}), json!({"price": "12.00", "stock": 4}))));
}
