use super::*;

fn row(line: u64, pairs: &[(&str, &str)]) -> Row {
    Row { line, fields: pairs.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect() }
}

#[test]
fn the_cdnow_preset_reads_a_line_as_one_order() {
    let m = Mapping::preset(Kind::Orders, "cdnow").expect("preset");
    let r =
        row(2, &[("customer_id", "00002"), ("date", "19970112"), ("number_of_cds", "5"), ("dollar_value", "77.00")]);
    let f = m.apply(Kind::Orders, &r).expect("valid");
    assert_eq!(
        Value::Object(f.clone()),
        json!({"user_id": "00002", "placed_at": "1997-01-12T00:00:00Z", "quantity": 5, "total": "77.00", "currency": "USD"})
    );
    let mut b = Builder::new(Kind::Orders, "k");
    assert!(b.push(2, f.clone()).is_empty());
    let first = b.push(3, f);
    assert_eq!(first.len(), 1, "identical lines are separate orders");
    assert_eq!(first[0].body["order_id"], "imp-k-2");
    assert_eq!(first[0].body["products"], json!([{"quantity": 5}]));
    assert_eq!(b.finish().map(|i| i.body["order_id"].clone()), Some(json!("imp-k-3")));
}

#[test]
fn bad_values_name_their_line_and_column() {
    let m = Mapping::preset(Kind::Orders, "cdnow").expect("preset");
    let cases = [
        (("date", "1997-01-12"), "not a date in the format %Y%m%d"),
        (("date", "19971345"), "not a date"),
        (("number_of_cds", "-1"), "negative"),
        (("number_of_cds", "1.5"), "not a whole number"),
        (("dollar_value", "12,50"), "not a decimal number"),
        (("dollar_value", "-3"), "negative"),
    ];
    for ((column, value), expect) in cases {
        let mut pairs = vec![("customer_id", "1"), ("date", "19970101"), ("number_of_cds", "1"), ("dollar_value", "1")];
        for p in &mut pairs {
            if p.0 == column {
                p.1 = value;
            }
        }
        let e = m.apply(Kind::Orders, &row(9, &pairs)).expect_err(value);
        assert_eq!((e.line, e.column.as_deref()), (9, Some(column)));
        assert!(e.reason.contains(expect), "{value}: {}", e.reason);
    }
}

#[test]
fn order_rows_with_one_order_id_make_one_order_with_lines() {
    let m = Mapping::default();
    let mut b = Builder::new(Kind::Orders, "k");
    let mut items = Vec::new();
    for (line, id, sku) in [(2, "A", "x"), (3, "A", "y"), (4, "B", "z")] {
        let f =
            m.apply(Kind::Orders, &row(line, &[("order_id", id), ("user_id", "u"), ("sku", sku), ("price", "2.5")]));
        items.extend(b.push(line, f.expect("valid")));
    }
    items.extend(b.finish());
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].lines, [2, 3]);
    assert_eq!(items[0].body["products"], json!([{"sku": "x", "price": "2.5"}, {"sku": "y", "price": "2.5"}]));
    assert_eq!(items[1].body["order_id"], "B");
}

#[test]
fn mappings_are_checked_and_unknown_order_columns_reported() {
    let mut m = Mapping::default();
    assert!(m.add(Kind::Orders, "when=placed_at:%d/%m/%Y").is_ok());
    assert!(m.add(Kind::Orders, "colour=paint").is_err());
    assert!(m.add(Kind::Orders, "no-equals").is_err());
    assert!(m.add(Kind::Customers, "nickname=nick").is_ok(), "customers keep other columns as traits");
    let header = ["when".to_string(), "order_id".into(), "colour".into()];
    assert_eq!(m.unused(Kind::Orders, &header), ["colour"]);
    let f = m.apply(Kind::Orders, &row(2, &[("when", "12/01/1997"), ("colour", "red")])).expect("valid");
    assert_eq!(Value::Object(f), json!({"placed_at": "1997-01-12T00:00:00Z"}));
}

#[test]
fn customers_and_events_become_segment_messages() {
    let m = Mapping::default();
    let f = m.apply(Kind::Customers, &row(5, &[("user_id", "c1"), ("email", "a@b.cn"), ("city", "杭州")])).expect("ok");
    let item = Builder::new(Kind::Customers, "k").push(5, f).remove(0);
    assert_eq!(
        item.body,
        json!({"type": "identify", "messageId": "imp-k-5", "userId": "c1", "traits": {"email": "a@b.cn", "city": "杭州"}})
    );
    let f = m
        .apply(
            Kind::Events,
            &row(7, &[("type", "track"), ("event", "Product Viewed"), ("user_id", "c1"), ("sku", "T1")]),
        )
        .expect("ok");
    let item = Builder::new(Kind::Events, "k").push(7, f).remove(0);
    assert_eq!(
        item.body,
        json!({"type": "track", "event": "Product Viewed", "userId": "c1", "properties": {"sku": "T1"}, "messageId": "imp-k-7"})
    );
}

#[test]
fn times_without_a_format_accept_the_usual_shapes() {
    assert_eq!(time("2026-11-11T08:00:00+08:00", None), Ok("2026-11-11T00:00:00Z".into()));
    assert_eq!(time("2026-11-11 08:00:00", None), Ok("2026-11-11T08:00:00Z".into()));
    assert_eq!(time("2026-11-11", None), Ok("2026-11-11T00:00:00Z".into()));
    assert!(time("11/11/2026", None).is_err());
    assert_eq!(time("1997-01-12 10:00 +0800", Some("%Y-%m-%d %H:%M %z")), Ok("1997-01-12T02:00:00Z".into()));
}

#[test]
fn a_bad_line_drops_its_whole_order() {
    let m = Mapping::default();
    let mut b = Builder::new(Kind::Orders, "k");
    let mut items = Vec::new();
    let rows = [(2, "A", "1"), (3, "A", "-1"), (4, "A", "1"), (5, "B", "1")];
    for (line, id, qty) in rows {
        let r = row(line, &[("order_id", id), ("user_id", "u"), ("quantity", qty), ("total", "1")]);
        match m.apply(Kind::Orders, &r) {
            Ok(f) => items.extend(b.push(line, f)),
            Err(_) => b.reject(m.order_id_of(&r)),
        }
    }
    items.extend(b.finish());
    assert_eq!(items.iter().map(|i| i.body["order_id"].clone()).collect::<Vec<_>>(), [json!("B")]);
    assert_eq!(b.dropped, [2, 4], "the good lines of the bad order are reported too");
}
