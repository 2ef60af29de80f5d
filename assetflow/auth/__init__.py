"""Authentication: JWT issue/refresh/revoke, the loaders, and role checks."""
