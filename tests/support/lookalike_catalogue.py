"""A small hand-made catalogue in three clearly different niches (sourdough baking, trail running, kubernetes)
plus a few general communities, for the lookalike tests (service and CLI).

With the hashing model, texts that share words are close: each niche's descriptions share its own words and
none of another niche's, so which niche a result comes from is never in doubt.
"""

from __future__ import annotations

import csv
from pathlib import Path

# (url, name, kind, description, audience_size)
SOURDOUGH = [
    ("https://www.reddit.com/r/sourdough/", "r/Sourdough", "subreddit",
     "Sourdough bread baking: starter feeding, levain, crumb shots and crust scoring.", 300_000),
    ("https://www.reddit.com/r/breadit/", "r/Breadit", "subreddit",
     "Bread baking of every kind: sourdough loaves, starter questions, crumb and crust.", 900_000),
    ("https://crumbandcrust.example.com/", "Crumb and Crust", "blog",
     "A home baker's sourdough blog: starter care, open crumb, crust and baking schedules.", 12_000),
    ("https://levainlab.example.com/", "Levain Lab", "blog",
     "Levain and sourdough starter experiments: hydration, fermentation, crumb and bread flour.", 8_000),
    ("https://www.youtube.com/@sourdoughsundays", "Sourdough Sundays", "youtube",
     "Weekly sourdough bread baking videos: shaping loaves, scoring crust, feeding the starter.", 150_000),
    ("https://starterpod.example.com/", "The Starter Pod", "podcast",
     "A podcast about sourdough starter, levain, bread fermentation and baking at home.", 20_000),
    ("https://www.reddit.com/r/bakingbread/", "r/BakingBread", "subreddit",
     "Baking bread at home: sourdough, flour, starter, crust and crumb troubleshooting.", 60_000),
    ("https://wildyeast.example.com/", "Wild Yeast Weekly", "newsletter",
     "Newsletter for sourdough bakers: wild yeast starter, levain, bread flour and crust.", 5_000),
    ("https://banneton.example.com/", "Banneton Bakers", "forum",
     "Forum for sourdough bread bakers: banneton proofing, crumb, crust and starter help.", 3_000),
    ("https://ryeandspelt.example.com/", "Rye and Spelt", "blog",
     "Sourdough rye and spelt bread baking with a whole grain starter and dense crumb.", 4_000),
    ("https://ryebreadclub.example.com/", "Rye Bread Club", "forum",
     "Sourdough rye bread baking club: rye starter, levain, crumb, crust and caraway.", 1_500),
    ("https://www.youtube.com/@breadhands", "Bread Hands", "youtube",
     "Sourdough bread shaping and baking tutorials: starter, levain, crumb and crust.", 80_000),
    ("https://hydrationnotes.example.com/", "Hydration Notes", "blog",
     "High hydration sourdough bread baking notes: starter, crumb, crust and flour.", 2_000),
]

RUNNING = [
    ("https://www.reddit.com/r/trailrunning/", "r/trailrunning", "subreddit",
     "Trail running: mountain trails, ultramarathon races, trail shoes and running vests.", 250_000),
    ("https://www.reddit.com/r/ultrarunning/", "r/ultrarunning", "subreddit",
     "Ultramarathon running: trail races, mountain ultras, pacing and trail shoes.", 120_000),
    ("https://singletrack.example.com/", "Singletrack Stories", "blog",
     "Trail running stories from mountain singletrack: ultramarathon races and trail shoes.", 9_000),
    ("https://www.youtube.com/@vertmeters", "Vert Meters", "youtube",
     "Trail running videos: mountain ultramarathon races, vert training and trail shoes.", 70_000),
    ("https://trailpod.example.com/", "The Trail Pod", "podcast",
     "A podcast about trail running, ultramarathon races and mountain running.", 30_000),
    ("https://www.reddit.com/r/skyrunning/", "r/skyrunning", "subreddit",
     "Skyrunning and mountain trail running: steep races, vert, poles and trail shoes.", 10_000),
    ("https://ultrafuel.example.com/", "Ultra Fuel", "newsletter",
     "Newsletter on ultramarathon running nutrition: trail races, mountain pacing, running vests.", 6_000),
    ("https://trailforum.example.com/", "Trail Runners Forum", "forum",
     "Forum for trail running: ultramarathon race reports, mountain trails and trail shoes.", 15_000),
    ("https://fellrunner.example.com/", "Fell Runner", "blog",
     "Fell and mountain trail running: races, ultramarathon training and trail shoes.", 3_000),
    ("https://www.youtube.com/@runthemountains", "Run the Mountains", "youtube",
     "Mountain trail running and ultramarathon race vlogs: trail shoes, vests and vert.", 40_000),
    ("https://desertultra.example.com/", "Desert Ultra", "blog",
     "Desert ultramarathon running: multi-day trail races and running vests.", 2_500),
    ("https://trailshoes.example.com/", "Trail Shoe Lab", "blog",
     "Trail shoes tested on mountain trails: grip, ultramarathon running races.", 7_000),
]

