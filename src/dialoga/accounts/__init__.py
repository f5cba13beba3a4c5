"""Accounts: workspaces (tenants), people, their memberships and the audit log."""
