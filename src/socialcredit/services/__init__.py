"""Use cases, one function each, called alike by the CLI, the HTTP API and batch jobs."""
