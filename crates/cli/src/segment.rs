//! `beacon segment estimate "…"`: how many profiles a condition selects in
//! a running Beacon, and some of them; a condition that does not read is
//! shown with a mark under the place and what was expected there.

use crate::import::Remote;
use crate::import::client::{Answer, Client};
use anyhow::bail;
use serde_json::{Value, json};

#[derive(clap::Subcommand)]
pub enum SegmentAction {
    /// Count the profiles a condition selects now (the text form, docs/SEGMENTS.md).
    Estimate {
        /// The condition, e.g. 'performed "Product Viewed" >= 3 within 30d and not performed "Order Completed" within 30d'.
        text: String,
        /// How many members to name (0 to 100).
        #[arg(long, default_value_t = 5)]
        sample: u32,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        remote: Remote,
    },
}

pub async fn run(action: SegmentAction) -> anyhow::Result<()> {
    let SegmentAction::Estimate { text, sample, json: as_json, remote } = action;
    let client = Client::new(&remote.url, &remote.key)?;
    match client.post_or_refusal("/api/v1/segments/estimate", &json!({"text": text, "sample": sample})).await? {
        Answer::Ok(v) if as_json => println!("{v:#}"),
        Answer::Ok(v) => print!("{}", summary(&v)),
        Answer::Rejected(v) => bail!("{}", refusal(&text, &v)),
    }
    Ok(())
}

/// The estimate as people read it.
fn summary(v: &Value) -> String {
    let (count, profiles) = (v["count"].as_u64().unwrap_or(0), v["profiles"].as_u64().unwrap_or(0));
    let share = if profiles == 0 { 0.0 } else { count as f64 * 100.0 / profiles as f64 };
    let mut out = format!(
        "{count} of {profiles} profiles ({share:.1}%), counted in {} ms\n{}\n",
        v["took_ms"].as_u64().unwrap_or(0),
        v["text"].as_str().unwrap_or("")
    );
    for id in v["sample"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        out.push_str(&format!("  {id}\n"));
    }
    out
}

/// A refusal, with the text and a mark under the place it went wrong.
fn refusal(text: &str, v: &Value) -> String {
    let message = v["error"]["message"].as_str().unwrap_or("refused").to_string();
    match v["error"]["details"]["position"].as_u64() {
        Some(at) => format!("{message}\n  {text}\n  {}^", " ".repeat(width_before(text, at as usize))),
        None => message,
    }
}

/// Columns taken by the first `chars` characters (a CJK character takes two).
fn width_before(text: &str, chars: usize) -> usize {
    text.chars().take(chars).map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

fn is_wide(c: char) -> bool {
    matches!(c as u32, 0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_marks_the_place_under_wide_characters_too() {
        let v = json!({"error": {"message": "at character 8: expected a value", "details": {"position": 7}}});
        // 城 市 (two columns each), space, =, space, ", 上 (two): 10 columns before 海
        let marked = format!("  {}^", " ".repeat(10));
        assert_eq!(refusal(r#"城市 = "上海" x"#, &v).lines().nth(2), Some(marked.as_str()));
        assert_eq!(refusal("a = ", &json!({"error": {"message": "m"}})), "m");
    }
}
