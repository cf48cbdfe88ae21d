"""FastAPI app: health, messages with references, facts, draft and note."""
