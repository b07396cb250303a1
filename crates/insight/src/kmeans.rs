//! k-means clustering: k-means++ seeding (greedy, as scikit-learn does:
//! `2 + ⌊ln k⌋` candidates per centre, the one that lowers the potential
//! most), Lloyd's iterations until the centres move less than `tol` (in
//! squared distance, relative to the mean variance of the features), empty
//! clusters given the point farthest from its centre, and several restarts
//! from a seed keeping the lowest inertia. Deterministic for a seed.
//!
//! Statistics, not money: features are `f64`.

use beacon_core::seeded::Rng;

/// How to cluster.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    pub k: usize,
    /// Restarts (scikit-learn's `n_init`); the lowest inertia wins.
    pub restarts: usize,
    pub max_iterations: usize,
    /// Convergence: the centres' squared movement at most `tol` × the mean variance of the features.
    pub tol: f64,
    pub seed: u64,
}

impl Options {
    pub fn new(k: usize) -> Options {
        Options { k, restarts: 10, max_iterations: 300, tol: 1e-4, seed: 0 }
    }
}

/// A clustering of points.
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    /// Sum of squared distances of points to their centres.
    pub inertia: f64,
    /// Each point's cluster.
    pub labels: Vec<usize>,
    pub centroids: Vec<Vec<f64>>,
    pub sizes: Vec<usize>,
    /// Lloyd iterations of the run kept.
    pub iterations: usize,
}

fn distance2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The mean variance of the features (population variance).
fn mean_variance(points: &[Vec<f64>]) -> f64 {
    let (n, d) = (points.len() as f64, points.first().map_or(0, Vec::len));
    if d == 0 || points.is_empty() {
        return 0.0;
    }
    (0..d)
        .map(|j| {
            let mean = points.iter().map(|p| p[j]).sum::<f64>() / n;
            points.iter().map(|p| (p[j] - mean) * (p[j] - mean)).sum::<f64>() / n
        })
        .sum::<f64>()
        / d as f64
}

/// Clusters `points` (all of one dimension) into `opts.k` clusters. Fewer
/// points than clusters: each point its own cluster.
pub fn kmeans(points: &[Vec<f64>], opts: &Options) -> Clustering {
    let k = opts.k.max(1).min(points.len().max(1));
    if points.is_empty() {
        return Clustering {
            inertia: 0.0,
            labels: Vec::new(),
            centroids: Vec::new(),
            sizes: Vec::new(),
            iterations: 0,
        };
    }
    let tol = opts.tol * mean_variance(points);
    let mut rng = Rng::new(opts.seed);
    let mut best: Option<Clustering> = None;
    for _ in 0..opts.restarts.max(1) {
        let centres = seed_plus_plus(points, k, &mut rng);
        let run = lloyd(points, centres, opts.max_iterations, tol);
        if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
            best = Some(run);
        }
    }
    best.unwrap_or_else(|| lloyd(points, vec![points[0].clone()], 1, tol))
}

/// Greedy k-means++: each next centre is the best of `2 + ⌊ln k⌋`
/// candidates drawn with probability proportional to their squared distance.
fn seed_plus_plus(points: &[Vec<f64>], k: usize, rng: &mut Rng) -> Vec<Vec<f64>> {
    let n = points.len();
    let trials = 2 + (k as f64).ln().floor() as usize;
    let mut centres = vec![points[rng.below(n as u64) as usize].clone()];
    let mut closest: Vec<f64> = points.iter().map(|p| distance2(p, &centres[0])).collect();
    while centres.len() < k {
        let total: f64 = closest.iter().sum();
        let mut best: Option<(f64, usize, Vec<f64>)> = None;
        for _ in 0..trials {
            let candidate = if total > 0.0 {
                let mut target = rng.unit() * total;
                let mut chosen = n - 1;
                for (i, d) in closest.iter().enumerate() {
                    target -= d;
                    if target < 0.0 {
                        chosen = i;
                        break;
                    }
                }
                chosen
            } else {
                rng.below(n as u64) as usize
            };
            let with: Vec<f64> =
                points.iter().zip(&closest).map(|(p, c)| c.min(distance2(p, &points[candidate]))).collect();
            let potential: f64 = with.iter().sum();
            if best.as_ref().is_none_or(|(b, ..)| potential < *b) {
                best = Some((potential, candidate, with));
            }
        }
        let Some((_, chosen, with)) = best else { break };
        centres.push(points[chosen].clone());
        closest = with;
    }
    centres
}

fn lloyd(points: &[Vec<f64>], mut centres: Vec<Vec<f64>>, max_iterations: usize, tol: f64) -> Clustering {
    let (k, d) = (centres.len(), points[0].len());
    let mut labels = vec![0usize; points.len()];
    let mut iterations = 0;
    for _ in 0..max_iterations.max(1) {
        iterations += 1;
        assign(points, &centres, &mut labels);
        let mut sums = vec![vec![0.0; d]; k];
        let mut counts = vec![0usize; k];
        for (p, &l) in points.iter().zip(&labels) {
            counts[l] += 1;
            sums[l].iter_mut().zip(p).for_each(|(s, x)| *s += x);
        }
        let mut moved = 0.0;
        for c in 0..k {
            let next: Vec<f64> = if counts[c] == 0 {
                // an empty cluster takes the point farthest from its centre
                let far = farthest(points, &centres, &labels);
                points[far].clone()
            } else {
                sums[c].iter().map(|s| s / counts[c] as f64).collect()
            };
            moved += distance2(&next, &centres[c]);
            centres[c] = next;
        }
        if moved <= tol {
            break;
        }
    }
    assign(points, &centres, &mut labels);
    let inertia = points.iter().zip(&labels).map(|(p, &l)| distance2(p, &centres[l])).sum();
    let mut sizes = vec![0; k];
    labels.iter().for_each(|&l| sizes[l] += 1);
    Clustering { inertia, labels, centroids: centres, sizes, iterations }
}

