"""Task pipelines: each module composes shared parts of `toolkit` into one task."""
