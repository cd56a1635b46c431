"""Article metadata the way Mozilla Readability finds it, ported to Python/lxml.

Faithful ports (same order of preference, same regular expressions) of
``Readability._getJSONLD``, ``_getArticleMetadata``, ``_getArticleTitle``,
``_textSimilarity``, ``_unescapeHtmlEntities`` and the byline part of
``_grabArticle`` (the DOM walk that drops hidden and unlikely nodes and takes the
first element whose class/id/rel/itemprop says "author"/"byline"). Only metadata is
ported, not the content scoring: the scrapers need title, byline, site name,
excerpt and language, not the cleaned article body.

Readability's regular expressions were written for JavaScript, where ``\\W`` is
ASCII-only and string lengths count UTF-16 code units; the port keeps both.

One deliberate extension: when the first walk finds no byline, a second walk
without the "unlikely candidate" pruning looks again (``fallback_byline``).
Readability does the same walk again only when its first article is too short,
so it finds bylines in page headers on some pages and not others; scrapers want
the author whenever the page names one.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass

from .htmldoc import is_element, parse_html, text_content

_SEPARATORS = r"\|\-–—\\\/>»"
_SEPARATOR_WITH_SPACES = re.compile(rf"\s[{_SEPARATORS}]\s")
_HIERARCHICAL_SEPARATOR = re.compile(r"\s[\\\/>»]\s")
_UP_TO_FIRST_SEPARATOR = re.compile(rf"^[^{_SEPARATORS}]*[{_SEPARATORS}]", re.I)
_NORMALIZE = re.compile(r"\s{2,}")
_TOKENIZE = re.compile(r"\W+", re.ASCII)
_BYLINE = re.compile(r"byline|author|dateline|writtenby|p-author", re.I)
_UNLIKELY = re.compile(
    r"-ad-|ai2html|banner|breadcrumbs|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|header|legends|menu|"
    r"related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|ad-break|agegate|pagination|"
    r"pager|popup|yom-remote",
    re.I,
)
_MAYBE_CANDIDATE = re.compile(r"and|article|body|column|content|main|mathjax|shadow", re.I)
_UNLIKELY_ROLES = {"menu", "menubar", "complementary", "navigation", "alert", "alertdialog", "dialog"}
# Anchored only at the ends of the alternation, exactly as Readability's regex is.
_JSONLD_ARTICLE_TYPES = re.compile(
    r"^Article|AdvertiserContentArticle|NewsArticle|AnalysisNewsArticle|AskPublicNewsArticle|"
    r"BackgroundNewsArticle|OpinionNewsArticle|ReportageNewsArticle|ReviewNewsArticle|Report|SatiricalArticle|"
    r"ScholarlyArticle|MedicalScholarlyArticle|SocialMediaPosting|BlogPosting|LiveBlogPosting|"
    r"DiscussionForumPosting|TechArticle|APIReference$"
)
_SCHEMA_ORG = re.compile(r"^https?\:\/\/schema\.org\/?$")
_CDATA = re.compile(r"^\s*<!\[CDATA\[|\]\]>\s*$")
_PROPERTY_PATTERN = re.compile(
    r"\s*(article|dc|dcterm|og|twitter)\s*:\s*(author|creator|description|published_time|title|site_name)\s*", re.I
)
_NAME_PATTERN = re.compile(
    r"^\s*(?:(dc|dcterm|og|twitter|parsely|weibo:(article|webpage))\s*[-\.:]\s*)?"
    r"(author|creator|pub-date|description|title|site_name)\s*$",
    re.I,
)
_URL_LIKE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+\-.]*:\S")
_HTML_ESCAPES = {"quot": '"', "amp": "&", "apos": "'", "lt": "<", "gt": ">"}
_NAMED_ENTITY = re.compile(r"&(quot|amp|apos|lt|gt);")
_NUMERIC_ENTITY = re.compile(r"&#(?:x([0-9a-f]+)|([0-9]+));", re.I)
_DISPLAY_NONE = re.compile(r"(?:^|;)\s*display\s*:\s*none\s*(?:!important\s*)?(?:;|$)", re.I)
_VISIBILITY_HIDDEN = re.compile(r"(?:^|;)\s*visibility\s*:\s*hidden\s*(?:!important\s*)?(?:;|$)", re.I)


@dataclass
class ArticleMetadata:
    title: str | None = None
    byline: str | None = None
    excerpt: str | None = None
    site_name: str | None = None
    published_time: str | None = None
    lang: str | None = None


def _js_length(text: str) -> int:
    """String length as JavaScript counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _word_count(text: str) -> int:
    return len(re.split(r"\s+", text))


def _inner_text(node, normalize_spaces: bool = True) -> str:
    text = text_content(node).strip()
    return _NORMALIZE.sub(" ", text) if normalize_spaces else text


