//! Knowledge bases on 100,000 chunks: ingestion throughput (chunks/s) and
//! search latency (p50, p99) for lexical, vector and hybrid search, on SQLite
//! (exact and IVF vector index) and on Postgres when `AGENT_TEST_POSTGRES_URL`
//! is set. Prints a table, then runs criterion on the SQLite searches.
//!
//! `KNOWLEDGE_BENCH_CHUNKS` changes the corpus size (default 100,000).

#![cfg_attr(test, allow(dead_code, unused_imports))]

use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_core::knowledge::{HashEmbedder, Knowledge, SearchHit, SearchMode, SearchQuery};
use agent_memory::knowledge::{
    Chunking, ContentInput, ContentQuery, ContentStatus, IndexKind, KnowledgeBase, KnowledgeStore, PostgresKnowledge,
    SqliteKnowledge,
};
use criterion::{Criterion, criterion_group, criterion_main};

const PARAGRAPHS_PER_DOC: usize = 100;
const DIMENSIONS: usize = 256;
const QUERIES: usize = 200;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// A small deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A Zipf-like index below `n`: small indices are much more frequent.
    fn skewed(&mut self, n: usize) -> usize {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((unit * unit * unit) * n as f64) as usize % n
    }
}

/// 4,000 pronounceable words.
fn vocabulary() -> Vec<String> {
    let (consonants, vowels) = ("bdfgklmnprstvz", "aeiou");
    let mut rng = Rng(7);
    (0..4000)
        .map(|_| {
            let syllables = 2 + rng.next() % 2;
            (0..syllables)
                .map(|_| {
                    let c = consonants.as_bytes()[(rng.next() % 14) as usize] as char;
                    let v = vowels.as_bytes()[(rng.next() % 5) as usize] as char;
                    format!("{c}{v}")
                })
                .collect()
        })
        .collect()
}

/// `docs` documents of 100 paragraphs (one chunk each at chunk size 250).
fn corpus(docs: usize, words: &[String]) -> Vec<(String, String, &'static str)> {
    let mut rng = Rng(42);
    let teams = ["billing", "logistics", "care", "legal"];
    (0..docs)
        .map(|doc| {
            let paragraphs: Vec<String> = (0..PARAGRAPHS_PER_DOC)
                .map(|_| {
                    let mut paragraph = String::new();
                    while paragraph.len() < 150 {
                        paragraph.push_str(&words[rng.skewed(words.len())]);
                        paragraph.push(' ');
                    }
                    paragraph.trim_end().to_owned() + "."
                })
                .collect();
            (format!("doc-{doc:05}.txt"), paragraphs.join("\n\n"), teams[doc % teams.len()])
        })
        .collect()
}

fn queries(words: &[String]) -> Vec<String> {
    let mut rng = Rng(99);
    (0..QUERIES)
        .map(|_| (0..3).map(|_| words[50 + rng.skewed(words.len() - 50)].as_str()).collect::<Vec<_>>().join(" "))
        .collect()
}

