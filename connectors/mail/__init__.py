"""Mailbox providers: Maildir (embedded default); Graph, Gmail and IMAP follow."""
