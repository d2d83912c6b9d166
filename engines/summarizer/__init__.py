"""Text summariser: extractive summaries (Lead-k, TextRank, position-aware centrality + MMR), abstractive when a model is available."""
