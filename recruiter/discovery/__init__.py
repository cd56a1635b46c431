"""Discovery: search, scrape, save and rank as a resumable job, over the scrapers' plain records."""
