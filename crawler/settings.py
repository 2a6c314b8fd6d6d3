"""Scrapy settings of dcs-archiver: every component is enabled here, with defaults fit for the
live site. Override any of them with `dcs crawl -s NAME=VALUE` or `scrapy crawl -s`."""

from crawler import __version__
from crawler.extract.html import PageLimits
from crawler.textpool import default_text_workers

BOT_NAME = "dcs-archiver"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# -- What to crawl, where to put it ---------------------------------------------------------
BASE_URL = "https://dangcongsan.vn"  # a mirror or the local replica: links are mapped onto it
# Which sites of dangcongsan.vn (crawler.site.PROFILES): main, documents, en, fr, cn, all, or
# several as "main,en". Against a mirror, the other sites are asked of it by name (a proxy).
SITES = "main"
OUT_DIR = "archive"  # WARCs in OUT_DIR/warc, text in OUT_DIR/text, state and reports beside
WARC_DIR = ""  # elsewhere than OUT_DIR/warc (recorded in OUT_DIR/layout.json)
TEXT_DIR = ""  # elsewhere than OUT_DIR/text (recorded likewise)
MAX_ARTICLES = 0  # 0: no limit
SINCE = ""  # YYYY-MM-DD: stop paging lists (and skip sitemaps) older than this day
FULL_CRAWL = False  # True: ignore the state of earlier runs and fetch everything again
REQUISITES_ENABLED = True  # archive the images, CSS and JS of article pages
TAG_MAX_PAGES = 1  # tag pages paginate without end over the same stories
LIST_MAX_PAGES = 0  # hard cap on the pages of one list (0: stop when a page brings nothing new)
INCREMENTAL_SITEMAP_CHILDREN = 2  # sitemaps read by an incremental run: the newest N months
REVISIT_POLICY = "7d:1d,30d:7d,*:never"  # article age:recheck interval

# -- A cluster crawl: several processes, on any machines, share one crawl -----------------
FRONTIER_URL = ""  # redis://HOST:PORT/DB: the shared frontier and duplicate filter (--frontier)
STATE_URL = ""  # postgresql://USER@HOST/DB: the shared state store (--state; "": the folder's)
NODE_NAME = ""  # this node's name, in its WARC file names and claims (--node; host-pid)
CLUSTER_LEASE = 60.0  # seconds a node's claim on a page lasts unless renewed (then: taken back)
CLUSTER_HEARTBEAT = 0.0  # seconds between renewals (0: a third of CLUSTER_LEASE)
SHARED_DOWNLOAD_DELAY = 0.0  # seconds between requests to a host, all nodes (0: DOWNLOAD_DELAY)

# -- Text -----------------------------------------------------------------------------------
TEXT_WORKERS = default_text_workers()  # processes that extract and write text; 0: in-process
TEXT_QUEUE_SIZE = 0  # articles in the text workers' queue at most (0: 32 per worker)
# One item at most per response: more parallel slots per response only cost asyncio tasks.
CONCURRENT_ITEMS = 2
# Responses whose article waits for a text worker hold their parsed page (about 8 times the
# body): past this many bytes of bodies, Scrapy stops fetching until the workers catch up.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 1_000_000
STATE_COMMIT_INTERVAL = 1.0  # seconds between commits of the state store (0: every write)

# -- Politeness -----------------------------------------------------------------------------
CONTACT_URL = "https://github.com/dcs-archiver/dcs-archiver"  # who to tell if we misbehave
USER_AGENT_TEMPLATE = "dcs-archiver/{version} (+{contact}; archival crawler)"
USER_AGENT = USER_AGENT_TEMPLATE.format(version=__version__, contact=CONTACT_URL)
ROBOTSTXT_OBEY = True
ROBOTSTXT_CRAWL_DELAY_MAX = 60.0  # seconds: the most of a Crawl-delay kept (crawler.robots)
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0  # about one request a second to the site
DOWNLOAD_TIMEOUT = 60
RETRY_ENABLED = True
RETRY_TIMES = 4
RETRY_BACKOFF_BASE = 2.0  # seconds; doubled at each retry of one request
RETRY_BACKOFF_MAX = 120.0  # also the longest Retry-After we wait for
COOKIES_ENABLED = False

