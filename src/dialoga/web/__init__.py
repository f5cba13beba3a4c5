"""The team's web application and its JSON API."""
