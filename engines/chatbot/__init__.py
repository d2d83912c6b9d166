"""Knowledge-base chatbot: ingestion, hybrid retrieval, intents, follow-up rewriting, grounded answers.

Nothing heavy is imported here; the sentence encoder (torch, transformers) loads only when retrieval is built.
The shipped model is the default knowledge base's MiniLM index (:mod:`engines.chatbot.index`).
"""

from engines.chatbot.index import CACHE, ENGINE, default_request, request, shipped_requests, shipped_stems

__all__ = ["CACHE", "ENGINE", "default_request", "request", "shipped_requests", "shipped_stems"]
