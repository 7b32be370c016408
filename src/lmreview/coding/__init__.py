"""Qualitative coding: codebooks, codings of documents and answers, code matrices, agreement, REFI-QDA."""
