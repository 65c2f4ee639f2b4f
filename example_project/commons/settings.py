"""Settings of the example project: a crawl for an AI training dataset that honours what
each site says about reuse."""

BOT_NAME = "commons"
SPIDER_MODULES = ["commons.spiders"]
NEWSPIDER_MODULE = "commons.spiders"

# Say who you are: robots.txt groups are matched against the product token "ExampleAIBot".
USER_AGENT = "ExampleAIBot/1.0 (+https://example.org/bot)"

# The one line that turns scrapy-ccsignals on.
ADDONS = {"scrapy_ccsignals.Addon": 100}

# What the crawl is for: "train-ai" (default) or "search".
# CCSIGNALS_PURPOSE = "train-ai"

# "enforce" keeps items of denied pages out of the pipeline; "tag" lets them through
# with decision "deny" in their provenance.
# CCSIGNALS_MODE = "enforce"

# CC signals this dataset commits to honour: here, credit (cc-cr). Pages that say
# "train-ai=n;exceptions=cc-cr" are then allowed, and their items list the condition.
CCSIGNALS_ACCEPT_CONDITIONS = ["cc-cr"]

# Where no family says anything: "allow" (default) or "deny".
# CCSIGNALS_DEFAULT = "allow"

# One JSON line per decision, by default audit/<spider>-<UTC start time>.jsonl (None: off);
# the example runner sets it to output/audit.jsonl.
# CCSIGNALS_AUDIT_LOG = "output/audit-%(name)s-%(time)s.jsonl.gz"

# Keep only items under these licences (SPDX ids); None keeps every licence.
# CCSIGNALS_LICENSES = ["CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0"]

# The item field that carries provenance.
# CCSIGNALS_ITEM_FIELD = "ccsignals"

# Upper bound for a robots.txt Crawl-delay, in seconds.
# CCSIGNALS_MAX_CRAWL_DELAY = 10.0

CONCURRENT_REQUESTS = 16
DOWNLOAD_TIMEOUT = 15
RETRY_TIMES = 1
LOG_LEVEL = "WARNING"
TELNETCONSOLE_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
EXTENSIONS = {"commons.progress.Progress": 500}
