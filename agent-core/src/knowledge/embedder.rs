//! The `Embedder` trait, and `HashEmbedder`, a deterministic offline embedder.

use async_trait::async_trait;

use super::KnowledgeError;

/// Turns texts into vectors for vector search.
///
/// `agent_memory::knowledge::HttpEmbedder` calls OpenAI-compatible embedding
/// endpoints; [`HashEmbedder`] works offline.
#[async_trait]
pub trait Embedder: Send + Sync + 'static {
    /// The length of every vector this embedder returns.
    fn dimensions(&self) -> usize;

    /// One vector per text, in order.
    ///
    /// # Errors
    ///
    /// [`KnowledgeError::Embedder`] or [`KnowledgeError::Timeout`].
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, KnowledgeError>;
}

/// A deterministic embedder with no model: each word is hashed into one of
/// `dimensions` buckets (the "hashing trick"), and the vector is normalized.
///
/// Texts sharing words get similar vectors, so it is good enough for tests,
/// benchmarks and examples that must run offline; it knows nothing of
/// meaning (synonyms score zero).
///
/// # Example
///
/// ```
/// use agent_core::knowledge::{Embedder, HashEmbedder};
/// use agent_core::support::cosine_similarity;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let embedder = HashEmbedder::new(64);
/// let vectors = embedder.embed(&["red apples".into(), "apples are red".into(), "tax law".into()]).await?;
/// assert!(cosine_similarity(&vectors[0], &vectors[1]) > cosine_similarity(&vectors[0], &vectors[2]));
/// # Ok::<_, agent_core::knowledge::KnowledgeError>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct HashEmbedder {
    dimensions: usize,
}

impl HashEmbedder {
    /// An embedder of `dimensions`-long vectors (at least 1).
    pub fn new(dimensions: usize) -> Self {
        Self { dimensions: dimensions.max(1) }
    }

    /// The vector of one text.
    pub fn embed_one(&self, text: &str) -> Vec<f32> {
        let mut vector = vec![0.0f32; self.dimensions];
        for word in text.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty()) {
            let hash = fnv1a(&word.to_lowercase());
            let bucket = (hash % self.dimensions as u64) as usize;
            let sign = if hash & (1 << 63) == 0 { 1.0 } else { -1.0 };
            vector[bucket] += sign;
        }
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            vector.iter_mut().for_each(|x| *x /= norm);
        }
        vector
    }
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

#[async_trait]
impl Embedder for HashEmbedder {
    fn dimensions(&self) -> usize {
        self.dimensions
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, KnowledgeError> {
        Ok(texts.iter().map(|text| self.embed_one(text)).collect())
    }
}
