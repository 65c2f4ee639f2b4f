"""Public testing helpers, like ``scrapy.utils.test``: not used by a crawl.

``scrapy_ccsignals.testing.server`` is a real HTTP server on 127.0.0.1 whose origins are
defined at run time. The project's tests, its benchmarks and the example project's demo
web all serve their sites with it; a project that uses the plugin may use it in its own
tests the same way.
"""
