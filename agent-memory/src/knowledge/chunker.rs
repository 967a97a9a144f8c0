//! Chunking strategies: fixed size with overlap, recursive (paragraphs,
//! sentences, words) and Markdown-aware (by headings).

use agent_core::knowledge::KnowledgeError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use text_splitter::{ChunkConfig, MarkdownSplitter, TextSplitter};

use super::reader::{Document, ReaderKind};

/// The default chunk size, in characters.
pub const DEFAULT_CHUNK_SIZE: usize = 1000;

/// How text is cut into chunks. Sizes and overlaps count characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "strategy", rename_all = "snake_case")]
pub enum Chunking {
    /// Windows of `size` characters, each starting `size - overlap` after the previous one.
    FixedSize {
        /// Characters per chunk.
        size: usize,
        /// Characters shared by consecutive chunks.
        overlap: usize,
    },
    /// The largest pieces that fit, cutting at paragraphs first, then lines,
    /// sentences and words (`text-splitter`).
    Recursive {
        /// Most characters per chunk.
        size: usize,
        /// Characters shared by consecutive chunks.
        overlap: usize,
    },
    /// Like `Recursive`, but cutting at Markdown headings first, then blocks;
    /// each chunk records its heading path as `section` metadata.
    Markdown {
        /// Most characters per chunk.
        size: usize,
        /// Characters shared by consecutive chunks.
        overlap: usize,
    },
}

/// A piece of a document, as indexed and returned by searches.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    /// 0-based position within the document.
    pub index: usize,
    /// Byte offset in the document's text where it starts.
    pub start: usize,
    /// The text.
    pub text: String,
    /// The chunk's own metadata: `chunk` (its index), plus `section` (Markdown) or `page` (PDF).
    pub metadata: Map<String, Value>,
}

impl Chunking {
    /// Fixed-size chunks.
    pub fn fixed_size(size: usize, overlap: usize) -> Self {
        Self::FixedSize { size, overlap }
    }

    /// Recursive chunks.
    pub fn recursive(size: usize, overlap: usize) -> Self {
        Self::Recursive { size, overlap }
    }

    /// Markdown chunks.
    pub fn markdown(size: usize, overlap: usize) -> Self {
        Self::Markdown { size, overlap }
    }

    /// The default for a reader: Markdown-aware for Markdown, recursive otherwise.
    pub fn for_reader(reader: ReaderKind) -> Self {
        match reader {
            ReaderKind::Markdown => Self::markdown(DEFAULT_CHUNK_SIZE, 0),
            _ => Self::recursive(DEFAULT_CHUNK_SIZE, 0),
        }
    }

    /// The chunker's key in the AgentOS config (`FixedSizeChunker`, ...).
    pub fn key(&self) -> &'static str {
        match self {
            Self::FixedSize { .. } => "FixedSizeChunker",
            Self::Recursive { .. } => "RecursiveChunker",
            Self::Markdown { .. } => "MarkdownChunker",
        }
    }

    fn size_and_overlap(&self) -> (usize, usize) {
        match *self {
            Self::FixedSize { size, overlap }
            | Self::Recursive { size, overlap }
            | Self::Markdown { size, overlap } => (size, overlap),
        }
    }

    /// Cuts a document into chunks; whitespace-only pieces are dropped.
    ///
    /// # Errors
    ///
    /// [`KnowledgeError::Invalid`] when the size is 0 or the overlap is not
    /// smaller than the size.
    pub fn chunk(&self, document: &Document) -> Result<Vec<Chunk>, KnowledgeError> {
        let (size, overlap) = self.size_and_overlap();
        if size == 0 || overlap >= size {
            return Err(KnowledgeError::Invalid(format!(
                "chunk size must be positive and larger than the overlap (size {size}, overlap {overlap})"
            )));
        }
        let text = document.text.as_str();
        let pieces: Vec<(usize, &str)> = match self {
            Self::FixedSize { .. } => fixed_windows(text, size, overlap),
            Self::Recursive { .. } => {
                let splitter = TextSplitter::new(config(size, overlap)?);
                windowed(text, size, |window| splitter.chunk_indices(window).collect())
            }
            Self::Markdown { .. } => {
                let splitter = MarkdownSplitter::new(config(size, overlap)?);
                windowed(text, size, |window| splitter.chunk_indices(window).collect())
            }
        };
        let sections = if matches!(self, Self::Markdown { .. }) { heading_paths(text) } else { Vec::new() };
        let chunks = pieces
            .into_iter()
            .filter(|(_, piece)| !piece.trim().is_empty())
            .enumerate()
            .map(|(index, (start, piece))| {
                let mut metadata = Map::new();
                metadata.insert("chunk".into(), index.into());
                if let Some((_, path)) = sections.iter().rev().find(|(offset, _)| *offset <= start) {
                    metadata.insert("section".into(), path.clone().into());
                }
                if !document.page_starts.is_empty() {
                    let page = document.page_starts.iter().take_while(|page_start| **page_start <= start).count();
                    metadata.insert("page".into(), page.max(1).into());
                }
                Chunk { index, start, text: piece.to_owned(), metadata }
            })
            .collect();
        Ok(chunks)
    }
}

fn config(size: usize, overlap: usize) -> Result<ChunkConfig<text_splitter::Characters>, KnowledgeError> {
    ChunkConfig::new(size).with_overlap(overlap).map_err(|err| KnowledgeError::Invalid(err.to_string()))
}

/// How many chunks' worth of text a splitter is given at once.
const WINDOW_CHUNKS: usize = 16;

