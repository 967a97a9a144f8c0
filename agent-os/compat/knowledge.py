"""The knowledge methods of AgentOSClient against the demo AgentOS's knowledge base (`demo-docs`): upload (text,
file and URL), update, list (sorting, paging), read, status, search (keyword, vector, hybrid; filters; paging),
config, delete one and delete all.

Expects the demo docs as a fresh demo server holds them, and empties the knowledge base at the end."""

import asyncio
import http.server
import threading
import uuid

from agno.media import File
from agno.os.routers.knowledge.schemas import (
    ConfigResponseSchema,
    ContentResponseSchema,
    ContentStatusResponse,
    VectorSearchResult,
)

from checks import CheckFailed, check, contains, equal, http_status, is_time

KNOWLEDGE_METHODS = [
    "upload_knowledge_content", "update_knowledge_content", "list_knowledge_content", "get_knowledge_content",
    "get_knowledge_content_status", "search_knowledge", "get_knowledge_config", "delete_knowledge_content",
    "delete_all_knowledge_content",
]

DEMO_DOCS = ["approvals.md", "sessions.md", "weather.md"]

# How often, and how long apart, an upload's status is polled until it is no longer `processing`.
POLLS = 200
POLL_SECONDS = 0.02

SERVED_DOC = b"# Served\n\nThis guide was fetched from a URL: the quokkas of Rottnest live here.\n"


class ServedDoc(http.server.BaseHTTPRequestHandler):
    """Serves SERVED_DOC on loopback, for the URL upload."""

    def do_GET(self):  # noqa: N802 - the http.server hook name
        self.send_response(200)
        self.send_header("Content-Type", "text/markdown")
        self.send_header("Content-Length", str(len(SERVED_DOC)))
        self.end_headers()
        self.wfile.write(SERVED_DOC)

    def log_message(self, *args):
        pass


