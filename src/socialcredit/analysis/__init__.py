"""Reading results: summaries and a citizen's story."""
