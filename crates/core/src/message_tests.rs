use super::*;

static RULES: std::sync::LazyLock<crate::extract::IdentityRules> = std::sync::LazyLock::new(Default::default);

fn check(json: &str, kind: Option<MessageKind>) -> Result<IncomingMessage, Error> {
    let raw: Box<RawValue> = serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
    let env = Envelope {
        received_at: parse_time("2026-01-01T00:00:10Z", "t")?,
        sent_at: None,
        kind,
        generated_id: &|| "gen-1".to_string(),
        live: true,
        identities: Some(&RULES),
    };
    validate(&raw, &env)
}

fn code(json: &str) -> Option<ErrorCode> {
    check(json, None).err().map(|e| e.code)
}

#[test]
fn a_track_keeps_its_raw_payload_and_ids() {
    let json = r#"{"type":"track","event":"Product Viewed","userId":42,"anonymousId":null,"messageId":"m1","properties":{"总额":"¥9"}}"#;
    let m = check(json, None).ok();
    let m = m.as_ref();
    assert_eq!(m.map(|m| m.kind), Some(MessageKind::Track));
    assert_eq!(m.and_then(|m| m.user_id.as_deref()), Some("42"));
    assert_eq!(m.and_then(|m| m.anonymous_id.as_deref()), None);
    assert_eq!(m.map(|m| m.payload.as_str()), Some(json));
}

