//! Readers and chunkers on small files the tests write: text, Markdown, HTML,
//! PDF, CSV and JSON, end to end into a SQLite knowledge base.

#![allow(clippy::unwrap_used)]

use agent_core::knowledge::{HashEmbedder, Knowledge, KnowledgeError, SearchMode, SearchQuery};
use agent_memory::knowledge::{
    Chunking, ContentInput, ContentStatus, Document, KnowledgeBase, ReaderKind, SqliteKnowledge,
};

/// A two-page PDF with one line of Helvetica text per page.
fn pdf(pages: &[&str]) -> Vec<u8> {
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            (0..pages.len()).map(|i| format!("{} 0 R", 4 + 2 * i)).collect::<Vec<_>>().join(" "),
            pages.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
    ];
    for (i, text) in pages.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {} 0 R /Resources << /Font << /F1 3 0 R >> >> >>",
            5 + 2 * i
        ));
        let stream = format!("BT /F1 18 Tf 72 700 Td ({text}) Tj ET");
        objects.push(format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()));
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes(),
    );
    out
}

#[test]
fn readers_turn_each_format_into_text() {
    let markdown = ReaderKind::Markdown.read(b"# Title\n\nBody text.").unwrap();
    assert_eq!(markdown.text, "# Title\n\nBody text.");

    let html = ReaderKind::Html
        .read(b"<html><head><title>T</title><style>p{}</style></head><body><h1>Ferries</h1><p>Boats <b>leave</b> at noon.</p></body></html>")
        .unwrap();
    assert!(html.text.contains("Ferries") && html.text.contains("Boats leave at noon."), "{}", html.text);
    assert!(!html.text.contains('<'), "{}", html.text);

    let csv = ReaderKind::Csv.read(b"city,population\nLisbon,545000\nPorto,232000\n").unwrap();
    assert_eq!(csv.text, "city: Lisbon, population: 545000\ncity: Porto, population: 232000\n");

    let json = ReaderKind::Json.read(br#"[{"name": "Ana", "tags": ["a", "b"], "age": 31}, {"name": "Rui"}]"#).unwrap();
    assert_eq!(json.text, "age: 31\nname: Ana\ntags.0: a\ntags.1: b\n\nname: Rui\n\n");

    let pdf = ReaderKind::Pdf.read(&pdf(&["Hello lighthouse", "Second page about tides"])).unwrap();
    assert!(pdf.text.contains("Hello lighthouse"), "{:?}", pdf.text);
    assert!(pdf.text.contains("Second page about tides"), "{:?}", pdf.text);
    assert_eq!(pdf.page_starts.len(), 2);
}

#[test]
fn bad_input_is_a_read_error_never_a_panic() {
    for (reader, bytes) in [
        (ReaderKind::Json, b"{not json".as_slice()),
        (ReaderKind::Csv, b"a,b\n\xff\xfe,1".as_slice()),
        (ReaderKind::Pdf, b"%PDF-1.7\n1 0 obj << /Type /Catalog >>".as_slice()),
        (ReaderKind::Pdf, b"".as_slice()),
        (ReaderKind::Text, b"\xff\xfe\x00binary".as_slice()),
    ] {
        let err = reader.read(bytes).unwrap_err();
        assert!(matches!(err, KnowledgeError::Read(_) | KnowledgeError::Empty), "{reader:?}: {err}");
    }
    assert!(matches!(ReaderKind::Json.read(b"{}").unwrap_err(), KnowledgeError::Empty));
}

#[test]
fn readers_are_chosen_by_media_type_then_name() {
    assert_eq!(ReaderKind::detect("notes.MD", None).unwrap(), ReaderKind::Markdown);
    assert_eq!(ReaderKind::detect("https://x.test/a/report.pdf?v=2", None).unwrap(), ReaderKind::Pdf);
    assert_eq!(ReaderKind::detect("upload", Some("text/html; charset=utf-8")).unwrap(), ReaderKind::Html);
    assert_eq!(ReaderKind::detect("data.csv", Some("application/octet-stream")).unwrap(), ReaderKind::Csv);
    let err = ReaderKind::detect("photo.heic", None).unwrap_err();
    assert!(err.to_string().contains("unsupported content type `photo.heic`"), "{err}");
}

fn document(text: &str) -> Document {
    Document { text: text.to_owned(), page_starts: Vec::new() }
}

#[test]
fn fixed_size_chunks_overlap_and_record_positions() {
    let chunks = Chunking::fixed_size(10, 4).chunk(&document("abcdefghijklmnopqrstuvwxyz")).unwrap();
    let texts: Vec<&str> = chunks.iter().map(|chunk| chunk.text.as_str()).collect();
    assert_eq!(texts, ["abcdefghij", "ghijklmnop", "mnopqrstuv", "stuvwxyz"]);
    assert_eq!(chunks.iter().map(|chunk| chunk.start).collect::<Vec<_>>(), [0, 6, 12, 18]);
    assert_eq!(chunks[3].metadata["chunk"], 3);
    let err = Chunking::fixed_size(10, 10).chunk(&document("abc")).unwrap_err();
    assert!(matches!(err, KnowledgeError::Invalid(_)), "{err}");
}

#[test]
fn recursive_chunks_cut_at_paragraphs_then_sentences() {
    let text = "First paragraph is here.\n\nSecond paragraph. It has two sentences.\n\nThird.";
    let chunks = Chunking::recursive(45, 0).chunk(&document(text)).unwrap();
    let texts: Vec<&str> = chunks.iter().map(|chunk| chunk.text.as_str()).collect();
    assert_eq!(texts, ["First paragraph is here.", "Second paragraph. It has two sentences.", "Third."]);
    assert!(chunks.iter().all(|chunk| text[chunk.start..].starts_with(&chunk.text)));
}

#[test]
fn markdown_chunks_follow_headings_and_record_sections() {
    let text = "# Guide\n\nIntro.\n\n## Install\n\nRun the installer.\n\n## Usage\n\nOpen the app.\n";
    let chunks = Chunking::markdown(30, 0).chunk(&document(text)).unwrap();
    let sections: Vec<(&str, &str)> =
        chunks.iter().map(|chunk| (chunk.text.as_str(), chunk.metadata["section"].as_str().unwrap())).collect();
    assert_eq!(
        sections,
        [
            ("# Guide\n\nIntro.", "Guide"),
            ("## Install\n\nRun the installer.", "Guide > Install"),
            ("## Usage\n\nOpen the app.", "Guide > Usage")
        ]
    );
}

#[tokio::test]
async fn every_format_is_ingested_from_files_and_searchable() {
    let dir = tempfile::tempdir().unwrap();
    let files: [(&str, Vec<u8>, &str); 6] = [
        ("notes.txt", b"Owls hunt at night.".to_vec(), "owls"),
        ("guide.md", b"# Bees\n\nBees make honey.".to_vec(), "honey"),
        ("page.html", b"<p>Otters hold hands while sleeping.</p>".to_vec(), "otters"),
        ("report.pdf", pdf(&["Whales sing long songs", "Page two mentions krill"]), "krill"),
        ("cities.csv", b"city,river\nLisbon,Tagus\n".to_vec(), "tagus"),
        ("people.json", br#"{"person": {"name": "Ines", "job": "astronomer"}}"#.to_vec(), "astronomer"),
    ];
    let kb = KnowledgeBase::builder(SqliteKnowledge::open_in_memory().await.unwrap())
        .embedder(HashEmbedder::new(32))
        .chunking(Chunking::recursive(40, 0))
        .build();
    for (name, bytes, word) in &files {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let item = kb.add_and_wait(ContentInput::file(&path)).await.unwrap();
        assert_eq!(item.status, ContentStatus::Completed, "{name}: {}", item.status_message);
        assert_eq!(item.name, *name);
        let hits = kb.search(&SearchQuery::new(*word).mode(SearchMode::Lexical)).await.unwrap();
        assert_eq!(hits.first().map(|hit| hit.name.as_str()), Some(*name), "searching {word}");
        assert_eq!(hits[0].source, path.display().to_string());
    }
    let krill = kb.search(&SearchQuery::new("krill").mode(SearchMode::Lexical)).await.unwrap();
    assert_eq!(krill[0].metadata["page"], 2, "PDF chunks know their page");
}
