"""Matching communities to profiles: embedding backends (ONNX MiniLM by default, sentence-transformers as the
fallback, the distilled fast model and its per-catalogue adapter) and the models made from the packaged
weights, the per-model index of vectors with its IVF partition past 20,000 rows, lexical and neighbour data,
the ranking and the stored matches the screens page through."""
