"""WordPress sites: the comments of the brand's blog, answered through the REST API."""