/// Runs `split` over windows of the text of [`WINDOW_CHUNKS`] chunks each,
/// so the work stays linear in the text's length: `text-splitter` looks for
/// the end of the current sentence from every chunk to the end of its input,
/// which costs O(n²) on text without sentence breaks when given it whole.
/// Each window but the last drops its last chunk (the window's edge may have
/// cut it) and the next window starts where that chunk started, so chunks
/// and overlaps are the splitter's own. Offsets are into `text`.
fn windowed<'t>(text: &'t str, size: usize, split: impl Fn(&'t str) -> Vec<(usize, &'t str)>) -> Vec<(usize, &'t str)> {
    let window = size.saturating_mul(WINDOW_CHUNKS);
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let rest = &text[start..];
        let end = rest.char_indices().nth(window).map_or(rest.len(), |(offset, _)| offset);
        let mut found = split(&rest[..end]);
        let next = match found.last() {
            // The last chunk of a window may be cut short: split again from it.
            Some(&(last, _)) if end < rest.len() && last > 0 => {
                found.pop();
                last
            }
            _ => end,
        };
        pieces.extend(found.into_iter().map(|(offset, piece)| (start + offset, piece)));
        start += next;
    }
    pieces
}

/// Windows of `size` characters stepping by `size - overlap`.
fn fixed_windows(text: &str, size: usize, overlap: usize) -> Vec<(usize, &str)> {
    let boundaries: Vec<usize> = text.char_indices().map(|(offset, _)| offset).chain([text.len()]).collect();
    let chars = boundaries.len() - 1;
    let step = size - overlap;
    let mut windows = Vec::new();
    let mut first = 0;
    while first < chars {
        let last = (first + size).min(chars);
        windows.push((boundaries[first], &text[boundaries[first]..boundaries[last]]));
        if last == chars {
            break;
        }
        first += step;
    }
    windows
}

/// `(offset, "Title > Subtitle")` for every Markdown heading outside code fences.
fn heading_paths(text: &str) -> Vec<(usize, String)> {
    let mut paths = Vec::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut in_fence = false;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
        } else if !in_fence {
            let level = trimmed.chars().take_while(|c| *c == '#').count();
            let title = trimmed[level..].trim();
            if (1..=6).contains(&level) && trimmed[level..].starts_with([' ', '\t']) && !title.is_empty() {
                stack.retain(|(parent_level, _)| *parent_level < level);
                stack.push((level, title.trim_end_matches('#').trim().to_owned()));
                let path = stack.iter().map(|(_, title)| title.as_str()).collect::<Vec<_>>().join(" > ");
                paths.push((offset, path));
            }
        }
        offset += line.len();
    }
    paths
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fixed_windows_overlap_and_cover_the_text() {
        let windows: Vec<&str> = fixed_windows("abcdefghij", 4, 1).into_iter().map(|(_, w)| w).collect();
        assert_eq!(windows, ["abcd", "defg", "ghij"]);
        let multibyte: Vec<&str> = fixed_windows("ééé", 2, 0).into_iter().map(|(_, w)| w).collect();
        assert_eq!(multibyte, ["éé", "é"]);
    }

    /// The longest input the splitter was given, and the chunks.
    fn split_counting(text: &str, size: usize) -> (usize, Vec<(usize, &str)>) {
        let splitter = TextSplitter::new(config(size, 0).unwrap());
        let longest = std::cell::Cell::new(0);
        let pieces = windowed(text, size, |window| {
            longest.set(longest.get().max(window.chars().count()));
            splitter.chunk_indices(window).collect()
        });
        (longest.get(), pieces)
    }

    #[test]
    fn text_without_breaks_is_split_in_bounded_windows() {
        // One long sentence: no paragraph, line or sentence break.
        let text = "lorem ipsum dolor sit amet ".repeat(4_000);
        let (longest, pieces) = split_counting(&text, 100);
        assert!(longest <= 100 * WINDOW_CHUNKS, "the splitter saw {longest} characters at once");
        let mut covered = 0;
        for (start, piece) in &pieces {
            assert!(piece.chars().count() <= 100, "a chunk fits the size");
            assert_eq!(&text[*start..*start + piece.len()], *piece, "offsets point into the text");
            assert!(text[covered..*start].trim().is_empty(), "no text is skipped before {start}");
            covered = start + piece.len();
        }
        assert!(text[covered..].trim().is_empty(), "the text is covered to its end");
    }

    #[test]
    fn windows_keep_the_splitters_chunks_and_overlaps() {
        let text: String = (0..300).map(|i| format!("Sentence number {i} ends here. ")).collect();
        let whole: Vec<(usize, &str)> = TextSplitter::new(config(200, 40).unwrap()).chunk_indices(&text).collect();
        let splitter = TextSplitter::new(config(200, 40).unwrap());
        let windows = windowed(&text, 200, |window| splitter.chunk_indices(window).collect());
        assert_eq!(windows, whole, "windows change nothing where sentences break the text");
        let unbroken = "x".repeat(5_000);
        let (_, pieces) = split_counting(&unbroken, 100);
        assert_eq!(pieces.len(), 50, "even a single word is cut in order");
        assert_eq!(pieces.last().map(|(start, _)| *start), Some(4_900));
    }

    #[test]
    fn heading_paths_nest_and_skip_code() {
        let text = "# A\ntext\n## B\n```\n# not\n```\n# C\n";
        let paths: Vec<String> = heading_paths(text).into_iter().map(|(_, p)| p).collect();
        assert_eq!(paths, ["A", "A > B", "C"]);
    }
}