class Knowledge:
    def __init__(self, client, headers):
        self.client = client
        self.headers = headers
        self.items = None

    async def settled(self, content_id):
        """The item's status once ingestion has finished (bounded polling)."""
        for _ in range(POLLS):
            current = await self.client.get_knowledge_content_status(content_id, headers=self.headers)
            if current.status.value != "processing":
                return current
            await asyncio.sleep(POLL_SECONDS)
        raise CheckFailed(f"content {content_id} was still processing after {POLLS * POLL_SECONDS:.0f} s")

    async def uploaded(self):
        """The items the checks share, uploaded (and ingested) at first use: text, a file and a URL."""
        if self.items is not None:
            return self.items
        word = f"zorblat{uuid.uuid4().hex[:6]}"
        text = await self.client.upload_knowledge_content(
            name="compat-notes", description="notes", metadata={"topic": "compat"},
            text_content=f"The {word} is a rare bird that nests in lighthouses. " * 4, reader_id="text",
            chunker="FixedSizeChunker", chunk_size=100, chunk_overlap=10, headers=self.headers,
        )
        guide = File(content=b"# Guide\n\nThe compat guide explains lighthouses.\n", filename="guide.md",
                     mime_type="text/markdown")
        upload = await self.client.upload_knowledge_content(file=guide, metadata={"topic": "guide"}, headers=self.headers)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ServedDoc)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/served.md"
            fetched = await self.client.upload_knowledge_content(url=url, headers=self.headers)
            statuses = [await self.settled(item.id) for item in (text, upload, fetched)]
        finally:
            server.shutdown()
            thread.join(timeout=5)
        self.items = {"word": word, "text": text, "file": upload, "url": fetched, "url_address": url, "statuses": statuses}
        return self.items

    async def upload_knowledge_content(self):
        items = await self.uploaded()
        for key in ("text", "file", "url"):
            check(isinstance(items[key], ContentResponseSchema), f"{key} upload: {items[key]!r}")
            check(items[key].status is not None, f"{key} upload has no status")
        equal(items["text"].name, "compat-notes", "text upload name")
        equal(items["file"].name, "guide.md", "file upload name (the file's)")
        equal(items["url"].name, items["url_address"], "URL upload name (the URL)")
        equal([status.status.value for status in items["statuses"]], ["completed"] * 3, "ingestion statuses")
        empty = await http_status(self.client.upload_knowledge_content(name="nothing", headers=self.headers))
        equal(empty, 400, "an upload with no content")
        first = items["text"].status.value
        return f"text, file (multipart) and URL -> {first}, then completed; nothing to upload -> 400"

    async def update_knowledge_content(self):
        items = await self.uploaded()
        content_id = items["file"].id
        updated = await self.client.update_knowledge_content(
            content_id, name="guide (renamed)", description="the guide", metadata={"topic": "guide", "v": 2},
            reader_id="markdown", headers=self.headers,
        )
        check(isinstance(updated, ContentResponseSchema), f"updated: {updated!r}")
        equal((updated.id, updated.name, updated.description), (content_id, "guide (renamed)", "the guide"), "updated")
        equal(updated.metadata, {"topic": "guide", "v": 2}, "updated metadata")
        unknown = await http_status(self.client.update_knowledge_content("no-such-content", name="x", headers=self.headers))
        equal(unknown, 404, "an unknown item")
        return f"name {updated.name!r}, description, metadata {updated.metadata}; unknown -> 404"

    async def list_knowledge_content(self):
        await self.uploaded()
        ascending = await self.client.list_knowledge_content(sort_by="name", sort_order="asc", limit=100, headers=self.headers)
        names = [item.name for item in ascending.data]
        equal(names, sorted(names), "sort_by=name asc")
        check(set(DEMO_DOCS) <= set(names), f"the demo docs among {names}")
        equal(ascending.meta.total_count, len(names), "total_count")
        descending = await self.client.list_knowledge_content(sort_by="name", sort_order="desc", limit=100, headers=self.headers)
        equal([item.name for item in descending.data], names[::-1], "sort_by=name desc")
        newest = await self.client.list_knowledge_content(limit=100, headers=self.headers)
        stamps = [item.created_at for item in newest.data]
        equal(stamps, sorted(stamps, reverse=True), "created_at desc (the default)")
        pages = [
            await self.client.list_knowledge_content(sort_by="name", sort_order="asc", limit=2, page=page, headers=self.headers)
            for page in range(1, 5)
        ]
        equal([item.name for page in pages for item in page.data], names, "pages of two")
        meta = pages[1].meta
        equal((meta.page, meta.limit, meta.total_count), (2, 2, len(names)), "meta of page 2")
        equal(meta.total_pages, (len(names) + 1) // 2, "total_pages")
        return f"{len(names)} items sorted by name both ways, by created_at; {meta.total_pages} pages of 2"

    async def get_knowledge_content(self):
        items = await self.uploaded()
        item = await self.client.get_knowledge_content(items["text"].id, headers=self.headers)
        check(isinstance(item, ContentResponseSchema), f"item: {item!r}")
        equal((item.name, item.description, item.metadata), ("compat-notes", "notes", {"topic": "compat"}), "item")
        equal(item.status.value, "completed", "item status")
        check(item.size and int(item.size) > 0, f"size (a string of bytes): {item.size!r}")
        is_time(item.created_at, "created_at")
        unknown = await http_status(self.client.get_knowledge_content("no-such-content", headers=self.headers))
        equal(unknown, 404, "an unknown item")
        return f"{item.name!r} type={item.type} size={item.size} status={item.status.value}; unknown -> 404"

    async def get_knowledge_content_status(self):
        items = await self.uploaded()
        current = await self.client.get_knowledge_content_status(items["url"].id, headers=self.headers)
        check(isinstance(current, ContentStatusResponse), f"status: {current!r}")
        equal(current.status.value, "completed", "status")
        check(isinstance(current.status_message, str), f"status_message: {current.status_message!r}")
        unknown = await http_status(self.client.get_knowledge_content_status("no-such-content", headers=self.headers))
        equal(unknown, 404, "an unknown item")
        return f"{current.status.value} {current.status_message!r}; unknown -> 404"

    async def search_knowledge(self):
        items = await self.uploaded()
        word, headers = items["word"], self.headers
        found = {}
        for search_type in ("keyword", "vector", "hybrid"):
            result = await self.client.search_knowledge(word, search_type=search_type, max_results=5, headers=headers)
            check(all(isinstance(hit, VectorSearchResult) for hit in result.data), f"hits: {result.data!r}")
            found[search_type] = result
        keyword = found["keyword"].data
        check(keyword, f"keyword search for {word!r} found nothing")
        equal({hit.content_id for hit in keyword}, {items["text"].id}, "keyword hits' content")
        contains(keyword[0].content, word, "keyword hit text")
        equal(keyword[0].meta_data.get("topic"), "compat", "hit metadata")
        check(items["text"].id in {hit.content_id for hit in found["hybrid"].data}, "hybrid search missed the text")
        filtered = await self.client.search_knowledge("lighthouses", search_type="keyword", filters={"topic": "guide"}, headers=headers)
        equal({hit.content_id for hit in filtered.data}, {items["file"].id}, "filters={topic: guide}")
        fetched = await self.client.search_knowledge("quokkas", search_type="keyword", headers=headers)
        equal([hit.content_id for hit in fetched.data][:1], [items["url"].id], "the URL's text")
        docs = await self.client.search_knowledge("approval pauses", search_type="keyword", headers=headers)
        check(docs.data and docs.data[0].name == "approvals.md", f"the demo docs: {[hit.name for hit in docs.data]}")
        chunks = await self.client.search_knowledge(word, search_type="keyword", headers=headers)
        total = chunks.meta.total_count
        check(total >= 2, f"the text upload should be several chunks: {total}")
        second = await self.client.search_knowledge(word, search_type="keyword", limit=1, page=2, headers=headers)
        equal((len(second.data), second.meta.page, second.meta.total_pages), (1, 2, total), "limit=1 page=2")
        wrong_db = await http_status(self.client.search_knowledge(word, vector_db_ids=["no-such-db"], headers=headers))
        equal(wrong_db, 400, "an unknown vector db")
        counts = {name: len(result.data) for name, result in found.items()}
        return f"{counts} hits; filters -> the guide; URL text; demo docs; {total} chunks, page 2 of limit 1; unknown vector db -> 400"

    async def get_knowledge_config(self):
        config = await self.client.get_knowledge_config(headers=self.headers)
        check(isinstance(config, ConfigResponseSchema), f"config: {config!r}")
        check({"text", "markdown"} <= set(config.readers or {}), f"readers: {config.readers!r}")
        check("FixedSizeChunker" in (config.chunkers or {}), f"chunkers: {config.chunkers!r}")
        equal([db.id for db in config.vector_dbs or []], ["demo-docs"], "vector dbs")
        search_types = config.vector_dbs[0].search_types or []
        check({"vector", "keyword", "hybrid"} <= set(search_types), f"search types: {search_types}")
        return f"readers {sorted(config.readers)}; chunkers {sorted(config.chunkers)}; vector db demo-docs {search_types}"

    async def delete_knowledge_content(self):
        items = await self.uploaded()
        content_id = items["url"].id
        deleted = await self.client.delete_knowledge_content(content_id, headers=self.headers)
        check(isinstance(deleted, ContentResponseSchema), f"deleted: {deleted!r}")
        equal(deleted.id, content_id, "deleted id")
        gone = await http_status(self.client.get_knowledge_content(content_id, headers=self.headers))
        equal(gone, 404, "a deleted item")
        left = await self.client.search_knowledge("quokkas", search_type="keyword", headers=self.headers)
        equal([hit for hit in left.data if hit.content_id == content_id], [], "hits of a deleted item")
        again = await http_status(self.client.delete_knowledge_content(content_id, headers=self.headers))
        equal(again, 404, "deleting it again")
        return f"-> ContentResponseSchema(id={deleted.id}); read -> 404; no hits; again -> 404"

    async def delete_all_knowledge_content(self):
        await self.uploaded()
        result = await self.client.delete_all_knowledge_content(headers=self.headers)
        left = await self.client.list_knowledge_content(headers=self.headers)
        equal(left.meta.total_count, 0, "items after deleting all")
        hits = await self.client.search_knowledge("lighthouses", search_type="keyword", headers=self.headers)
        equal(hits.data, [], "hits after deleting all")
        return f"-> {result!r}; nothing listed, nothing found"
