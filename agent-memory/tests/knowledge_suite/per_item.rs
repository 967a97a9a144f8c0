//! Per-item settings: a reader and chunking chosen for one item, its size limit, and deleting every item.

use agent_memory::knowledge::{Chunking, ContentInput, ContentQuery, ContentStatus, ReaderKind};

use super::{Store, kb};

/// An item's own reader and chunking win over its name and the base's chunking.
pub(crate) async fn per_item_reader_and_chunking(store: Store) {
    let kb = kb(&store).chunking(Chunking::recursive(1000, 0)).build();
    let text = "word ".repeat(52);
    let input = ContentInput::bytes("notes.bin", text.as_bytes())
        .reader(ReaderKind::Text)
        .chunking(Chunking::fixed_size(100, 10));
    let item = kb.add_and_wait(input).await.unwrap();
    assert_eq!(item.status, ContentStatus::Completed, "{}", item.status_message);
    assert_eq!(item.reader, "text");
    assert_eq!(kb.store().chunk_count(Some(&item.id)).await.unwrap(), 3);
    let unread = kb.add_and_wait(ContentInput::bytes("other.bin", b"plain".to_vec())).await.unwrap();
    assert_eq!(unread.status, ContentStatus::Failed, "without a reader, the name decides");
}

/// Content given in hand larger than `max_bytes` fails, like a file would.
pub(crate) async fn content_in_hand_is_bounded(store: Store) {
    let kb = kb(&store).max_bytes(16).build();
    assert_eq!(kb.max_bytes(), 16);
    let item = kb.add_and_wait(ContentInput::text("long.txt", "x".repeat(17))).await.unwrap();
    assert_eq!(item.status, ContentStatus::Failed);
    assert!(item.status_message.contains("16 byte limit"), "{}", item.status_message);
}

/// `delete_all` removes every item and chunk.
pub(crate) async fn delete_all_empties_the_base(store: Store) {
    let kb = kb(&store).build();
    kb.delete_all().await.unwrap();
    for name in ["a.md", "b.md"] {
        kb.add_and_wait(ContentInput::text(name, format!("# {name}\nSome text."))).await.unwrap();
    }
    assert_eq!(kb.delete_all().await.unwrap(), 2);
    assert_eq!(kb.list(&ContentQuery::default()).await.unwrap().total, 0);
    assert_eq!(kb.store().chunk_count(None).await.unwrap(), 0);
    assert!(!kb.store().content_table().is_empty());
}