/// The first 12 words of random stored paragraphs.
fn passage_queries(corpus: &[(String, String, &'static str)]) -> Vec<String> {
    let mut rng = Rng(5);
    (0..QUERIES)
        .map(|_| {
            let (_, text, _) = &corpus[(rng.next() % corpus.len() as u64) as usize];
            let paragraph = text.split("\n\n").nth((rng.next() % PARAGRAPHS_PER_DOC as u64) as usize).unwrap_or("");
            paragraph.split(' ').take(12).collect::<Vec<_>>().join(" ")
        })
        .collect()
}

fn knowledge(store: Arc<dyn KnowledgeStore>) -> KnowledgeBase {
    KnowledgeBase::builder_shared(store)
        .embedder(HashEmbedder::new(DIMENSIONS))
        .chunking(Chunking::recursive(250, 0))
        .embed_batch_size(256)
        .build()
}

/// Ingests the corpus; returns chunks per second.
async fn ingest(kb: &KnowledgeBase, corpus: &[(String, String, &'static str)]) -> f64 {
    let started = Instant::now();
    for (name, text, team) in corpus {
        kb.add(ContentInput::text(name, text.clone()).meta("team", *team)).await.expect("add");
    }
    kb.wait_idle().await;
    let elapsed = started.elapsed();
    let chunks = kb.store().chunk_count(None).await.expect("count");
    let page = kb.list(&ContentQuery::default()).await.expect("list");
    assert!(page.items.iter().all(|item| item.status == ContentStatus::Completed), "every document indexed");
    assert_eq!(chunks as usize, corpus.len() * PARAGRAPHS_PER_DOC, "one chunk per paragraph");
    chunks as f64 / elapsed.as_secs_f64()
}

struct Latency {
    p50: Duration,
    p99: Duration,
    mean: Duration,
}

async fn latency(kb: &KnowledgeBase, mode: SearchMode, queries: &[String]) -> (Latency, Vec<Vec<SearchHit>>) {
    // The first search may load an index: not counted.
    kb.search(&SearchQuery::new(&queries[0]).mode(mode).top_k(10)).await.expect("warm-up");
    let mut times = Vec::with_capacity(queries.len());
    let mut results = Vec::with_capacity(queries.len());
    for query in queries {
        let started = Instant::now();
        let hits = kb.search(&SearchQuery::new(query).mode(mode).top_k(10)).await.expect("search");
        times.push(started.elapsed());
        results.push(hits);
    }
    times.sort();
    let at = |quantile: f64| times[((times.len() as f64 * quantile) as usize).min(times.len() - 1)];
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    (Latency { p50: at(0.50), p99: at(0.99), mean }, results)
}

/// Share of exact top-10 ids an approximate search also returned.
fn recall(exact: &[Vec<SearchHit>], approximate: &[Vec<SearchHit>]) -> f64 {
    let (mut found, mut total) = (0usize, 0usize);
    for (want, got) in exact.iter().zip(approximate) {
        total += want.len();
        found += want.iter().filter(|hit| got.iter().any(|other| other.id == hit.id)).count();
    }
    found as f64 / total.max(1) as f64
}

fn row(backend: &str, mode: &str, latency: &Latency, note: &str) {
    println!(
        "| {backend:<18} | {mode:<8} | {:>9.2} | {:>9.2} | {:>9.2} | {note}",
        latency.p50.as_secs_f64() * 1e3,
        latency.p99.as_secs_f64() * 1e3,
        latency.mean.as_secs_f64() * 1e3
    );
}

fn bench_knowledge(c: &mut Criterion) {
    let runtime = runtime();
    let chunks: usize = std::env::var("KNOWLEDGE_BENCH_CHUNKS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let docs = (chunks / PARAGRAPHS_PER_DOC).max(1);
    let words = vocabulary();
    let corpus = corpus(docs, &words);
    let queries = queries(&words);
    let dir = std::env::temp_dir().join(format!("knowledge-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    let (sqlite, ivf) = runtime.block_on(async {
        let store = SqliteKnowledge::open(dir.join("kb.db")).await.expect("open");
        let pool = store.pool().clone();
        let kb = knowledge(Arc::new(store));
        let rate = ingest(&kb, &corpus).await;
        println!("\nknowledge: {} chunks, {DIMENSIONS}-dimension hash embeddings", docs * PARAGRAPHS_PER_DOC);
        println!("ingestion SQLite: {rate:.0} chunks/s (read, chunk, embed, insert, FTS5 index)");
        let ivf_store = SqliteKnowledge::with_pool(pool, "agent_knowledge", IndexKind::Ivf { probes: 32 }).await;
        (kb, knowledge(Arc::new(ivf_store.expect("ivf store"))))
    });

    println!("| backend            | mode     |  p50 (ms) |  p99 (ms) | mean (ms) |");
    println!("|--------------------|----------|-----------|-----------|-----------|");
    runtime.block_on(async {
        let (lexical, _) = latency(&sqlite, SearchMode::Lexical, &queries).await;
        row("SQLite", "lexical", &lexical, "FTS5 BM25");
        let (vector, exact) = latency(&sqlite, SearchMode::Vector, &queries).await;
        row("SQLite", "vector", &vector, "exact, in-memory");
        let (hybrid, _) = latency(&sqlite, SearchMode::Hybrid, &queries).await;
        row("SQLite", "hybrid", &hybrid, "RRF of 40 + 40");
        let started = Instant::now();
        ivf.search(&SearchQuery::new("warm").mode(SearchMode::Vector)).await.expect("ivf load");
        let load = started.elapsed();
        let (vector, approximate) = latency(&ivf, SearchMode::Vector, &queries).await;
        let note = format!(
            "IVF 32 probes, recall@10 {:.2}, built in {:.1}s",
            recall(&exact, &approximate),
            load.as_secs_f64()
        );
        row("SQLite IVF", "vector", &vector, &note);
        let (hybrid, _) = latency(&ivf, SearchMode::Hybrid, &queries).await;
        row("SQLite IVF", "hybrid", &hybrid, "");
        // Queries copied from stored passages, as real questions sit near their answers.
        let near = passage_queries(&corpus);
        let (_, exact) = latency(&sqlite, SearchMode::Vector, &near).await;
        let (vector, approximate) = latency(&ivf, SearchMode::Vector, &near).await;
        let note = format!("passage-like queries, recall@10 {:.2}", recall(&exact, &approximate));
        row("SQLite IVF", "vector", &vector, &note);
    });

    if let Ok(url) = std::env::var("AGENT_TEST_POSTGRES_URL") {
        runtime.block_on(async {
            let pool = sqlx_pool(&url).await;
            let prefix = format!("bench_{}", std::process::id());
            let store = PostgresKnowledge::with_pool(pool.clone(), &prefix).await.expect("postgres store");
            let vector_kind = if store.uses_pgvector() { "pgvector" } else { "real[] scan" };
            let kb = knowledge(Arc::new(store));
            let rate = ingest(&kb, &corpus).await;
            println!("ingestion Postgres: {rate:.0} chunks/s");
            let few = &queries[..20];
            let (lexical, _) = latency(&kb, SearchMode::Lexical, &queries).await;
            row("Postgres", "lexical", &lexical, "tsvector, ts_rank_cd");
            let (vector, _) = latency(&kb, SearchMode::Vector, few).await;
            row("Postgres", "vector", &vector, &format!("exact, {vector_kind}, 20 queries"));
            let (hybrid, _) = latency(&kb, SearchMode::Hybrid, few).await;
            row("Postgres", "hybrid", &hybrid, "20 queries");
            let in_memory = PostgresKnowledge::with_pool(pool.clone(), &prefix).await.expect("postgres store");
            let kb = knowledge(Arc::new(in_memory.index_kind(IndexKind::Exact)));
            let started = Instant::now();
            kb.search(&SearchQuery::new("warm").mode(SearchMode::Vector)).await.expect("index load");
            let load = started.elapsed().as_secs_f64();
            let (vector, _) = latency(&kb, SearchMode::Vector, &queries).await;
            row("Postgres in-memory", "vector", &vector, &format!("exact, loaded in {load:.1}s"));
            let (hybrid, _) = latency(&kb, SearchMode::Hybrid, &queries).await;
            row("Postgres in-memory", "hybrid", &hybrid, "");
            for table in ["chunks", "content", "generation"] {
                let sql = format!("DROP TABLE IF EXISTS {prefix}_{table}");
                agent_memory::sqlx::query(agent_memory::sqlx::AssertSqlSafe(sql)).execute(&pool).await.ok();
            }
            agent_memory::sqlx::query("DELETE FROM knowledge_schema_version WHERE table_prefix = $1")
                .bind(&prefix)
                .execute(&pool)
                .await
                .ok();
        });
    }

    let mut group = c.benchmark_group("knowledge_search");
    group.sample_size(20).measurement_time(Duration::from_secs(5));
    for (name, kb, mode) in [
        ("sqlite_lexical", &sqlite, SearchMode::Lexical),
        ("sqlite_vector_exact", &sqlite, SearchMode::Vector),
        ("sqlite_hybrid_exact", &sqlite, SearchMode::Hybrid),
        ("sqlite_vector_ivf", &ivf, SearchMode::Vector),
    ] {
        let mut next = queries.iter().cycle();
        group.bench_function(name, |b| {
            b.iter(|| {
                let query = SearchQuery::new(next.next().map_or("", String::as_str)).mode(mode).top_k(10);
                runtime.block_on(kb.search(&query)).expect("search")
            });
        });
    }
    group.finish();
    std::fs::remove_dir_all(&dir).ok();
}

async fn sqlx_pool(url: &str) -> agent_memory::sqlx::PgPool {
    agent_memory::sqlx::postgres::PgPoolOptions::new().max_connections(4).connect(url).await.expect("postgres")
}

criterion_group!(benches, bench_knowledge);
criterion_main!(benches);
