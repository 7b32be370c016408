"""The evidence library: documents read from PDF, DOCX, text and HTML files, cut into passages, searchable."""
