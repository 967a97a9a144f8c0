"""The memory methods of AgentOSClient against the demo AgentOS: create, read, list (filters, paging, sorting),
update, delete, topics, per-user stats and optimize, each scoped to its user."""

from agno.os.routers.memory.schemas import OptimizeMemoriesResponse, UserMemorySchema

from checks import check, equal, fresh, http_status, is_time

MEMORY_METHODS = [
    "create_memory", "get_memory", "list_memories", "update_memory", "delete_memory", "delete_memories",
    "get_memory_topics", "get_user_memory_stats", "optimize_memories",
]

# The memories each check gives its own user: text and topics.
TEA = ("User likes tea.", ["food", "drink"])
NURSE = ("User is a nurse.", ["work"])
GREEN_TEA = ("User likes green tea.", ["drink"])


class Memories:
    def __init__(self, client, headers):
        self.client = client
        self.headers = headers

    async def create(self, user, memory, topics=None):
        created = await self.client.create_memory(memory, user, topics=topics, headers=self.headers)
        check(isinstance(created, UserMemorySchema), f"create_memory returned {created!r}")
        return created

    async def three(self):
        """A fresh user with the tea, nurse and green-tea memories, and another user with one memory."""
        user, other = fresh("user"), fresh("other")
        made = [await self.create(user, memory, topics) for memory, topics in (TEA, NURSE, GREEN_TEA)]
        await self.create(other, "Other likes coffee.", ["drink"])
        return user, other, made

    async def listed(self, user, **filters):
        return await self.client.list_memories(user_id=user, headers=self.headers, **filters)

    async def create_memory(self):
        user = fresh("user")
        created = await self.create(user, *TEA)
        check(created.memory_id, "no memory_id")
        equal((created.memory, created.topics, created.user_id), (TEA[0], TEA[1], user), "created memory")
        is_time(created.updated_at, "updated_at")
        bare = await self.create(user, "User lives in Oslo.")
        equal(bare.topics, [], "topics of a memory created without them")
        no_user = await http_status(self.client.create_memory("Nobody's memory.", None, headers=self.headers))
        equal(no_user, 400, "a memory without a user")
        return f"memory_id={created.memory_id} topics={created.topics} user_id={user}; without topics -> []; without a user -> 400"

    async def get_memory(self):
        user, other, made = await self.three()
        got = await self.client.get_memory(made[0].memory_id, user_id=user, headers=self.headers)
        equal((got.memory_id, got.memory, got.topics), (made[0].memory_id, TEA[0], TEA[1]), "read memory")
        untyped = await self.client.get_memory(made[1].memory_id, headers=self.headers)
        equal(untyped.memory, NURSE[0], "memory read without a user")
        foreign = await http_status(self.client.get_memory(made[0].memory_id, user_id=other, headers=self.headers))
        equal(foreign, 404, "another user's memory")
        unknown = await http_status(self.client.get_memory("no-such-memory", headers=self.headers))
        equal(unknown, 404, "an unknown memory")
        return f"{got.memory!r} {got.topics}; as another user -> 404; unknown -> 404"

    async def list_memories(self):
        user, other, made = await self.three()
        everything = await self.listed(user)
        equal(everything.meta.total_count, 3, "total_count for the user")
        equal({memory.memory_id for memory in everything.data}, {memory.memory_id for memory in made}, "the user's memories")
        check(all(memory.user_id == user for memory in everything.data), "another user's memory was listed")
        drink = await self.listed(user, topics=["drink"])
        equal(sorted(memory.memory for memory in drink.data), [GREEN_TEA[0], TEA[0]], "topics=[drink]")
        both = await self.listed(user, topics=["food", "drink"])
        equal([memory.memory for memory in both.data], [TEA[0]], "topics=[food, drink] (all of them)")
        tea = await self.listed(user, search_content="TEA")
        equal(sorted(memory.memory for memory in tea.data), [GREEN_TEA[0], TEA[0]], "search_content=TEA")
        ascending = await self.listed(user, sort_by="memory", sort_order="asc")
        names = [memory.memory for memory in ascending.data]
        equal(names, sorted(names), "sort_by=memory asc")
        descending = await self.listed(user, sort_by="memory", sort_order="desc")
        equal([memory.memory for memory in descending.data], names[::-1], "sort_by=memory desc")
        first = await self.listed(user, sort_by="memory", sort_order="asc", limit=2, page=1)
        second = await self.listed(user, sort_by="memory", sort_order="asc", limit=2, page=2)
        equal([memory.memory for memory in first.data + second.data], names, "two pages of two")
        meta = second.meta
        equal((meta.page, meta.limit, meta.total_pages, meta.total_count), (2, 2, 2, 3), "meta of page 2")
        newest = [memory.updated_at for memory in (await self.listed(user)).data]
        equal(newest, sorted(newest, reverse=True), "default order (updated_at desc)")
        oldest = [memory.updated_at for memory in (await self.listed(user, sort_by="updated_at", sort_order="asc")).data]
        equal(oldest, sorted(oldest), "updated_at asc")
        no_agent = await self.listed(user, agent_id="weather-agent")
        equal(no_agent.meta.total_count, 0, "agent_id filter (memories made over the API have no agent)")
        theirs = await self.listed(other)
        equal([memory.memory for memory in theirs.data], ["Other likes coffee."], "the other user's memories")
        return (
            f"{everything.meta.total_count} for the user; topics=[drink] -> {len(drink.data)}, [food, drink] -> "
            f"{len(both.data)}; search 'TEA' -> {len(tea.data)}; sorted by memory and updated_at both ways; pages {len(first.data)}+"
            f"{len(second.data)} meta(page=2, total_pages=2); agent_id -> 0; the other user sees only theirs"
        )

    async def update_memory(self):
        user, other, made = await self.three()
        memory_id = made[0].memory_id
        updated = await self.client.update_memory(memory_id, "User loves tea.", user, topics=["drink"], headers=self.headers)
        equal((updated.memory_id, updated.memory, updated.topics), (memory_id, "User loves tea.", ["drink"]), "updated")
        is_time(updated.updated_at, "updated_at")
        foreign = await http_status(
            self.client.update_memory(memory_id, "Hijacked.", other, headers=self.headers)
        )
        equal(foreign, 404, "an update by another user")
        read = await self.client.get_memory(memory_id, user_id=user, headers=self.headers)
        equal((read.memory, read.topics), ("User loves tea.", ["drink"]), "the memory after another user's update")
        return f"{updated.memory!r} {updated.topics}; by another user -> 404, unchanged"

    async def delete_memory(self):
        user, other, made = await self.three()
        memory_id = made[0].memory_id
        foreign = await http_status(self.client.delete_memory(memory_id, user_id=other, headers=self.headers))
        equal(foreign, 404, "a delete by another user")
        await self.client.get_memory(memory_id, user_id=user, headers=self.headers)
        result = await self.client.delete_memory(memory_id, user_id=user, headers=self.headers)
        gone = await http_status(self.client.get_memory(memory_id, headers=self.headers))
        equal(gone, 404, "a deleted memory")
        left = await self.listed(user)
        equal(left.meta.total_count, 2, "memories left")
        return f"-> {result!r}; read again -> 404; by another user -> 404 (kept); {left.meta.total_count} left"

    async def delete_memories(self):
        user, other, made = await self.three()
        ids = [memory.memory_id for memory in made[:2]]
        await self.client.delete_memories(ids, user_id=other, headers=self.headers)
        equal((await self.listed(user)).meta.total_count, 3, "memories after another user's bulk delete")
        result = await self.client.delete_memories(ids, user_id=user, headers=self.headers)
        left = await self.listed(user)
        equal([memory.memory_id for memory in left.data], [made[2].memory_id], "memories left")
        unscoped = await self.client.delete_memories([made[2].memory_id], headers=self.headers)
        equal((await self.listed(user)).meta.total_count, 0, "memories after an unscoped bulk delete")
        equal((await self.listed(other)).meta.total_count, 1, "the other user's memories")
        return f"-> {result!r}/{unscoped!r}; another user's ids left alone; 3 -> 1 -> 0"

    async def get_memory_topics(self):
        user, other, _ = await self.three()
        topics = await self.client.get_memory_topics(user_id=user, headers=self.headers)
        check(isinstance(topics, list), f"topics: {topics!r}")
        equal(sorted(topics), ["drink", "food", "work"], "the user's topics")
        theirs = await self.client.get_memory_topics(user_id=other, headers=self.headers)
        equal(theirs, ["drink"], "the other user's topics")
        every = await self.client.get_memory_topics(headers=self.headers)
        check({"drink", "food", "work"} <= set(every), f"all topics: {every!r}")
        return f"user {sorted(topics)}; other {theirs}; all include both"

    async def get_user_memory_stats(self):
        user, other, _ = await self.three()
        mine = await self.client.get_user_memory_stats(user_id=user, headers=self.headers)
        equal([(row.user_id, row.total_memories) for row in mine.data], [(user, 3)], "the user's stats")
        is_time(mine.data[0].last_memory_updated_at, "last_memory_updated_at")
        equal(mine.meta.total_count, 1, "total_count of one user's stats")
        every = await self.client.get_user_memory_stats(limit=100, headers=self.headers)
        counts = {row.user_id: row.total_memories for row in every.data}
        equal((counts.get(user), counts.get(other)), (3, 1), "stats of every user")
        paged = await self.client.get_user_memory_stats(limit=1, page=1, headers=self.headers)
        equal(len(paged.data), 1, "one user per page")
        check(paged.meta.total_count >= 2, f"meta of paged stats: {paged.meta!r}")
        return f"{user}: 3, {other}: 1; {every.meta.total_count} users; limit=1 -> 1 row of {paged.meta.total_pages} pages"

    async def optimize_memories(self):
        user = fresh("optimize")
        made = [
            await self.create(user, "User likes tea.", ["drink"]),
            await self.create(user, "user likes tea", ["food"]),
            await self.create(user, "User lives in Oslo.", ["home"]),
        ]
        before = sorted(memory.memory_id for memory in made)
        dry = await self.client.optimize_memories(
            user, model="anthropic:claude-sonnet-4-5", apply=False, headers=self.headers
        )
        check(isinstance(dry, OptimizeMemoriesResponse), f"optimize returned {dry!r}")
        check(all(memory.user_id == user for memory in dry.memories), f"optimized memories: {dry.memories!r}")
        equal((dry.memories_before, dry.memories_after, len(dry.memories)), (3, 2, 2), "dry run counts")
        check(dry.tokens_after < dry.tokens_before, f"tokens: {dry.tokens_before} -> {dry.tokens_after}")
        equal(dry.tokens_saved, dry.tokens_before - dry.tokens_after, "tokens_saved")
        check(0 < dry.reduction_percentage < 100, f"reduction_percentage: {dry.reduction_percentage}")
        unchanged = await self.listed(user)
        equal(sorted(memory.memory_id for memory in unchanged.data), before, "memories after a dry run")
        applied = await self.client.optimize_memories(user, headers=self.headers)
        equal((applied.memories_before, applied.memories_after), (3, 2), "applied counts")
        after = await self.listed(user)
        merged = {memory.memory.lower().rstrip("."): sorted(memory.topics) for memory in after.data}
        equal(merged, {"user likes tea": ["drink", "food"], "user lives in oslo": ["home"]}, "memories after optimizing")
        check(not {memory.memory_id for memory in after.data} & set(before), "the optimized memories kept old ids")
        unknown = await http_status(self.client.optimize_memories(user, model="openai:gpt-4o", headers=self.headers))
        equal(unknown, 400, "an unknown model provider")
        nobody = await http_status(self.client.optimize_memories(fresh("nobody"), headers=self.headers))
        equal(nobody, 404, "a user without memories")
        return (
            f"dry run (anthropic:claude-sonnet-4-5) 3 -> {dry.memories_after}, tokens {dry.tokens_before} -> "
            f"{dry.tokens_after} ({dry.reduction_percentage:.1f}%), store unchanged; applied (memory model) -> "
            f"{[memory.memory for memory in after.data]}; openai:gpt-4o -> 400; no memories -> 404"
        )
