"""The catalogue of communities: reading files, upserting by canonical URL, exporting, sample data."""
