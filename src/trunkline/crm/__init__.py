"""Customer records: contacts and their identities, notes, cases, recognition and screen-pop."""