def text_similarity(text_a: str, text_b: str) -> float:
    """1 when every word of B is in A, 0 when none is (Readability's measure)."""
    tokens_a = [t for t in _TOKENIZE.split(text_a.lower()) if t]
    tokens_b = [t for t in _TOKENIZE.split(text_b.lower()) if t]
    if not tokens_a or not tokens_b:
        return 0.0
    set_a = set(tokens_a)
    unique_b = [t for t in tokens_b if t not in set_a]
    return 1 - len(" ".join(unique_b)) / len(" ".join(tokens_b))


def unescape_html_entities(text: str | None) -> str | None:
    if not text:
        return text
    text = _NAMED_ENTITY.sub(lambda m: _HTML_ESCAPES[m.group(1)], text)

    def numeric(match: re.Match) -> str:
        hex_digits, decimal = match.groups()
        try:
            num = int(hex_digits, 16) if hex_digits else int(decimal)
        except ValueError:
            num = 0xFFFD
        if num == 0 or num > 0x10FFFF or 0xD800 <= num <= 0xDFFF:
            num = 0xFFFD
        return chr(num)

    return _NUMERIC_ENTITY.sub(numeric, text)


def _iter_elements(root, tags: tuple[str, ...]):
    return (el for el in root.iter(*tags) if is_element(el))


def document_title(root) -> str:
    """``document.title``: the first HTML <title>, whitespace stripped and collapsed."""
    for title in root.iter("title"):
        if any(anc.tag == "svg" for anc in title.iterancestors()):
            continue  # an SVG <title> is not the document's
        # "strip and collapse ASCII whitespace": U+3000 and NBSP stay.
        return re.sub(r"[\t\n\f\r ]+", " ", text_content(title)).strip("\t\n\f\r ")
    return ""


def article_title(root) -> str:
    """Port of ``_getArticleTitle``: the <title>, with site-name parts cut off."""
    cur_title = orig_title = document_title(root).strip()
    had_hierarchical = False
    if _SEPARATOR_WITH_SPACES.search(cur_title):
        had_hierarchical = bool(_HIERARCHICAL_SEPARATOR.search(cur_title))
        all_separators = list(_SEPARATOR_WITH_SPACES.finditer(orig_title))
        cur_title = orig_title[: all_separators[-1].start()]
        if _word_count(cur_title) < 3:
            cur_title = _UP_TO_FIRST_SEPARATOR.sub("", orig_title, count=1)
    elif ": " in cur_title:
        trimmed = cur_title.strip()
        match = any(text_content(h).strip() == trimmed for h in _iter_elements(root, ("h1", "h2")))
        if not match:
            cur_title = orig_title[orig_title.rfind(":") + 1 :]
            if _word_count(cur_title) < 3:
                cur_title = orig_title[orig_title.find(":") + 1 :]
            elif _word_count(orig_title[: orig_title.find(":")]) > 5:
                cur_title = orig_title
    elif _js_length(cur_title) > 150 or _js_length(cur_title) < 15:
        h_ones = list(_iter_elements(root, ("h1",)))
        if len(h_ones) == 1:
            cur_title = _inner_text(h_ones[0])
    cur_title = _NORMALIZE.sub(" ", cur_title.strip())
    count = _word_count(cur_title)
    if count <= 4 and (
        not had_hierarchical or count != _word_count(_SEPARATOR_WITH_SPACES.sub("", orig_title)) - 1
    ):
        cur_title = orig_title
    return cur_title


def _json_ld(root) -> dict:
    """Port of ``_getJSONLD``: metadata of the first schema.org Article-like object."""
    for script in root.iter("script"):
        if script.get("type") != "application/ld+json":
            continue
        try:
            found = _json_ld_from_script(root, script)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError):
            continue  # Readability logs and moves on to the next script
        if found is not None:
            return found
    return {}


def _is_article_type(value) -> bool:
    if not isinstance(value, str):
        raise TypeError("@type is not a string")  # JS would throw on .match
    return bool(_JSONLD_ARTICLE_TYPES.search(value))


