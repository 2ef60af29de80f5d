"""Use cases. Each one owns its transaction: load, authorise, change, commit once."""