fn assign(points: &[Vec<f64>], centres: &[Vec<f64>], labels: &mut [usize]) {
    for (p, label) in points.iter().zip(labels.iter_mut()) {
        let mut best = (f64::INFINITY, 0);
        for (c, centre) in centres.iter().enumerate() {
            let d = distance2(p, centre);
            if d < best.0 {
                best = (d, c);
            }
        }
        *label = best.1;
    }
}

fn farthest(points: &[Vec<f64>], centres: &[Vec<f64>], labels: &[usize]) -> usize {
    let mut best = (f64::NEG_INFINITY, 0);
    for (i, (p, &l)) in points.iter().zip(labels).enumerate() {
        let d = distance2(p, &centres[l]);
        if d > best.0 {
            best = (d, i);
        }
    }
    best.1
}

/// Features scaled to mean 0 and (population) standard deviation 1, as
/// scikit-learn's `StandardScaler`; a constant feature becomes 0. Returns
/// the scaled points and each feature's mean and deviation.
pub fn standardize(points: &[Vec<f64>]) -> (Vec<Vec<f64>>, Vec<f64>, Vec<f64>) {
    let (n, d) = (points.len() as f64, points.first().map_or(0, Vec::len));
    let mut means = vec![0.0; d];
    let mut sds = vec![0.0; d];
    for j in 0..d {
        means[j] = points.iter().map(|p| p[j]).sum::<f64>() / n.max(1.0);
        let var = points.iter().map(|p| (p[j] - means[j]).powi(2)).sum::<f64>() / n.max(1.0);
        sds[j] = var.sqrt();
    }
    let scaled = points
        .iter()
        .map(|p| (0..d).map(|j| if sds[j] > 0.0 { (p[j] - means[j]) / sds[j] } else { 0.0 }).collect())
        .collect();
    (scaled, means, sds)
}

/// The mean silhouette coefficient of a clustering of `points` (−1 to 1;
/// higher: better separated), over at most `sample` points drawn with
/// `seed` (all of them if fewer): each point's `(b − a) / max(a, b)`, `a`
/// its mean distance to its own cluster, `b` to the nearest other one.
pub fn silhouette(points: &[Vec<f64>], labels: &[usize], k: usize, sample: usize, seed: u64) -> f64 {
    let n = points.len();
    if n < 2 || k < 2 {
        return 0.0;
    }
    let chosen: Vec<usize> = if n <= sample {
        (0..n).collect()
    } else {
        let mut rng = Rng::new(seed);
        let mut idx: Vec<usize> = (0..n).collect();
        for i in 0..sample {
            let j = i + rng.below((n - i) as u64) as usize;
            idx.swap(i, j);
        }
        idx.truncate(sample);
        idx
    };
    let mut total = 0.0;
    for &i in &chosen {
        let mut sum = vec![0.0; k];
        let mut count = vec![0usize; k];
        for &j in &chosen {
            if i != j {
                sum[labels[j]] += distance2(&points[i], &points[j]).sqrt();
                count[labels[j]] += 1;
            }
        }
        let own = labels[i];
        if count[own] == 0 {
            continue; // a point alone in its cluster scores 0
        }
        let a = sum[own] / count[own] as f64;
        let b = (0..k)
            .filter(|&c| c != own && count[c] > 0)
            .map(|c| sum[c] / count[c] as f64)
            .fold(f64::INFINITY, f64::min);
        if b.is_finite() {
            total += (b - a) / a.max(b);
        }
    }
    total / chosen.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_blobs_are_found_and_the_seed_decides_the_run() {
        let mut rng = Rng::new(3);
        let mut points = Vec::new();
        for (cx, cy) in [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0)] {
            for _ in 0..100 {
                points.push(vec![cx + rng.unit() - 0.5, cy + rng.unit() - 0.5]);
            }
        }
        let c = kmeans(&points, &Options::new(3));
        let mut sizes = c.sizes.clone();
        sizes.sort_unstable();
        assert_eq!(sizes, [100, 100, 100]);
        // uniform noise of width 1 in two dimensions: 1/12 per coordinate a point
        assert!((c.inertia / 300.0 - 2.0 / 12.0).abs() < 0.03, "{}", c.inertia);
        assert_eq!(kmeans(&points, &Options::new(3)), c, "the same seed, the same run");
        assert!(silhouette(&points, &c.labels, 3, 1000, 1) > 0.9);
        let one = kmeans(&points, &Options::new(1));
        assert!(one.inertia > c.inertia * 100.0);
    }

    #[test]
    fn odd_inputs_give_answers_not_panics() {
        assert!(kmeans(&[], &Options::new(3)).labels.is_empty());
        let same = vec![vec![1.0, 1.0]; 5];
        let c = kmeans(&same, &Options::new(3));
        assert_eq!((c.inertia, c.labels.len()), (0.0, 5));
        let two = kmeans(&[vec![0.0], vec![1.0]], &Options::new(5));
        assert_eq!(two.centroids.len(), 2);
        let (scaled, _, sds) = standardize(&same);
        assert!(scaled.iter().flatten().all(|x| *x == 0.0) && sds == [0.0, 0.0]);
    }
}
