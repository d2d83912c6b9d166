"""Knowledge-base chatbot: ingestion, hybrid retrieval, intents, follow-up rewriting, grounded answers.

Nothing heavy is imported here; the sentence encoder (torch, transformers) loads only when retrieval is built.
"""
