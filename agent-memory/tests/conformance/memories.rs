//! Conformance checks for `MemoryStore`: memories, filters, topics, stats, bulk changes.

use agent_core::memory::{MemoryQuery, MemorySort, UserMemory, UserMemoryStats};
use agent_core::{SortOrder, StoreError};

use super::Stores;

/// A memory with every field set.
pub fn memory(id: &str, user: &str, text: &str, topics: &[&str], updated_at: i64) -> UserMemory {
    UserMemory {
        memory_id: id.into(),
        memory: text.into(),
        topics: topics.iter().map(|topic| (*topic).to_owned()).collect(),
        user_id: Some(user.into()),
        agent_id: None,
        team_id: None,
        input: Some(format!("input for {id}")),
        created_at: 1_000 - updated_at,
        updated_at,
    }
}

fn ids(memories: &[UserMemory]) -> Vec<&str> {
    memories.iter().map(|memory| memory.memory_id.as_str()).collect()
}

/// Six memories of three users (and one without a user).
async fn seed(stores: &Stores) {
    let mut rows = vec![
        memory("m1", "ana", "Ana likes green tea.", &["preferences", "drinks"], 10),
        memory("m2", "ana", "Ana works as a nurse.", &["work"], 20),
        memory("m3", "ana", "Ana's tea budget is 100% of her salary_bonus.", &["finance"], 30),
        memory("m4", "bob", "Bob likes coffee.", &["preferences"], 40),
        memory("m5", "cy", "Cy plays piano.", &["hobbies", "music"], 5),
    ];
    rows[0].agent_id = Some("agent-a".into());
    rows[3].agent_id = Some("agent-a".into());
    rows[4].team_id = Some("team-t".into());
    let mut anonymous = memory("m6", "nobody", "Someone likes TEA.", &["preferences"], 50);
    anonymous.user_id = None;
    rows.push(anonymous);
    for row in rows {
        stores.memories.upsert_memory(&row).await.unwrap();
    }
}

pub async fn memory_roundtrip(stores: &Stores) {
    let store = &*stores.memories;
    let mut full = memory("m-1", "ana", "Ana likes \"quoted\" grüße 🌍.", &["preferences", "unicode"], 7);
    full.agent_id = Some("agent-a".into());
    full.team_id = Some("team-t".into());
    store.upsert_memory(&full).await.unwrap();
    assert_eq!(store.memory("m-1").await.unwrap(), Some(full.clone()));
    assert_eq!(store.memory("missing").await.unwrap(), None);

    let mut sparse = UserMemory::new("bob", "Bob has no topics.");
    sparse.user_id = None;
    store.upsert_memory(&sparse).await.unwrap();
    assert_eq!(store.memory(&sparse.memory_id).await.unwrap(), Some(sparse));

    full.memory = "Ana likes black tea now.".into();
    full.topics.clear();
    full.updated_at = 8;
    store.upsert_memory(&full).await.unwrap();
    assert_eq!(store.memory("m-1").await.unwrap(), Some(full));

    assert!(store.delete_memory("m-1").await.unwrap());
    assert!(!store.delete_memory("m-1").await.unwrap());
    assert_eq!(store.memory("m-1").await.unwrap(), None);
}

