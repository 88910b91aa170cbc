"""The xAPI model: agents and their identifiers (`agents`), the statement formats (`formats`), validation
(`validation`) and the verbs the LRS itself knows (`verbs`). Plain data in, plain data out: this package sits below
the store and the HTTP resources, and imports neither them nor Flask (a contract in pyproject.toml)."""