KUBERNETES = [
    ("https://www.reddit.com/r/kubernetes/", "r/kubernetes", "subreddit",
     "Kubernetes clusters: pods, helm charts, operators, ingress and container orchestration.", 150_000),
    ("https://www.reddit.com/r/devops/", "r/devops", "subreddit",
     "DevOps: kubernetes clusters, helm, container pipelines, terraform and ingress.", 350_000),
    ("https://podcast.k8s.example.com/", "Kubernetes Podcast", "podcast",
     "A podcast on kubernetes clusters, operators, helm charts and container orchestration.", 40_000),
    ("https://helmcharts.example.com/", "Helm Charts Weekly", "newsletter",
     "Helm charts, kubernetes operators, pods and ingress controllers every week.", 9_000),
    ("https://www.youtube.com/@clusterops", "Cluster Ops", "youtube",
     "Kubernetes cluster operations: pods, helm, ingress, operators and container networking.", 60_000),
    ("https://podsandnodes.example.com/", "Pods and Nodes", "blog",
     "Kubernetes pods and nodes: scheduling, helm charts, operators and container runtimes.", 5_000),
    ("https://www.reddit.com/r/selfhosted/", "r/selfhosted", "subreddit",
     "Self-hosted services on kubernetes clusters and container setups with helm.", 400_000),
    ("https://ingressnotes.example.com/", "Ingress Notes", "blog",
     "Kubernetes ingress, service mesh, pods and helm charts for cluster operators.", 2_000),
    ("https://k8sforum.example.com/", "K8s Forum", "forum",
     "Forum for kubernetes cluster operators: helm, pods, ingress and container orchestration.", 8_000),
    ("https://gitopsdaily.example.com/", "GitOps Daily", "blog",
     "GitOps for kubernetes clusters: helm charts, operators, pods and container deploys.", 3_500),
]

GENERAL = [
    ("https://www.reddit.com/r/askreddit/", "r/AskReddit", "subreddit",
     "Ask and answer thought-provoking questions about anything.", 40_000_000),
    ("https://www.reddit.com/r/pics/", "r/pics", "subreddit", "A place for pictures and photographs.", 30_000_000),
    ("https://dailynews.example.com/", "Daily News Digest", "newsletter",
     "The day's headlines, politics and world news in five minutes.", 100_000),
    ("https://www.reddit.com/r/comicbooks/", "r/comicbooks", "subreddit",
     "Fans of comic books, graphic novels and superheroes.", 900_000),
]

CATALOGUE = SOURDOUGH + RUNNING + KUBERNETES + GENERAL
NICHE_OF = {url: niche for niche, rows in (("sourdough", SOURDOUGH), ("running", RUNNING),
                                             ("kubernetes", KUBERNETES), ("general", GENERAL))
            for url, *_ in rows}


def records(rows: list[tuple] | None = None) -> list[dict]:
    """The rows as `save_records` takes them."""
    return [{"url": u, "name": n, "kind": k, "description": d, "audience_size": a}
            for u, n, k, d, a in (rows if rows is not None else CATALOGUE)]


def write_csv(path: Path, rows: list[tuple] | None = None) -> Path:
    """The rows as a `recruiter import` CSV."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["url", "name", "kind", "description", "audience_size"])
        for row in rows if rows is not None else CATALOGUE:
            writer.writerow(row)
    return path


def niche(url: str) -> str:
    """Which niche a (possibly canonicalized) URL belongs to."""
    return NICHE_OF.get(url) or NICHE_OF.get(url.lower()) or NICHE_OF[url.rstrip("/") + "/"]