pub async fn list_memories_filters(stores: &Stores) {
    seed(stores).await;
    let store = &*stores.memories;
    let list = |query: MemoryQuery| async move {
        let page = store.list_memories(&query).await.unwrap();
        (ids(&page.items).into_iter().map(str::to_owned).collect::<Vec<_>>(), page.total)
    };
    let q = MemoryQuery::default;

    assert_eq!(list(q()).await, (vec!["m6", "m4", "m3", "m2", "m1", "m5"].into_iter().map(Into::into).collect(), 6));
    assert_eq!(list(MemoryQuery::user("ana")).await.0, ["m3", "m2", "m1"]);
    assert_eq!(list(MemoryQuery { agent_id: Some("agent-a".into()), ..q() }).await.0, ["m4", "m1"]);
    assert_eq!(list(MemoryQuery { team_id: Some("team-t".into()), ..q() }).await.0, ["m5"]);
    assert_eq!(list(MemoryQuery { topics: vec!["preferences".into()], ..q() }).await.0, ["m6", "m4", "m1"]);
    assert_eq!(
        list(MemoryQuery { topics: vec!["work".into(), "music".into()], ..q() }).await,
        (vec![], 0),
        "every one of the topics, as AgentOS filters"
    );
    assert_eq!(
        list(MemoryQuery { topics: vec!["music".into(), "hobbies".into()], ..q() }).await.0,
        ["m5"],
        "a memory with all the topics"
    );
    assert_eq!(
        list(MemoryQuery { topics: vec!["preferences".into(), "drinks".into(), "drinks".into()], ..q() }).await.0,
        ["m1"],
        "a topic given twice counts once"
    );
    assert_eq!(list(MemoryQuery { topics: vec!["preferences".into()], ..MemoryQuery::user("ana") }).await.0, ["m1"]);
    assert_eq!(list(MemoryQuery { topics: vec!["unknown".into()], ..q() }).await, (vec![], 0));
    assert_eq!(
        list(MemoryQuery { search_content: Some("TEA".into()), ..q() }).await.0,
        ["m6", "m3", "m1"],
        "text search is case-insensitive"
    );
    assert_eq!(list(MemoryQuery { search_content: Some("100% of".into()), ..q() }).await.0, ["m3"]);
    assert_eq!(list(MemoryQuery { search_content: Some("y_b".into()), ..q() }).await.0, ["m3"]);
    assert_eq!(list(MemoryQuery { search_content: Some("_".into()), ..q() }).await.0, ["m3"], "_ is literal");
    assert_eq!(
        list(MemoryQuery { search_content: Some("tea".into()), topics: vec!["finance".into()], ..q() }).await,
        (vec!["m3".to_owned()], 1)
    );
}

