//! Pure search helpers shared by every backend: reciprocal rank fusion,
//! cosine similarity and metadata filter matching.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::SearchHit;

/// The usual `k` of reciprocal rank fusion (Cormack et al., 2009).
pub const RRF_K: f32 = 60.0;

/// Fuses ranked result lists by reciprocal rank: a hit's score is the sum
/// over the lists of `1 / (k + rank)` (rank starting at 1); the best `top_k`
/// are returned, best first.
///
/// Hits are matched by [`SearchHit::id`]; the first list a hit appears in
/// provides its fields. Ties keep the order of first appearance.
///
/// # Example
///
/// ```
/// use agent_core::knowledge::SearchHit;
/// use agent_core::support::{RRF_K, reciprocal_rank_fusion};
///
/// let hit = |id: &str| SearchHit::new(id, "c", "doc", "text");
/// let lexical = vec![hit("a"), hit("b")];
/// let vector = vec![hit("b"), hit("c")];
/// let fused = reciprocal_rank_fusion(&[lexical, vector], RRF_K, 10);
/// assert_eq!(fused.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(), ["b", "a", "c"]);
/// ```
pub fn reciprocal_rank_fusion(lists: &[Vec<SearchHit>], k: f32, top_k: usize) -> Vec<SearchHit> {
    let mut fused: Vec<SearchHit> = Vec::new();
    let mut position: HashMap<&str, usize> = HashMap::new();
    for list in lists {
        for (rank, hit) in list.iter().enumerate() {
            let contribution = 1.0 / (k + rank as f32 + 1.0);
            match position.get(hit.id.as_str()) {
                Some(&index) => fused[index].score += contribution,
                None => {
                    position.insert(&hit.id, fused.len());
                    fused.push(SearchHit { score: contribution, ..hit.clone() });
                }
            }
        }
    }
    // A stable sort keeps first-appearance order among equal scores.
    fused.sort_by(|a, b| b.score.total_cmp(&a.score));
    fused.truncate(top_k);
    fused
}

/// Cosine similarity of two vectors; 0 when either is all zeros or their
/// lengths differ.
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut norm_a, mut norm_b) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        norm_a += x * x;
        norm_b += y * y;
    }
    if norm_a == 0.0 || norm_b == 0.0 { 0.0 } else { dot / (norm_a.sqrt() * norm_b.sqrt()) }
}

/// Whether metadata satisfies every filter: for each filter key, the
/// metadata's value equals the filter's value, or one of its elements when
/// the filter's value is an array. Numbers compare by value (`1` equals `1.0`).
///
/// # Example
///
/// ```
/// use agent_core::support::matches_filters;
/// use serde_json::json;
///
/// let metadata = json!({"team": "billing", "year": 2024}).as_object().cloned().unwrap();
/// assert!(matches_filters(&metadata, json!({"team": ["billing", "sales"]}).as_object().unwrap()));
/// assert!(!matches_filters(&metadata, json!({"year": 2023}).as_object().unwrap()));
/// ```
pub fn matches_filters(metadata: &Map<String, Value>, filters: &Map<String, Value>) -> bool {
    filters.iter().all(|(key, wanted)| {
        let Some(actual) = metadata.get(key) else { return false };
        match wanted {
            Value::Array(options) => options.iter().any(|option| same_value(actual, option)),
            wanted => same_value(actual, wanted),
        }
    })
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: &str) -> SearchHit {
        SearchHit::new(id, "content", "doc", "text")
    }

    #[test]
    fn fusion_rewards_agreement_and_truncates() {
        let fused = reciprocal_rank_fusion(&[vec![hit("a"), hit("b"), hit("c")], vec![hit("c"), hit("b")]], RRF_K, 2);
        let ids: Vec<_> = fused.iter().map(|h| h.id.as_str()).collect();
        // c (ranks 3 and 1) edges out b (ranks 2 and 2); a appears once.
        assert_eq!(ids, ["c", "b"]);
        assert!((fused[0].score - (1.0 / 63.0 + 1.0 / 61.0)).abs() < 1e-6);
    }

    #[test]
    fn fusion_of_nothing_is_empty() {
        assert!(reciprocal_rank_fusion(&[], RRF_K, 5).is_empty());
        assert!(reciprocal_rank_fusion(&[vec![], vec![]], RRF_K, 5).is_empty());
    }

    #[test]
    fn cosine_handles_zero_and_mismatched_vectors() {
        assert_eq!(cosine_similarity(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine_similarity(&[1.0], &[1.0, 0.0]), 0.0);
        assert!((cosine_similarity(&[1.0, 1.0], &[2.0, 2.0]) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn filters_need_every_key() {
        let metadata = serde_json::json!({"a": 1, "b": "x"}).as_object().cloned().unwrap_or_default();
        let both = serde_json::json!({"a": 1.0, "b": "x"}).as_object().cloned().unwrap_or_default();
        let missing = serde_json::json!({"c": true}).as_object().cloned().unwrap_or_default();
        assert!(matches_filters(&metadata, &both));
        assert!(!matches_filters(&metadata, &missing));
        assert!(matches_filters(&metadata, &Map::new()));
    }
}
