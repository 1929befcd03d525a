"""Reading raw intake the way an analyst does: the site's furniture told apart from the report
(learned from each source's own documents), the headline, the published date, the source's name."""