#[test]
fn an_order_the_processor_could_not_read_is_refused_at_ingest() {
    let order =
        |props: &str| format!(r#"{{"type":"track","event":"Order Completed","userId":"u","properties":{props}}}"#);
    assert!(check(&order(r#"{"order_id":"o1","total":"9.90"}"#), None).is_ok());
    assert_eq!(code(&order(r#"{"total":9.9}"#)), Some(ErrorCode::InvalidOrder));
    assert_eq!(code(&order(r#"{"order_id":"o1","total":-1}"#)), Some(ErrorCode::InvalidOrder));
    // the same properties under another event name are the client's own business
    assert!(check(r#"{"type":"track","event":"Order Viewed","userId":"u","properties":{"total":-1}}"#, None).is_ok());
}

#[test]
fn clock_skew_is_corrected_from_sent_at() {
    // The device clock is 1 hour fast: sent "at 01:00:10" but received at 00:00:10.
    let json =
        r#"{"type":"page","anonymousId":"a","timestamp":"2026-01-01T01:00:05Z","sentAt":"2026-01-01T01:00:10Z"}"#;
    let m = check(json, None).ok();
    assert_eq!(m.map(|m| m.timestamp.to_rfc3339()).as_deref(), Some("2026-01-01T00:00:05+00:00"));
}

#[test]
fn batch_context_fills_in_what_a_message_lacks() {
    let ctx = serde_json::json!({"library": {"name": "batch"}, "ip": "1.2.3.4"});
    let ctx = ctx.as_object();
    let out = apply_batch_defaults(r#"{"type":"track","context":{"ip":"9.9.9.9"}}"#, ctx, None);
    let v: serde_json::Value = out.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
    assert_eq!(v["context"], serde_json::json!({"ip": "9.9.9.9", "library": {"name": "batch"}}));
    assert_eq!(apply_batch_defaults(r#"{"type":"track"}"#, None, None), None);
}

#[test]
fn nul_characters_anywhere_are_refused_because_postgres_cannot_store_them() {
    assert_eq!(code(r#"{"type":"identify","userId":"u","traits":{"name":"a\u0000b"}}"#), Some(ErrorCode::InvalidEvent));
    assert_eq!(code(r#"{"type":"identify","userId":"u","traits":{"a\u0000":1}}"#), Some(ErrorCode::InvalidEvent));
    assert!(check(r#"{"type":"identify","userId":"u","traits":{"path":"C:\\u0000dir"}}"#, None).is_ok());
}

#[test]
fn missing_message_id_uses_the_generated_one() {
    let m = check(r#"{"anonymousId":"a"}"#, Some(MessageKind::Identify)).ok();
    assert_eq!(m.map(|m| m.message_id).as_deref(), Some("gen-1"));
}

#[test]
fn bad_messages_get_precise_codes() {
    assert_eq!(code(r#"{"type":"track","event":"x"}"#), Some(ErrorCode::MissingIdentity));
    assert_eq!(code(r#"{"type":"track","userId":"u"}"#), Some(ErrorCode::InvalidEvent));
    assert_eq!(code(r#"{"type":"nope","userId":"u"}"#), Some(ErrorCode::InvalidEvent));
    assert_eq!(code(r#"{"userId":"u"}"#), Some(ErrorCode::InvalidEvent));
    assert_eq!(code(r#"{"type":"identify","userId":{"a":1}}"#), Some(ErrorCode::InvalidEvent));
    assert_eq!(code(r#"{"type":"identify","userId":"u","traits":[1]}"#), Some(ErrorCode::InvalidEvent));
    assert_eq!(code(r#"{"type":"identify","userId":"u","timestamp":"yesterday"}"#), Some(ErrorCode::InvalidTimestamp));
    assert_eq!(code(r#"{"type":"alias","userId":"u"}"#), Some(ErrorCode::InvalidEvent));
    assert_eq!(code(r#"{"type":"group","userId":"u"}"#), Some(ErrorCode::InvalidEvent));
    assert_eq!(code("[1]"), Some(ErrorCode::InvalidEvent));
    assert_eq!(code(r#"{"type":"identify","userId":12345678901234567890123}"#), Some(ErrorCode::InvalidEvent));
    assert_eq!(code(r#"{"type":"identify","userId":1.5}"#), Some(ErrorCode::InvalidEvent));
    assert_eq!(
        code(r#"{"type":"track","event":"e","userId":"u","messageId":"a\u0000b"}"#),
        Some(ErrorCode::InvalidEvent)
    );
    assert_eq!(code(r#"{"type":"track","event":"e\u0007","userId":"u"}"#), Some(ErrorCode::InvalidEvent));
    assert_eq!(
        code(r#"{"type":"page","anonymousId":"a","properties":{"title":"\ud83d"}}"#),
        Some(ErrorCode::InvalidEvent)
    );
    assert!(check(r#"{"type":"page","anonymousId":"a","properties":{"title":"\ud83d\ude00 \u4e2d"}}"#, None).is_ok());
    let big = format!(
        r#"{{"type":"track","event":"e","userId":"u","properties":{{"p":"{}"}}}}"#,
        "x".repeat(MAX_EVENT_BYTES)
    );
    assert_eq!(code(&big), Some(ErrorCode::PayloadTooLarge));
}

#[test]
fn times_no_clock_could_have_meant_are_refused() {
    // received at 2026-01-01T00:00:10Z
    let at = |t: &str| format!(r#"{{"type":"track","event":"e","userId":"u","timestamp":"{t}"}}"#);
    assert_eq!(code(&at("1970-01-01T00:00:00Z")), Some(ErrorCode::InvalidTimestamp));
    assert_eq!(code(&at("1999-12-31T23:59:59Z")), Some(ErrorCode::InvalidTimestamp));
    assert_eq!(code(&at("2000-01-01T00:00:00Z")), None);
    assert_eq!(code(&at("2026-01-02T00:00:10Z")), None, "a day ahead is a clock a little off");
    assert_eq!(code(&at("2026-01-02T00:00:11Z")), Some(ErrorCode::InvalidTimestamp));
    // a sender whose clock runs a year ahead is corrected by its sentAt, not refused
    let skewed = r#"{"type":"track","event":"e","userId":"u","timestamp":"2027-01-01T00:00:00Z","sentAt":"2027-01-01T00:00:05Z"}"#;
    assert_eq!(
        check(skewed, None).map(|m| m.timestamp.to_rfc3339()).ok().as_deref(),
        Some("2026-01-01T00:00:05+00:00")
    );
    // history (an import) may be older than 2000, not older than 1970-01-02
    let history = |json: &str| {
        let raw: Box<RawValue> = serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
        let received_at = parse_time("2026-01-01T00:00:10Z", "t")?;
        let env = Envelope {
            received_at,
            sent_at: None,
            kind: None,
            generated_id: &|| "g".into(),
            live: false,
            identities: None,
        };
        validate(&raw, &env)
    };
    assert!(history(&at("1997-01-01T00:00:00Z")).is_ok());
    assert_eq!(history(&at("1970-01-01T00:00:00Z")).err().map(|e| e.code), Some(ErrorCode::InvalidTimestamp));
}

#[test]
fn an_identity_that_cannot_be_read_refuses_the_message() {
    let bad = [
        r#"{"type":"identify","userId":"u","traits":{"email":"not-an-email"}}"#,
        r#"{"type":"identify","userId":"u","traits":{"phone":"call me"}}"#,
        r#"{"type":"track","event":"e","userId":"u","context":{"traits":{"email":"@"}}}"#,
    ];
    for json in bad {
        let e = check(json, None).expect_err(json);
        assert_eq!(e.code, ErrorCode::InvalidIdentity, "{json}");
        assert!(e.message.starts_with("email") || e.message.starts_with("phone"), "{}", e.message);
    }
    let fine =
        r#"{"type":"identify","userId":"u","traits":{"email":" Li@Example.com ","phone":"138 0013 8000","name":"李"}}"#;
    assert!(check(fine, None).is_ok());
}
