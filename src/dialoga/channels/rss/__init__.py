"""RSS and Atom feeds: keyword listening on other sites' feeds, and the brand's own blog."""