def _json_ld_from_script(root, script) -> dict | None:
    content = _CDATA.sub("", text_content(script))
    parsed = json.loads(content)
    if isinstance(parsed, list):
        parsed = next((it for it in parsed if isinstance(it, dict) and it.get("@type") and _is_article_type(it["@type"])), None)
        if parsed is None:
            return None
    if not isinstance(parsed, dict):
        return None
    context = parsed.get("@context")
    matches = (isinstance(context, str) and _SCHEMA_ORG.search(context)) or (
        isinstance(context, dict) and isinstance(context.get("@vocab"), str) and _SCHEMA_ORG.search(context["@vocab"])
    )
    if not matches:
        return None
    if not parsed.get("@type") and isinstance(parsed.get("@graph"), list):
        parsed = next(
            (it for it in parsed["@graph"] if isinstance(it, dict) and _is_article_type(it.get("@type") or "")), None
        )
    if not parsed or not parsed.get("@type") or not _is_article_type(parsed["@type"]):
        return None
    metadata: dict = {}
    name, headline = parsed.get("name"), parsed.get("headline")
    if isinstance(name, str) and isinstance(headline, str) and name != headline:
        # Some sites put their own name in "name" and the article's in "headline":
        # keep whichever resembles the <title>, "name" by default.
        title = article_title(root)
        name_matches = text_similarity(name, title) > 0.75
        headline_matches = text_similarity(headline, title) > 0.75
        metadata["title"] = headline if headline_matches and not name_matches else name
    elif isinstance(name, str):
        metadata["title"] = name.strip()
    elif isinstance(headline, str):
        metadata["title"] = headline.strip()
    author = parsed.get("author")
    if author:
        if isinstance(author, dict) and isinstance(author.get("name"), str):
            metadata["byline"] = author["name"].strip()
        elif isinstance(author, list) and author and isinstance(author[0], dict) and isinstance(author[0].get("name"), str):
            metadata["byline"] = ", ".join(
                a["name"].strip() for a in author if isinstance(a, dict) and isinstance(a.get("name"), str)
            )
    if isinstance(parsed.get("description"), str):
        metadata["excerpt"] = parsed["description"].strip()
    publisher = parsed.get("publisher")
    if isinstance(publisher, dict) and isinstance(publisher.get("name"), str):
        metadata["siteName"] = publisher["name"].strip()
    if isinstance(parsed.get("datePublished"), str):
        metadata["datePublished"] = parsed["datePublished"].strip()
    return metadata


def _meta_values(root) -> dict[str, str]:
    values: dict[str, str] = {}
    for element in root.iter("meta"):
        content = element.get("content")
        if not content:
            continue
        matched = False
        prop = element.get("property")
        if prop:
            match = _PROPERTY_PATTERN.search(prop)
            if match:
                matched = True
                values[re.sub(r"\s", "", match.group(0).lower())] = content.strip()
        name = element.get("name")
        if not matched and name and _NAME_PATTERN.search(name):
            values[re.sub(r"\s", "", name.lower()).replace(".", ":")] = content.strip()
    return values


def _first(*candidates):
    for value in candidates:
        if value:
            return value
    return None


def _metadata(root, jsonld: dict) -> ArticleMetadata:
    """Port of ``_getArticleMetadata``: JSON-LD first, then <meta> tags."""
    values = _meta_values(root)
    title = _first(
        jsonld.get("title"), values.get("dc:title"), values.get("dcterm:title"), values.get("og:title"),
        values.get("weibo:article:title"), values.get("weibo:webpage:title"), values.get("title"),
        values.get("twitter:title"), values.get("parsely-title"),
    )
    if not title:
        title = article_title(root)
    article_author = values.get("article:author")
    if article_author and _URL_LIKE.search(article_author):
        article_author = None  # a profile URL, not a name
    byline = _first(
        jsonld.get("byline"), values.get("dc:creator"), values.get("dcterm:creator"), values.get("author"),
        values.get("parsely-author"), article_author,
    )
    excerpt = _first(
        jsonld.get("excerpt"), values.get("dc:description"), values.get("dcterm:description"),
        values.get("og:description"), values.get("weibo:article:description"),
        values.get("weibo:webpage:description"), values.get("description"), values.get("twitter:description"),
    )
    site_name = _first(jsonld.get("siteName"), values.get("og:site_name"))
    published = _first(jsonld.get("datePublished"), values.get("article:published_time"), values.get("parsely-pub-date"))
    return ArticleMetadata(
        title=unescape_html_entities(title),
        byline=unescape_html_entities(byline),
        excerpt=unescape_html_entities(excerpt),
        site_name=unescape_html_entities(site_name),
        published_time=unescape_html_entities(published),
    )


# -- the byline part of _grabArticle ------------------------------------------------------


def _first_element_child(node):
    for child in node:
        if is_element(child):
            return child
    return None


def _next_element_sibling(node):
    sibling = node.getnext()
    while sibling is not None and not is_element(sibling):
        sibling = sibling.getnext()
    return sibling


def _next_node(node, ignore_self_and_kids: bool = False):
    """Port of ``_getNextNode``: depth-first, elements only."""
    if not ignore_self_and_kids:
        child = _first_element_child(node)
        if child is not None:
            return child
    sibling = _next_element_sibling(node)
    if sibling is not None:
        return sibling
    while True:
        node = node.getparent()
        if node is None:
            return None
        sibling = _next_element_sibling(node)
        if sibling is not None:
            return sibling


