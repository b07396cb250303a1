//! k-means on CDNOW's RFM (as of 1998-07-01, k = 4) against
//! scikit-learn: the inertia Beacon finds is within 1 % of
//! `KMeans(n_clusters=4, n_init=10)` on the same features, which the Python
//! side computes on its own from the raw file (pandas-free: the script is
//! below). scikit-learn comes from the test virtualenv (`scripts/test`
//! installs it into target/py; BEACON_TEST_PYTHON names another).

use beacon_insight::clusters;
use beacon_insight::kmeans::Options;
use beacon_insight::rfm::{self, Customer};
use chrono::NaiveDate;
use std::collections::BTreeMap;
use std::process::Command;

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/cdnow/cdnow_transactions.csv");

const SKLEARN: &str = r#"
import csv, sys, math, datetime
import numpy as np
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler
as_of = datetime.date(1998, 7, 1)
last, n, spend = {}, {}, {}
with open(sys.argv[1]) as f:
    for row in csv.DictReader(f):
        c, d = row["customer_id"], datetime.datetime.strptime(row["date"], "%Y%m%d").date()
        last[c] = max(last.get(c, d), d)
        n[c] = n.get(c, 0) + 1
        spend[c] = spend.get(c, 0.0) + float(row["dollar_value"])
X = np.array([[math.log1p((as_of - last[c]).days), math.log1p(n[c]), math.log1p(max(spend[c], 0.0))] for c in sorted(last)])
X = StandardScaler().fit_transform(X)
for seed in (0, 1, 2):
    print(KMeans(n_clusters=4, n_init=10, random_state=seed).fit(X).inertia_)
"#;

fn python() -> String {
    std::env::var("BEACON_TEST_PYTHON")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/py/bin/python").to_string())
}

fn customers() -> Vec<Customer> {
    let text = std::fs::read_to_string(FILE).expect("CDNOW");
    let mut by: BTreeMap<String, Customer> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let day = NaiveDate::parse_from_str(cols[1], "%Y%m%d").expect("date");
        let (d, c) = cols[3].split_once('.').unwrap_or((cols[3], "0"));
        let cents = d.parse::<i64>().expect("dollars") * 100 + format!("{c:0<2}").parse::<i64>().expect("cents");
        let e = by.entry(cols[0].into()).or_insert(Customer {
            id: cols[0].into(),
            last_order: day,
            orders: 0,
            monetary_minor: 0,
        });
        e.last_order = e.last_order.max(day);
        e.orders += 1;
        e.monetary_minor += cents;
    }
    by.into_values().collect()
}

#[test]
fn cdnow_k4_inertia_is_within_one_percent_of_scikit_learn() {
    let scored = rfm::score(&customers(), "1998-07-01".parse().expect("day"));
    assert_eq!(scored.len(), 23_570);
    let report = clusters::cluster(&scored, 2, &Options::new(4));
    let out = Command::new(python())
        .args(["-c", SKLEARN, FILE])
        .output()
        .expect("run Python with scikit-learn (scripts/test installs it into target/py)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let theirs: Vec<f64> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim().parse().expect("inertia")).collect();
    let best = theirs.iter().copied().fold(f64::INFINITY, f64::min);
    let gap = (report.inertia - best) / best;
    assert!(gap.abs() < 0.01, "Beacon {} vs scikit-learn {theirs:?}: {:.3} %", report.inertia, gap * 100.0);
    assert_eq!(report.clusters.iter().map(|c| c.size).sum::<usize>(), 23_570);
    assert!(report.silhouette > 0.2 && report.silhouette < 1.0, "{}", report.silhouette);
    eprintln!("inertia: Beacon {:.2}, scikit-learn {theirs:?}; silhouette {:.3}", report.inertia, report.silhouette);
    for c in &report.clusters {
        eprintln!(
            "  {} ({}): {} customers, {:.0} days, {:.2} orders, ${:.2}",
            c.name, c.name_zh, c.size, c.recency_days, c.frequency, c.monetary
        );
    }
}

#[test]
fn the_elbow_falls_as_k_grows() {
    let scored = rfm::score(&customers(), "1998-07-01".parse().expect("day"));
    let points = clusters::elbow(&scored, 2, 2..=6, &Options { restarts: 3, ..Options::new(2) });
    assert_eq!(points.iter().map(|p| p.k).collect::<Vec<_>>(), [2, 3, 4, 5, 6]);
    assert!(points.windows(2).all(|w| w[1].inertia < w[0].inertia), "{points:?}");
}
