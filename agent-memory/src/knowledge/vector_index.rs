//! In-memory vector indexes: exact (a flat scan) and approximate (IVF:
//! k-means lists, a few probed per query), behind one trait.

use agent_core::support::matches_filters;
use serde_json::{Map, Value};

/// One vector in an index.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexEntry {
    /// The chunk's id.
    pub chunk_id: String,
    /// The chunk's content item.
    pub content_id: String,
    /// The chunk's merged metadata, for filters.
    pub metadata: Map<String, Value>,
    /// The embedding (normalized on insert).
    pub vector: Vec<f32>,
}

/// An in-memory index of chunk vectors searched by cosine similarity.
pub trait VectorIndex: Send + Sync + 'static {
    /// Adds entries.
    fn insert(&mut self, entries: Vec<IndexEntry>);
    /// Removes every entry of a content item.
    fn remove_content(&mut self, content_id: &str);
    /// The best `top_k` chunk ids with their similarity, best first, among entries matching `filters`.
    fn search(&self, query: &[f32], filters: &Map<String, Value>, top_k: usize) -> Vec<(String, f32)>;
    /// Number of entries.
    fn len(&self) -> usize;
    /// Whether the index is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Which in-memory index a store keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IndexKind {
    /// Exact search: every vector is compared.
    #[default]
    Exact,
    /// Approximate search for large collections: vectors are grouped into
    /// about √n k-means lists and only the `probes` nearest lists are
    /// scanned (exact below 1,000 vectors).
    Ivf {
        /// Lists scanned per query; more is slower and more accurate.
        probes: usize,
    },
}

impl IndexKind {
    /// A new empty index of this kind.
    pub fn build(self) -> Box<dyn VectorIndex> {
        match self {
            Self::Exact => Box::new(ExactIndex::default()),
            Self::Ivf { probes } => Box::new(IvfIndex::new(probes)),
        }
    }
}

