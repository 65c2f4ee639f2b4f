"""What a crawl leaves behind: the audit log (written off the reactor thread) and the
logic of the commands that read it (report). Imports only ``signals`` and the standard
library, so the commands can run without a crawl.
"""
