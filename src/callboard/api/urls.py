"""URL prefixes. Routers carry their full prefix so a route's `path` is its whole template (metrics label by it)."""

V1 = "/api/v1"
WORKSPACE = V1 + "/workspaces/{ws}"
