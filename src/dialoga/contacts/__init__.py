"""Contacts: one person across networks and e-mail, and the handles that point to them."""
