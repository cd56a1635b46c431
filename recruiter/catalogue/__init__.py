"""The catalogue of communities: reading files, upserting by canonical URL, exporting, sample data.

`readers` streams rows out of CSV/TSV, XLSX, JSON, JSONL, OPML and URL-list files (bounded memory, `line N:`
errors); `columns` names the fields people's columns mean; `importing` normalizes rows and upserts them in
committed batches without losing what is stored; `exporting` writes CSV/JSON/XLSX that import back exactly;
`seed` loads the sample data shipped in `samples/`.
"""
