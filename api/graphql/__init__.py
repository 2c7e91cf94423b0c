"""The GraphQL API (Strawberry): types for every ontology class, the users' questions as fields,
per-request DataLoaders so that a request's store round trips do not grow with its answer."""
