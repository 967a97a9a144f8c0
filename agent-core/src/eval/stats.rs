//! Summary statistics of a sample: mean, extremes, sample standard deviation, median and 95th percentile.

use serde::{Deserialize, Serialize};

/// Statistics of a sample of numbers; all `None` for an empty sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Stats {
    pub(crate) mean: Option<f64>,
    pub(crate) min: Option<f64>,
    pub(crate) max: Option<f64>,
    /// The sample standard deviation (n − 1); 0 for one value.
    pub(crate) std_dev: Option<f64>,
    pub(crate) median: Option<f64>,
    /// Linear interpolation between the closest ranks.
    pub(crate) p95: Option<f64>,
}

impl Stats {
    pub(crate) fn of(values: &[f64]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let count = values.len() as f64;
        let mean = values.iter().sum::<f64>() / count;
        let std_dev = if values.len() > 1 {
            (values.iter().map(|value| (value - mean).powi(2)).sum::<f64>() / (count - 1.0)).sqrt()
        } else {
            0.0
        };
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Self {
            mean: Some(mean),
            min: sorted.first().copied(),
            max: sorted.last().copied(),
            std_dev: Some(std_dev),
            median: Some(quantile(&sorted, 0.5)),
            p95: Some(quantile(&sorted, 0.95)),
        }
    }
}

/// The `q` quantile of sorted, non-empty values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let weight = position - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * weight
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_samples() {
        assert_eq!(Stats::of(&[]), Stats::default());
        let one = Stats::of(&[3.0]);
        assert_eq!((one.mean, one.std_dev, one.median, one.p95), (Some(3.0), Some(0.0), Some(3.0), Some(3.0)));
        let four = Stats::of(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!((four.mean, four.min, four.max, four.median), (Some(2.5), Some(1.0), Some(4.0), Some(2.5)));
        assert!((four.std_dev.unwrap_or_default() - 1.290_994).abs() < 1e-6, "the sample standard deviation");
        assert!((four.p95.unwrap_or_default() - 3.85).abs() < 1e-9);
    }
}