fn normalize(mut vector: Vec<f32>) -> Vec<f32> {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Keeps the best `top_k` of scored candidates, best first.
fn best(mut scored: Vec<(usize, f32)>, top_k: usize) -> Vec<(usize, f32)> {
    if scored.len() > top_k && top_k > 0 {
        scored.select_nth_unstable_by(top_k - 1, |a, b| b.1.total_cmp(&a.1));
    }
    scored.truncate(top_k);
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
}

/// Exact search over every vector.
#[derive(Debug, Default)]
pub struct ExactIndex {
    entries: Vec<IndexEntry>,
}

impl VectorIndex for ExactIndex {
    fn insert(&mut self, entries: Vec<IndexEntry>) {
        self.entries.extend(entries.into_iter().map(|entry| IndexEntry { vector: normalize(entry.vector), ..entry }));
    }

    fn remove_content(&mut self, content_id: &str) {
        self.entries.retain(|entry| entry.content_id != content_id);
    }

    fn search(&self, query: &[f32], filters: &Map<String, Value>, top_k: usize) -> Vec<(String, f32)> {
        let query = normalize(query.to_vec());
        let scored = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, entry)| filters.is_empty() || matches_filters(&entry.metadata, filters))
            .map(|(index, entry)| (index, dot(&query, &entry.vector)))
            .collect();
        best(scored, top_k).into_iter().map(|(index, score)| (self.entries[index].chunk_id.clone(), score)).collect()
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Below this many vectors an [`IvfIndex`] scans them all.
const IVF_MIN_TRAIN: usize = 1000;
const IVF_SAMPLE: usize = 8192;
const IVF_ITERATIONS: usize = 6;

/// Approximate search with an inverted file of k-means lists.
///
/// The lists are trained on the first 1,000 vectors and retrained each time
/// the index doubles; in between, new vectors join their nearest list.
#[derive(Debug)]
pub struct IvfIndex {
    probes: usize,
    entries: Vec<IndexEntry>,
    centroids: Vec<Vec<f32>>,
    /// Each entry's list.
    assignment: Vec<usize>,
    /// Entry indices per list.
    lists: Vec<Vec<usize>>,
    trained_size: usize,
}

impl IvfIndex {
    /// An empty index scanning `probes` lists per query (at least 1).
    pub fn new(probes: usize) -> Self {
        Self {
            probes: probes.max(1),
            entries: Vec::new(),
            centroids: Vec::new(),
            assignment: Vec::new(),
            lists: Vec::new(),
            trained_size: 0,
        }
    }

    fn nearest(&self, vector: &[f32]) -> usize {
        let mut best = (0, f32::NEG_INFINITY);
        for (list, centroid) in self.centroids.iter().enumerate() {
            let score = dot(vector, centroid);
            if score > best.1 {
                best = (list, score);
            }
        }
        best.0
    }

    fn train(&mut self) {
        let count = ((self.entries.len() as f64).sqrt() as usize).clamp(1, 1024);
        let stride = (self.entries.len() / IVF_SAMPLE).max(1);
        let sample: Vec<&[f32]> = self.entries.iter().step_by(stride).map(|entry| entry.vector.as_slice()).collect();
        let spacing = (sample.len() / count).max(1);
        self.centroids = sample.iter().step_by(spacing).take(count).map(|vector| vector.to_vec()).collect();
        for _ in 0..IVF_ITERATIONS {
            let mut sums = vec![vec![0.0f32; self.centroids[0].len()]; self.centroids.len()];
            for vector in &sample {
                let list = self.nearest(vector);
                sums[list].iter_mut().zip(vector.iter()).for_each(|(sum, x)| *sum += x);
            }
            for (centroid, sum) in self.centroids.iter_mut().zip(sums) {
                // An empty list keeps its old centroid.
                if sum.iter().any(|x| *x != 0.0) {
                    *centroid = normalize(sum);
                }
            }
        }
        self.trained_size = self.entries.len();
        self.assignment = self.entries.iter().map(|entry| self.nearest(&entry.vector)).collect();
        self.rebuild_lists();
    }

    fn rebuild_lists(&mut self) {
        self.lists = vec![Vec::new(); self.centroids.len()];
        for (index, list) in self.assignment.iter().enumerate() {
            self.lists[*list].push(index);
        }
    }
}

impl VectorIndex for IvfIndex {
    fn insert(&mut self, entries: Vec<IndexEntry>) {
        for entry in entries {
            let entry = IndexEntry { vector: normalize(entry.vector), ..entry };
            if !self.centroids.is_empty() {
                let list = self.nearest(&entry.vector);
                self.assignment.push(list);
                self.lists[list].push(self.entries.len());
            }
            self.entries.push(entry);
        }
        let untrained = self.centroids.is_empty() && self.entries.len() >= IVF_MIN_TRAIN;
        if untrained || (self.trained_size > 0 && self.entries.len() >= 2 * self.trained_size) {
            self.train();
        }
    }

    fn remove_content(&mut self, content_id: &str) {
        let keep: Vec<bool> = self.entries.iter().map(|entry| entry.content_id != content_id).collect();
        let mut index = 0;
        self.entries.retain(|_| (keep[index], index += 1).0);
        if !self.centroids.is_empty() {
            let mut index = 0;
            self.assignment.retain(|_| (keep[index], index += 1).0);
            self.rebuild_lists();
        }
    }

    fn search(&self, query: &[f32], filters: &Map<String, Value>, top_k: usize) -> Vec<(String, f32)> {
        let query = normalize(query.to_vec());
        let matches = |entry: &IndexEntry| filters.is_empty() || matches_filters(&entry.metadata, filters);
        let score_all = |indices: &mut dyn Iterator<Item = usize>| -> Vec<(usize, f32)> {
            indices.filter(|i| matches(&self.entries[*i])).map(|i| (i, dot(&query, &self.entries[i].vector))).collect()
        };
        let mut scored = if self.centroids.is_empty() {
            score_all(&mut (0..self.entries.len()))
        } else {
            let lists: Vec<(usize, f32)> =
                self.centroids.iter().enumerate().map(|(list, centroid)| (list, dot(&query, centroid))).collect();
            let probed = best(lists, self.probes);
            score_all(&mut probed.iter().flat_map(|(list, _)| self.lists[*list].iter().copied()))
        };
        // Too few matches in the probed lists (a narrow filter): fall back to exact.
        if scored.len() < top_k && !self.centroids.is_empty() {
            scored = score_all(&mut (0..self.entries.len()));
        }
        best(scored, top_k).into_iter().map(|(index, score)| (self.entries[index].chunk_id.clone(), score)).collect()
    }

    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: usize, vector: Vec<f32>) -> IndexEntry {
        let mut metadata = Map::new();
        metadata.insert("parity".into(), (id % 2).into());
        IndexEntry { chunk_id: format!("c{id}"), content_id: format!("doc{}", id / 100), metadata, vector }
    }

    fn vector(seed: usize) -> Vec<f32> {
        (0..16).map(|d| (((seed * 31 + d * 17) % 97) as f32 / 97.0) - 0.5).collect()
    }

    #[test]
    fn ivf_finds_what_exact_finds_for_stored_vectors() {
        let mut exact = ExactIndex::default();
        let mut ivf = IvfIndex::new(4);
        let entries: Vec<IndexEntry> = (0..3000).map(|i| entry(i, vector(i))).collect();
        exact.insert(entries.clone());
        ivf.insert(entries);
        assert!(!ivf.centroids.is_empty());
        let mut agree = 0;
        for probe in (0..3000).step_by(150) {
            let want = exact.search(&vector(probe), &Map::new(), 1);
            let got = ivf.search(&vector(probe), &Map::new(), 1);
            agree += usize::from(want[0].0 == got[0].0);
        }
        assert!(agree >= 18, "ivf agreed with exact on {agree}/20 queries");
        ivf.remove_content("doc0");
        assert_eq!(ivf.len(), 2900);
        let filters = serde_json::json!({"parity": 1}).as_object().cloned().unwrap_or_default();
        let hits = ivf.search(&vector(7), &filters, 50);
        assert_eq!(hits.len(), 50);
        assert!(hits.iter().all(|(id, _)| id[1..].parse::<usize>().is_ok_and(|n| n % 2 == 1 && n >= 100)));
    }
}
