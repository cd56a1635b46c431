"""Matching communities to profiles: embeddings, the faiss index, lexical and neighbour data, the ranking and
the stored matches the screens page through."""
