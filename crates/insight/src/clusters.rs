//! Customers clustered on their RFM: the features are `ln(1 + x)` of
//! recency days, frequency and monetary (major units, at least 0), each
//! scaled to mean 0 and deviation 1; k-means on them ([`crate::kmeans`]).
//! Each cluster is reported in business terms — its members' mean recency,
//! frequency and spend — with a suggested name, and the elbow (inertia by
//! k) and silhouette figures help choose k.

use crate::kmeans::{self, Clustering, Options};
use crate::rfm::Scored;
use serde::Serialize;

/// The three features of each customer, before scaling.
pub fn features(customers: &[Scored], exponent: u8) -> Vec<Vec<f64>> {
    let scale = 10f64.powi(i32::from(exponent));
    customers
        .iter()
        .map(|c| {
            vec![
                (c.recency_days.max(0) as f64).ln_1p(),
                (c.frequency as f64).ln_1p(),
                (c.monetary_minor.max(0) as f64 / scale).ln_1p(),
            ]
        })
        .collect()
}

/// One cluster as a marketer reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cluster {
    pub size: usize,
    /// Its centre in the scaled features.
    pub centroid: Vec<f64>,
    /// Its members' means.
    pub recency_days: f64,
    pub frequency: f64,
    /// In major units.
    pub monetary: f64,
    /// A suggested name (see [`names`]).
    pub name: &'static str,
    pub name_zh: &'static str,
}

/// A clustering of customers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub k: usize,
    /// Sum of squared distances to the centres, in the scaled features.
    pub inertia: f64,
    /// Mean silhouette over a sample.
    pub silhouette: f64,
    pub clusters: Vec<Cluster>,
    /// Each customer's cluster, in the order given.
    #[serde(skip)]
    pub labels: Vec<usize>,
}

/// Points a silhouette is figured over (it is quadratic in them).
pub const SILHOUETTE_SAMPLE: usize = 2000;

/// Clusters `customers` (their monetary in minor units of `exponent` digits).
pub fn cluster(customers: &[Scored], exponent: u8, opts: &Options) -> Report {
    let (points, ..) = kmeans::standardize(&features(customers, exponent));
    let c = kmeans::kmeans(&points, opts);
    report(customers, exponent, &points, c, opts)
}

fn report(customers: &[Scored], exponent: u8, points: &[Vec<f64>], c: Clustering, opts: &Options) -> Report {
    let k = c.centroids.len();
    let scale = 10f64.powi(i32::from(exponent));
    let mut sums = vec![(0.0, 0.0, 0.0); k];
    for (s, &l) in customers.iter().zip(&c.labels) {
        sums[l].0 += s.recency_days as f64;
        sums[l].1 += s.frequency as f64;
        sums[l].2 += s.monetary_minor as f64 / scale;
    }
    let named = names(&c.centroids);
    let clusters = (0..k)
        .map(|i| {
            let size = c.sizes[i].max(1) as f64;
            Cluster {
                size: c.sizes[i],
                centroid: c.centroids[i].clone(),
                recency_days: sums[i].0 / size,
                frequency: sums[i].1 / size,
                monetary: sums[i].2 / size,
                name: named[i].0,
                name_zh: named[i].1,
            }
        })
        .collect();
    let silhouette = kmeans::silhouette(points, &c.labels, k, SILHOUETTE_SAMPLE, opts.seed);
    Report { k, inertia: c.inertia, silhouette, clusters, labels: c.labels }
}

/// Suggested names of clusters by their centres (scaled recency,
/// frequency, monetary), ranked by value `−recency + frequency + monetary`:
/// the most valuable `core` (核心高价值), the least `dormant` (沉睡), and
/// between them `growing` (成长中) when more recent than average, else
/// `cooling` (流失风险).
pub fn names(centroids: &[Vec<f64>]) -> Vec<(&'static str, &'static str)> {
    let value = |c: &Vec<f64>| -c[0] + c[1] + c[2];
    let mut order: Vec<usize> = (0..centroids.len()).collect();
    order.sort_by(|a, b| value(&centroids[*b]).total_cmp(&value(&centroids[*a])));
    let mut out = vec![("", ""); centroids.len()];
    for (rank, &i) in order.iter().enumerate() {
        out[i] = if rank == 0 {
            ("core", "核心高价值")
        } else if rank + 1 == order.len() {
            ("dormant", "沉睡")
        } else if centroids[i][0] < 0.0 {
            ("growing", "成长中")
        } else {
            ("cooling", "流失风险")
        };
    }
    out
}

/// Inertia and silhouette for each k of `ks`, to choose k by.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ElbowPoint {
    pub k: usize,
    pub inertia: f64,
    pub silhouette: f64,
}

pub fn elbow(
    customers: &[Scored],
    exponent: u8,
    ks: std::ops::RangeInclusive<usize>,
    opts: &Options,
) -> Vec<ElbowPoint> {
    let (points, ..) = kmeans::standardize(&features(customers, exponent));
    ks.map(|k| {
        let o = Options { k, ..*opts };
        let c = kmeans::kmeans(&points, &o);
        let silhouette = kmeans::silhouette(&points, &c.labels, k, SILHOUETTE_SAMPLE, opts.seed);
        ElbowPoint { k, inertia: c.inertia, silhouette }
    })
    .collect()
}