# -- Ceilings: what a hostile or broken server can make the crawl hold ----------------------
DOWNLOAD_MAXSIZE = 32 * 1024**2  # a page body is cut there (archived with WARC-Truncated)
DOWNLOAD_WARNSIZE = 8 * 1024**2  # logged
REQUISITE_MAXSIZE = 48 * 1024**2  # the same for images, style sheets and scripts
FILE_MAXSIZE = 256 * 1024**2  # the same for a document's attached files (PDFs, whole books)
READ_MAXSIZE = 4 * 1024**2  # larger pages are archived but not parsed for links or text
LINKS_MAX_PER_PAGE = 5000  # links read from one page (its first ones)
SITEMAP_MAXSIZE = 50 * 1024**2  # bytes read from one sitemap, decompressed (protocol's limit)
SITEMAP_MAX_ENTRIES = 50_000  # entries read from one sitemap (the sitemap protocol's limit)
EXTRACT_MAXSIZE = PageLimits.max_bytes  # larger article pages get no text (listed as failed)
EXTRACT_MAX_ELEMENTS = PageLimits.max_elements  # nor do pages of more HTML elements (20,000)

# -- Off: nothing listens on a port during a crawl ------------------------------------------
TELNETCONSOLE_ENABLED = False  # a Python console on localhost
REMOTE_CONTROL_ENABLED = False  # Scrapy >= 2.19: runs code sent to a localhost HTTP endpoint

# -- Components -----------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Scrapy's lets requests that wait on a robots.txt through unchecked: replaced by ours.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.robots.RobotsTxtMiddleware": 100,
    # Against a mirror, the documents portal and the editions are asked of it by name.
    "crawler.middlewares.MirrorProxyMiddleware": 50,
    # Scrapy's retry ignores Retry-After and retries at once: replaced by ours.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.BackoffRetryMiddleware": 550,
    # The spider follows its own redirects as links; Scrapy's own requests (robots.txt)
    # are redirected here, to BASE_URL when the Location is on the site's hosts.
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.middlewares.SiteRedirectMiddleware": 600,
    # A body that does not decode reaches the spider marked, instead of failing unseen.
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.bodies.DecompressionMiddleware": 590,
    # Sees an archived article's answers as sent (404, 410, a redirect to a list): takedowns.
    "crawler.takedowns.TakedownMiddleware": 900,
    # What a killed crawl fetched and the state lost is answered from the WARC files.
    "crawler.warc.resume.WarcResumeMiddleware": 940,
    # Closest to the network: sees every exchange with its body still encoded as sent.
    "crawler.warc.middleware.WarcMiddleware": 950,
    # A cluster node waits here for its host's shared slot (off unless FRONTIER_URL is set).
    "crawler.cluster.politeness.SharedRateLimit": 980,
}
# Attached files are written to disk as they arrive, never held whole (crawler.spool);
# every other request goes to Scrapy's own HTTP/1.1 handler.
DOWNLOAD_HANDLERS = {
    "http": "crawler.spool.SpoolingDownloadHandler",
    "https": "crawler.spool.SpoolingDownloadHandler",
}
SPIDER_MIDDLEWARES = {
    # No depth limit here (lists are paged while they bring new articles): no need to count.
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
}
ITEM_PIPELINES = {
    "crawler.pipelines.ArticleTextPipeline": 300,
    # The search index (dcs search) learns each text once it is written.
    "crawler.research.pipeline.SearchIndexPipeline": 400,
}
SEARCH_INDEX_ENABLED = True  # keep DIR/index/search.sqlite3 up to date (dcs search)
EXTENSIONS = {
    "scrapy.extensions.logstats.LogStats": None,
    "crawler.extensions.CrawlReport": 500,
    # The first WARC record, text file or state row that cannot be written stops the crawl.
    "crawler.failstop.FailStop": 100,
    # A body over its ceiling is cut there and archived truncated.
    "crawler.bodies.BodyCeiling": 500,
    # Commits the state store about once a second (before the report reads it at the end).
    "crawler.statecommits.StateCommits": 200,
    # A cluster node's heartbeat and end (off unless FRONTIER_URL is set).
    "crawler.cluster.node.ClusterNode": 300,
}
REQUEST_FINGERPRINTER_CLASS = "crawler.middlewares.CanonicalRequestFingerprinter"
STATS_CLASS = "crawler.stats.CrawlStats"  # Scrapy's, without a deprecation check per access
# The spider decides about each canonical URL once (crawler.state.decide, on disk): Scrapy's
# duplicate filter would keep a second set of every URL, in memory, and hash each request.
DUPEFILTER_CLASS = "scrapy.dupefilters.BaseDupeFilter"
PROGRESS_INTERVAL = 30.0  # seconds between progress lines

WARC_PREFIX = "dcs"
WARC_MAX_SIZE = 1_000_000_000
WARC_IS_PART_OF = ""  # the crawl's name in every warcinfo (default: made once, then kept)
WARC_OPERATOR = ""  # who runs the crawl (default: user@host)
WARC_DEDUP_MIN_SIZE = 256  # a payload seen under another URL is a revisit from this size up

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
# Scrapy looks at every callback it calls for a generator that returns a value (a warning for
# the spider's authors, tested once): once per response, for nothing.
WARN_ON_GENERATOR_RETURN_VALUE = False