def _remove_and_get_next(node):
    nxt = _next_node(node, True)
    if node.getparent() is not None:
        node.drop_tree()  # keeps the tail text, as DOM removal does
    return nxt


def _is_probably_visible(node) -> bool:
    style = node.get("style") or ""
    if style and (_DISPLAY_NONE.search(style) or _VISIBILITY_HIDDEN.search(style)):
        return False
    if node.get("hidden") is not None:
        return False
    if node.get("aria-hidden") == "true" and "fallback-image" not in (node.get("class") or ""):
        return False
    return True


def _is_valid_byline(node, match_string: str) -> bool:
    rel = node.get("rel")
    itemprop = node.get("itemprop")
    if not (rel == "author" or (itemprop and "author" in itemprop) or _BYLINE.search(match_string)):
        return False  # checked first: the text length below costs a subtree walk
    length = _js_length(text_content(node).strip())
    return 0 < length < 100


def _has_ancestor_tag(node, tag: str, max_depth: int = 3) -> bool:
    depth = 0
    parent = node.getparent()
    while parent is not None:
        if max_depth > 0 and depth > max_depth:
            return False
        if parent.tag == tag:
            return True
        parent = parent.getparent()
        depth += 1
    return False


def _has_text(node) -> bool:
    """Whether any descendant text is non-blank; stops at the first one found."""
    return any(piece.strip() for piece in node.itertext())


def _is_element_without_content(node) -> bool:
    if _has_text(node):
        return False
    children = [c for c in node if is_element(c)]
    if not children:
        return True
    breaks = sum(1 for el in node.iter("br", "hr"))
    return len(children) == breaks


def _dom_byline(root, article_title_text: str, strip_unlikely: bool = True) -> tuple[str | None, str | None]:
    """(byline, lang) from a pass of ``_grabArticle``'s DOM walk."""
    lang = None
    should_remove_title_header = True
    node = root
    while node is not None:
        if node.tag == "html":
            lang = node.get("lang")
        match_string = f"{node.get('class') or ''} {node.get('id') or ''}"
        if not _is_probably_visible(node):
            node = _remove_and_get_next(node)
            continue
        if node.get("aria-modal") == "true" and node.get("role") == "dialog":
            node = _remove_and_get_next(node)
            continue
        if _is_valid_byline(node, match_string):
            end_marker = _next_node(node, True)
            nxt = _next_node(node)
            item_prop_name = None
            while nxt is not None and nxt is not end_marker:
                itemprop = nxt.get("itemprop")
                if itemprop and "name" in itemprop:
                    item_prop_name = nxt
                    break
                nxt = _next_node(nxt)
            return text_content(item_prop_name if item_prop_name is not None else node).strip(), lang
        if should_remove_title_header and node.tag in ("h1", "h2"):
            heading = _inner_text(node, False)
            if text_similarity(article_title_text or "", heading) > 0.75:
                should_remove_title_header = False
                node = _remove_and_get_next(node)
                continue
        if strip_unlikely and (
            _UNLIKELY.search(match_string)
            and not _MAYBE_CANDIDATE.search(match_string)
            and not _has_ancestor_tag(node, "table")
            and not _has_ancestor_tag(node, "code")
            and node.tag not in ("body", "a")
        ):
            node = _remove_and_get_next(node)
            continue
        if strip_unlikely and node.get("role") in _UNLIKELY_ROLES:
            node = _remove_and_get_next(node)
            continue
        if node.tag in ("div", "section", "header", "h1", "h2", "h3", "h4", "h5", "h6") and _is_element_without_content(node):
            node = _remove_and_get_next(node)
            continue
        node = _next_node(node)
    return None, lang


def _html_lang(root) -> str | None:
    return root.get("lang") if root.tag == "html" else None


def extract_article_metadata(html_or_root, *, fallback_byline: bool = True) -> ArticleMetadata:
    """Title, byline, excerpt, site name, published time and lang, as Readability gives them.

    Accepts HTML text or an lxml root; a root is modified (scripts, styles and the
    walked-over nodes are removed), so pass a copy if you still need it.
    """
    root = parse_html(html_or_root) if isinstance(html_or_root, str) else html_or_root
    jsonld = _json_ld(root)
    for node in list(root.iter("script", "noscript", "style")):
        if node.getparent() is not None:
            node.drop_tree()
    metadata = _metadata(root, jsonld)
    lang = _html_lang(root)
    if not metadata.byline:
        pristine = copy.deepcopy(root) if fallback_byline else None
        byline, walk_lang = _dom_byline(root, metadata.title or "")
        if not byline and pristine is not None:
            byline, _ = _dom_byline(pristine, metadata.title or "", strip_unlikely=False)
        metadata.byline = byline or None
        lang = walk_lang or lang
    metadata.lang = lang
    return metadata
