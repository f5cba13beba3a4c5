"""The e-mail connector: reads a brand's mailbox over IMAP and answers over SMTP."""