pub async fn list_memories_sorts_and_pages(stores: &Stores) {
    seed(stores).await;
    let store = &*stores.memories;
    let sorted = |sort_by, sort_order| async move {
        let query = MemoryQuery { sort_by, sort_order, ..MemoryQuery::default() };
        ids(&store.list_memories(&query).await.unwrap().items).into_iter().map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(sorted(MemorySort::UpdatedAt, SortOrder::Asc).await, ["m5", "m1", "m2", "m3", "m4", "m6"]);
    assert_eq!(sorted(MemorySort::CreatedAt, SortOrder::Asc).await, ["m6", "m4", "m3", "m2", "m1", "m5"]);
    // Byte order: "Ana likes" < "Ana works" < "Ana's".
    assert_eq!(sorted(MemorySort::Memory, SortOrder::Asc).await, ["m1", "m2", "m3", "m4", "m5", "m6"]);
    assert_eq!(sorted(MemorySort::Memory, SortOrder::Desc).await, ["m6", "m5", "m4", "m3", "m2", "m1"]);

    let page = |limit, page| async move {
        let query = MemoryQuery { limit: Some(limit), page: Some(page), ..MemoryQuery::default() };
        store.list_memories(&query).await.unwrap()
    };
    let second = page(4, 2).await;
    assert_eq!((ids(&second.items), second.total, second.page, second.total_pages()), (vec!["m1", "m5"], 6, 2, 2));
    assert_eq!(page(4, 9).await.items.len(), 0);

    // Equal sort keys fall back to the id, so pages never overlap.
    for id in ["t-b", "t-a", "t-c"] {
        store.upsert_memory(&memory(id, "tie", "same", &[], 99)).await.unwrap();
    }
    let query = MemoryQuery { limit: Some(2), sort_order: SortOrder::Asc, ..MemoryQuery::user("tie") };
    assert_eq!(ids(&store.list_memories(&query).await.unwrap().items), ["t-a", "t-b"]);
    let query = MemoryQuery { page: Some(2), ..query };
    assert_eq!(ids(&store.list_memories(&query).await.unwrap().items), ["t-c"]);
}

pub async fn memory_topics(stores: &Stores) {
    let store = &*stores.memories;
    assert!(store.memory_topics(None).await.unwrap().is_empty());
    seed(stores).await;
    assert_eq!(
        store.memory_topics(None).await.unwrap(),
        ["drinks", "finance", "hobbies", "music", "preferences", "work"]
    );
    assert_eq!(store.memory_topics(Some("ana")).await.unwrap(), ["drinks", "finance", "preferences", "work"]);
    assert!(store.memory_topics(Some("nobody-at-all")).await.unwrap().is_empty());
}

pub async fn user_memory_stats(stores: &Stores) {
    let store = &*stores.memories;
    assert_eq!(store.user_memory_stats(None, None).await.unwrap().total, 0);
    seed(stores).await;
    let stats = |user: &str, total_memories, last_memory_updated_at| UserMemoryStats {
        user_id: user.into(),
        total_memories,
        last_memory_updated_at,
    };
    let all = store.user_memory_stats(None, None).await.unwrap();
    assert_eq!(all.items, [stats("bob", 1, 40), stats("ana", 3, 30), stats("cy", 1, 5)]);
    assert_eq!(all.total, 3, "memories without a user are not counted");
    let second = store.user_memory_stats(Some(2), Some(2)).await.unwrap();
    assert_eq!((second.items, second.total, second.page), (vec![stats("cy", 1, 5)], 3, 2));
}

pub async fn delete_memories(stores: &Stores) {
    seed(stores).await;
    let store = &*stores.memories;
    let deleted = store.delete_memories(&["m1".into(), "m4".into(), "missing".into()]).await.unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(store.list_memories(&MemoryQuery::default()).await.unwrap().total, 4);
    assert_eq!(store.delete_memories(&[]).await.unwrap(), 0);
}

pub async fn replace_user_memories(stores: &Stores) {
    seed(stores).await;
    let store = &*stores.memories;
    let merged = vec![memory("merged-1", "ana", "Ana is a nurse who loves green tea.", &["work", "drinks"], 100)];
    store.replace_user_memories("ana", &merged).await.unwrap();
    assert_eq!(store.list_memories(&MemoryQuery::user("ana")).await.unwrap().items, merged);
    assert_eq!(store.list_memories(&MemoryQuery::default()).await.unwrap().total, 4, "other users keep theirs");

    let foreign = vec![memory("x", "ana", "ok", &[], 1), memory("y", "bob", "not ana's", &[], 1)];
    let err = store.replace_user_memories("ana", &foreign).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    assert_eq!(store.list_memories(&MemoryQuery::user("ana")).await.unwrap().items, merged, "nothing changed");
}

pub async fn clear_memories(stores: &Stores) {
    seed(stores).await;
    stores.memories.clear_memories().await.unwrap();
    assert_eq!(stores.memories.list_memories(&MemoryQuery::default()).await.unwrap().total, 0);
    assert!(stores.memories.memory_topics(None).await.unwrap().is_empty());
}

/// A memory with a NUL character is kept as it is, or refused as invalid
/// (Postgres cannot store it): never a database error.
pub async fn memories_with_nul_are_kept_or_refused(stores: &Stores) {
    let store = &*stores.memories;
    let odd = memory("m-nul", "ana", "Ana's code is a\0b.", &["codes"], 1);
    match store.upsert_memory(&odd).await {
        Ok(()) => assert_eq!(store.memory("m-nul").await.unwrap(), Some(odd)),
        Err(StoreError::Invalid(message)) => {
            assert!(message.contains("NUL"), "{message}");
            assert_eq!(store.memory("m-nul").await.unwrap(), None);
        }
        Err(other) => panic!("expected the memory kept or refused as invalid, got {other:?}"),
    }
}
